//! Plain output of a run: complete lines, never redrawn, for pipes, files and CI logs (with
//! colours only when asked). One line per job and step event, step output behind the job's name,
//! a failed step's last lines, then the summary table. `-q`: results and problems only.

use crate::event::{Conclusion, Envelope, Event};
use crate::runner::emitter::Reporter;

use super::paint::{self, mark, paint, result_style};
use super::prefix::Prefixes;
use super::summary::{Summary, failure_block};

pub struct PlainReporter {
    out: super::Sink,
    color: bool,
    quiet: bool,
    /// Step output lines (not shown next to the JSON stream).
    show_output: bool,
    prefixes: Prefixes,
    summary: Summary,
    /// The prefix of the last leg whose output was shown (made once for its lines in a row).
    last_prefix: Option<(String, String)>,
}

impl PlainReporter {
    pub fn new(
        out: super::Sink,
        color: bool,
        quiet: bool,
        show_output: bool,
        summary: Summary,
        prefixes: Prefixes,
    ) -> Self {
        PlainReporter { out, color, quiet, show_output, prefixes, summary, last_prefix: None }
    }

    fn print(&mut self, text: &str) {
        self.out.write(text);
    }

    fn line(&mut self, name: &str, text: &str) {
        let p = self.prefixes.of(name);
        self.print(&format!("{p} {text}\n"));
    }
}

impl Reporter for PlainReporter {
    fn report(&mut self, env: &Envelope) {
        let failure = self.summary.observe(env);
        let loud = !self.quiet;
        match &env.event {
            Event::RunStarted { pipeline, event_name, git_ref, sha, mode } if loud => {
                let short: String = sha.chars().take(12).collect();
                self.print(&format!(
                    "run {} of {pipeline}: {event_name} on {git_ref} at {short} ({mode} mode)\n",
                    env.run_id
                ));
            }
            Event::JobStarted { name, executor, image, .. } if loud => {
                let place = image.as_ref().map_or(executor.clone(), |i| format!("{executor} {i}"));
                self.line(name, &format!("job started ({place})"));
            }
            Event::StepStarted { name, step_name, .. } if loud => self.line(name, &format!("> {step_name}")),
            Event::StepOutput { name, line, .. } => {
                if !(loud && self.show_output) {
                    return;
                }
                if let Some(title) = line.strip_prefix("::group::") {
                    let header = paint(self.color, console::Style::new().bold(), &format!("== {title}"));
                    self.line(name, &header);
                } else if !line.starts_with("::endgroup::") {
                    // Lots of output: written in batches (at the latest at the next other event
                    // or tick), the prefix made once per leg in a row.
                    let line = paint::output_line(line, self.color);
                    if self.last_prefix.as_ref().is_none_or(|(n, _)| n != name) {
                        self.last_prefix = Some((name.clone(), self.prefixes.of(name)));
                    }
                    let prefix = self.last_prefix.as_ref().map_or("", |(_, p)| p.as_str());
                    let mut text = String::with_capacity(prefix.len() + line.len() + 4);
                    text.push_str(prefix);
                    text.push_str("   ");
                    text.push_str(&line);
                    text.push('\n');
                    self.out.write_soon(&text);
                }
                return;
            }
            Event::StepFinished { name, step_name, outcome, conclusion, duration_ms, .. }
                if loud || *conclusion == Conclusion::Failure =>
            {
                let note = if outcome != conclusion {
                    format!(" (continue-on-error: outcome {})", outcome.as_str())
                } else {
                    String::new()
                };
                let m = paint(self.color, result_style(*conclusion), mark(*conclusion));
                self.line(name, &format!("{m} {step_name} ({}){note}", paint::duration(*duration_ms)));
            }
            Event::Annotation { name, level, message, .. } if loud || level != "notice" => {
                self.line(name, &format!("{level}: {message}"));
            }
            Event::Notice { level, message } => self.print(&format!("{level}: {message}\n")),
            Event::GateWaiting { name, environment, .. } => {
                self.line(name, &format!("waiting for approval to deploy to `{environment}`"));
            }
            Event::GateDecided { job, environment, decision, by, comment } => {
                let c = comment.as_ref().map(|c| format!(": {c}")).unwrap_or_default();
                self.line(job, &format!("gate `{environment}` {decision} by {by}{c}"));
            }
            Event::Deployed { name, environment, url, .. } if loud => {
                let at = url.as_ref().map(|u| format!(" at {u}")).unwrap_or_default();
                self.line(name, &format!("deployed to `{environment}`{at}"));
            }
            Event::JobFinished { name, result, duration_ms, .. } => {
                let m = paint(self.color, result_style(*result), mark(*result));
                let took = if *result == Conclusion::Skipped {
                    String::new()
                } else {
                    format!(" ({})", paint::duration(*duration_ms))
                };
                self.line(name, &format!("job {m}{took}"));
            }
            Event::RunFinished { result, duration_ms } => {
                let table = self.summary.render(&env.run_id, *result, *duration_ms, self.color);
                self.print(&table);
            }
            _ => {}
        }
        if let Some(f) = failure {
            let block = failure_block(&f, self.color);
            self.print(&block);
        }
        let _ = self.out.flush();
    }

    fn tick(&mut self) {
        let _ = self.out.flush();
    }

    fn pause(&mut self) {
        let _ = self.out.flush();
    }
}
