//! shellcheck over the `run:` scripts that bash or sh runs. `${{ }}` is replaced by underscores of
//! the same length (so shellcheck sees a word, and columns stay right); the scripts of a file go to
//! one shellcheck process per shell; findings are cached by script content; each finding points at
//! its character in the workflow file.

mod cache;
mod position;
mod shell;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Pipeline, Text};
use crate::source::{Source, Span};

pub use shell::Dialect;

/// Codes that are false alarms in workflow scripts: a `${{ }}` placeholder makes constant
/// comparisons and loops over one word (SC2050, SC2194, SC2157, SC2043); variables come from
/// `env:` keys shellcheck cannot see (SC2154); sourced files are in the checkout, not here
/// (SC1091); `echo done` is a correct and common last line that shellcheck suspects (SC1010).
pub const EXCLUDED: &[&str] = &["SC1010", "SC1091", "SC2043", "SC2050", "SC2154", "SC2157", "SC2194"];

/// A shellcheck program that answered `--version`.
#[derive(Debug, Clone)]
pub struct Shellcheck {
    program: PathBuf,
    /// The version line, part of every cache key: another shellcheck may find other things.
    version: String,
    cache: Option<PathBuf>,
}

/// One finding, as kept in the cache.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub code: u32,
    pub level: String,
    pub line: usize,
    pub column: usize,
    #[serde(rename = "endLine")]
    pub end_line: usize,
    #[serde(rename = "endColumn")]
    pub end_column: usize,
    pub message: String,
}

/// A script of the file that shellcheck should see.
struct Script<'a> {
    text: &'a Text,
    dialect: Dialect,
    /// The script with every `${{ }}` replaced by underscores.
    body: String,
}

impl Shellcheck {
    /// `shellcheck` from PATH, or `None` when there is none (or it does not run).
    pub fn find() -> Option<Shellcheck> {
        let path = std::env::var_os("PATH")?;
        let program =
            std::env::split_paths(&path).map(|d| d.join("shellcheck")).find(|p| is_executable(p))?;
        Shellcheck::at(program)
    }

    /// A given shellcheck program, when it runs and reports a version.
    pub fn at(program: PathBuf) -> Option<Shellcheck> {
        let out = Command::new(&program).arg("--version").output().ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.lines().find(|l| l.starts_with("version:"))?.trim().to_string();
        Some(Shellcheck { program, version, cache: cache::root() })
    }

    /// The same program with findings cached under `dir` instead of the user's cache (`None`: no cache).
    #[must_use]
    pub fn with_cache(mut self, dir: Option<PathBuf>) -> Shellcheck {
        self.cache = dir;
        self
    }

    /// Run shellcheck over `bodies` in one process; findings per body, in order.
    fn run(&self, dialect: Dialect, bodies: &[&str]) -> Result<Vec<Vec<Finding>>, String> {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("pipe-shellcheck-{}-{n}", std::process::id()));
        let result = self.run_in(&dir, dialect, bodies);
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    fn run_in(&self, dir: &Path, dialect: Dialect, bodies: &[&str]) -> Result<Vec<Vec<Finding>>, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let names: Vec<String> = (0..bodies.len()).map(|i| format!("{i}.sh")).collect();
        for (name, body) in names.iter().zip(bodies) {
            std::fs::write(dir.join(name), body).map_err(|e| format!("cannot write a script: {e}"))?;
        }
        let out = Command::new(&self.program)
            .current_dir(dir)
            .args(["--norc", "--format=json1", &format!("--shell={}", dialect.as_str())])
            .arg(format!("--exclude={}", EXCLUDED.join(",")))
            .args(&names)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        // 0: nothing found, 1: findings; anything else is shellcheck failing.
        if !matches!(out.status.code(), Some(0 | 1)) {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!("shellcheck failed ({}): {}", out.status, err.lines().next().unwrap_or("")));
        }
        #[derive(serde::Deserialize)]
        struct Report {
            comments: Vec<Comment>,
        }
        #[derive(serde::Deserialize)]
        struct Comment {
            file: String,
            #[serde(flatten)]
            finding: Finding,
        }
        let report: Report = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("shellcheck gave output pipe cannot read: {e}"))?;
        let mut found = vec![Vec::new(); bodies.len()];
        for c in report.comments {
            if let Some(i) = names.iter().position(|n| *n == c.file) {
                found[i].push(c.finding);
            }
        }
        Ok(found)
    }

    fn key(&self, script: &Script<'_>) -> String {
        // shellcheck reads SHELLCHECK_OPTS itself: other options may find other things.
        let opts = std::env::var("SHELLCHECK_OPTS").unwrap_or_default();
        cache::key(&[&self.version, script.dialect.as_str(), &EXCLUDED.join(","), &opts, &script.body])
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether the pipeline has a script that shellcheck would check.
pub fn has_scripts(p: &Pipeline) -> bool {
    !scripts(p).is_empty()
}

fn scripts(p: &Pipeline) -> Vec<Script<'_>> {
    let mut out = Vec::new();
    for job in p.jobs.iter().filter(|j| j.uses.is_none()) {
        for step in &job.steps {
            let Some(run) = &step.run else { continue };
            if run.value.trim().is_empty() {
                continue;
            }
            if let Some(dialect) = shell::dialect(p, job, step) {
                out.push(Script { text: run, dialect, body: placeholders(&run.value) });
            }
        }
    }
    out
}

/// Every `${{ … }}` (closed outside a single-quoted string) becomes underscores, line breaks kept.
fn placeholders(script: &str) -> String {
    if !script.contains("${{") {
        return script.to_string();
    }
    let chars: Vec<char> = script.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let mut i = 0;
    while i + 2 < chars.len() {
        if chars[i..i + 3] != ['$', '{', '{'] {
            i += 1;
            continue;
        }
        let mut j = i + 3;
        let mut quoted = false;
        let close = loop {
            match chars.get(j) {
                None => break None,
                Some('\'') => quoted = !quoted,
                Some('}') if !quoted && chars.get(j + 1) == Some(&'}') => break Some(j + 2),
                _ => {}
            }
            j += 1;
        };
        let Some(end) = close else { break };
        for c in &mut out[i..end] {
            if *c != '\n' {
                *c = '_';
            }
        }
        i = end;
    }
    out.into_iter().collect()
}

/// Check the scripts of one file; findings become diagnostics at their place in the file. A
/// shellcheck that fails is a note, never an error of the user's file. The same script for the
/// same shell (100,000 jobs may share one `run:`) is keyed, looked up, checked and cached once.
pub fn check(p: &Pipeline, source: &Source, sc: &Shellcheck, out: &mut Vec<Diagnostic>) {
    let scripts = scripts(p);
    if scripts.is_empty() {
        return;
    }
    // `first[u]`: the first script of the `u`th distinct one; `distinct[i]`: which one script `i` is.
    let mut first: Vec<usize> = Vec::new();
    let mut distinct: Vec<usize> = Vec::with_capacity(scripts.len());
    let mut seen: HashMap<(Dialect, &str), usize> = HashMap::new();
    for (i, s) in scripts.iter().enumerate() {
        let u = *seen.entry((s.dialect, s.body.as_str())).or_insert_with(|| {
            first.push(i);
            first.len() - 1
        });
        distinct.push(u);
    }
    let keys: Vec<String> = first.iter().map(|&i| sc.key(&scripts[i])).collect();
    let mut found: Vec<Option<Vec<Finding>>> =
        keys.iter().map(|k| sc.cache.as_deref().and_then(|dir| cache::get(dir, k))).collect();
    for dialect in [Dialect::Bash, Dialect::Sh] {
        let missing: Vec<usize> = (0..first.len())
            .filter(|&u| found[u].is_none() && scripts[first[u]].dialect == dialect)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let bodies: Vec<&str> = missing.iter().map(|&u| scripts[first[u]].body.as_str()).collect();
        match sc.run(dialect, &bodies) {
            Ok(results) => {
                for (u, findings) in missing.into_iter().zip(results) {
                    if let Some(dir) = &sc.cache {
                        cache::put(dir, &keys[u], &findings);
                    }
                    found[u] = Some(findings);
                }
            }
            Err(message) => {
                let at = scripts[first[missing[0]]].text.span;
                out.push(Diagnostic::note("shellcheck", Span::point(at.start), message));
            }
        }
    }
    for (script, u) in scripts.iter().zip(distinct) {
        let findings = found[u].as_deref().unwrap_or_default();
        if findings.is_empty() {
            continue;
        }
        let map = position::ScriptMap::new(script.text, source);
        for f in findings {
            out.push(diagnostic(&map, f));
        }
    }
}

fn diagnostic(map: &position::ScriptMap<'_>, f: &Finding) -> Diagnostic {
    let start = map.pos(f.line, f.column);
    let end = if f.end_line == f.line { map.pos(f.end_line, f.end_column) } else { start };
    // A parse error means bash or sh will refuse the script; other findings are likely mistakes
    // (warning) or advice (note), as shellcheck ranks them.
    let severity = match f.level.as_str() {
        "error" if (1000..2000).contains(&f.code) => Severity::Error,
        "error" | "warning" => Severity::Warning,
        _ => Severity::Note,
    };
    Diagnostic::new(severity, "shellcheck", Span::new(start, end), format!("SC{}: {}", f.code, f.message))
        .with_help(format!("https://www.shellcheck.net/wiki/SC{}", f.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_length_and_lines() {
        assert_eq!(placeholders("echo ${{ a }} $b"), "echo ________ $b");
        assert_eq!(placeholders("x ${{ format('}}', 1) }}"), "x ______________________");
        assert_eq!(placeholders("a ${{ b\n}} c"), "a _____\n__ c");
        assert_eq!(placeholders("a ${{ b"), "a ${{ b");
    }
}
