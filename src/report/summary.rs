//! What a person needs at the end of a run, gathered from its events: a table of the jobs (result,
//! duration, the failing step and its exit code), the gate decisions, the deploy URLs, and the
//! commands that show the logs or resume. Also keeps the last lines of every running step, so a
//! failure can be shown with its output without opening a file.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use crate::event::{Conclusion, Envelope, Event, RunResult};
use crate::store::Store;

use super::paint::{self, paint, result_style};

/// Lines of a failed step shown by default (`--failure-lines`).
pub const FAILURE_LINES: usize = 20;

/// A step that failed, with its last lines of output.
pub struct StepFailure {
    pub leg: String,
    pub step_name: String,
    pub exit: Option<String>,
    pub lines: Vec<String>,
    /// No lines were asked for (`--failure-lines 0`).
    pub hidden: bool,
    pub log: PathBuf,
}

struct Row {
    name: String,
    result: Conclusion,
    duration_ms: u64,
    detail: Option<String>,
    /// A manual job that was not run (its detail says how to run it).
    manual: bool,
}

pub struct Summary {
    store: Store,
    /// Plan order of job and leg names: rows are sorted by it, not by when jobs finished.
    order: Vec<String>,
    rows: Vec<Row>,
    tails: HashMap<(String, usize), VecDeque<String>>,
    /// How many lines a tail keeps.
    tail_lines: usize,
    /// The exit line of a running step, kept apart so it is known even when no lines are shown.
    exits: HashMap<(String, usize), String>,
    /// Why a leg failed: its first failing step (`Run tests` (exit code 3)), else the first error.
    reasons: HashMap<String, String>,
    /// Manual jobs not run, with how to run them.
    manual: HashMap<String, String>,
    /// Job id → name (gate decisions carry only the id).
    names: HashMap<String, String>,
    gates: Vec<String>,
    waiting: Vec<String>,
    deploys: Vec<String>,
    first_failed: Option<String>,
}

impl Summary {
    pub fn new(store: Store, order: Vec<String>, tail_lines: usize) -> Self {
        Summary {
            store,
            order,
            rows: Vec::new(),
            tails: HashMap::new(),
            tail_lines,
            exits: HashMap::new(),
            reasons: HashMap::new(),
            manual: HashMap::new(),
            names: HashMap::new(),
            gates: Vec::new(),
            waiting: Vec::new(),
            deploys: Vec::new(),
            first_failed: None,
        }
    }

    /// Take note of an event; a failed step comes back with its last lines.
    pub fn observe(&mut self, env: &Envelope) -> Option<StepFailure> {
        match &env.event {
            Event::JobStarted { job, name, .. } | Event::GateWaiting { job, name, .. } => {
                self.names.insert(job.clone(), name.clone());
                if let Event::GateWaiting { environment, .. } = &env.event {
                    self.waiting.push(environment.clone());
                }
            }
            Event::StepStarted { name, step, .. } => {
                self.tails.insert((name.clone(), *step), VecDeque::new());
            }
            Event::StepOutput { name, step, line, .. } => {
                if is_group_marker(line) {
                    return None;
                }
                if let Some(exit) = exit_of(line) {
                    self.exits.insert((name.clone(), *step), exit);
                }
                let tail = self.tails.entry((name.clone(), *step)).or_default();
                if self.tail_lines == 0 {
                    return None;
                }
                if tail.len() == self.tail_lines {
                    tail.pop_front();
                }
                tail.push_back(line.clone());
            }
            Event::StepFinished { name, step, step_name, conclusion, .. } => {
                let tail = self.tails.remove(&(name.clone(), *step)).unwrap_or_default();
                let exit = self.exits.remove(&(name.clone(), *step));
                if *conclusion != Conclusion::Failure {
                    return None;
                }
                let why = match &exit {
                    Some(e) => format!("`{step_name}` failed ({e})"),
                    None => format!("`{step_name}` failed"),
                };
                self.reasons.entry(name.clone()).or_insert(why);
                return Some(StepFailure {
                    leg: name.clone(),
                    step_name: step_name.clone(),
                    exit,
                    lines: tail.into_iter().collect(),
                    hidden: self.tail_lines == 0,
                    log: self.store.log_path(&env.run_id, name, *step, step_name),
                });
            }
            Event::Annotation { name, level, message, .. } => {
                if level == "error" {
                    self.reasons.entry(name.clone()).or_insert_with(|| message.clone());
                } else if let Some(rest) = message.strip_prefix("manual: ") {
                    self.manual.insert(name.clone(), rest.to_string());
                }
            }
            Event::GateDecided { job, environment, decision, by, comment } => {
                let comment = comment.as_ref().map(|c| format!(": {c}")).unwrap_or_default();
                let by = if decision == "auto" { String::new() } else { format!(" by {by}") };
                self.gates.push(format!("{environment}: {decision}{by}{comment}"));
                self.waiting.retain(|e| e != environment);
                if decision == "rejected" {
                    let name = self.names.get(job).cloned().unwrap_or_else(|| job.clone());
                    self.reasons.insert(name, format!("deployment to `{environment}` rejected"));
                }
            }
            Event::Deployed { environment, url, result, .. } => {
                let url = url.as_deref().filter(|u| !u.is_empty()).unwrap_or("(no url)");
                self.deploys.push(format!("{environment}: {url} ({})", result.as_str()));
            }
            Event::JobFinished { name, result, duration_ms, .. } => {
                if *result == Conclusion::Failure && self.first_failed.is_none() {
                    self.first_failed = Some(name.clone());
                }
                let manual = self.manual.remove(name);
                let reason = self.reasons.remove(name).filter(|_| *result != Conclusion::Success);
                self.rows.push(Row {
                    name: name.clone(),
                    result: *result,
                    duration_ms: *duration_ms,
                    manual: manual.is_some(),
                    detail: manual.or(reason),
                });
            }
            _ => {}
        }
        None
    }

    /// The table and the closing lines of the run.
    pub fn render(&self, run_id: &str, result: RunResult, duration_ms: u64, color: bool) -> String {
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        let rank = |name: &str| self.order.iter().position(|n| n == name).unwrap_or(usize::MAX);
        // Stable: legs the plan does not know (expanded at run time) keep their finishing order.
        rows.sort_by_key(|r| rank(&r.name));
        let width = rows.iter().map(|r| console::measure_text_width(&r.name)).max().unwrap_or(3).max(3);
        let mut out = String::from("\n");
        let header = format!("{:<width$}  {:<9}  {:>8}  {}", "JOB", "RESULT", "DURATION", "DETAILS");
        out.push_str(&paint(color, console::Style::new().bold(), header.trim_end()));
        out.push('\n');
        for r in rows {
            let word = if r.manual { "manual" } else { r.result.as_str() };
            let result = paint(color, result_style(r.result), &format!("{word:<9}"));
            let time = if r.result == Conclusion::Skipped {
                "-".to_string()
            } else {
                paint::duration(r.duration_ms)
            };
            let line = format!(
                "{:<width$}  {result}  {time:>8}  {}",
                r.name,
                r.detail.as_deref().unwrap_or_default()
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for (title, lines) in [("gates", &self.gates), ("deployed", &self.deploys)] {
            if !lines.is_empty() {
                out.push_str(&format!("{title}:\n"));
                for l in lines {
                    out.push_str(&format!("  {l}\n"));
                }
            }
        }
        let word = match result {
            RunResult::Success => "succeeded",
            RunResult::Failure => "failed",
            RunResult::Cancelled => "was cancelled",
            RunResult::Waiting => "is waiting for approval",
            RunResult::Interrupted => "was interrupted",
        };
        let headline = format!("run {run_id} {word} in {}", paint::duration(duration_ms));
        let style = match result {
            RunResult::Success => result_style(Conclusion::Success),
            RunResult::Failure => result_style(Conclusion::Failure),
            _ => result_style(Conclusion::Cancelled),
        };
        out.push_str(&paint(color, style.bold(), &headline));
        out.push('\n');
        let logs = match &self.first_failed {
            Some(name) => format!("pipe logs {run_id} {}", quoted(name)),
            None => format!("pipe logs {run_id}"),
        };
        out.push_str(&format!("  logs:    {logs}\n"));
        match result {
            RunResult::Success => {}
            RunResult::Waiting => {
                let env = self.waiting.first().map(|e| format!(" --env {}", quoted(e))).unwrap_or_default();
                out.push_str(&format!(
                    "  approve: pipe approve {run_id}{env} (or pipe reject {run_id}{env})\n"
                ));
                out.push_str(&format!("  resume:  pipe resume {run_id}\n"));
            }
            RunResult::Failure | RunResult::Cancelled | RunResult::Interrupted => {
                out.push_str(&format!("  resume:  pipe resume {run_id} (runs what did not succeed)\n"));
            }
        }
        out
    }
}

/// The block shown when a step fails: its last lines and where its whole log is.
pub fn failure_block(f: &StepFailure, color: bool) -> String {
    let exit = f.exit.as_ref().map(|e| format!(" ({e})")).unwrap_or_default();
    let title = format!("{}: step `{}` failed{exit}", f.leg, f.step_name);
    let mut out = paint(color, result_style(Conclusion::Failure), &title);
    out.push('\n');
    if f.hidden {
        // `--failure-lines 0`: only where the log is.
    } else if f.lines.is_empty() {
        out.push_str("  (no output)\n");
    } else {
        out.push_str(&format!("  last {} line(s):\n", f.lines.len()));
        for l in &f.lines {
            let l = paint::output_line(l, color);
            out.push_str(&format!("  {} {l}\n", paint(color, console::Style::new().dim(), "|")));
        }
    }
    out.push_str(&format!("  full log: {}\n", f.log.display()));
    out
}

/// `::group::` and `::endgroup::` lines: headers in the live view, not output.
pub fn is_group_marker(line: &str) -> bool {
    line.starts_with("::group::") || line.starts_with("::endgroup::")
}

/// The exit of a failed step, from the line the runner writes for it.
fn exit_of(line: &str) -> Option<String> {
    if let Some(code) =
        line.strip_prefix("Process completed with exit code ").and_then(|r| r.strip_suffix('.'))
    {
        return Some(format!("exit code {code}"));
    }
    line.starts_with("The step exceeded its timeout-minutes").then(|| "timed out".to_string())
}

/// A name as the shell takes it: in single quotes when it has spaces or shell characters.
pub fn quoted(name: &str) -> String {
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c));
    if plain { name.to_string() } else { format!("'{}'", name.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: Event) -> Envelope {
        Envelope { v: 1, event, run_id: "R".into(), ts: "t".into() }
    }

    fn output(name: &str, line: &str) -> Envelope {
        ev(Event::StepOutput {
            job: "t".into(),
            name: name.into(),
            step: 1,
            stream: "stdout".into(),
            line: line.into(),
        })
    }

    #[test]
    fn a_failed_step_comes_with_its_last_lines_and_exit_code() {
        let mut s = Summary::new(Store::new(".pipe"), vec![], FAILURE_LINES);
        let name = "test (3.12, linux)";
        s.observe(&ev(Event::StepStarted {
            job: "t".into(),
            name: name.into(),
            step: 1,
            id: None,
            step_name: "Run tests".into(),
        }));
        for i in 0..30 {
            s.observe(&output(name, &format!("line {i}")));
        }
        s.observe(&output(name, "::endgroup::"));
        s.observe(&output(name, "Process completed with exit code 3."));
        let f = s
            .observe(&ev(Event::StepFinished {
                job: "t".into(),
                name: name.into(),
                step: 1,
                id: None,
                step_name: "Run tests".into(),
                outcome: Conclusion::Failure,
                conclusion: Conclusion::Failure,
                duration_ms: 5,
            }))
            .expect("a failure");
        assert_eq!(f.lines.len(), FAILURE_LINES);
        assert_eq!(f.lines.first().map(String::as_str), Some("line 11"));
        assert_eq!(f.exit.as_deref(), Some("exit code 3"));
        assert_eq!(f.log, PathBuf::from(".pipe/runs/R/logs/test (3.12, linux)/01-Run tests.log"));
        let block = failure_block(&f, false);
        assert!(
            block.starts_with(
                "test (3.12, linux): step `Run tests` failed (exit code 3)\n  last 20 line(s):\n  | line 11\n"
            ),
            "{block}"
        );
        assert!(
            block.ends_with("  full log: .pipe/runs/R/logs/test (3.12, linux)/01-Run tests.log\n"),
            "{block}"
        );
        s.observe(&ev(Event::JobFinished {
            job: "t".into(),
            name: name.into(),
            matrix: None,
            result: Conclusion::Failure,
            outputs: serde_json::json!({}),
            duration_ms: 1200,
        }));
        let table = s.render("R", RunResult::Failure, 1500, false);
        assert!(
            table.contains("test (3.12, linux)  failure        1.2s  `Run tests` failed (exit code 3)\n"),
            "{table}"
        );
        assert!(table.contains("  logs:    pipe logs R 'test (3.12, linux)'\n"), "{table}");
        assert!(!table.contains('\u{1b}'));
    }

    #[test]
    fn names_for_the_shell() {
        assert_eq!(quoted("build"), "build");
        assert_eq!(quoted("test (3.12)"), "'test (3.12)'");
        assert_eq!(quoted("it's"), r"'it'\''s'");
    }
}
