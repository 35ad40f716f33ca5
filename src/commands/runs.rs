//! `pipe runs`: the runs of this state directory, newest first.

use crate::Error;
use crate::output::Ui;
use crate::store::Store;

pub fn run(ui: &Ui, store: &Store) -> Result<i32, Error> {
    let ids = store.run_ids();
    if ids.is_empty() {
        ui.stdout(&format!("no runs yet in {}\n", store.root().display()));
        return Ok(crate::exit_code::SUCCESS);
    }
    let mut out = format!("{:<22} {:<10} {:<12} {:<25} {}\n", "RUN", "STATUS", "SHA", "STARTED", "PIPELINE");
    for id in ids.iter().rev() {
        let Ok(r) = store.read_record(id) else { continue };
        let status = if r.status == "running" && r.pid.is_some_and(|p| !process_alive(p)) {
            "interrupted".to_string()
        } else {
            r.status.clone()
        };
        let sha: String = r.options.sha.chars().take(12).collect();
        out.push_str(&format!(
            "{:<22} {:<10} {:<12} {:<25} {}\n",
            r.id, status, sha, r.started, r.options.pipeline
        ));
    }
    ui.stdout(&out);
    Ok(crate::exit_code::SUCCESS)
}

/// Whether a process with this id exists (signal 0 checks without sending anything).
pub fn process_alive(pid: u32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
}
