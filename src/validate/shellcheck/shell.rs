//! Which shell runs a `run:` step, as GitHub decides it: the step's `shell:`, else the job's
//! `defaults.run.shell`, else the workflow's, else the runner's default (bash, pwsh on Windows).

use crate::model::{AxisValues, Job, Matrix, Pipeline, Step};

/// The shells shellcheck understands, named as its `--shell` flag names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    Bash,
    Sh,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Bash => "bash",
            Dialect::Sh => "sh",
        }
    }
}

/// The dialect of a step's script, or `None` when it is not bash or sh (pwsh, python, a custom
/// program) or cannot be known before the run (a shell or runner chosen by an expression that
/// may pick Windows): an unknown shell is never checked, so a PowerShell script is never judged
/// as bash.
pub fn dialect(p: &Pipeline, job: &Job, step: &Step) -> Option<Dialect> {
    let named = step.shell.as_ref().or(job.defaults.shell.as_ref()).or(p.defaults.shell.as_ref());
    match named {
        Some(shell) => from_name(&shell.value),
        None if may_be_windows(job) => None,
        None => Some(Dialect::Bash),
    }
}

/// `bash`, `sh`, `Bash`, `bash -e {0}`, `/usr/bin/bash --noprofile {0}`: the program's name decides.
fn from_name(shell: &str) -> Option<Dialect> {
    if shell.contains("${{") {
        return None;
    }
    let program = shell.split_whitespace().next()?;
    let name = program.rsplit('/').next().unwrap_or(program).to_ascii_lowercase();
    match name.as_str() {
        "bash" => Some(Dialect::Bash),
        "sh" => Some(Dialect::Sh),
        _ => None,
    }
}

/// Whether the job may run on Windows, where the default shell is pwsh: a `windows` label, or a
/// label that is an expression while the matrix names a Windows runner somewhere (or cannot be
/// read before the run).
fn may_be_windows(job: &Job) -> bool {
    let windows = |s: &str| s.to_ascii_lowercase().contains("windows");
    if job.runs_on.iter().any(|l| !l.value.contains("${{") && windows(&l.value)) {
        return true;
    }
    if !job.runs_on.iter().any(|l| l.value.contains("${{")) {
        return false;
    }
    let Some(matrix) = job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) else {
        // An expression of another context (inputs, needs outputs, vars): anything is possible.
        return true;
    };
    let axes = match matrix {
        Matrix::Expr(_) => return true,
        Matrix::Axes(a) => a,
    };
    if axes.include_expr.is_some() {
        return true;
    }
    let json_windows = |v: &serde_json::Value| windows(&v.to_string());
    axes.axes.iter().any(|(_, values)| match values {
        AxisValues::Expr(_) => true,
        AxisValues::List(items) => items.iter().any(json_windows),
    }) || axes.include.iter().any(|row| row.entries.iter().any(|(_, v)| json_windows(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_names() {
        assert_eq!(from_name("bash"), Some(Dialect::Bash));
        assert_eq!(from_name("Bash"), Some(Dialect::Bash));
        assert_eq!(from_name("sh -e {0}"), Some(Dialect::Sh));
        assert_eq!(from_name("/usr/bin/bash --noprofile --norc {0}"), Some(Dialect::Bash));
        assert_eq!(from_name("pwsh"), None);
        assert_eq!(from_name("python {0}"), None);
        assert_eq!(from_name("${{ matrix.shell }}"), None);
    }
}
