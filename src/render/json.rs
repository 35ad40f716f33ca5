//! Machine-readable diagnostics: one JSON document with every file and problem.

use serde_json::json;

use crate::validate::Checked;

pub fn json(files: &[Checked]) -> String {
    let files: Vec<_> = files
        .iter()
        .map(|f| {
            let diags: Vec<_> = f
                .diagnostics
                .iter()
                .map(|d| {
                    json!({
                        "path": f.source_of(d.span).path,
                        "severity": d.severity,
                        "rule": d.rule,
                        "message": d.message,
                        "line": d.span.start.line,
                        "column": d.span.start.col,
                        "end_line": d.span.end.line,
                        "end_column": d.span.end.col,
                        "help": d.help,
                    })
                })
                .collect();
            json!({"path": f.source.path, "errors": f.errors(), "warnings": f.warnings(), "diagnostics": diags})
        })
        .collect();
    let errors: usize = files.iter().filter_map(|f| f["errors"].as_u64()).sum::<u64>() as usize;
    let out = json!({"version": 1, "files": files, "errors": errors});
    format!("{}\n", serde_json::to_string_pretty(&out).unwrap_or_default())
}
