//! Step output → lines: workflow commands are acted on, every line is masked, written to the
//! step's log file and emitted as an event.

use std::io::Write;
use std::path::PathBuf;

use super::commands::{self, Command};
use super::step::StepRun;
use crate::backend::Output;
use crate::event::Event;

pub struct LineSink<'a> {
    run: &'a StepRun<'a>,
    log: Option<std::fs::File>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Set by `::stop-commands::TOKEN`: commands are ignored until `::TOKEN::`.
    stopped: Option<String>,
}

/// Longest line kept whole; longer output is split so memory stays bounded.
const MAX_LINE: usize = 64 * 1024;

impl<'a> LineSink<'a> {
    pub fn new(run: &'a StepRun<'a>, log: PathBuf) -> Self {
        if let Some(dir) = log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log).ok();
        LineSink { run, log, stdout: Vec::new(), stderr: Vec::new(), stopped: None }
    }

    pub fn chunk(&mut self, chunk: Output) {
        let (buf, stream) = match chunk {
            Output::Stdout(b) => {
                self.stdout.extend_from_slice(&b);
                (std::mem::take(&mut self.stdout), "stdout")
            }
            Output::Stderr(b) => {
                self.stderr.extend_from_slice(&b);
                (std::mem::take(&mut self.stderr), "stderr")
            }
        };
        let mut rest = buf.as_slice();
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            self.line(stream, &rest[..pos]);
            rest = &rest[pos + 1..];
        }
        while rest.len() > MAX_LINE {
            self.line(stream, &rest[..MAX_LINE]);
            rest = &rest[MAX_LINE..];
        }
        let keep = rest.to_vec();
        if stream == "stdout" {
            self.stdout = keep;
        } else {
            self.stderr = keep;
        }
    }

    pub fn flush(&mut self) {
        for stream in ["stdout", "stderr"] {
            let buf = if stream == "stdout" {
                std::mem::take(&mut self.stdout)
            } else {
                std::mem::take(&mut self.stderr)
            };
            if !buf.is_empty() {
                self.line(stream, &buf);
            }
        }
    }

    fn line(&mut self, stream: &str, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let run = self.run;
        if let Some(token) = &self.stopped {
            if text.trim() == format!("::{token}::") {
                self.stopped = None;
                return;
            }
        } else if let Some(cmd) = commands::parse(text) {
            match cmd {
                Command::AddMask(v) => {
                    run.shared.masker.add(&v);
                    return;
                }
                Command::StopCommands(t) => {
                    self.stopped = Some(t);
                    return;
                }
                Command::Annotation { level, message, .. } => run.annotate(level, message),
                Command::Group(_) | Command::EndGroup | Command::Debug(_) => {}
            }
        }
        let masked = run.shared.masker.mask(text);
        if let Some(f) = &mut self.log {
            let _ = writeln!(f, "{masked}");
        }
        run.shared.emitter.emit(Event::StepOutput {
            job: run.leg.job_id.clone(),
            name: run.leg.name.clone(),
            step: run.index,
            stream: stream.into(),
            line: masked,
        });
    }
}
