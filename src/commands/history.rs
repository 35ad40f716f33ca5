//! `pipe history [ENV]`: what runs in each environment now, then the deployment ledger newest
//! first, each deployment with its kind (roll-forward or rollback) and state (current, replaced,
//! rolled back, failed). `--artifact VERSION`: every deployment of that artifact, wherever.

use std::path::Path;

use crate::Error;
use crate::gate::inventory::{self, State};
use crate::gate::ledger::{self, DeploymentRecord};
use crate::output::Ui;

pub fn run(
    ui: &Ui,
    state_dir: &Path,
    environment: Option<&str>,
    artifact: Option<&str>,
) -> Result<i32, Error> {
    let records = ledger::read_deployments(state_dir)?;
    let ledger_path = state_dir.join(ledger::DEPLOYMENTS_FILE);
    let text = match artifact {
        Some(version) => render_artifact(&records, version, environment),
        None => render(&records, environment, &ledger_path.display().to_string()),
    };
    ui.stdout(&text);
    Ok(crate::exit_code::SUCCESS)
}

fn same_env(r: &DeploymentRecord, e: &str) -> bool {
    r.environment.eq_ignore_ascii_case(e)
}

/// The summary of what runs where and the table for `records` (oldest first, as in the file), or
/// a friendly line when there is nothing to show.
pub fn render(records: &[DeploymentRecord], environment: Option<&str>, ledger_path: &str) -> String {
    if records.is_empty() {
        return format!("No deployments yet: the ledger ({ledger_path}) is empty.\n");
    }
    let shown: Vec<usize> =
        (0..records.len()).rev().filter(|&i| environment.is_none_or(|e| same_env(&records[i], e))).collect();
    if let (Some(env), true) = (environment, shown.is_empty()) {
        let mut known: Vec<&str> = records.iter().map(|r| r.environment.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        return format!("`{env}` has never been deployed (deployed environments: {}).\n", known.join(", "));
    }
    let states = inventory::states(records);
    let mut out = now_running(records, &states, &shown);
    out.push('\n');
    out.push_str(&table(records, &states, &shown, false));
    out
}

/// `ENV runs ARTIFACT (...)` for each environment among `shown`, by name.
fn now_running(records: &[DeploymentRecord], states: &[State], shown: &[usize]) -> String {
    let mut current: Vec<usize> = shown.iter().copied().filter(|&i| states[i] == State::Current).collect();
    current.sort_by(|&a, &b| records[a].environment.cmp(&records[b].environment));
    let mut envs: Vec<&str> = shown.iter().map(|&i| records[i].environment.as_str()).collect();
    envs.sort_unstable();
    envs.dedup();
    let width = envs.iter().map(|e| e.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for env in envs {
        match current.iter().find(|&&i| records[i].environment == env) {
            Some(&i) => {
                let r = &records[i];
                let how = match (&r.rollback, &r.approved_by) {
                    (Some(rb), _) => format!(", rolled back by {}", rb.by),
                    (None, Some(by)) => format!(", approved by {by}"),
                    (None, None) => String::new(),
                };
                out.push_str(&format!(
                    "{env:<width$}  runs {} (commit {}, since {}{how}, run {})\n",
                    artifact(r),
                    short(&r.sha),
                    time(&r.ts),
                    r.run_id
                ));
            }
            None => {
                out.push_str(&format!("{env:<width$}  runs nothing deployed by pipe (every deploy failed)\n"))
            }
        }
    }
    out
}

/// `pipe history --artifact VERSION [ENV]`: every deployment of that artifact, newest first.
pub fn render_artifact(records: &[DeploymentRecord], version: &str, environment: Option<&str>) -> String {
    let states = inventory::states(records);
    let shown: Vec<usize> = (0..records.len())
        .rev()
        .filter(|&i| inventory::names(&records[i], version))
        .filter(|&i| environment.is_none_or(|e| same_env(&records[i], e)))
        .collect();
    if shown.is_empty() {
        return format!("`{version}` was never deployed ({} deployment(s) in the ledger).\n", records.len());
    }
    let mut envs: Vec<&str> = shown.iter().map(|&i| records[i].environment.as_str()).collect();
    envs.sort_unstable();
    envs.dedup();
    let mut out =
        format!("`{version}` was deployed to {} environment(s): {}\n\n", envs.len(), envs.join(", "));
    out.push_str(&table(records, &states, &shown, true));
    out
}

fn table(records: &[DeploymentRecord], states: &[State], shown: &[usize], state_first: bool) -> String {
    let mut header: Vec<String> =
        ["TIME", "ENVIRONMENT", "KIND", "RESULT", "STATE", "COMMIT", "ARTIFACT", "APPROVED BY", "RUN"]
            .map(String::from)
            .to_vec();
    if state_first {
        header.swap(0, 4);
    }
    let mut rows = vec![header];
    for &i in shown {
        let r = &records[i];
        let kind = match &r.rollback {
            Some(rb) => format!("rollback by {}", rb.by),
            None => "roll-forward".into(),
        };
        let mut row = vec![
            time(&r.ts),
            r.environment.clone(),
            kind,
            r.result.clone(),
            states[i].as_str().to_string(),
            short(&r.sha),
            artifact(r),
            r.approved_by.clone().unwrap_or_else(|| "-".into()),
            r.run_id.clone(),
        ];
        if state_first {
            row.swap(0, 4);
        }
        rows.push(row);
    }
    let mut widths = vec![0usize; rows[0].len()];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(&widths) {
            line.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The artifact for display: digests cut to their first 12 hex digits.
fn artifact(r: &DeploymentRecord) -> String {
    let full = inventory::artifact(r);
    let mut out = String::new();
    let mut rest = full.as_str();
    while let Some(at) = rest.find("sha256:") {
        let (head, tail) = rest.split_at(at + "sha256:".len());
        out.push_str(head);
        let hex = tail.chars().take_while(char::is_ascii_hexdigit).count();
        out.push_str(&tail[..hex.min(12)]);
        rest = &tail[hex..];
    }
    out.push_str(rest);
    out
}

fn short(sha: &str) -> String {
    sha.chars().take(7).collect()
}

/// `2024-05-01 10:00:00Z` from an RFC 3339 time (other forms shown as written).
fn time(ts: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let Ok(t) = time::OffsetDateTime::parse(ts, &Rfc3339) else {
        return ts.to_string();
    };
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
