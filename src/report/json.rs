//! `--output json`: one event per line on stdout, nothing else on stdout. Step output lines are
//! written in batches (at the latest at the next other event or display tick), every other
//! event at once.

use std::io::Write;

use crate::event::{Envelope, Event};
use crate::runner::emitter::Reporter;

/// Output lines kept before they are written.
const BUFFER: usize = 32 * 1024;

#[derive(Default)]
pub struct JsonReporter {
    pending: Vec<u8>,
}

impl JsonReporter {
    fn write_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&self.pending);
        let _ = out.flush();
        self.pending.clear();
    }
}

impl Reporter for JsonReporter {
    fn report(&mut self, event: &Envelope) {
        let before = self.pending.len();
        if serde_json::to_writer(&mut self.pending, event).is_err() {
            self.pending.truncate(before);
            return;
        }
        self.pending.push(b'\n');
        if !matches!(event.event, Event::StepOutput { .. }) || self.pending.len() >= BUFFER {
            self.write_pending();
        }
    }

    fn tick(&mut self) {
        self.write_pending();
    }

    fn pause(&mut self) {
        self.write_pending();
    }
}

impl Drop for JsonReporter {
    fn drop(&mut self) {
        self.write_pending();
    }
}
