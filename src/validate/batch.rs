//! Many files in one process, as `pipe validate` checks them: on all cores, each file read,
//! parsed once and checked, then reduced to what rendering needs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::actions::Catalog;
use super::shellcheck::{self, Shellcheck};
use super::{Checked, check_source_calling};
use crate::Error;
use crate::gate;
use crate::gitlab::Syntax;
use crate::reusable::Lookup;
use crate::source::Source;

/// What every file of a run is checked with.
pub struct Batch<'a> {
    pub config: Option<&'a crate::gate::Config>,
    pub syntax: Syntax,
    pub calls: Lookup<'a>,
    /// Action metadata (looked up once per action for the whole batch).
    pub catalog: &'a Catalog<'a>,
    pub shellcheck: Option<&'a Shellcheck>,
    /// Scripts were asked to be checked (a note is due when shellcheck is missing).
    pub want_shellcheck: bool,
}

impl Batch<'_> {
    /// Every file checked, in the order given, and whether scripts went unchecked because
    /// shellcheck is not installed.
    pub fn check<P: AsRef<Path> + Sync>(&self, files: &[P]) -> (Vec<Result<Checked, Error>>, bool) {
        let unchecked_scripts = AtomicBool::new(false);
        let results = parallel_map(files, |path| {
            let mut file = check_file_for(path.as_ref(), self.config, self.syntax, None, self.calls)?;
            // Action metadata and scripts are GitHub's; a GitLab file only uses pipe's built-in actions.
            let gitlab = crate::gitlab::is_gitlab(&file.source.path, &file.source.text, self.syntax);
            if let Some(p) = file.pipeline.as_ref().filter(|_| !gitlab) {
                super::actions::check_metadata(p, &file.source, self.catalog, &mut file.diagnostics);
                match self.shellcheck {
                    Some(sc) => shellcheck::check(p, &file.source, sc, &mut file.diagnostics),
                    None if self.want_shellcheck && shellcheck::has_scripts(p) => {
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
        (results, unchecked_scripts.load(Ordering::Relaxed))
    }
}

/// `f` over every item on all cores (files are independent), results in the items' order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = crate::cores::available().min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::with_capacity(items.len() / workers + 1);
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
