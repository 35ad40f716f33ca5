//! `uses: docker://IMAGE`: a container from a local image (pulled only as `--pull` allows), with
//! the workspace, the step's env, `with.args` (split on white space, quotes group) and
//! `with.entrypoint`; other `with` keys become `INPUT_<NAME>` variables. Its exit code is the
//! step's outcome.

use super::container::{OneOff, container_env, input_env, run_container};
use super::daemon::docker;
use super::{Done, Invocation};
use crate::runner::step::StepRun;
use crate::runner::step::exit_outcome;

pub async fn run(run: &StepRun<'_>, action: &Invocation<'_>, image: &str) -> Result<Done, String> {
    let image = image.trim();
    if image.is_empty() {
        return Err("`uses: docker://` needs an image".into());
    }
    let docker = docker(run, "a docker:// step").await?;
    crate::backend::docker::ensure_image(&docker, image, run.shared.pull, None).await.map_err(|e| {
        let hint = e.hint().map(|h| format!(" (hint: {h})")).unwrap_or_default();
        format!("{e}{hint}")
    })?;
    let mut env = container_env(run, action.full_env);
    env.extend(input_env(
        action
            .with
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("args") && !k.eq_ignore_ascii_case("entrypoint"))
            .cloned(),
    ));
    let spec = OneOff {
        image: image.to_string(),
        entrypoint: action.input("entrypoint").map(str::to_string),
        args: split_args(action.input("args").unwrap_or_default()),
        env,
        timeout: action.timeout,
    };
    let exit = run_container(run, &docker, &spec).await?;
    Ok(Done::with(exit_outcome(run, exit)))
}

/// `args` as words: white space separates, single or double quotes group (a backslash escapes a
/// double quote inside double quotes).
pub fn split_args(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut started = false;
    let mut quote = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') if chars.peek() == Some(&'"') => {
                word.push('"');
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::split_args;

    #[test]
    fn args_split_like_a_shell_line() {
        assert_eq!(split_args(r#"echo "hello world" 'a b' c"#), ["echo", "hello world", "a b", "c"]);
        assert_eq!(split_args(r#"  "" x "say \"hi\"" "#), ["", "x", "say \"hi\""]);
        assert!(split_args("   ").is_empty());
    }
}
