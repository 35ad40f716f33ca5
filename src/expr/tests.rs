//! Unit and property tests outside the big table: robustness (no panics on
//! any input), hashFiles on a real directory, static analysis helpers,
//! availability data and value conversions.

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::tests_table::sample_context;
use super::*;

// ---------------------------------------------------------------- robustness

/// Parses `src` every way the crate can and evaluates whatever parses; any
/// panic fails the property. Error spans must stay inside the input.
fn exercise(src: &str) {
    // Built once: parsing the sample JSON for every case would dominate.
    static CONTEXTS: OnceLock<[MapContext; 3]> = OnceLock::new();
    let contexts = CONTEXTS.get_or_init(|| {
        [Status::Success, Status::Failure, Status::Cancelled]
            .map(|status| sample_context().with_status(status))
    });
    let ctx = &contexts[0];
    let len = src.chars().count();
    let in_bounds = |span: Span| span.start <= span.end && span.end <= len;
    match parse(src) {
        Ok(expr) => {
            let _ = evaluate(&expr, ctx);
            let _ = references(&expr);
            let _ = calls(&expr);
            let _ = uses_status_function(&expr);
        }
        Err(e) => assert!(in_bounds(e.span), "span {:?} out of bounds for {src:?}", e.span),
    }
    match parse_template(src) {
        Ok(t) => {
            let _ = interpolate(&t, ctx);
            let _ = evaluate_template(&t, ctx);
        }
        Err(e) => assert!(in_bounds(e.span), "span {:?} out of bounds for {src:?}", e.span),
    }
    if let Ok(cond) = parse_condition(src) {
        for ctx in contexts {
            let _ = evaluate_condition(&cond, ctx);
        }
    }
}

/// Tokens of the grammar (and some near misses) to build plausible soups.
const TOKENS: &[&str] = &[
    "github",
    "env",
    "matrix",
    "needs",
    "steps",
    "objects",
    "fruits",
    "name",
    "ref",
    "event",
    "labels",
    "build",
    "outputs",
    ".",
    "*",
    "[",
    "]",
    "(",
    ")",
    ",",
    "!",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "&&",
    "||",
    "'str'",
    "'it''s'",
    "''",
    "'{0}'",
    "'{{'",
    "'}}'",
    "'[1,{\"a\":2}]'",
    "0",
    "1",
    "-1",
    "1.5",
    "0xff",
    "1e3",
    ".5",
    "NaN",
    "Infinity",
    "-Infinity",
    "true",
    "false",
    "null",
    "contains",
    "startsWith",
    "endsWith",
    "format",
    "join",
    "toJSON",
    "fromJSON",
    "hashFiles",
    "case",
    "success",
    "always",
    "failure",
    "cancelled",
    "${{",
    "}}",
    "{",
    "}",
    "'",
    "\"",
    "=",
    "&",
    "|",
    "-",
    "+",
    "?",
    "é",
    " ",
    "\n",
];

fn token_soup() -> impl Strategy<Value = String> {
    (prop::collection::vec(prop::sample::select(TOKENS), 0..40), any::<bool>(), any::<bool>()).prop_map(
        |(tokens, spaced, wrapped)| {
            let body = tokens.join(if spaced { " " } else { "" });
            if wrapped { format!("x ${{{{ {body} }}}} y") } else { body }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        exercise(&src);
    }

    #[test]
    fn expression_like_strings_never_panic(src in "[a-z$!{}()\\[\\]'.*,=<>&| 0-9x-]{0,60}") {
        exercise(&src);
    }

    #[test]
    fn token_soups_never_panic(src in token_soup()) {
        exercise(&src);
    }
}

#[test]
fn pathological_inputs_do_not_overflow_the_stack() {
    for src in [
        "(".repeat(100_000),
        "!".repeat(100_000),
        "[".repeat(100_000),
        format!("a{}", ".b".repeat(100_000)),
        format!("a{}", "[0]".repeat(50_000)),
        "1 == ".repeat(50_000),
        format!("format({})", "'x', ".repeat(50_000)),
        "${{".repeat(10_000),
    ] {
        exercise(&src);
    }
}

// ------------------------------------------------------------------ hashFiles

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("pipe-expr-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn write(&self, relative: &str, content: &str) {
        let path = self.0.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent");
        }
        fs::write(path, content).expect("write file");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn workspace() -> TempDir {
    let dir = TempDir::new("hash");
    dir.write("a.txt", "alpha");
    dir.write("sub/b.txt", "bravo");
    dir.write("sub/c.rs", "fn main() {}");
    dir.write("sub/deep/d.txt", "delta");
    dir.write("z.lock", "lock");
    dir
}

/// The runner's algorithm, spelled out independently.
fn expected_hash(contents: &[&str]) -> String {
    let mut total = Sha256::new();
    for content in contents {
        total.update(Sha256::digest(content.as_bytes()));
    }
    total.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(dir: &TempDir, patterns: &[&str]) -> Result<String, String> {
    let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
    hash_files(&dir.0, &patterns)
}

#[test]
fn hash_files_recursive_glob_sorted() {
    let dir = workspace();
    assert_eq!(hash(&dir, &["**/*.txt"]), Ok(expected_hash(&["alpha", "bravo", "delta"])));
}

#[test]
fn hash_files_star_does_not_cross_directories() {
    let dir = workspace();
    assert_eq!(hash(&dir, &["*.txt"]), Ok(expected_hash(&["alpha"])));
    assert_eq!(hash(&dir, &["/sub/*.txt"]), Ok(expected_hash(&["bravo"])));
}

#[test]
fn hash_files_negation_and_reinclusion() {
    let dir = workspace();
    assert_eq!(hash(&dir, &["**/*.txt", "!sub/**"]), Ok(expected_hash(&["alpha"])));
    assert_eq!(
        hash(&dir, &["**/*.txt", "!sub/**", "sub/deep/d.txt"]),
        Ok(expected_hash(&["alpha", "delta"]))
    );
    // Newline-separated patterns in one argument work like separate ones.
    assert_eq!(hash(&dir, &["**/*.txt\n!sub/**"]), Ok(expected_hash(&["alpha"])));
}

#[test]
fn hash_files_directory_pattern_selects_contents() {
    let dir = workspace();
    assert_eq!(hash(&dir, &["sub/deep"]), Ok(expected_hash(&["delta"])));
}

#[test]
fn hash_files_no_match_is_empty() {
    let dir = workspace();
    assert_eq!(hash(&dir, &["**/*.none"]), Ok(String::new()));
    assert_eq!(hash(&dir, &["!**/*.txt"]), Ok(String::new()));
}

#[test]
fn hash_files_invalid_pattern_is_an_error() {
    let dir = workspace();
    let err = hash(&dir, &["[unclosed"]).expect_err("invalid glob");
    assert!(err.contains("invalid hashFiles pattern"), "{err}");
}

#[test]
fn hash_files_through_an_expression() {
    let dir = workspace();
    let ctx = MapContext::new().with_workspace(&dir.0);
    let expr = parse("hashFiles('**/*.rs', '*.lock')").expect("parses");
    assert_eq!(evaluate(&expr, &ctx), Ok(Value::String(expected_hash(&["fn main() {}", "lock"]))));
    let none = parse("hashFiles('nothing/**')").expect("parses");
    assert_eq!(evaluate(&none, &ctx), Ok(Value::String(String::new())));
}

// ------------------------------------------------------------------ analysis

fn names(r: &Reference) -> Vec<String> {
    r.path
        .iter()
        .map(|s| match s {
            Segment::Name(n, _) => n.clone(),
            Segment::Index(v) => format!("[{v}]"),
            Segment::Wildcard => "*".to_string(),
            Segment::Dynamic => "[?]".to_string(),
        })
        .collect()
}

#[test]
fn references_report_longest_chains() {
    let expr = parse("needs.build.outputs.sha == 'x' && contains(github.event.labels.*.name, matrix.label)")
        .expect("parses");
    let refs = references(&expr);
    let summary: Vec<(String, Vec<String>)> = refs.iter().map(|r| (r.context.clone(), names(r))).collect();
    assert_eq!(
        summary,
        vec![
            ("needs".to_string(), vec!["build".into(), "outputs".into(), "sha".into()]),
            ("github".to_string(), vec!["event".into(), "labels".into(), "*".into(), "name".into()]),
            ("matrix".to_string(), vec!["label".into()]),
        ]
    );
    assert_eq!(refs[0].span, Span::new(0, 23));
    assert_eq!(refs[0].names(), vec!["build", "outputs", "sha"]);
    match &refs[0].path[2] {
        Segment::Name(name, span) => {
            assert_eq!(name, "sha");
            assert_eq!(*span, Span::new(20, 23));
        }
        other => panic!("unexpected segment {other:?}"),
    }
}

#[test]
fn references_handle_indexes_and_case() {
    let expr = parse("STEPS['my-step'].Outputs[matrix.key][0]").expect("parses");
    let refs = references(&expr);
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0].context, "steps");
    assert_eq!(names(&refs[0]), vec!["[my-step]", "Outputs", "[?]", "[0]"]);
    assert_eq!(refs[0].names(), vec!["my-step", "outputs"]);
    assert_eq!(refs[1].context, "matrix");
    assert_eq!(names(&refs[1]), vec!["key"]);
}

#[test]
fn references_inside_function_results_and_bare_contexts() {
    let expr = parse("fromJSON(needs.a.outputs.m).x || toJSON(github)").expect("parses");
    let refs = references(&expr);
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0].context, "needs");
    assert_eq!(refs[1].context, "github");
    assert!(refs[1].path.is_empty());
    assert_eq!(refs[1].span, Span::new(40, 46));
}

#[test]
fn references_in_templates_use_template_offsets() {
    let template = parse_template("echo ${{ env.A }} ${{ secrets.TOKEN }}").expect("parses");
    let refs: Vec<Reference> = template.expressions().flat_map(references).collect();
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0].span, Span::new(9, 14));
    assert_eq!(refs[1].context, "secrets");
    assert_eq!(refs[1].span, Span::new(22, 35));
}

#[test]
fn calls_report_canonical_names_spans_and_arity() {
    let expr = parse("HASHFILES('a', 'b') != '' && always() && Format('{0}', toJson(x))").expect("parses");
    let got = calls(&expr);
    assert_eq!(
        got,
        vec![
            ("hashFiles".to_string(), Span::new(0, 19), 2),
            ("always".to_string(), Span::new(29, 37), 0),
            ("format".to_string(), Span::new(41, 65), 2),
            ("toJSON".to_string(), Span::new(55, 64), 1),
        ]
    );
}

#[test]
fn status_function_detection() {
    let uses = |src: &str| uses_status_function(&parse(src).expect("parses"));
    assert!(uses("always()"));
    assert!(uses("!cancelled()"));
    assert!(uses("github.ref == 'x' && (FAILURE() || false)"));
    assert!(uses("format('{0}', success())"));
    assert!(!uses("github.ref == 'refs/heads/main'"));
    assert!(!uses("contains('success()', 'x')"));
}

#[test]
fn always_true_template_is_exposed() {
    match parse_condition("${{ github.ref }} == 'refs/heads/main'") {
        Ok(Condition::AlwaysTrueTemplate(t)) => {
            assert_eq!(t.parts.len(), 2);
            assert_eq!(t.expressions().count(), 1);
        }
        other => panic!("expected a template, got {other:?}"),
    }
}

#[test]
fn condition_spans_are_relative_to_the_original_value() {
    match parse_condition("  ${{ github.ref }}") {
        Ok(Condition::Expression(expr)) => assert_eq!(expr.span, Span::new(6, 16)),
        other => panic!("expected an expression, got {other:?}"),
    }
}

// --------------------------------------------------------------- availability

#[test]
fn every_location_has_a_row_and_round_trips() {
    let all: Vec<Location> = Location::all().collect();
    assert_eq!(all.len(), 34);
    for location in all {
        let key = location.key();
        assert!(!key.is_empty());
        assert_eq!(Location::from_key(key), Some(location));
        assert!(allowed(location).allows_context("github"), "{key}");
    }
}

#[test]
fn availability_matches_githubs_table() {
    let job_if = allowed(Location::JobIf);
    assert!(job_if.allows_context("needs"));
    assert!(!job_if.allows_context("matrix"));
    assert!(!job_if.allows_context("secrets"));
    assert!(job_if.allows_function("always"));
    assert!(!job_if.allows_function("hashFiles"));
    assert!(job_if.allows_function("contains"));

    let step_if = allowed(Location::StepIf);
    assert!(!step_if.allows_context("secrets"));
    assert!(step_if.allows_context("steps"));
    assert!(step_if.allows_function("HASHFILES"));
    assert!(step_if.allows_function("failure"));

    let step_run = allowed(Location::StepRun);
    assert!(step_run.allows_context("secrets"));
    assert!(step_run.allows_function("hashFiles"));
    assert!(!step_run.allows_function("success"));

    let run_name = allowed(Location::RunName);
    assert_eq!(run_name.contexts, &["github", "inputs", "vars"]);
    assert!(!allowed(Location::Env).allows_context("env"));
    assert!(allowed(Location::WorkflowCallOutputValue).allows_context("jobs"));
    assert!(!allowed(Location::JobStrategy).allows_context("matrix"));
    assert_eq!(
        Location::from_key("jobs.<job_id>.services.<service_id>.env.<env_id>"),
        Some(Location::JobServiceEnv)
    );
    assert_eq!(Location::from_key("jobs.<job_id>.nope"), None);
}

#[test]
fn function_table_is_consistent() {
    for spec in FUNCTIONS {
        assert_eq!(functions::lookup(&spec.name.to_uppercase()), Some(spec));
        assert!(spec.max_args.is_none_or(|max| max >= spec.min_args));
    }
    assert!(functions::lookup("nope").is_none());
}

// --------------------------------------------------------------------- values

#[test]
fn number_coercion_from_strings() {
    assert_eq!(parse_number(""), 0.0);
    assert_eq!(parse_number("  "), 0.0);
    assert_eq!(parse_number(" 12 "), 12.0);
    assert_eq!(parse_number("-1.5e2"), -150.0);
    assert_eq!(parse_number("0x1F"), 31.0);
    assert_eq!(parse_number("0xffffffff"), -1.0);
    assert!(parse_number("0x100000000").is_nan());
    assert_eq!(parse_number("Infinity"), f64::INFINITY);
    assert!(parse_number("inf").is_nan());
    assert!(parse_number("nan").is_nan());
    assert!(parse_number("1,000").is_nan());
    assert!(parse_number("abc").is_nan());
    assert!(parse_number(".").is_nan());
}

#[test]
fn number_formatting() {
    let cases = [
        (0.0, "0"),
        (3.0, "3"),
        (-3.0, "-3"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (100.0, "100"),
        (1e14, "100000000000000"),
        (1e15, "1E+15"),
        (1.5e20, "1.5E+20"),
        (9007199254740992.0, "9.00719925474099E+15"),
        (0.000123, "0.000123"),
        (0.0000123, "1.23E-05"),
        (1.0 / 3.0, "0.333333333333333"),
        (2.0 / 3.0, "0.666666666666667"),
        (12345.678, "12345.678"),
        (99999999999999.99, "100000000000000"),
        (999999999999999.9, "1E+15"),
    ];
    for (n, want) in cases {
        assert_eq!(format_number(n), want, "formatting {n:?}");
    }
}

#[test]
fn json_round_trip_and_order() {
    let json: serde_json::Value =
        serde_json::from_str(r#"{"b": 1, "a": [true, null, 1.5, "x"], "c": {}}"#).expect("json");
    let value = Value::from(json.clone());
    assert_eq!(value.to_json(), json);
    match &value {
        Value::Object(pairs) => {
            let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["b", "a", "c"]);
        }
        other => panic!("expected object, got {other:?}"),
    }
    assert_eq!(value.get("B"), Some(&Value::Number(1.0)));
    assert_eq!(value.get_path("A"), value.get("a"));
    assert_eq!(Value::Number(2.0).to_json(), serde_json::json!(2));
    assert_eq!(Value::Number(f64::NAN).to_json(), serde_json::Value::Null);
}

#[test]
fn display_forms() {
    assert_eq!(Value::Null.to_string(), "");
    assert_eq!(Value::Bool(true).to_string(), "true");
    assert_eq!(Value::Number(42.0).to_string(), "42");
    assert_eq!(Value::Array(vec![]).to_string(), "Array");
    assert_eq!(Value::Object(vec![]).to_string(), "Object");
}

#[test]
fn single_expression_templates_keep_their_type() {
    let ctx = sample_context();
    let template = parse_template("${{ fromJSON('{\"a\":[1]}') }}").expect("parses");
    assert_eq!(
        evaluate_template(&template, &ctx),
        Ok(Value::object([("a", Value::Array(vec![Value::Number(1.0)]))]))
    );
    let mixed = parse_template("n=${{ matrix.node }}").expect("parses");
    assert_eq!(evaluate_template(&mixed, &ctx), Ok(Value::from("n=20")));
}

#[test]
fn ast_shape_and_spans() {
    let expr = parse("!a.b[0] == 'x' || c").expect("parses");
    let ExprKind::Or(left, right) = &expr.kind else {
        panic!("expected ||, got {expr:?}");
    };
    assert_eq!(expr.span, Span::new(0, 19));
    assert_eq!(right.kind, ExprKind::Context("c".to_string()));
    let ExprKind::Compare { op, left: not, .. } = &left.kind else {
        panic!("expected ==, got {left:?}");
    };
    assert_eq!(*op, CompareOp::Eq);
    let ExprKind::Not(index) = &not.kind else {
        panic!("expected !, got {not:?}");
    };
    assert_eq!(index.span, Span::new(1, 7));
    assert!(matches!(index.kind, ExprKind::Index { .. }));
}

#[test]
fn eval_errors_carry_spans() {
    let ctx = sample_context();
    let expr = parse("1 == 1 && fromJSON('{')").expect("parses");
    let err = evaluate(&expr, &ctx).expect_err("bad json");
    assert_eq!(err.span, Span::new(10, 23));
    let expr = parse("x.y").expect("parses");
    let err = evaluate(&expr, &ctx).expect_err("unknown context");
    assert_eq!(err.span, Span::new(0, 1));
}

/// A context implementing only the required methods (no borrowed fast path).
struct OwnedOnly;

impl EvalContext for OwnedOnly {
    fn context(&self, name: &str) -> Option<Value> {
        (name == "github").then(|| Value::object([("ref", Value::from("main"))]))
    }
    fn status(&self) -> Status {
        Status::Failure
    }
    fn hash_files(&self, _: &[String]) -> Result<String, String> {
        Ok("h".to_string())
    }
}

#[test]
fn custom_contexts_work_without_the_fast_path() {
    let expr = parse("github.REF == 'MAIN' && failure() && hashFiles('x') == 'h'").expect("parses");
    assert_eq!(evaluate(&expr, &OwnedOnly), Ok(Value::Bool(true)));
    let filtered = parse("github.*").expect("parses");
    assert_eq!(evaluate(&filtered, &OwnedOnly), Ok(Value::Array(vec![Value::from("main")])));
}

#[test]
fn deepest_accepted_expressions_evaluate() {
    // Close to MAX_DEPTH through every recursive construct, evaluated on
    // the default 2 MiB test-thread stack in a debug build.
    let ctx = sample_context();
    let calls = format!("{}1{}", "join(".repeat(190), ")".repeat(190));
    let nots = format!("{}true", "!(".repeat(95)) + &")".repeat(95);
    let chain = format!("github{}", ".a".repeat(190));
    for src in [calls, nots, chain] {
        let expr = parse(&src).expect("within the depth limit");
        assert!(evaluate(&expr, &ctx).is_ok(), "{src}");
    }
}

#[test]
fn exponential_string_growth_is_capped() {
    let ctx = sample_context();
    let src = format!("{}'x'{}", "toJSON(".repeat(60), ")".repeat(60));
    let err = evaluate(&parse(&src).expect("parses"), &ctx).expect_err("capped");
    assert!(err.message.contains("limit"), "{}", err.message);
    let src = format!("{}'x'{}", "format('{0}{0}', ".repeat(40), ")".repeat(40));
    let err = evaluate(&parse(&src).expect("parses"), &ctx).expect_err("capped");
    assert!(err.message.contains("limit"), "{}", err.message);
}
