//! The shell text of the steps a GitLab job becomes: `before_script` + `script` in one shell
//! (each command echoed as `$ command`, as GitLab's log shows it), artifacts packed into one
//! archive that keeps their paths (and the dotenv report beside it), unpacked by later jobs, and
//! `cache:` as the built-in cache action.

use crate::model::{Step, Text};
use crate::source::Span;
use crate::yaml::Node;

use super::build::{lines, t};

/// A shell word in double quotes: `$VAR` still expands (GitLab expands artifact paths).
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A path pattern: globs stay unquoted so the shell expands them.
fn pattern(s: &str) -> String {
    if s.contains(['*', '?', '[']) && !s.contains([' ', '"', '\'', '`', ';', '&', '|']) {
        s.to_string()
    } else {
        quoted(s)
    }
}

fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The script of the job's shell: every command echoed before it runs.
pub fn shell_script(before: &[String], main: &[String]) -> String {
    let mut out = String::new();
    for cmd in before.iter().chain(main) {
        let mut shown = cmd.lines().next().unwrap_or("").to_string();
        if cmd.trim_end().contains('\n') {
            shown.push_str(" # collapsed multi-line command");
        }
        out.push_str(&format!("printf '%s\\n' {}\n", single_quoted(&format!("$ {shown}"))));
        out.push_str(cmd);
        if !cmd.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// An artifact name for the run's store (no `/`).
pub fn artifact_name(job: &str) -> String {
    let safe: String = job
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    format!("gitlab-{safe}")
}

/// Pack `artifacts:paths` (minus `exclude`) and the dotenv report into `$RUNNER_TEMP/gitlab-out`.
pub fn pack(artifacts: &Node, x: &dyn Fn(&str) -> String) -> String {
    let paths = lines(artifacts.get("paths"));
    let exclude = lines(artifacts.get("exclude"));
    let dotenv = lines(artifacts.get("reports").and_then(|r| r.get("dotenv")));
    let mut s =
        String::from("out=\"$RUNNER_TEMP/gitlab-out\"\nrm -rf \"$out\" && mkdir -p \"$out\"\nset --\n");
    if !paths.is_empty() {
        let words: Vec<String> = paths.iter().map(|p| pattern(&x(p))).collect();
        s.push_str(&format!(
            "for p in {}; do if [ -e \"$p\" ]; then set -- \"$@\" \"$p\"; fi; done\n",
            words.join(" ")
        ));
        let excludes: String = exclude.iter().map(|e| format!(" --exclude={}", quoted(&x(e)))).collect();
        s.push_str(&format!(
            "if [ $# -gt 0 ]; then tar -cf \"$out/artifacts.tar\"{excludes} \"$@\" && echo \"Uploading artifacts: $*\"; \
             else echo \"WARNING: no files match the artifacts paths\"; fi\n"
        ));
    }
    for d in dotenv {
        s.push_str(&format!(
            "if [ -f {f} ]; then cat {f} >> \"$out/dotenv.env\"; echo >> \"$out/dotenv.env\"; \
             else echo \"ERROR: the dotenv report {f} does not exist\"; exit 1; fi\n",
            f = quoted(&x(&d))
        ));
    }
    s
}

/// Unpack every artifact archive got from earlier jobs into the project directory, and pass
/// their dotenv variables to the following steps.
pub const UNPACK: &str = "for d in \"$RUNNER_TEMP\"/gitlab-in/*/; do\n\
  [ -d \"$d\" ] || continue\n\
  if [ -f \"$d/artifacts.tar\" ]; then tar -xf \"$d/artifacts.tar\"; fi\n\
  if [ -f \"$d/dotenv.env\" ]; then grep -E '^[A-Za-z_][A-Za-z0-9_]*=' \"$d/dotenv.env\" >> \"$GITHUB_ENV\" || true; fi\n\
done\n\
rm -rf \"$RUNNER_TEMP/gitlab-in\"\n";

/// `cache:` (one or a list) as the built-in cache action, restored before and saved after.
pub fn cache_steps(node: Option<&Node>, x: &dyn Fn(&str) -> String, span: Span) -> Vec<Step> {
    let Some(node) = node else { return Vec::new() };
    let entries: Vec<&Node> = match node.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![node],
    };
    let mut steps = Vec::new();
    for c in entries {
        let paths = lines(c.get("paths"));
        if paths.is_empty() {
            continue;
        }
        let key = match c.get("key") {
            Some(k) if k.as_map().is_some() => {
                let files: Vec<String> =
                    lines(k.get("files")).iter().map(|f| format!("'{}'", f.replace('\'', "''"))).collect();
                let prefix =
                    k.get("prefix").and_then(Node::as_str).map(x).unwrap_or_else(|| "default".into());
                format!("{prefix}-${{{{ hashFiles({}) }}}}", files.join(", "))
            }
            Some(k) => x(k.as_str().unwrap_or("default")),
            None => "default".into(),
        };
        let with: Vec<(Text, Text)> = vec![
            (t("path", span), t(paths.iter().map(|p| x(p)).collect::<Vec<_>>().join("\n"), span)),
            (t("key", span), t(format!("gitlab-{key}"), span)),
        ];
        let mut step = Step {
            name: Some(t(format!("Cache {}", paths.join(", ")), span)),
            uses: Some(t("actions/cache", span)),
            with,
            ..Step {
                id: None,
                name: None,
                condition: None,
                run: None,
                uses: None,
                with: Vec::new(),
                env: crate::model::Env::None,
                shell: None,
                working_directory: None,
                continue_on_error: None,
                timeout_minutes: None,
                allowed_exit_codes: Vec::new(),
                span,
            }
        };
        step.span = span;
        steps.push(step);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_echoed_and_quoted() {
        let s = shell_script(&["echo 'a'".into()], &["make\n".into()]);
        assert_eq!(s, "printf '%s\\n' '$ echo '\\''a'\\'''\necho 'a'\nprintf '%s\\n' '$ make'\nmake\n");
    }

    #[test]
    fn artifact_names_have_no_slash() {
        assert_eq!(artifact_name("build: linux/amd64"), "gitlab-build__linux_amd64");
    }
}
