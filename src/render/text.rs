//! The human format: `file:line:col: severity: message [rule]`, then a rustc-style excerpt.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, Severity};
use crate::validate::Checked;

/// All diagnostics of all files, then a summary line.
pub fn text(files: &[Checked], color: bool) -> String {
    let mut out = String::new();
    for file in files {
        for d in &file.diagnostics {
            out.push_str(&text_one(file.source_of(d.span), d, color));
            out.push('\n');
        }
    }
    let errors: usize = files.iter().map(Checked::errors).sum();
    let warnings: usize = files.iter().map(Checked::warnings).sum();
    let files_with = files.iter().filter(|f| !f.diagnostics.is_empty()).count();
    // pipe.toml is checked along, but only pipeline files are counted.
    let pipelines = files.iter().filter(|f| !is_config(f)).count();
    if errors + warnings == 0 {
        out.push_str(&format!("{pipelines} file(s) checked: no problems\n"));
    } else {
        out.push_str(&format!(
            "{pipelines} file(s) checked: {errors} error(s), {warnings} warning(s) in {files_with} file(s)\n"
        ));
    }
    out
}

fn is_config(file: &Checked) -> bool {
    std::path::Path::new(&file.source.path).file_name().is_some_and(|n| n == crate::gate::config::FILE_NAME)
}

pub fn text_one(source: &crate::source::Source, d: &Diagnostic, color: bool) -> String {
    let header = format!(
        "{}:{}:{}: {}: {} [{}]",
        source.path,
        d.span.start.line,
        d.span.start.col,
        d.severity.as_str(),
        d.message,
        d.rule
    );
    // The excerpt is the first line of the span: enough to locate it, short when the span is a
    // whole mapping.
    let line = d.span.start.line as usize;
    let excerpt = source.line(line);
    let line_start_byte = source.byte_offset(crate::source::Pos::new(0, line, 1));
    let start = (source.byte_offset(d.span.start) - line_start_byte).min(excerpt.len());
    let mut end = if d.span.end.line as usize == line {
        (source.byte_offset(d.span.end) - line_start_byte).clamp(start, excerpt.len())
    } else {
        excerpt.trim_end().len().max(start)
    };
    if end == start {
        // Point at one character (or just past the end of the line).
        end = excerpt[start..].chars().next().map_or(start, |c| start + c.len_utf8());
    }
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    let mut annotation = AnnotationKind::Primary.span(start..end);
    if let Some(label) = &d.label {
        annotation = annotation.label(label.as_str());
    }
    let mut group = Group::with_level(level.clone())
        .element(Snippet::source(excerpt).line_start(line).annotation(annotation));
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let body = renderer.render(&[group]);
    let header = if color { console::style(header).bold().to_string() } else { header };
    format!("{header}\n{body}\n")
}
