//! `include:`. Local files (relative to the repository root, `*` and `**` globs allowed, nested
//! includes followed once each) are merged under the including file, which wins. `project:`,
//! `remote:`, `template:` and `component:` need a GitLab server: they are reported, with the file
//! they name, as not available offline.

use std::path::{Path, PathBuf};

use super::merge::deep_merge;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Source, Span};
use crate::yaml::{Dialect, Node, Value};

/// GitLab's limit on included files per pipeline.
const MAX_FILES: usize = 150;

/// Checks run on an included file's tree, reported in its own source.
pub type Check<'a> = &'a dyn Fn(&Node, &Source) -> Vec<Diagnostic>;

/// Replace `root`'s `include:` by the content it names. Returns the included files: the spans of
/// their content are in them (`FileId::included(n)` for the `n`th), so that every problem is
/// reported at its own `file:line:col`.
pub fn resolve(
    root: &mut Node,
    project_dir: &Path,
    check: Check<'_>,
    out: &mut Vec<Diagnostic>,
) -> Vec<Source> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut sources: Vec<Source> = Vec::new();
    let merged = expand(root, project_dir, check, &mut seen, &mut sources, out);
    *root = merged;
    sources
}

/// `node` with its includes merged under it.
fn expand(
    node: &Node,
    project_dir: &Path,
    check: Check<'_>,
    seen: &mut Vec<PathBuf>,
    sources: &mut Vec<Source>,
    out: &mut Vec<Diagnostic>,
) -> Node {
    let Some(include) = node.get("include") else { return node.clone() };
    let entries: Vec<&Node> = match include.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![include],
    };
    let mut base: Option<Node> = None;
    for entry in entries {
        let span = entry.span;
        for file in local_files(entry, project_dir, span, out) {
            let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
            if seen.contains(&canonical) {
                continue;
            }
            if seen.len() >= MAX_FILES {
                out.push(Diagnostic::error(
                    "include-invalid",
                    span,
                    format!("more than {MAX_FILES} included files"),
                ));
                break;
            }
            seen.push(canonical);
            let id = FileId::included(sources.len());
            let Some((source, tree)) = read(&file, project_dir, span, id, check, out) else { continue };
            // Kept even when its tree is unusable: its problems point into it.
            sources.push(source);
            let Some(tree) = tree else { continue };
            let tree = expand(&tree, project_dir, check, seen, sources, out);
            base = Some(match base {
                Some(b) => deep_merge(&b, &tree),
                None => tree,
            });
        }
    }
    let mut own = node.clone();
    if let Value::Map(e) = &mut own.value {
        e.retain(|(k, _)| k.as_str() != Some("include"));
    }
    match base {
        Some(mut b) => {
            if let Value::Map(e) = &mut b.value {
                e.retain(|(k, _)| k.as_str() != Some("include"));
            }
            let mut merged = deep_merge(&b, &own);
            merged.span = node.span;
            merged
        }
        None => own,
    }
}

/// The local files one `include:` entry names (none for the kinds that need a server).
fn local_files(entry: &Node, project_dir: &Path, span: Span, out: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let offline = |kind: &str, what: String, out: &mut Vec<Diagnostic>| {
        out.push(
            Diagnostic::error(
                "include-unavailable",
                span,
                format!("`include: {kind}` ({what}) needs a GitLab server and is not available offline"),
            )
            .with_help("copy the file into the repository and use `include: local`"),
        );
    };
    let local = match (entry.as_str(), entry.as_map()) {
        (Some(s), _) if s.starts_with("http://") || s.starts_with("https://") => {
            offline("remote", s.to_string(), out);
            return Vec::new();
        }
        (Some(s), _) => s.to_string(),
        (None, Some(_)) => {
            let get = |k: &str| entry.get(k).and_then(Node::as_str).map(String::from);
            if let Some(l) = get("local") {
                l
            } else if let Some(p) = get("project") {
                let files = match entry.get("file") {
                    Some(f) => match f.as_seq() {
                        Some(items) => items.iter().filter_map(Node::as_str).collect::<Vec<_>>().join(", "),
                        None => f.as_str().unwrap_or_default().to_string(),
                    },
                    None => String::new(),
                };
                offline("project", format!("{p}: {files}"), out);
                return Vec::new();
            } else if let Some(r) = get("remote") {
                offline("remote", r, out);
                return Vec::new();
            } else if let Some(t) = get("template") {
                offline("template", t, out);
                return Vec::new();
            } else if let Some(c) = get("component") {
                offline("component", c, out);
                return Vec::new();
            } else {
                out.push(Diagnostic::error(
                    "include-invalid",
                    span,
                    "an include entry needs one of `local`, `project`, `remote`, `template`, `component`",
                ));
                return Vec::new();
            }
        }
        _ => {
            out.push(Diagnostic::error("include-invalid", span, "an include entry is a path or a mapping"));
            return Vec::new();
        }
    };
    // A missing file is reported at its path, not at the start of the entry.
    let missing_at = entry.get("local").map_or(span, |n| n.span);
    let rel = local.trim_start_matches('/');
    if rel.contains('*') {
        let files = glob(project_dir, rel);
        if files.is_empty() {
            out.push(Diagnostic::error(
                "include-missing",
                missing_at,
                format!("`include: {local}` matches no file"),
            ));
        }
        return files;
    }
    let path = project_dir.join(rel);
    if !path.is_file() {
        out.push(Diagnostic::error(
            "include-missing",
            missing_at,
            format!("included file `{local}` does not exist (paths are relative to the repository root)"),
        ));
        return Vec::new();
    }
    vec![path]
}

fn glob(project_dir: &Path, pattern: &str) -> Vec<PathBuf> {
    let Ok(matcher) = globset::GlobBuilder::new(pattern).literal_separator(true).build() else {
        return Vec::new();
    };
    let matcher = matcher.compile_matcher();
    let mut found = Vec::new();
    let mut stack = vec![project_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for entry in rd.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if !name.to_string_lossy().starts_with('.') && name != "target" {
                    stack.push(path);
                }
            } else if let Ok(rel) = path.strip_prefix(project_dir)
                && matcher.is_match(rel)
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Parse an included file: its text and its tree, every span in file `id`. Its own problems are
/// reported there; one it cannot read, at `span` (the `include:` entry).
fn read(
    file: &Path,
    project_dir: &Path,
    span: Span,
    id: FileId,
    check: Check<'_>,
    out: &mut Vec<Diagnostic>,
) -> Option<(Source, Option<Node>)> {
    let shown = file.strip_prefix(project_dir).unwrap_or(file).display().to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            out.push(Diagnostic::error("include-missing", span, format!("cannot read `{shown}`: {e}")));
            return None;
        }
    };
    let source = Source::new(shown.clone(), text);
    let (mut root, diags) = crate::yaml::parse_with(&source.text, Dialect::Gitlab);
    if let Some(r) = &mut root {
        in_file(r, id);
    }
    let mut found = diags;
    if let Some(r) = &root {
        found.extend(check(r, &source));
    }
    for mut d in found {
        d.span.file = id;
        out.push(d);
    }
    let tree = match root {
        Some(r) if r.as_map().is_some() => Some(r),
        Some(r) => {
            out.push(Diagnostic::error(
                "wrong-type",
                r.span,
                format!("`{shown}` is {}, not a mapping", r.kind_name()),
            ));
            None
        }
        None => None,
    };
    Some((source, tree))
}

/// Mark every span of a tree as being in file `id`.
fn in_file(node: &mut Node, id: FileId) {
    node.span.file = id;
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|n| in_file(n, id)),
        Value::Map(entries) => {
            for (k, v) in entries {
                in_file(k, id);
                in_file(v, id);
            }
        }
    }
}
