//! `docker/setup-buildx-action` and `docker/login-action`: nothing to set up offline; they say
//! what they did instead. The login password is masked and never used.

use super::{Done, Invocation, say};
use crate::runner::step::StepRun;

pub fn setup_buildx(run: &StepRun<'_>) -> Done {
    say(run, "buildx: using the local daemon's builder");
    Done::success()
        .output("name", "default")
        .output("driver", "docker")
        .output("platforms", format!("linux/{}", docker_arch()))
}

pub fn login(run: &StepRun<'_>, action: &Invocation<'_>) -> Done {
    // Masked even when it did not come from `secrets` (a literal, or a variable).
    if let Some(password) = action.input("password") {
        run.shared.masker.add(password);
    }
    let registry = action.input("registry").unwrap_or("Docker Hub");
    let line = match std::env::var("PIPE_REGISTRY").ok().filter(|r| !r.is_empty()) {
        Some(configured) => format!(
            "login: {registry}: credentials not used; pushes go to {configured} (PIPE_REGISTRY) without them"
        ),
        None => {
            format!("login: {registry}: no registry is configured for offline runs: credentials not used")
        }
    };
    say(run, &line);
    Done::success()
}

fn docker_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
