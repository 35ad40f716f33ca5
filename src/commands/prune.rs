//! `pipe prune`: remove the containers, networks and volumes that crashed runs left behind
//! (everything carrying pipe's label), plus scratch directories of runs that no longer run.

use crate::Error;
use crate::backend::Executor;
use crate::backend::sweep::Swept;
use crate::output::Ui;

pub fn run(ui: &Ui) -> Result<i32, Error> {
    let rt = super::run::runtime()?;
    let scratch = prune_scratch();
    // Every backend sweeps its own engine; an engine that does not answer is an error here
    // (unlike resume's sweep): prune was asked for.
    let report = rt.block_on(async {
        let mut total = Swept::default();
        for backend in Executor::ALL {
            if let Some(swept) = backend.sweep(None).await? {
                total += swept;
            }
        }
        Ok::<_, Error>(total)
    });
    match report {
        Ok(r) => ui.stdout(&format!(
            "removed {} container(s), {} network(s), {} volume(s), {scratch} scratch folder(s); kept {} of runs still going\n",
            r.containers, r.networks, r.volumes, r.kept
        )),
        Err(e) => {
            ui.stdout(&format!("removed {scratch} scratch folder(s)\n"));
            return Err(e);
        }
    }
    Ok(crate::exit_code::SUCCESS)
}

/// `pipe-<run>` folders in the temp dir whose run is not alive any more.
fn prune_scratch() -> usize {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else { return 0 };
    let mut n = 0;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(run) = name.strip_prefix("pipe-") else { continue };
        // Run ids look like 20261121-221920-1ce1ac; anything else is not ours.
        if run.len() != 22 || !run.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            continue;
        }
        let age = e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        // A live run touches its folder constantly; an hour of silence means it is gone.
        if age.is_some_and(|a| a.as_secs() > 3600) && std::fs::remove_dir_all(e.path()).is_ok() {
            n += 1;
        }
    }
    n
}
