//! The live view of a run on a terminal (indicatif): one line per running job with a spinner,
//! its current step and the time since it started; step output scrolls above, behind the job's
//! coloured name; a finished job leaves one line with its result and duration; the summary table
//! closes the run. Paused while a prompt uses the terminal.

use std::collections::HashMap;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::event::{Conclusion, Envelope, Event};
use crate::runner::emitter::Reporter;

use super::Stream;
use super::paint::{self, mark, paint, result_style};
use super::prefix::Prefixes;
use super::summary::{Summary, failure_block};

pub struct LiveReporter {
    multi: MultiProgress,
    stream: Stream,
    /// Running legs by name.
    bars: HashMap<String, ProgressBar>,
    prefixes: Prefixes,
    summary: Summary,
    show_output: bool,
    /// Lines that arrived while a prompt held the terminal.
    held: Option<Vec<String>>,
}

impl LiveReporter {
    pub fn new(stream: Stream, show_output: bool, summary: Summary, prefixes: Prefixes) -> Self {
        let multi = MultiProgress::with_draw_target(target(stream));
        LiveReporter { multi, stream, bars: HashMap::new(), prefixes, summary, show_output, held: None }
    }

    /// A line above the bars (kept while a prompt holds the terminal).
    fn print(&mut self, line: String) {
        match &mut self.held {
            Some(held) => held.push(line),
            None => {
                let _ = self.multi.println(line);
            }
        }
    }

    fn line(&mut self, name: &str, text: &str) {
        let p = self.prefixes.of(name);
        self.print(format!("{p} {text}"));
    }

    fn bar(&mut self, name: &str) -> ProgressBar {
        if let Some(b) = self.bars.get(name) {
            return b.clone();
        }
        let style = ProgressStyle::with_template("{spinner:.cyan} {prefix} {wide_msg} {elapsed:>6.dim}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
        let bar = self.multi.add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(self.prefixes.name(name));
        bar.tick();
        self.bars.insert(name.to_string(), bar.clone());
        bar
    }

    fn finish(&mut self, name: &str, result: Conclusion, duration_ms: u64) {
        if let Some(bar) = self.bars.remove(name) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let m = paint(true, result_style(result), &format!("{} {}", symbol(result), mark(result)));
        let p = self.prefixes.name(name);
        let took = if result == Conclusion::Skipped {
            String::new()
        } else {
            format!(" in {}", paint::duration(duration_ms))
        };
        self.print(format!("{p} {m}{took}"));
    }
}

fn target(stream: Stream) -> ProgressDrawTarget {
    match stream {
        Stream::Stdout => ProgressDrawTarget::stdout(),
        Stream::Stderr => ProgressDrawTarget::stderr(),
    }
}

fn symbol(c: Conclusion) -> &'static str {
    match c {
        Conclusion::Success => "✓",
        Conclusion::Failure => "✗",
        Conclusion::Skipped => "-",
        Conclusion::Cancelled | Conclusion::Interrupted => "!",
    }
}

impl Reporter for LiveReporter {
    fn report(&mut self, env: &Envelope) {
        let failure = self.summary.observe(env);
        match &env.event {
            Event::RunStarted { pipeline, event_name, git_ref, sha, mode } => {
                let short: String = sha.chars().take(12).collect();
                let title = format!(
                    "run {} of {pipeline}: {event_name} on {git_ref} at {short} ({mode} mode)",
                    env.run_id
                );
                self.print(paint(true, console::Style::new().bold(), &title));
            }
            Event::JobStarted { name, executor, image, .. } => {
                let place = image.as_ref().map_or(executor.clone(), |i| format!("{executor} {i}"));
                self.bar(name).set_message(format!("starting ({place})"));
            }
            Event::StepStarted { name, step_name, .. } => self.bar(name).set_message(step_name.clone()),
            Event::StepOutput { name, line, .. } if self.show_output => {
                if let Some(title) = line.strip_prefix("::group::") {
                    let header = paint(true, console::Style::new().bold().underlined(), title);
                    self.line(name, &format!("▸ {header}"));
                } else if !line.starts_with("::endgroup::") {
                    self.line(name, line);
                }
            }
            Event::StepFinished { name, step_name, conclusion: Conclusion::Failure, duration_ms, .. } => {
                let m = paint(true, result_style(Conclusion::Failure), "✗");
                self.line(name, &format!("{m} {step_name} ({})", paint::duration(*duration_ms)));
            }
            Event::Annotation { name, level, message, .. } => {
                let style = match level.as_str() {
                    "error" => console::Style::new().red(),
                    "warning" => console::Style::new().yellow(),
                    _ => console::Style::new().dim(),
                };
                self.line(name, &paint(true, style, &format!("{level}: {message}")));
            }
            Event::Notice { level, message } => self.print(format!("{level}: {message}")),
            Event::GateWaiting { name, environment, .. } => {
                let text = format!("waiting for approval to deploy to `{environment}`");
                self.bar(name).set_message(paint(true, console::Style::new().yellow(), &text));
            }
            Event::GateDecided { job, environment, decision, by, comment } => {
                let c = comment.as_ref().map(|c| format!(": {c}")).unwrap_or_default();
                self.line(job, &format!("gate `{environment}` {decision} by {by}{c}"));
            }
            Event::Deployed { name, environment, url, .. } => {
                let at = url.as_ref().map(|u| format!(" at {u}")).unwrap_or_default();
                self.line(name, &format!("deployed to `{environment}`{at}"));
            }
            Event::JobFinished { name, result, duration_ms, .. } => self.finish(name, *result, *duration_ms),
            Event::RunFinished { result, duration_ms } => {
                for (_, bar) in self.bars.drain() {
                    bar.finish_and_clear();
                }
                let _ = self.multi.clear();
                let table = self.summary.render(&env.run_id, *result, *duration_ms, true);
                let mut sink = super::Sink::new(self.stream);
                sink.write(&table);
                let _ = sink.flush();
            }
            _ => {}
        }
        if let Some(f) = failure {
            let block = failure_block(&f, true);
            self.print(block.trim_end().to_string());
        }
    }

    /// The dispatcher's display tick: spinners turn and elapsed times count without events.
    fn tick(&mut self) {
        if self.held.is_none() {
            for bar in self.bars.values() {
                bar.tick();
            }
        }
    }

    fn pause(&mut self) {
        if self.held.is_none() {
            self.held = Some(Vec::new());
            let _ = self.multi.clear();
            self.multi.set_draw_target(ProgressDrawTarget::hidden());
        }
    }

    fn resume(&mut self) {
        if let Some(held) = self.held.take() {
            self.multi.set_draw_target(target(self.stream));
            for line in held {
                let _ = self.multi.println(line);
            }
        }
    }
}
