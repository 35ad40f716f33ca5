//! `pipe validate [PATH...]`: check files and folders, report every problem, exit 0/1/2.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::gate;
use crate::gitlab::Syntax;
use crate::output::Ui;
use crate::render::{self, Format};
use crate::reusable::Lookup;
use crate::validate::Checked;
use crate::validate::batch::Batch;
use crate::validate::shellcheck::Shellcheck;

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
    let catalog = crate::validate::actions::Catalog::new(root, &fetcher);
    let sc = if shellcheck { Shellcheck::find() } else { None };
    // Called workflows: of the working tree, and remote ones from the action cache.
    let calls = Lookup { base: Path::new("."), fetcher: Some(&fetcher), fetch: false };
    let batch = Batch {
        config: config.as_ref(),
        syntax,
        calls,
        catalog: &catalog,
        shellcheck: sc.as_ref(),
        want_shellcheck: shellcheck,
    };
    let (results, unchecked_scripts) = batch.check(&files);
    for file in results {
        checked.push(file?);
    }
    if unchecked_scripts {
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

pub use crate::validate::batch::check_file_for;

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
    // The entry's type comes with the listing: no stat per file (a symbolic link is followed).
    let mut paths: Vec<(PathBuf, bool)> = entries
        .filter_map(|e| e.ok())
        .map(|e| {
            let dir = match e.file_type() {
                Ok(t) if !t.is_symlink() => t.is_dir(),
                _ => e.path().is_dir(),
            };
            (e.path(), dir)
        })
        .collect();
    paths.sort();
    for (p, dir) in paths {
        if dir {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}
