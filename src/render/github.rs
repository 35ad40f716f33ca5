//! GitHub workflow commands (`::error file=..,line=..::msg`): annotations on the pull request
//! when `pipe validate` runs inside GitHub Actions.

use crate::diagnostic::Severity;
use crate::validate::Checked;

pub fn github(files: &[Checked]) -> String {
    let mut out = String::new();
    for f in files {
        for d in &f.diagnostics {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let mut message = format!("{} [{}]", d.message, d.rule);
            if let Some(h) = &d.help {
                message.push_str(&format!(" — {h}"));
            }
            out.push_str(&format!(
                "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                escape_property(&f.source_of(d.span).path),
                d.span.start.line,
                d.span.start.col,
                d.span.end.line,
                d.span.end.col,
                escape_property(d.rule),
                escape_data(&message)
            ));
        }
    }
    out
}

// Escapes defined by the workflow-command format.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
