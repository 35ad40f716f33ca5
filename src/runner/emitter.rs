//! Fans each event out to its consumers: the run's `events.jsonl` and the reporters. Events are
//! masked once more on the way, so no consumer can ever see a secret.
//!
//! Step output is the bulk of a run's events: its lines go to the reporters one by one
//! ([`Emitter::output`]), while `events.jsonl` gets them by reference into the step's log file
//! (`step_log` events, one per batch), so the event log stays small whatever the output.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

use crate::event::{Envelope, Event};
use crate::mask::Masker;

/// Something that shows events to a person or a program.
pub trait Reporter: Send {
    fn report(&mut self, event: &Envelope);

    /// Stop drawing on the terminal (a prompt is about to read from it); events that arrive
    /// meanwhile are kept and shown by [`Reporter::resume`].
    fn pause(&mut self) {}

    fn resume(&mut self) {}

    /// Time passed (about ten times a second while a run goes on): spinners and elapsed times
    /// move without an event.
    fn tick(&mut self) {}
}

#[derive(Clone)]
pub struct Emitter {
    inner: Arc<Mutex<Inner>>,
    masker: Masker,
    run_id: String,
    /// Prefixes of job ids and names for the jobs of a called workflow (`caller/`, `caller / `).
    scope: Option<Arc<(String, String)>>,
}

struct Inner {
    events_file: Option<std::path::PathBuf>,
    /// `events_file`, open for appending (opened at the first event, kept open).
    events: Option<std::fs::File>,
    reporters: Vec<Box<dyn Reporter>>,
    /// The first failure to write the run's state (the event log, the record, a log file),
    /// reported once when it happens: the run then ends as failed.
    write_error: Option<String>,
    /// The event log could not be written: nothing more is appended to it (a line after a cut
    /// one would be lost with it).
    events_broken: bool,
}

impl Emitter {
    pub fn new(
        run_id: &str,
        events_file: Option<std::path::PathBuf>,
        reporters: Vec<Box<dyn Reporter>>,
        masker: Masker,
    ) -> Self {
        Emitter {
            inner: Arc::new(Mutex::new(Inner {
                events_file,
                events: None,
                reporters,
                write_error: None,
                events_broken: false,
            })),
            masker,
            run_id: run_id.to_string(),
            scope: None,
        }
    }

    /// The same consumers, for the jobs of a called workflow: their `job` ids start with
    /// `id_prefix` and their names with `name_prefix` (after this emitter's own prefixes).
    pub fn within(&self, id_prefix: &str, name_prefix: &str) -> Emitter {
        let (id, name) = self.scope.as_deref().cloned().unwrap_or_default();
        Emitter { scope: Some(Arc::new((id + id_prefix, name + name_prefix))), ..self.clone() }
    }

    pub fn emit(&self, event: Event) {
        let envelope = Envelope { v: 1, event, run_id: self.run_id.clone(), ts: crate::event::now_rfc3339() };
        let mut value = match serde_json::to_value(&envelope) {
            Ok(v) => v,
            Err(_) => return,
        };
        if let Some((id, name)) = self.scope.as_deref() {
            for (field, prefix) in [("job", id), ("name", name)] {
                if let Some(Json::String(s)) = value.get_mut(field) {
                    s.insert_str(0, prefix);
                }
            }
        }
        let masked = self.masker.mask_json(&value);
        let Ok(envelope) = serde_json::from_value::<Envelope>(masked.clone()) else { return };
        let mut inner = match self.inner.lock() {
            Ok(i) => i,
            Err(p) => p.into_inner(),
        };
        let first_failure = inner.append(&masked.to_string());
        // Output by reference is for the event log only: the reporters had its lines.
        if !matches!(envelope.event, Event::StepLog { .. }) {
            for r in &mut inner.reporters {
                r.report(&envelope);
            }
        }
        if first_failure {
            inner.report_write_failure(&self.run_id);
        }
    }

    /// A file of the run's state (its record, a step's log) could not be written. The first
    /// such failure is reported once, with its cause; the run then ends as failed (exit 2).
    pub fn state_write_failed(&self, message: String) {
        let mut inner = match self.inner.lock() {
            Ok(i) => i,
            Err(p) => p.into_inner(),
        };
        if inner.write_error.is_none() {
            inner.write_error = Some(self.masker.mask(&message));
            inner.report_write_failure(&self.run_id);
        }
    }

    /// One line of step output, already masked, for the reporters (and the JSON stream) only:
    /// the event log gets the step's output by reference ([`Event::StepLog`]). `ts` is shared by
    /// the lines of one chunk of output.
    pub fn output(&self, job: &str, name: &str, step: usize, stream: &str, line: String, ts: &str) {
        let (job, name) = match self.scope.as_deref() {
            Some((id, prefix)) => (format!("{id}{job}"), format!("{prefix}{name}")),
            None => (job.to_string(), name.to_string()),
        };
        let envelope = Envelope {
            v: 1,
            event: Event::StepOutput {
                job: self.masker.mask(&job),
                name: self.masker.mask(&name),
                step,
                stream: stream.to_string(),
                line,
            },
            run_id: self.run_id.clone(),
            ts: ts.to_string(),
        };
        let mut inner = match self.inner.lock() {
            Ok(i) => i,
            Err(p) => p.into_inner(),
        };
        for r in &mut inner.reporters {
            r.report(&envelope);
        }
    }

    /// Tell the reporters that time passed.
    pub fn tick(&self) {
        self.each_reporter(|r| r.tick());
    }

    /// Hold the terminal display while a prompt uses the terminal: the reporters stop drawing
    /// until the returned guard is dropped. Events keep flowing (to the event log at once, to
    /// the screen after the hold).
    pub fn hold_display(&self) -> DisplayHold {
        self.each_reporter(|r| r.pause());
        DisplayHold { emitter: self.clone() }
    }

    fn each_reporter(&self, f: impl Fn(&mut dyn Reporter)) {
        let mut inner = match self.inner.lock() {
            Ok(i) => i,
            Err(p) => p.into_inner(),
        };
        for r in &mut inner.reporters {
            f(r.as_mut());
        }
    }

    pub fn write_error(&self) -> Option<String> {
        self.inner.lock().ok().and_then(|i| i.write_error.clone())
    }
}

impl Inner {
    /// One line of the event log, in a single write (whole lines even with a second writer).
    /// A write that fails is undone (no cut last line) and ends the event log. Whether this was
    /// the run's first failure to write its state.
    fn append(&mut self, line: &str) -> bool {
        let Some(path) = &self.events_file else { return false };
        if self.events_broken {
            return false;
        }
        if self.events.is_none() {
            let opened = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(path));
            match opened {
                Ok(f) => self.events = Some(f),
                Err(e) => {
                    let message = format!("cannot write {}: {e}", path.display());
                    return self.fail(message);
                }
            }
        }
        let mut buf = String::with_capacity(line.len() + 1);
        buf.push_str(line);
        buf.push('\n');
        let Some(f) = &mut self.events else { return false };
        let before = f.metadata().map(|m| m.len());
        let Err(e) = f.write_all(buf.as_bytes()) else { return false };
        if let Ok(len) = before {
            let _ = f.set_len(len);
        }
        let message = format!("cannot write {}: {e}", path.display());
        self.fail(message)
    }

    fn fail(&mut self, message: String) -> bool {
        self.events_broken = true;
        self.events = None;
        if self.write_error.is_some() {
            return false;
        }
        self.write_error = Some(message);
        true
    }

    /// Tell the reporters (not the event log: it may be what failed) about the first failure.
    fn report_write_failure(&mut self, run_id: &str) {
        let Some(cause) = &self.write_error else { return };
        let envelope = Envelope {
            v: 1,
            event: Event::Notice {
                level: "error".into(),
                message: format!(
                    "the run's state could not be written: {cause}; what follows is missing from its logs and records, and the run ends as failed"
                ),
            },
            run_id: run_id.to_string(),
            ts: crate::event::now_rfc3339(),
        };
        for r in &mut self.reporters {
            r.report(&envelope);
        }
    }
}

/// The terminal held for a prompt: drawing resumes when this is dropped.
#[must_use = "the display resumes as soon as the hold is dropped"]
pub struct DisplayHold {
    emitter: Emitter,
}

impl Drop for DisplayHold {
    fn drop(&mut self) {
        self.emitter.each_reporter(|r| r.resume());
    }
}
