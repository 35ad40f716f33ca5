//! `pipe schema`: the JSON Schema of the pipeline format.

pub fn run(ui: &crate::output::Ui) -> Result<i32, crate::Error> {
    ui.stdout(&format!("{}\n", schema_text()));
    Ok(crate::exit_code::SUCCESS)
}

/// The schema exactly as committed in `schemas/pipeline.schema.json` (without the final newline).
pub fn schema_text() -> String {
    serde_json::to_string_pretty(&crate::format::json_schema()).unwrap_or_default()
}
