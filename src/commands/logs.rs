//! `pipe logs RUN [JOB]`: the saved step logs of a run, or of one job (its legs included).

use crate::Error;
use crate::output::Ui;
use crate::store::Store;

pub fn run(ui: &Ui, store: &Store, run: &str, job: Option<&str>) -> Result<i32, Error> {
    let id = store.resolve(run)?;
    let logs = store.run_dir(&id).join("logs");
    let mut keys: Vec<String> = std::fs::read_dir(&logs)
        .map(|rd| rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    keys.sort();
    if let Some(j) = job {
        let wanted: Vec<String> =
            keys.iter().filter(|k| *k == j || k.starts_with(&format!("{j}-"))).cloned().collect();
        if wanted.is_empty() {
            return Err(Error::Usage {
                message: format!("run {id} has no logs for job `{j}`"),
                hint: Some(format!(
                    "jobs with logs: {}",
                    if keys.is_empty() { "none".into() } else { keys.join(", ") }
                )),
            });
        }
        keys = wanted;
    }
    let mut out = String::new();
    for key in &keys {
        let dir = logs.join(key);
        let mut steps: Vec<(usize, std::path::PathBuf)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| {
                        let p = e.path();
                        let n = p.file_stem()?.to_str()?.parse().ok()?;
                        Some((n, p))
                    })
                    .collect()
            })
            .unwrap_or_default();
        steps.sort();
        for (n, p) in steps {
            out.push_str(&format!("== {key} step {n} ==\n"));
            out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
    ui.stdout(&out);
    Ok(crate::exit_code::SUCCESS)
}
