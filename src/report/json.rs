//! `--output json`: one event per line on stdout, nothing else on stdout.

use std::io::Write;

use crate::event::Envelope;
use crate::runner::emitter::Reporter;

pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn report(&mut self, event: &Envelope) {
        if let Ok(line) = serde_json::to_string(event) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}
