//! Plain text output of a run: one line per step start/finish and per output line, prefixed with
//! the job's name, then a summary. Written to stdout (or stderr when stdout carries JSON).

use std::io::Write;

use crate::event::{Conclusion, Envelope, Event, RunResult};
use crate::runner::emitter::Reporter;

pub struct TextReporter {
    color: bool,
    to_stderr: bool,
    /// Print step output lines (not with --quiet).
    show_output: bool,
    summary: Vec<(String, Conclusion, u64)>,
    /// Manual jobs that were not run, with the notice that says how to run them.
    manual: Vec<(String, String)>,
}

impl TextReporter {
    pub fn new(color: bool, to_stderr: bool, show_output: bool) -> Self {
        TextReporter { color, to_stderr, show_output, summary: Vec::new(), manual: Vec::new() }
    }

    fn print(&self, line: &str) {
        if self.to_stderr {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }

    fn paint(&self, c: Conclusion, s: &str) -> String {
        if !self.color {
            return s.to_string();
        }
        let st = console::style(s);
        match c {
            Conclusion::Success => st.green(),
            Conclusion::Failure => st.red(),
            Conclusion::Cancelled => st.yellow(),
            Conclusion::Skipped => st.dim(),
        }
        .to_string()
    }
}

fn mark(c: Conclusion) -> &'static str {
    match c {
        Conclusion::Success => "ok",
        Conclusion::Failure => "FAILED",
        Conclusion::Skipped => "skipped",
        Conclusion::Cancelled => "cancelled",
    }
}

/// A step's line without escape sequences or other control characters (tabs stay): raw escapes
/// reach only a terminal with colours on, never a file or a pipe.
fn without_controls(line: &str) -> std::borrow::Cow<'_, str> {
    let stripped = console::strip_ansi_codes(line);
    if !stripped.chars().any(|c| c.is_control() && c != '\t') {
        return stripped;
    }
    stripped.chars().filter(|c| !c.is_control() || *c == '\t').collect::<String>().into()
}

fn secs(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

impl Reporter for TextReporter {
    fn report(&mut self, env: &Envelope) {
        match &env.event {
            Event::RunStarted { pipeline, event_name, git_ref, sha, mode } => {
                let short: String = sha.chars().take(12).collect();
                self.print(&format!(
                    "run {} of {pipeline}: {event_name} on {git_ref} at {short} ({mode} mode)",
                    env.run_id
                ));
            }
            Event::JobStarted { name, executor, image, .. } => {
                let place = image.as_ref().map_or(executor.clone(), |i| format!("{executor} {i}"));
                self.print(&format!("[{name}] started ({place})"));
            }
            Event::StepStarted { name, step_name, .. } => self.print(&format!("[{name}] > {step_name}")),
            Event::StepOutput { name, line, .. } => {
                if self.show_output {
                    if self.color {
                        self.print(&format!("[{name}]   {line}"));
                    } else {
                        self.print(&format!("[{name}]   {}", without_controls(line)));
                    }
                }
            }
            Event::StepFinished { name, step_name, outcome, conclusion, duration_ms, .. } => {
                let note = if outcome != conclusion {
                    format!(" (continue-on-error: outcome {})", outcome.as_str())
                } else {
                    String::new()
                };
                let m = self.paint(*conclusion, mark(*conclusion));
                self.print(&format!("[{name}] {m} {step_name} ({}){note}", secs(*duration_ms)));
            }
            Event::Annotation { name, level, message, .. } => {
                if message.starts_with("manual: not run") {
                    self.manual.push((name.clone(), message.clone()));
                }
                self.print(&format!("[{name}] {level}: {message}"))
            }
            Event::Notice { level, message } => self.print(&format!("{level}: {message}")),
            Event::GateWaiting { name, environment, .. } => {
                self.print(&format!("[{name}] waiting for approval to deploy to `{environment}`"));
            }
            Event::GateDecided { job, environment, decision, by, comment } => {
                let c = comment.as_ref().map(|c| format!(": {c}")).unwrap_or_default();
                self.print(&format!("[{job}] gate `{environment}` {decision} by {by}{c}"));
            }
            Event::JobFinished { name, result, duration_ms, .. } => {
                let m = self.paint(*result, mark(*result));
                self.print(&format!("[{name}] job {m} ({})", secs(*duration_ms)));
                self.summary.push((name.clone(), *result, *duration_ms));
            }
            Event::RunFinished { result, duration_ms } => {
                self.print("");
                for (name, r, ms) in &self.summary {
                    if let Some((_, notice)) = self.manual.iter().find(|(n, _)| n == name) {
                        let m = self.paint(*r, &format!("{:<9}", "manual"));
                        self.print(&format!("  {m} {name}: {}", notice.trim_start_matches("manual: ")));
                        continue;
                    }
                    let m = self.paint(*r, &format!("{:<9}", mark(*r)));
                    self.print(&format!("  {m} {name} ({})", secs(*ms)));
                }
                let word = match result {
                    RunResult::Success => "succeeded",
                    RunResult::Failure => "failed",
                    RunResult::Cancelled => "was cancelled",
                    RunResult::Waiting => "is waiting for approval",
                };
                self.print(&format!("run {} {word} in {}", env.run_id, secs(*duration_ms)));
            }
        }
    }
}
