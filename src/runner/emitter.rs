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
    /// The first failure to write the event log (reported once at the end of the run).
    write_error: Option<String>,
}

impl Emitter {
    pub fn new(
        run_id: &str,
        events_file: Option<std::path::PathBuf>,
        reporters: Vec<Box<dyn Reporter>>,
        masker: Masker,
    ) -> Self {
        Emitter {
            inner: Arc::new(Mutex::new(Inner { events_file, events: None, reporters, write_error: None })),
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
        inner.append(&masked.to_string());
        // Output by reference is for the event log only: the reporters had its lines.
        if matches!(envelope.event, Event::StepLog { .. }) {
            return;
        }
        for r in &mut inner.reporters {
            r.report(&envelope);
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
    fn append(&mut self, line: &str) {
        let Some(path) = &self.events_file else { return };
        if self.events.is_none() {
            let opened = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(path));
            match opened {
                Ok(f) => self.events = Some(f),
                Err(e) => {
                    self.write_error.get_or_insert(format!("cannot write {}: {e}", path.display()));
                    return;
                }
            }
        }
        let mut buf = String::with_capacity(line.len() + 1);
        buf.push_str(line);
        buf.push('\n');
        if let Some(f) = &mut self.events
            && let Err(e) = f.write_all(buf.as_bytes())
        {
            self.write_error.get_or_insert(format!("cannot write {}: {e}", path.display()));
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
