//! Which front end reads a file: GitLab CI for a file named `.gitlab-ci.yml` (or
//! `*.gitlab-ci.yml`), for `--syntax gitlab`, or for a file shaped like one (no `on:`/`jobs:`,
//! and `stages:`, or a mapping holding `script:`); GitHub Actions otherwise.

use std::path::Path;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Syntax {
    /// Decide from the file name and shape.
    #[default]
    Auto,
    Github,
    Gitlab,
}

/// The file name GitLab reads.
pub const FILE_NAME: &str = ".gitlab-ci.yml";

pub fn by_name(path: &str) -> bool {
    let name = Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == FILE_NAME || name.ends_with(".gitlab-ci.yml") || name.ends_with(".gitlab-ci.yaml")
}

/// A cheap look at the top-level keys, without a full parse: a GitHub key (`on`, `jobs`,
/// `runs-on`) decides at once, so a workflow is read only up to it.
pub fn by_shape(text: &str) -> bool {
    let mut stages = false;
    let mut script = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        if !line.starts_with([' ', '\t', '-'])
            && let Some((k, _)) = line.split_once(':')
        {
            match k.trim().trim_matches(['"', '\'']) {
                "on" | "jobs" | "runs-on" | "\"on\"" => return false,
                "stages" => stages = true,
                _ => {}
            }
        }
        if trimmed.starts_with("script:") || trimmed.starts_with("before_script:") {
            script = true;
        }
    }
    stages || script
}

pub fn is_gitlab(path: &str, text: &str, syntax: Syntax) -> bool {
    match syntax {
        Syntax::Gitlab => true,
        Syntax::Github => false,
        Syntax::Auto => by_name(path) || by_shape(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_shapes() {
        assert!(is_gitlab(".gitlab-ci.yml", "", Syntax::Auto));
        assert!(is_gitlab("pipelines/cd-starter.gitlab-ci.yml", "", Syntax::Auto));
        assert!(is_gitlab("ci.yml", "stages: [a]\njob:\n  script: [x]\n", Syntax::Auto));
        assert!(is_gitlab("ci.yml", "build:\n  script: make\n", Syntax::Auto));
        assert!(!is_gitlab("ci.yml", "on: push\njobs:\n  a:\n    steps:\n      - run: x\n", Syntax::Auto));
        // A GitHub key decides wherever it is, before or after GitLab-looking ones.
        assert!(!is_gitlab("ci.yml", "stages: [a]\non: push\njobs: {}\n", Syntax::Auto));
        assert!(!is_gitlab("ci.yml", "jobs:\n  a:\n    script: x\nstages: [a]\n", Syntax::Auto));
        assert!(!is_gitlab(".gitlab-ci.yml", "", Syntax::Github));
        assert!(is_gitlab("x.yml", "on: push\n", Syntax::Gitlab));
    }
}
