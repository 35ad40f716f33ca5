//! `runs-on` labels and the shells they offer: typos of GitHub-hosted labels (with "did you
//! mean"; labels declared in pipe.toml's `[platforms]` are known), retired images, labels that no
//! runner has together, and `shell:` values a runner's operating system does not have.

use crate::diagnostic::{Diagnostic, did_you_mean, edit_distance};
use crate::model::{Job, Pipeline, Text};

/// GitHub-hosted runner labels (standard and larger runners).
pub const GITHUB_HOSTED: &[&str] = &[
    "ubuntu-latest",
    "ubuntu-24.04",
    "ubuntu-22.04",
    "ubuntu-24.04-arm",
    "ubuntu-22.04-arm",
    "ubuntu-slim",
    "windows-latest",
    "windows-2025",
    "windows-2022",
    "windows-11-arm",
    "macos-latest",
    "macos-26",
    "macos-15",
    "macos-14",
    "macos-15-intel",
    "macos-latest-large",
    "macos-26-large",
    "macos-15-large",
    "macos-14-large",
    "macos-13-large",
    "macos-latest-xlarge",
    "macos-26-xlarge",
    "macos-15-xlarge",
    "macos-14-xlarge",
    "macos-13-xlarge",
    "macos-13",
];

/// Labels every self-hosted runner carries (compared without case).
pub const SELF_HOSTED: &[&str] = &["self-hosted", "linux", "macos", "windows", "x64", "x86", "arm", "arm64"];

/// Images GitHub has retired: a job asking for them waits for a runner that never comes.
const RETIRED: &[&str] = &[
    "ubuntu-16.04",
    "ubuntu-18.04",
    "ubuntu-20.04",
    "macos-10.15",
    "macos-11",
    "macos-12",
    "macos-12-large",
    "windows-2016",
    "windows-2019",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    Macos,
    Windows,
}

impl Os {
    fn name(self) -> &'static str {
        match self {
            Os::Linux => "Linux",
            Os::Macos => "macOS",
            Os::Windows => "Windows",
        }
    }

    /// Shells of GitHub's table that this system has.
    fn shells(self) -> &'static [&'static str] {
        match self {
            Os::Windows => &["bash", "pwsh", "python", "cmd", "powershell"],
            Os::Linux | Os::Macos => &["bash", "pwsh", "python", "sh"],
        }
    }
}

/// The operating system a label names, if it names one.
pub fn label_os(label: &str) -> Option<Os> {
    let l = label.to_ascii_lowercase();
    if l.starts_with("ubuntu") || l == "linux" {
        Some(Os::Linux)
    } else if l.starts_with("windows") {
        Some(Os::Windows)
    } else if l.starts_with("macos") {
        Some(Os::Macos)
    } else {
        None
    }
}

/// The operating system of a job, when its literal labels say it.
pub fn job_os(job: &Job) -> Option<Os> {
    job.runs_on.iter().filter(|l| !l.value.contains("${{")).find_map(|l| label_os(&l.value))
}

pub fn check(p: &Pipeline, declared: &[String], out: &mut Vec<Diagnostic>) {
    for job in p.jobs.iter().filter(|j| j.uses.is_none()) {
        labels(job, declared, out);
        if let Some(os) = job_os(job) {
            let job_shell = job.defaults.shell.as_ref().or(p.defaults.shell.as_ref());
            let mut shells: Vec<&Text> = job_shell.into_iter().collect();
            shells.extend(job.steps.iter().filter_map(|s| s.shell.as_ref()));
            for s in shells {
                shell_on(os, s, out);
            }
        }
    }
}

fn known(label: &str, declared: &[String]) -> bool {
    let eq = |c: &&str| c.eq_ignore_ascii_case(label);
    GITHUB_HOSTED.iter().any(eq)
        || SELF_HOSTED.iter().any(eq)
        || declared.iter().any(|d| d.eq_ignore_ascii_case(label))
        || label.eq_ignore_ascii_case("host")
}

fn labels(job: &Job, declared: &[String], out: &mut Vec<Diagnostic>) {
    let mut first_os: Option<(Os, &Text)> = None;
    for label in job.runs_on.iter().filter(|l| !l.value.contains("${{")) {
        let l = label.value.as_str();
        if RETIRED.iter().any(|r| r.eq_ignore_ascii_case(l)) {
            out.push(
                Diagnostic::warning(
                    "runner-label",
                    label.span,
                    format!("GitHub has retired the `{l}` runner image"),
                )
                .with_help("use a current image such as `ubuntu-latest`, `windows-latest` or `macos-latest`"),
            );
        } else if !known(l, declared) {
            // Only a near miss is a likely typo: larger runners and self-hosted runners have
            // names of their own (`ubuntu-22.04-16core`), which must not be flagged.
            let candidates = GITHUB_HOSTED.iter().chain(SELF_HOSTED).copied();
            let near = did_you_mean(l, candidates)
                .filter(|m| edit_distance(&l.to_ascii_lowercase(), &m.to_ascii_lowercase()) <= 2);
            // Any other label may be a runner of the user's own: no finding.
            if let Some(m) = near {
                out.push(
                    Diagnostic::warning("runner-label", label.span, format!("unknown runner label `{l}`"))
                        .with_help(format!(
                            "did you mean `{m}`? A label of your own runners goes in pipe.toml's [platforms]"
                        )),
                );
            }
        }
        if let Some(os) = label_os(l) {
            match first_os {
                Some((first, at)) if first != os => out.push(
                    Diagnostic::error(
                        "runner-label",
                        label.span,
                        format!(
                            "no runner is both {} (`{}`) and {} (`{l}`)",
                            first.name(),
                            at.value,
                            os.name()
                        ),
                    )
                    .with_help("to run on several systems, use a matrix: `runs-on: ${{ matrix.os }}`"),
                ),
                None => first_os = Some((os, label)),
                _ => {}
            }
        }
    }
}

fn shell_on(os: Os, shell: &Text, out: &mut Vec<Diagnostic>) {
    let s = shell.value.trim().to_ascii_lowercase();
    let all = crate::format::SHELLS;
    if all.contains(&s.as_str()) && !os.shells().contains(&s.as_str()) {
        out.push(
            Diagnostic::error(
                "shell-os",
                shell.span,
                format!("the `{}` shell does not exist on {} runners", shell.value.trim(), os.name()),
            )
            .with_help(format!("shells on {}: {}", os.name(), os.shells().join(", "))),
        );
    }
}
