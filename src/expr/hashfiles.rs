//! `hashFiles()` for a real directory, following the runner's algorithm:
//! match files under the workspace with glob patterns (later `!` patterns
//! exclude, later positive ones re-include), sort them, hash each file with
//! SHA-256 and hash the concatenation of those digests. No match gives "".

use std::fs;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use sha2::{Digest, Sha256};

struct Pattern {
    matcher: GlobMatcher,
    negate: bool,
}

/// Hashes the files of `workspace` selected by `patterns` (each argument may
/// hold several newline-separated patterns, as `@actions/glob` allows).
pub fn hash_files(workspace: &Path, patterns: &[String]) -> Result<String, String> {
    let patterns = compile(workspace, patterns)?;
    if !patterns.iter().any(|p| !p.negate) {
        return Ok(String::new());
    }
    let mut files = Vec::new();
    walk(workspace, workspace, &mut files);
    files.sort();

    let mut total = Sha256::new();
    let mut matched = false;
    for (relative, path) in &files {
        if !selected(&patterns, relative) {
            continue;
        }
        let bytes = fs::read(path).map_err(|e| format!("hashFiles could not read `{relative}`: {e}"))?;
        total.update(Sha256::digest(&bytes));
        matched = true;
    }
    Ok(if matched { hex(&total.finalize()) } else { String::new() })
}

fn compile(workspace: &Path, raw: &[String]) -> Result<Vec<Pattern>, String> {
    let root = workspace.to_string_lossy().replace('\\', "/");
    let mut out = Vec::new();
    for line in raw.iter().flat_map(|arg| arg.lines()) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bangs = line.chars().take_while(|&c| c == '!').count();
        let mut glob = line.trim_start_matches('!').replace('\\', "/");
        // Absolute patterns inside the workspace become relative to it.
        if let Some(rest) = glob.strip_prefix(root.as_str()) {
            glob = rest.to_string();
        }
        let glob = glob.trim_start_matches("./").trim_start_matches('/');
        let matcher = GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("invalid hashFiles pattern `{line}`: {e}"))?
            .compile_matcher();
        out.push(Pattern { matcher, negate: bangs % 2 == 1 });
    }
    Ok(out)
}

/// The last pattern that matches the file (or one of its parent
/// directories, since matching a directory selects everything inside it)
/// decides; a file no positive pattern matches is excluded.
fn selected(patterns: &[Pattern], relative: &str) -> bool {
    let mut included = false;
    for pattern in patterns {
        let hit = pattern.matcher.is_match(relative)
            || ancestors(relative).any(|dir| pattern.matcher.is_match(dir));
        if hit {
            included = !pattern.negate;
        }
    }
    included
}

fn ancestors(relative: &str) -> impl Iterator<Item = &str> {
    relative.char_indices().filter(|&(_, c)| c == '/').filter_map(|(i, _)| relative.get(..i))
}

/// Collects regular files as (`a/b.txt`, full path). Directory symlinks are
/// not followed, which rules out cycles; unreadable directories are skipped.
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(root, &path, out);
        } else if let Some(relative) = path.is_file().then(|| path.strip_prefix(root).ok()).flatten() {
            let relative =
                relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            out.push((relative, path));
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
