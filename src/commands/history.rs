//! `pipe history [ENV]`: the deployment ledger, newest first, with the deployment that runs in
//! each environment now marked `← current`.

use std::path::Path;

use crate::Error;
use crate::gate::ledger::{self, DeploymentRecord};
use crate::output::Ui;

pub fn run(ui: &Ui, state_dir: &Path, environment: Option<&str>) -> Result<i32, Error> {
    let records = ledger::read_deployments(state_dir)?;
    let ledger_path = state_dir.join(ledger::DEPLOYMENTS_FILE);
    ui.stdout(&render(&records, environment, &ledger_path.display().to_string()));
    Ok(crate::exit_code::SUCCESS)
}

/// The table for `records` (oldest first, as in the file), or a friendly line when there is
/// nothing to show. "Newest" is the file's order: a record is appended when its job finishes,
/// which is more trustworthy than comparing clocks.
pub fn render(records: &[DeploymentRecord], environment: Option<&str>, ledger_path: &str) -> String {
    if records.is_empty() {
        return format!("No deployments yet: the ledger ({ledger_path}) is empty.\n");
    }
    let same_env = |r: &DeploymentRecord, e: &str| r.environment.eq_ignore_ascii_case(e);
    let shown: Vec<(usize, &DeploymentRecord)> = records
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, r)| environment.is_none_or(|e| same_env(r, e)))
        .collect();
    if let (Some(env), true) = (environment, shown.is_empty()) {
        let mut known: Vec<&str> = records.iter().map(|r| r.environment.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        return format!("`{env}` has never been deployed (deployed environments: {}).\n", known.join(", "));
    }
    // What runs in each environment now: its newest successful deployment.
    let mut current: Vec<usize> = Vec::new();
    for (i, r) in &shown {
        let newer_success = current.iter().any(|&c| same_env(&records[c], &r.environment));
        if r.result == "success" && !newer_success {
            current.push(*i);
        }
    }
    let header =
        ["TIME", "ENVIRONMENT", "RESULT", "COMMIT", "ARTIFACT", "APPROVED BY", "RUN"].map(String::from);
    let mut rows = vec![(header, false)];
    for (i, r) in &shown {
        let row = [
            time(&r.ts),
            r.environment.clone(),
            r.result.clone(),
            r.sha.chars().take(7).collect(),
            artifact(r),
            r.approved_by.clone().unwrap_or_else(|| "-".into()),
            r.run_id.clone(),
        ];
        rows.push((row, current.contains(i)));
    }
    let mut widths = [0usize; 7];
    for (row, _) in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (row, is_current) in rows {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(widths) {
            line.push_str(&format!("{cell:<w$}  "));
        }
        if is_current {
            line.push_str("← current");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
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

/// The job's outputs as `name=value` pairs: what was deployed (an image, a version).
fn artifact(r: &DeploymentRecord) -> String {
    if r.outputs.is_empty() {
        return "-".into();
    }
    let pairs: Vec<String> = r
        .outputs
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => format!("{k}={s}"),
            None => format!("{k}={v}"),
        })
        .collect();
    pairs.join(" ")
}
