//! `pipe logs RUN [JOB] [--follow]`: the saved step logs of a run, or of one job (its legs
//! included). JOB is a job id or a name as the terminal shows it (`test`, `test (3.12, linux)`).
//! `--follow` prints the output of a live run as it comes, until the run ends. Both stream:
//! logs are copied as they are read, the event log is read line by line, and the output it
//! carries by reference (`step_log`) is read from the step's log file in pieces.

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Seek};
use std::path::Path;
use std::time::Duration;

use crate::Error;
use crate::event::{Envelope, Event};
use crate::output::Ui;
use crate::store::{Store, file_name};

/// How often a followed run's event log is read again.
const POLL: Duration = Duration::from_millis(200);

pub fn run(ui: &Ui, store: &Store, run: &str, job: Option<&str>, follow: bool) -> Result<i32, Error> {
    let id = store.resolve(run)?;
    if follow {
        return follow_run(ui, store, &id, job);
    }
    let legs = legs_of(store, &id);
    let logs = store.logs_dir(&id);
    let mut folders: Vec<String> = std::fs::read_dir(&logs)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    // In the order the legs started; folders the events do not know (none normally) last.
    let rank = |f: &String| legs.iter().position(|l| &l.folder == f).unwrap_or(usize::MAX);
    folders.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    if let Some(j) = job {
        let wanted: Vec<String> = folders.iter().filter(|f| matches(j, f, &legs)).cloned().collect();
        if wanted.is_empty() {
            let names: Vec<String> = folders.iter().map(|f| crate::report::quoted(f)).collect();
            return Err(Error::Usage {
                message: format!("run {id} has no logs for job `{j}`"),
                hint: Some(format!(
                    "jobs with logs: {}",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                )),
            });
        }
        folders = wanted;
    }
    for folder in &folders {
        let leg = legs.iter().find(|l| &l.folder == folder);
        let title = leg.map_or(folder.as_str(), |l| l.name.as_str());
        for (step, path) in step_files(&logs.join(folder)) {
            let step_name = leg
                .and_then(|l| l.steps.get(&step).cloned())
                .unwrap_or_else(|| step_name_of(&path).unwrap_or_else(|| format!("step {step}")));
            ui.stdout(&format!("== {title} / {step_name} ==\n"));
            if let Ok(f) = std::fs::File::open(&path)
                && !ui.stdout_copy(f)
            {
                // Nobody reads any more (`pipe logs | head`).
                return Ok(crate::exit_code::SUCCESS);
            }
        }
    }
    Ok(crate::exit_code::SUCCESS)
}

/// A leg of the run as its events name it.
struct LegNames {
    job: String,
    name: String,
    folder: String,
    steps: BTreeMap<usize, String>,
}

/// The legs of a run, in the order they started, from its event log.
fn legs_of(store: &Store, id: &str) -> Vec<LegNames> {
    let mut legs: Vec<LegNames> = Vec::new();
    let Ok(file) = std::fs::File::open(store.events_path(id)) else { return legs };
    for line in std::io::BufReader::new(file).split(b'\n') {
        let Ok(line) = line else { break };
        let Ok(env) = serde_json::from_slice::<Envelope>(&line) else { continue };
        match env.event {
            Event::JobStarted { job, name, .. } if !legs.iter().any(|l| l.name == name) => {
                legs.push(LegNames { job, folder: file_name(&name), name, steps: BTreeMap::new() });
            }
            Event::StepStarted { name, step, step_name, .. } => {
                if let Some(l) = legs.iter_mut().find(|l| l.name == name) {
                    l.steps.insert(step, step_name);
                }
            }
            _ => {}
        }
    }
    legs
}

/// Whether `wanted` (a job id, a leg's name or its folder) names the leg logged in `folder`.
fn matches(wanted: &str, folder: &str, legs: &[LegNames]) -> bool {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if same(folder, wanted) || same(folder, &file_name(wanted)) {
        return true;
    }
    // Every leg of a job: by its id, or by the name before the matrix values.
    let job_name = folder.strip_suffix(')').and_then(|f| f.split_once(" (")).map(|(n, _)| n);
    if job_name.is_some_and(|n| same(n, &file_name(wanted))) {
        return true;
    }
    legs.iter().any(|l| l.folder == folder && same(&l.job, wanted))
}

/// The step logs of a leg's folder, by step index.
fn step_files(dir: &Path) -> Vec<(usize, std::path::PathBuf)> {
    let mut steps: Vec<(usize, std::path::PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let p = e.path();
                    let stem = p.file_stem()?.to_str()?;
                    let digits = stem.split('-').next()?;
                    Some((digits.parse().ok()?, p))
                })
                .collect()
        })
        .unwrap_or_default();
    steps.sort();
    steps
}

/// `Run tests` of `02-Run tests.log`.
fn step_name_of(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    stem.split_once('-').map(|(_, name)| name.to_string())
}

/// Print the step output of a run as its event log grows, until the run finishes or its
/// process is gone.
fn follow_run(ui: &Ui, store: &Store, id: &str, job: Option<&str>) -> Result<i32, Error> {
    let path = store.events_path(id);
    let mut offset = 0u64;
    let mut legs: Vec<LegNames> = Vec::new();
    let mut pending = String::new();
    loop {
        // Whether the run was still going before this read: then another read follows.
        let alive = store
            .read_record(id)
            .is_ok_and(|r| r.status == "running" && r.pid.is_some_and(super::runs::process_alive));
        if let Ok(mut f) = std::fs::File::open(&path) {
            let _ = f.seek(std::io::SeekFrom::Start(offset));
            let mut reader = std::io::BufReader::new(f);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if !line.ends_with('\n') {
                    // A line being written: read it again, whole, next time.
                    break;
                }
                offset += line.len() as u64;
                let (text, finished) = followed(&line, job, &mut legs, &store.run_dir(id));
                pending.push_str(&text);
                line.clear();
                if pending.len() >= 64 * 1024 {
                    ui.stdout(&std::mem::take(&mut pending));
                }
                if finished {
                    ui.stdout(&pending);
                    return Ok(0);
                }
            }
        }
        ui.stdout(&std::mem::take(&mut pending));
        if !alive {
            return Ok(0);
        }
        std::thread::sleep(POLL);
    }
}

/// The lines of bytes `offset..offset + len` of a step's log, each after `prefix`.
fn logged_lines(path: &Path, offset: u64, len: u64, prefix: &str) -> String {
    let mut text = String::new();
    let Ok(mut f) = std::fs::File::open(path) else { return text };
    if f.seek(std::io::SeekFrom::Start(offset)).is_err() {
        return text;
    }
    let mut reader = std::io::BufReader::new(f.take(len));
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
        let raw = line.strip_suffix(b"\n").unwrap_or(&line);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        text.push_str(prefix);
        text.push_str(&String::from_utf8_lossy(raw));
        text.push('\n');
        line.clear();
    }
    text
}

/// What one event line of a followed run prints, and whether it is the run's last.
fn followed(line: &str, job: Option<&str>, legs: &mut Vec<LegNames>, run_dir: &Path) -> (String, bool) {
    let Ok(env) = serde_json::from_str::<Envelope>(line) else { return (String::new(), false) };
    let shown = |name: &str, legs: &[LegNames]| {
        job.is_none_or(|j| {
            let folder = file_name(name);
            matches(j, &folder, legs)
        })
    };
    let text = match env.event {
        Event::JobStarted { job: id, name, .. } => {
            legs.push(LegNames {
                job: id,
                folder: file_name(&name),
                name: name.clone(),
                steps: BTreeMap::new(),
            });
            if shown(&name, legs) { format!("{name} | job started\n") } else { String::new() }
        }
        Event::StepStarted { name, step_name, .. } if shown(&name, legs) => {
            format!("{name} | > {step_name}\n")
        }
        Event::StepOutput { name, line, .. } if shown(&name, legs) => format!("{name} |   {line}\n"),
        Event::StepLog { name, log, offset, len, .. } if shown(&name, legs) => {
            logged_lines(&run_dir.join(log), offset, len, &format!("{name} |   "))
        }
        Event::StepFinished { name, step_name, conclusion, .. } if shown(&name, legs) => {
            format!("{name} | {} {step_name}\n", conclusion.as_str())
        }
        Event::GateWaiting { name, environment, .. } if shown(&name, legs) => {
            format!("{name} | waiting for approval to deploy to `{environment}`\n")
        }
        Event::JobFinished { name, result, .. } if shown(&name, legs) => {
            format!("{name} | job {}\n", result.as_str())
        }
        Event::RunFinished { result, .. } => {
            let word = match result {
                crate::event::RunResult::Success => "succeeded",
                crate::event::RunResult::Failure => "failed",
                crate::event::RunResult::Cancelled => "was cancelled",
                crate::event::RunResult::Waiting => "is waiting for approval",
                crate::event::RunResult::Interrupted => "was interrupted",
            };
            return (format!("run {} {word}\n", env.run_id), true);
        }
        _ => String::new(),
    };
    (text, false)
}
