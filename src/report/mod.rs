//! Reporters: consumers of run events. The JSON reporter prints the event stream; the live view
//! (a terminal) and the plain reporter (anything else) print what a person wants to follow.
//! Which ones a run gets is decided here, from the output style (`style`).

mod json;
mod live;
mod paint;
mod plain;
mod prefix;
pub mod style;
mod summary;

use std::io::Write;

pub use json::JsonReporter;
pub use live::LiveReporter;
pub use paint::duration;
pub use plain::PlainReporter;
pub use style::{Facts, Style};
pub use summary::{FAILURE_LINES, quoted};

use crate::cli::{ColorChoice, OutputFormat};
use crate::runner::emitter::Reporter;
use crate::store::Store;

/// Which standard stream human text of a run goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn is_terminal(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// A standard stream that goes quiet once its reader is gone (`pipe run … | head`): the run
/// goes on, its output is dropped, and nothing panics.
pub struct Sink {
    stream: Stream,
    closed: bool,
    /// Text given to [`Sink::write_soon`] and not written yet.
    pending: Vec<u8>,
}

/// Text [`Sink::write_soon`] keeps before it writes.
const SINK_BUFFER: usize = 32 * 1024;

impl Sink {
    pub fn new(stream: Stream) -> Self {
        Sink { stream, closed: false, pending: Vec::new() }
    }

    /// Write `text` now (after what [`Sink::write_soon`] kept).
    pub fn write(&mut self, text: &str) {
        if self.pending.is_empty() {
            self.write_bytes(text.as_bytes());
        } else {
            self.pending.extend_from_slice(text.as_bytes());
            self.write_pending();
        }
    }

    /// Write `text` with what follows, at the latest at the next [`Sink::write`] or
    /// [`Sink::flush`]: lots of step output in a few writes.
    pub fn write_soon(&mut self, text: &str) {
        self.pending.extend_from_slice(text.as_bytes());
        if self.pending.len() >= SINK_BUFFER {
            self.write_pending();
        }
    }

    fn write_pending(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.write_bytes(&pending);
        // The allocation is kept for the next lines.
        self.pending = pending;
        self.pending.clear();
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        let written = match self.stream {
            Stream::Stdout => std::io::stdout().lock().write_all(bytes),
            Stream::Stderr => std::io::stderr().lock().write_all(bytes),
        };
        if written.is_err() {
            self.closed = true;
        }
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.write_pending();
        }
        match self.stream {
            Stream::Stdout => std::io::stdout().lock().flush(),
            Stream::Stderr => std::io::stderr().lock().flush(),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// What the reporters of a run are built from.
pub struct RunView<'a> {
    pub output: OutputFormat,
    pub color: ColorChoice,
    pub quiet: bool,
    pub store: &'a Store,
    /// Job and leg names of the plan, in its order (the name column and the table follow it).
    pub names: Vec<String>,
    /// Last lines of a failed step shown (`--failure-lines`).
    pub failure_lines: usize,
}

/// The reporters of a run: the JSON stream on stdout with `--output json` (and a person's view
/// on stderr), else a person's view on stdout: live on a terminal, plain lines elsewhere.
pub fn for_run(view: RunView<'_>) -> Vec<Box<dyn Reporter>> {
    let mut reporters: Vec<Box<dyn Reporter>> = Vec::new();
    let stream = match view.output {
        OutputFormat::Json => {
            reporters.push(Box::new(JsonReporter::default()));
            Stream::Stderr
        }
        OutputFormat::Text => Stream::Stdout,
    };
    // Next to the JSON stream, people see progress and problems, not every output line.
    let show_output = view.output == OutputFormat::Text;
    let style = Style::choose(Facts::of_process(stream.is_terminal(), view.color, view.quiet));
    let summary = summary::Summary::new(view.store.clone(), view.names.clone(), view.failure_lines);
    let prefixes = prefix::Prefixes::new(view.names.iter().map(String::as_str), style.color);
    if style.live {
        reporters.push(Box::new(LiveReporter::new(stream, show_output, summary, prefixes)));
    } else {
        let sink = Sink::new(stream);
        reporters.push(Box::new(PlainReporter::new(
            sink,
            style.color,
            view.quiet,
            show_output,
            summary,
            prefixes,
        )));
    }
    reporters
}

/// The names a plan shows: every job, and every leg of a matrix known at plan time.
pub fn plan_names(plan: &crate::plan::Plan) -> Vec<String> {
    let mut names = Vec::new();
    for job in &plan.jobs {
        names.push(job.name.clone());
        if let crate::plan::Legs::Matrix { legs, .. } = &job.legs {
            names.extend(legs.iter().map(|l| l.name.clone()));
        }
    }
    names
}
