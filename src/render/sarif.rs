//! SARIF 2.1.0, for code-scanning dashboards.

use std::collections::BTreeSet;

use serde_json::json;

use crate::diagnostic::Severity;
use crate::validate::Checked;

pub fn sarif(files: &[Checked]) -> String {
    let rules: BTreeSet<&str> = files.iter().flat_map(|f| f.diagnostics.iter().map(|d| d.rule)).collect();
    let results: Vec<_> = files
        .iter()
        .flat_map(|f| {
            f.diagnostics.iter().map(move |d| {
                json!({
                    "ruleId": d.rule,
                    "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning", Severity::Note => "note" },
                    "message": {"text": match &d.help { Some(h) => format!("{} ({h})", d.message), None => d.message.clone() }},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": f.source_of(d.span).path},
                        "region": {
                            "startLine": d.span.start.line, "startColumn": d.span.start.col,
                            "endLine": d.span.end.line, "endColumn": d.span.end.col.max(d.span.start.col + u32::from(d.span.end.line == d.span.start.line)),
                        }
                    }}]
                })
            })
        })
        .collect();
    let out = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pipe",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| json!({"id": r})).collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    });
    format!("{}\n", serde_json::to_string_pretty(&out).unwrap_or_default())
}
