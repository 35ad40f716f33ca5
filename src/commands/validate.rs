//! `pipe validate [PATH...]`: check files and folders, report every problem, exit 0/1/2.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::Error;
use crate::gate;
use crate::gitlab::Syntax;
use crate::output::Ui;
use crate::render::{self, Format};
use crate::reusable::Lookup;
use crate::source::Source;
use crate::validate::shellcheck::{self, Shellcheck};
use crate::validate::{Checked, check_source_calling};

/// Folders checked when no path is given (and `.gitlab-ci.yml` when it exists).
const DEFAULT_DIRS: &[&str] = &["pipelines", ".github/workflows"];

pub fn run(
    ui: &Ui,
    paths: &[PathBuf],
    format: Format,
    actions: &crate::cli::ActionArgs,
    syntax: Syntax,
    shellcheck: bool,
) -> Result<i32, Error> {
    let files = collect(paths)?;
    let mut checked = Vec::with_capacity(files.len() + 1);
    // pipe.toml of the current directory (the repository root): checked itself, and the policy
    // the pipelines' gates are checked against.
    let (config, config_diags) = gate::load(Path::new("."))?;
    if let Some(source) = config.as_ref().and_then(|c| c.source.clone()) {
        checked.push(Checked { source, pipeline: None, diagnostics: config_diags });
    }
    // What actions declare, from local actions, the action cache and pipe's table: no network.
    let fetcher = crate::fetch::Fetcher::new(super::action_sources(actions, config.as_ref())?);
    let root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let catalog = crate::validate::actions::Catalog { root, fetcher: &fetcher };
    let sc = if shellcheck { Shellcheck::find() } else { None };
    let unchecked_scripts = AtomicBool::new(false);
    // Called workflows: of the working tree, and remote ones from the action cache.
    let calls = Lookup { base: Path::new("."), fetcher: Some(&fetcher), fetch: false };
    let results = parallel_map(&files, |path| {
        let mut file = check_file_for(path, config.as_ref(), syntax, None, calls)?;
        // Action metadata and scripts are GitHub's; a GitLab file only uses pipe's built-in actions.
        let gitlab = crate::gitlab::is_gitlab(&file.source.path, &file.source.text, syntax);
        if let Some(p) = file.pipeline.as_ref().filter(|_| !gitlab) {
            crate::validate::actions::check_metadata(p, &file.source, &catalog, &mut file.diagnostics);
            match &sc {
                Some(sc) => shellcheck::check(p, &file.source, sc, &mut file.diagnostics),
                None if shellcheck && shellcheck::has_scripts(p) => {
                    unchecked_scripts.store(true, Ordering::Relaxed)
                }
                None => {}
            }
            file.diagnostics.sort_by(|a, b| {
                (a.span.file, a.span.start).cmp(&(b.span.file, b.span.start)).then(a.rule.cmp(b.rule))
            });
        }
        // Rendering needs only the diagnostics and the text they quote: the model goes now, and
        // the text of a clean file too, so memory does not grow with the number of files.
        // Only the files it includes stay: its diagnostics may point into them.
        file.pipeline = file
            .pipeline
            .take()
            .filter(|p| !p.included.is_empty())
            .map(|p| crate::model::Pipeline { included: p.included, ..Default::default() });
        if file.diagnostics.is_empty() {
            file.source = Source::new(std::mem::take(&mut file.source.path), "");
        }
        Ok(file)
    });
    for file in results {
        checked.push(file?);
    }
    if unchecked_scripts.load(Ordering::Relaxed) {
        ui.info("note: shellcheck is not on PATH, so `run:` scripts were not checked (install shellcheck, or pass --no-shellcheck)");
    }
    let out = match format {
        Format::Text => render::text(&checked, ui.color_stdout()),
        Format::Json => render::json(&checked),
        Format::Github => render::github(&checked),
        Format::Sarif => render::sarif(&checked),
    };
    ui.stdout(&out);
    let errors: usize = checked.iter().map(Checked::errors).sum();
    Ok(if errors > 0 { crate::exit_code::FAILURE } else { crate::exit_code::SUCCESS })
}

/// `f` over every item on all cores (files are independent), results in the items' order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from).min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Read and check one file in a given syntax, for a pipeline context when one is known, finding
/// the workflows it calls through `calls`; a file that is not UTF-8 text is a diagnostic, not a
/// crash.
pub fn check_file_for(
    path: &Path,
    config: Option<&gate::Config>,
    syntax: Syntax,
    context: Option<&crate::gitlab::Context>,
    calls: Lookup<'_>,
) -> Result<Checked, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    let display = path.strip_prefix(".").unwrap_or(path).display().to_string();
    match String::from_utf8(bytes) {
        Ok(text) => Ok(check_source_calling(Source::new(display, text), config, syntax, context, calls)),
        Err(e) => {
            let source = Source::new(display, "");
            let at = crate::source::Span::default_at_start();
            let d = crate::diagnostic::Diagnostic::error(
                "yaml-syntax",
                at,
                format!("not a text file: invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
            );
            Ok(Checked { source, pipeline: None, diagnostics: vec![d] })
        }
    }
}

/// Expand the arguments into the list of files to check, in a stable order.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    if paths.is_empty() {
        let existing: Vec<PathBuf> = DEFAULT_DIRS.iter().map(PathBuf::from).filter(|p| p.is_dir()).collect();
        let gitlab = Path::new(crate::gitlab::FILE_NAME);
        if existing.is_empty() && !gitlab.is_file() {
            return Err(Error::Usage {
                message: format!(
                    "no pipeline files: neither pipelines/, .github/workflows/ nor {} exists here",
                    crate::gitlab::FILE_NAME
                ),
                hint: Some("name a file or folder: pipe validate path/to/pipeline.yml".into()),
            });
        }
        for dir in existing {
            walk(&dir, &mut files)?;
        }
        if gitlab.is_file() {
            files.push(gitlab.to_path_buf());
        }
        return Ok(files);
    }
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| Error::Read { path: path.clone(), source })?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// YAML files below `dir`, sorted; hidden folders other than .github are skipped.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read { path: dir.to_path_buf(), source })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}
