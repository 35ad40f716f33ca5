//! The committed JSON Schema is what `pipe schema` prints, and every example pipeline and every
//! workflow of the valid corpus passes it.

use std::path::Path;

use crate::test::Test;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_schema_matches_pipe_schema() {
    let (out, _dir) = Test::new().args(&["schema"]).run();
    let committed = std::fs::read_to_string(root().join("schemas/pipeline.schema.json"))
        .expect("schemas/pipeline.schema.json");
    assert!(
        committed == String::from_utf8_lossy(&out.stdout),
        "schemas/pipeline.schema.json is stale: run `cargo run -- schema > schemas/pipeline.schema.json`"
    );
}

fn yaml_to_json(path: &Path) -> serde_json::Value {
    // The loader's own YAML → JSON conversion, as used for matrix values.
    let text = std::fs::read_to_string(path).unwrap();
    let (root, diags) = pipe::yaml::parse(&text);
    assert!(diags.is_empty(), "{}: {diags:?}", path.display());
    pipe::load::to_json(&root.expect("a document"))
}

#[test]
fn example_pipelines_pass_the_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/pipeline.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let mut count = 0;
    let examples = std::fs::read_dir(root().join("pipelines")).unwrap();
    let corpus = std::fs::read_dir(root().join("tests/fixtures/valid")).unwrap();
    for entry in examples.chain(corpus) {
        let path = entry.unwrap().path();
        // The schema describes the GitHub syntax; GitLab files are checked by `pipe validate`.
        if pipe::gitlab::by_name(&path.display().to_string()) {
            continue;
        }
        let doc = yaml_to_json(&path);
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        count += 1;
    }
    assert!(count >= 100);
}

#[test]
fn the_schema_rejects_what_validate_rejects() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/pipeline.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for name in ["unknown-key.yml", "missing-key.yml", "wrong-type.yml", "invalid-value.yml"] {
        let doc = yaml_to_json(&root().join("tests/fixtures/invalid").join(name));
        assert!(!validator.is_valid(&doc), "{name} passes the schema");
    }
}
