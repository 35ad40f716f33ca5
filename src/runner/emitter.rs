//! Fans each event out to its consumers: the run's `events.jsonl` and the reporters. Events are
//! masked once more on the way, so no consumer can ever see a secret.

use std::sync::{Arc, Mutex};

use crate::event::{Envelope, Event};
use crate::mask::Masker;
use crate::store;

/// Something that shows events to a person or a program.
pub trait Reporter: Send {
    fn report(&mut self, event: &Envelope);
}

#[derive(Clone)]
pub struct Emitter {
    inner: Arc<Mutex<Inner>>,
    masker: Masker,
    run_id: String,
}

struct Inner {
    events_file: Option<std::path::PathBuf>,
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
            inner: Arc::new(Mutex::new(Inner { events_file, reporters, write_error: None })),
            masker,
            run_id: run_id.to_string(),
        }
    }

    pub fn emit(&self, event: Event) {
        let envelope = Envelope { v: 1, event, run_id: self.run_id.clone(), ts: crate::event::now_rfc3339() };
        let masked = match serde_json::to_value(&envelope) {
            Ok(v) => self.masker.mask_json(&v),
            Err(_) => return,
        };
        let Ok(envelope) = serde_json::from_value::<Envelope>(masked.clone()) else { return };
        let mut inner = match self.inner.lock() {
            Ok(i) => i,
            Err(p) => p.into_inner(),
        };
        if let Some(path) = inner.events_file.clone()
            && let Err(e) = store::append_line(&path, &masked.to_string())
        {
            inner.write_error.get_or_insert(e.to_string());
        }
        for r in &mut inner.reporters {
            r.report(&envelope);
        }
    }

    pub fn write_error(&self) -> Option<String> {
        self.inner.lock().ok().and_then(|i| i.write_error.clone())
    }
}
