//! A run's Docker containers seen through the Docker CLI, as a user would list them: those of one
//! job with their state, and the one made ahead for a job (created, not started).

// Not every user uses every helper.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// `(ID, STATE)` of the containers of job `job` of run `run_id` (`docker ps -a` by their labels).
pub fn containers_of_job(run_id: &str, job: &str) -> Vec<(String, String)> {
    let out = Command::new("docker")
        .args(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"])
        .args(["--filter", &format!("label=dev.pipe.run-id={run_id}")])
        .args(["--filter", &format!("label=dev.pipe.job={job}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(id, state)| (id.to_string(), state.to_string())))
        .collect()
}

/// Wait (up to 30 s) until `job` of run `run_id` has a container (created or already
/// started). Its id; `None` when none came. Found while the jobs it needs run, it was made ahead.
pub fn made_ahead(run_id: &str, job: &str) -> Option<String> {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if let Some((id, _)) = containers_of_job(run_id, job).into_iter().next() {
            return Some(id);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Remove containers by id (`docker rm -f`), so that a failing test leaves none.
pub fn remove_containers(ids: &[String]) {
    if !ids.is_empty() {
        let _ = Command::new("docker").args(["rm", "-f"]).args(ids).output();
    }
}
