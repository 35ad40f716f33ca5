//! A docker action (`runs.using: docker`): `image: Dockerfile` (a path in the action's folder) is
//! built through the daemon, tagged for this step and removed after it; `image: docker://IMAGE`
//! uses a local image (as `--pull` allows). The container gets the inputs as `INPUT_<NAME>`,
//! `runs.env` and `runs.args` (both evaluated with the `inputs` context), `runs.entrypoint`, and
//! the workspace. Without `runs.args`, `with: args` is the command (split on spaces, quotes
//! kept together). `pre-entrypoint`/`post-entrypoint` are not run.

use std::collections::BTreeMap;
use std::path::Path;

use bollard::query_parameters::RemoveImageOptionsBuilder;
use serde_json::Value as Json;

use super::container::{OneOff, container_env, input_env, run_container};
use super::daemon::docker;
use super::metadata::{Action, Runs};
use super::{Done, Invocation, say};
use crate::backend::docker::docker_name;
use crate::runner::job::json_to_env;
use crate::runner::step::StepRun;
use crate::runner::step::exit_outcome;

pub async fn run(
    run: &StepRun<'_>,
    action: &Invocation<'_>,
    meta: &Action,
    action_dir: &Path,
    inputs: &Json,
) -> Result<Done, String> {
    let Runs::Docker { image, entrypoint, args, env } = &meta.runs else {
        return Err("not a docker action".into());
    };
    let docker = docker(run, "a docker action").await?;
    let ctx = action.ctx.clone().with("inputs", inputs);
    let expand = |s: &str| {
        ctx.text_str(crate::expr::Location::StepWith, s)
            .map_err(|e| e.describe(&format!("`{}`", action.uses)))
    };

    let (image, built) = match image.strip_prefix("docker://") {
        Some(reference) => {
            crate::backend::docker::ensure_image(&docker, reference, run.shared.pull, None)
                .await
                .map_err(|e| e.to_string())?;
            (reference.to_string(), false)
        }
        None => {
            // One tag per step (a tag is at most 128 characters), removed after the step.
            let step = format!("{}{}", run.index, run.scope);
            let mut tag = docker_name(&[&run.shared.run_id, &run.leg.key, &step]);
            tag.truncate(128);
            let tag = format!("pipe-action:{tag}");
            say(run, &format!("building {} of `{}` as {tag}", image, action.uses));
            let progress = |line: &str| say(run, line);
            crate::backend::docker::build_image(
                &docker,
                action_dir,
                Some(image),
                std::slice::from_ref(&tag),
                &BTreeMap::new(),
                progress,
            )
            .await
            .map_err(|e| e.to_string())?;
            (tag, true)
        }
    };

    let mut vars = container_env(run, action.full_env);
    let given = inputs.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), json_to_env(v)));
    vars.extend(input_env(given));
    for (k, v) in env {
        vars.insert(k.clone(), expand(v)?);
    }
    let spec = OneOff {
        image: image.clone(),
        entrypoint: entrypoint.as_deref().map(expand).transpose()?,
        args: if args.is_empty() {
            // No `runs.args`: the step's `with: args` is the command, split like a shell would
            // (GitHub's runner does the same).
            action.input("args").map(split_args).unwrap_or_default()
        } else {
            args.iter().map(|a| expand(a)).collect::<Result<_, _>>()?
        },
        env: vars,
        timeout: action.timeout,
    };
    let exit = run_container(run, &docker, &spec).await;
    if built {
        let options = RemoveImageOptionsBuilder::default().force(true).build();
        if let Err(e) = docker.remove_image(&image, Some(options), None).await {
            say(run, &format!("warning: could not remove the action image {image}: {e}"));
        }
    }
    Ok(Done::with(exit_outcome(run, exit?)))
}

/// Split a `with: args` string into words: spaces separate, single or double quotes group.
fn split_args(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

#[cfg(test)]
mod tests {
    use super::split_args;

    #[test]
    fn args_split_like_a_shell() {
        assert_eq!(split_args("a  b 'c d' \"e f\"g ''"), ["a", "b", "c d", "e fg", ""]);
        assert!(split_args("  ").is_empty());
    }
}
