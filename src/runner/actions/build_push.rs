//! `docker/build-push-action`: a build through the Docker daemon (the run's, or for a host job
//! the local one when it answers) with `context` (default: the workspace, where GitHub's
//! default is the git checkout: the same files after `actions/checkout`), `file` (relative to the
//! workspace), `tags` (comma or newline separated) and `build-args`. For a Docker job the context
//! is copied out of the job container first.
//!
//! `push: true` pushes only to the registry named by `PIPE_REGISTRY` in pipe's own environment
//! (e.g. `localhost:5000`; a machine setting, kept out of the pipeline file): tags under it are
//! pushed, other tags stay local, and without `PIPE_REGISTRY` nothing is pushed; every case is
//! said in the step's output. Outputs: `imageid`, and `digest` once pushed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bollard::Docker;
use bollard::query_parameters::PushImageOptionsBuilder;
use futures_util::StreamExt;

use super::transfer::copy_out;
use super::{Done, Invocation, daemon, list, say, workspace_path};
use crate::backend::docker::one_line;
use crate::runner::step::StepRun;

const INPUTS: &[&str] = &["context", "file", "tags", "build-args", "push", "load"];

pub async fn run(run: &StepRun<'_>, action: &Invocation<'_>) -> Result<Done, String> {
    action.report_ignored(run, "build-push", INPUTS);
    let tags = list(action.input("tags"), true);
    let mut build_args = BTreeMap::new();
    for pair in list(action.input("build-args"), false) {
        let (k, v) =
            pair.split_once('=').ok_or(format!("build-push: build-arg `{pair}` is not NAME=VALUE"))?;
        build_args.insert(k.trim().to_string(), v.to_string());
    }
    let docker = daemon::docker(run, "docker/build-push-action").await?;
    let context = workspace_path(run, action.input("context"))?;
    let file = action.input("file").map(|f| workspace_path(run, Some(f))).transpose()?;
    let staged = Staged::new(run, &context, file.as_deref()).await?;
    let mut short_id = None;
    let progress = |line: &str| {
        if let Some(id) = line.strip_prefix("Successfully built ") {
            short_id = Some(id.trim().to_string());
        }
        say(run, line);
    };
    let built = crate::backend::docker::build_image(
        &docker,
        &staged.context,
        staged.file.as_deref(),
        &tags,
        &build_args,
        progress,
    )
    .await;
    staged.remove();
    built.map_err(|e| e.to_string())?;
    let reference = tags.first().cloned().or(short_id);
    let id = match &reference {
        Some(r) => docker.inspect_image(r).await.ok().and_then(|i| i.id),
        None => None,
    };
    let id = id.unwrap_or_default();
    let named = if tags.is_empty() { "untagged".to_string() } else { tags.join(", ") };
    say(run, &format!("build-push: built {id} ({named})"));
    let mut done = Done::success().output("imageid", id.clone());
    if action.flag("push", false) {
        if let Some(digest) = push(run, &docker, &tags).await? {
            done = done.output("digest", digest);
        }
    } else {
        say(run, "build-push: push is off: the image stays in the local daemon");
    }
    Ok(done)
}

/// Push the tags under `PIPE_REGISTRY`; returns the pushed digest.
async fn push(run: &StepRun<'_>, docker: &Docker, tags: &[String]) -> Result<Option<String>, String> {
    let Some(registry) = std::env::var("PIPE_REGISTRY").ok().filter(|r| !r.trim().is_empty()) else {
        say(
            run,
            "build-push: no registry is configured (PIPE_REGISTRY): the image stays in the local daemon",
        );
        return Ok(None);
    };
    let registry = registry.trim().trim_end_matches('/');
    let mut digest = None;
    for tag in tags {
        if !tag.starts_with(&format!("{registry}/")) {
            say(run, &format!("build-push: {tag} is not under PIPE_REGISTRY={registry}: kept local"));
            continue;
        }
        let (repo, version) = split_tag(tag);
        let options = PushImageOptionsBuilder::default().tag(version).build();
        let mut stream = docker.push_image(repo, Some(options), None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| format!("pushing {tag}: {}", one_line(&e)))?;
            if let Some(message) = info.error_detail.and_then(|d| d.message) {
                return Err(format!("pushing {tag}: {message}"));
            }
        }
        say(run, &format!("build-push: pushed {tag}"));
        let inspected = docker.inspect_image(tag).await.ok();
        digest = inspected
            .and_then(|i| i.repo_digests)
            .and_then(|d| d.into_iter().find(|d| d.starts_with(repo)))
            .and_then(|d| d.split_once('@').map(|(_, digest)| digest.to_string()))
            .or(digest);
    }
    Ok(digest)
}

/// `repo[:tag]` → (repo, tag), `latest` when there is none.
fn split_tag(reference: &str) -> (&str, &str) {
    let name_start = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[name_start..].rfind(':') {
        Some(colon) => (&reference[..name_start + colon], &reference[name_start + colon + 1..]),
        None => (reference, "latest"),
    }
}

/// The build context and Dockerfile as host paths (copied out of a job container).
struct Staged {
    context: PathBuf,
    file: Option<String>,
    /// A host copy to remove after the build.
    copy: Option<PathBuf>,
}

impl Staged {
    async fn new(run: &StepRun<'_>, context: &str, file: Option<&str>) -> Result<Staged, String> {
        if run.handle.shares_host_files() {
            return Ok(Staged { context: context.into(), file: file.map(str::to_string), copy: None });
        }
        let copy = run.scratch.join(format!("build-{}{}", run.index, run.scope));
        let _ = std::fs::remove_dir_all(&copy);
        let staged = Staged { context: copy.join("context"), file: None, copy: Some(copy.clone()) };
        if copy_out(run.handle, context, &staged.context).await? == 0 {
            staged.remove();
            return Err(format!(
                "build-push: the context {context} is empty or missing (did a step run actions/checkout?)"
            ));
        }
        let file = match file {
            None => None,
            Some(f) => match f.strip_prefix(&format!("{}/", context.trim_end_matches('/'))) {
                Some(inside) => Some(inside.to_string()),
                None => {
                    let dir = copy.join("file");
                    copy_out(run.handle, f, &dir).await?;
                    let name = f.rsplit('/').next().unwrap_or(f);
                    Some(dir.join(name).to_string_lossy().into_owned())
                }
            },
        };
        Ok(Staged { file, ..staged })
    }

    fn remove(&self) {
        if let Some(copy) = &self.copy {
            let _ = std::fs::remove_dir_all(copy);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_tag;

    #[test]
    fn tags() {
        assert_eq!(split_tag("localhost:5000/app:1.2"), ("localhost:5000/app", "1.2"));
        assert_eq!(split_tag("localhost:5000/app"), ("localhost:5000/app", "latest"));
        assert_eq!(split_tag("app"), ("app", "latest"));
    }
}
