//! Table-driven tests: one row per case, all rows checked in one test so a
//! failure report lists every broken row with its line number.
//!
//! Row kinds: `e` evaluates an expression, `t` interpolates a template, `c`
//! evaluates an `if:` condition under a job status, `k` classifies an `if:`
//! value. Expected outcomes: a value, `err "msg" @ start..end` (syntax error
//! with its exact character span), `fails "msg"` (evaluation error).

use super::*;

enum Kind {
    Expr,
    Template,
    Cond(Status),
    Classify,
}

enum Expect {
    Value(Value),
    Text(&'static str),
    Bool(bool),
    Syntax(&'static str, usize, usize),
    SyntaxAnySpan(&'static str),
    Eval(&'static str),
}

struct Row {
    line: u32,
    kind: Kind,
    src: String,
    expect: Expect,
}

fn n(x: f64) -> Value {
    Value::Number(x)
}
fn s(x: &str) -> Value {
    Value::String(x.to_string())
}
fn b(x: bool) -> Value {
    Value::Bool(x)
}
fn j(text: &str) -> Value {
    Value::from_json_str(text).unwrap_or(Value::String(format!("bad test json: {text}")))
}
const NULL: Value = Value::Null;

macro_rules! row {
    (e $src:expr => err $msg:literal @ $s:literal .. $e:literal) => {
        Row { line: line!(), kind: Kind::Expr, src: $src.to_string(), expect: Expect::Syntax($msg, $s, $e) }
    };
    (e $src:expr => err $msg:literal) => {
        Row { line: line!(), kind: Kind::Expr, src: $src.to_string(), expect: Expect::SyntaxAnySpan($msg) }
    };
    (e $src:expr => fails $msg:literal) => {
        Row { line: line!(), kind: Kind::Expr, src: $src.to_string(), expect: Expect::Eval($msg) }
    };
    (e $src:expr => $v:expr) => {
        Row { line: line!(), kind: Kind::Expr, src: $src.to_string(), expect: Expect::Value($v) }
    };
    (t $src:expr => err $msg:literal @ $s:literal .. $e:literal) => {
        Row {
            line: line!(),
            kind: Kind::Template,
            src: $src.to_string(),
            expect: Expect::Syntax($msg, $s, $e),
        }
    };
    (t $src:expr => $v:literal) => {
        Row { line: line!(), kind: Kind::Template, src: $src.to_string(), expect: Expect::Text($v) }
    };
    (c $src:expr, $status:ident => err $msg:literal @ $s:literal .. $e:literal) => {
        Row {
            line: line!(),
            kind: Kind::Cond(Status::$status),
            src: $src.to_string(),
            expect: Expect::Syntax($msg, $s, $e),
        }
    };
    (c $src:expr, $status:ident => $v:literal) => {
        Row {
            line: line!(),
            kind: Kind::Cond(Status::$status),
            src: $src.to_string(),
            expect: Expect::Bool($v),
        }
    };
    (k $src:expr => $v:literal) => {
        Row { line: line!(), kind: Kind::Classify, src: $src.to_string(), expect: Expect::Text($v) }
    };
}

/// Structural equality that treats NaN as equal to NaN.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k1, v1), (k2, v2))| k1 == k2 && same(v1, v2))
        }
        _ => a == b,
    }
}

/// The contexts every row sees.
pub(super) fn sample_context() -> MapContext {
    MapContext::new()
        .with(
            "github",
            j(r#"{
                "ref": "refs/heads/main",
                "event_name": "push",
                "repository": "octo/hello",
                "run_number": 42,
                "event": {
                    "labels": [{"name": "bug"}, {"name": "help wanted"}],
                    "head_commit": {"message": "Fix it [skip ci]"},
                    "forced": false
                }
            }"#),
        )
        .with("env", j(r#"{"CI": "true", "EMPTY": "", "COUNT": "3"}"#))
        .with("vars", j(r#"{"REGION": "eu"}"#))
        .with("matrix", j(r#"{"os": "ubuntu-latest", "node": 20}"#))
        .with(
            "needs",
            j(r#"{"build": {"result": "success", "outputs": {"sha": "abc123", "matrix": "{\"x\":[1,2]}"}}}"#),
        )
        .with("steps", j(r#"{"build-step": {"outcome": "success", "outputs": {"sha": "def"}}}"#))
        .with(
            "objects",
            j(r#"{
                "fruits": [
                    {"name": "apple", "quantity": 1},
                    {"name": "orange", "quantity": 2},
                    {"name": "pear", "quantity": 1}
                ],
                "mixed": [{"name": "a"}, {"other": 1}, 5, null, {"name": null}],
                "vegetables": {
                    "scallions": {"colors": ["green", "white"]},
                    "beets": {"colors": ["purple"]}
                },
                "nested": [[1, 2], [3], {"k": 4}]
            }"#),
        )
}

fn rows() -> Vec<Row> {
    let deep_parens = format!("{}1{}", "(".repeat(300), ")".repeat(300));
    let ok_parens = format!("{}1{}", "(".repeat(150), ")".repeat(150));
    let deep_not = format!("{}true", "!".repeat(300));
    let deep_props = format!("github{}", ".a".repeat(250));
    let long_or = vec!["false"; 250].join(" || ");
    vec![
        // ---- literals ----
        row!(e "1" => n(1.0)),
        row!(e "711" => n(711.0)),
        row!(e "-9.2" => n(-9.2)),
        row!(e "0xff" => n(255.0)),
        row!(e "0xFF" => n(255.0)),
        row!(e "-2.99e-2" => n(-0.0299)),
        row!(e "1e3" => n(1000.0)),
        row!(e "1E+3" => n(1000.0)),
        row!(e ".5" => n(0.5)),
        row!(e "-0" => n(-0.0)),
        row!(e "'It''s open source!'" => s("It's open source!")),
        row!(e "''" => s("")),
        row!(e "''''" => s("'")),
        row!(e "'  spaced  '" => s("  spaced  ")),
        row!(e "true" => b(true)),
        row!(e "false" => b(false)),
        row!(e "null" => NULL),
        row!(e "NaN" => n(f64::NAN)),
        row!(e "Infinity" => n(f64::INFINITY)),
        row!(e "-Infinity" => n(f64::NEG_INFINITY)),
        row!(e "  42  " => n(42.0)),
        row!(e "'ünï' == 'ÜNÏ'" => b(true)),
        // ---- equality coercion (GitHub's table) ----
        row!(e "null == 0" => b(true)),
        row!(e "null == false" => b(true)),
        row!(e "null == ''" => b(true)),
        row!(e "null == null" => b(true)),
        row!(e "null == 'null'" => b(false)),
        row!(e "true == 1" => b(true)),
        row!(e "false == 0" => b(true)),
        row!(e "true == '1'" => b(true)),
        row!(e "true == 'true'" => b(false)),
        row!(e "true == 2" => b(false)),
        row!(e "1 == '1'" => b(true)),
        row!(e "1 == '1.0'" => b(true)),
        row!(e "16 == '0x10'" => b(true)),
        row!(e "0 == ''" => b(true)),
        row!(e "42 == ' 42 '" => b(true)),
        row!(e "1000 == '1e3'" => b(true)),
        row!(e "0 == 'abc'" => b(false)),
        row!(e "'abc' == 'ABC'" => b(true)),
        row!(e "'abc' != 'abd'" => b(true)),
        row!(e "1 == 1.0" => b(true)),
        row!(e "NaN == NaN" => b(false)),
        row!(e "NaN != NaN" => b(true)),
        row!(e "fromJSON('[]') == fromJSON('[]')" => b(false)),
        row!(e "fromJSON('{}') == 0" => b(false)),
        row!(e "fromJSON('[]') == ''" => b(false)),
        row!(e "github.event == github.event" => b(false)),
        row!(e "-0 == 0" => b(true)),
        // ---- ordering ----
        row!(e "1 < 2" => b(true)),
        row!(e "2 <= 2" => b(true)),
        row!(e "3 > 2" => b(true)),
        row!(e "2 >= 3" => b(false)),
        row!(e "'a' < 'B'" => b(true)),
        row!(e "'b' > 'A'" => b(true)),
        row!(e "'abc' <= 'ABC'" => b(true)),
        row!(e "'10' < 9" => b(false)),
        row!(e "'10' > 9" => b(true)),
        row!(e "null < 1" => b(true)),
        row!(e "NaN < 1" => b(false)),
        row!(e "NaN >= NaN" => b(false)),
        row!(e "'abc' > 0" => b(false)),
        row!(e "fromJSON('[1]') < 2" => b(false)),
        row!(e "matrix.node >= 18" => b(true)),
        row!(e "env.COUNT > 2" => b(true)),
        // ---- truthiness ----
        row!(e "!0" => b(true)),
        row!(e "!-0" => b(true)),
        row!(e "!NaN" => b(true)),
        row!(e "!''" => b(true)),
        row!(e "!null" => b(true)),
        row!(e "!false" => b(true)),
        row!(e "!'0'" => b(false)),
        row!(e "!'false'" => b(false)),
        row!(e "!0.0001" => b(false)),
        row!(e "!fromJSON('[]')" => b(false)),
        row!(e "!fromJSON('{}')" => b(false)),
        row!(e "!!'x'" => b(true)),
        // ---- operators, precedence, short-circuit values ----
        row!(e "1 == 1 && 2 == 3" => b(false)),
        row!(e "true || false && false" => b(true)),
        row!(e "(true || false) && false" => b(false)),
        row!(e "!true == false" => b(true)),
        row!(e "1 < 2 == true" => b(true)),
        row!(e "1 != 2 && 3 >= 3 && 4 <= 4 && 5 > 4" => b(true)),
        row!(e "'' || 'x'" => s("x")),
        row!(e "'a' || 'b'" => s("a")),
        row!(e "null && 1" => NULL),
        row!(e "1 && 'b'" => s("b")),
        row!(e "0 || null" => NULL),
        row!(e "false || 0" => n(0.0)),
        row!(e "env.EMPTY || 'default'" => s("default")),
        row!(e "false && fromJSON('not json')" => b(false)),
        row!(e "true || fromJSON('not json')" => b(true)),
        row!(e "1 == 1 == true" => b(true)),
        // ---- properties, indexes, contexts ----
        row!(e "github.ref" => s("refs/heads/main")),
        row!(e "github.REF" => s("refs/heads/main")),
        row!(e "GitHub.Ref" => s("refs/heads/main")),
        row!(e "github['ref']" => s("refs/heads/main")),
        row!(e "github['EVENT']['Labels'][0]['NAME']" => s("bug")),
        row!(e "github.event.missing" => NULL),
        row!(e "github.event.missing.deeper" => NULL),
        row!(e "github.ref.length" => NULL),
        row!(e "github.run_number" => n(42.0)),
        row!(e "matrix.os" => s("ubuntu-latest")),
        row!(e "steps.build-step.outputs.sha" => s("def")),
        row!(e "needs.build.outputs.sha" => s("abc123")),
        row!(e "github.event.labels[0].name" => s("bug")),
        row!(e "github.event.labels[1.7].name" => s("help wanted")),
        row!(e "github.event.labels['1'].name" => s("help wanted")),
        row!(e "github.event.labels[-1]" => NULL),
        row!(e "github.event.labels[5]" => NULL),
        row!(e "github.event.labels[0 + 1]" => err "unexpected character `+`" @ 22..23),
        row!(e "fromJSON('{\"a\":{\"b\":1}}').a.b" => n(1.0)),
        row!(e "fromJSON('[10,20]')[1]" => n(20.0)),
        row!(e "fromJSON('{\"1\":\"one\"}')[1]" => s("one")),
        row!(e "vars.missing" => NULL),
        row!(e "github.event.forced" => b(false)),
        row!(e "fromJSON(needs.build.outputs.matrix).x[1]" => n(2.0)),
        row!(e "nosuchctx.foo" => fails "unrecognized named-value: `nosuchctx`"),
        row!(e "github.true" => NULL),
        row!(e "'abc'.length" => NULL),
        // ---- object filters ----
        row!(e "github.event.labels.*.name" => j(r#"["bug", "help wanted"]"#)),
        row!(e "objects.fruits.*.name" => j(r#"["apple", "orange", "pear"]"#)),
        row!(e "objects.fruits[*].name" => j(r#"["apple", "orange", "pear"]"#)),
        row!(e "objects.fruits.*.missing" => j("[]")),
        row!(e "objects.mixed.*.name" => j(r#"["a", null]"#)),
        row!(e "objects.vegetables.*.colors" => j(r#"[["green", "white"], ["purple"]]"#)),
        row!(e "objects.vegetables.*.colors[0]" => j(r#"["green", "purple"]"#)),
        row!(e "objects.nested.*.*" => j("[1, 2, 3, 4]")),
        row!(e "github.nothing.*" => j("[]")),
        row!(e "objects.fruits.*" => j(r#"[{"name":"apple","quantity":1},{"name":"orange","quantity":2},{"name":"pear","quantity":1}]"#)),
        row!(e "contains(github.event.labels.*.name, 'BUG')" => b(true)),
        row!(e "join(objects.fruits.*.name, ', ')" => s("apple, orange, pear")),
        row!(e "toJSON(objects.fruits.*.quantity)" => s("[\n  1,\n  2,\n  1\n]")),
        // ---- contains ----
        row!(e "contains('Hello world', 'llo')" => b(true)),
        row!(e "contains('Hello', 'LLO')" => b(true)),
        row!(e "contains('abc', '')" => b(true)),
        row!(e "contains('abc', 'x')" => b(false)),
        row!(e "contains(fromJSON('[\"push\", \"pull_request\"]'), 'PUSH')" => b(true)),
        row!(e "contains(fromJSON('[\"push\", \"pull_request\"]'), github.event_name)" => b(true)),
        row!(e "contains(fromJSON('[1, 2]'), '2')" => b(true)),
        row!(e "contains(fromJSON('[1, 2]'), 3)" => b(false)),
        row!(e "contains(123, 2)" => b(true)),
        row!(e "contains(true, 'RU')" => b(true)),
        row!(e "contains(null, '')" => b(true)),
        row!(e "contains(github.ref, 'refs/heads')" => b(true)),
        row!(e "contains(github.event.head_commit.message, '[skip ci]')" => b(true)),
        row!(e "contains('a')" => err "too few arguments to `contains`: expected 2, found 1" @ 0..13),
        // ---- startsWith / endsWith ----
        row!(e "startsWith('Hello world', 'he')" => b(true)),
        row!(e "startsWith('abc', 'abcd')" => b(false)),
        row!(e "startsWith(github.ref, 'refs/heads/')" => b(true)),
        row!(e "startsWith(fromJSON('[1]'), 'A')" => b(false)),
        row!(e "startsWith(12, 1)" => b(true)),
        row!(e "endsWith('Hello world', 'LD')" => b(true)),
        row!(e "endsWith(12.5, '.5')" => b(true)),
        row!(e "endsWith('abc', 'b')" => b(false)),
        row!(e "STARTSWITH('ab', 'A')" => b(true)),
        // ---- format ----
        row!(e "format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')" => s("Hello Mona the Octocat")),
        row!(e "format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')" => s("{Hello Mona the Octocat!}")),
        row!(e "format('{0}{0}', 'a')" => s("aa")),
        row!(e "format('{{0}}', 1)" => s("{0}")),
        row!(e "format('no args')" => s("no args")),
        row!(e "format('{0}', null)" => s("")),
        row!(e "format('{0}|{1}', true, 1.50)" => s("true|1.5")),
        row!(e "format('{0}', fromJSON('[1]'))" => s("Array")),
        row!(e "format('{0}', github)" => s("Object")),
        row!(e "format('{1}', 'a')" => fails "references argument 1 but only 1 was supplied"),
        row!(e "format('{0}')" => fails "references argument 0 but only 0 were supplied"),
        row!(e "format('{', 1)" => fails "invalid format string"),
        row!(e "format('}', 1)" => fails "unmatched `}`"),
        row!(e "format('{x}', 1)" => fails "invalid format string"),
        row!(e "format('{0:x}', 1)" => fails "invalid format string"),
        row!(e "format()" => err "too few arguments to `format`: expected at least 1, found 0" @ 0..8),
        // ---- number to string ----
        row!(e "format('{0}', 3.0)" => s("3")),
        row!(e "format('{0}', -0)" => s("0")),
        row!(e "format('{0}', 2147483648)" => s("2147483648")),
        row!(e "format('{0}', 123456789012345)" => s("123456789012345")),
        row!(e "format('{0}', 1e15)" => s("1E+15")),
        row!(e "format('{0}', 0.0001)" => s("0.0001")),
        row!(e "format('{0}', 0.00001)" => s("1E-05")),
        row!(e "format('{0}', 1.23456789012345678)" => s("1.23456789012346")),
        row!(e "format('{0}', -1.5)" => s("-1.5")),
        row!(e "format('{0}', 0xff)" => s("255")),
        row!(e "format('{0}', NaN)" => s("NaN")),
        // ---- join ----
        row!(e "join(fromJSON('[\"a\", \"b\"]'))" => s("a,b")),
        row!(e "join(fromJSON('[\"a\", \"b\"]'), ' - ')" => s("a - b")),
        row!(e "join('abc')" => s("abc")),
        row!(e "join('abc', '-')" => s("abc")),
        row!(e "join(fromJSON('[]'))" => s("")),
        row!(e "join(fromJSON('[1, true, null]'), '|')" => s("1|true|")),
        row!(e "join(github.event.labels.*.name)" => s("bug,help wanted")),
        row!(e "join(1, 2, 3)" => err "too many arguments to `join`: expected 1 to 2, found 3" @ 0..13),
        // ---- toJSON / fromJSON ----
        row!(e "toJSON(1)" => s("1")),
        row!(e "toJSON(1.5)" => s("1.5")),
        row!(e "toJSON('a\"b')" => s("\"a\\\"b\"")),
        row!(e "toJSON(null)" => s("null")),
        row!(e "toJSON(true)" => s("true")),
        row!(e "toJSON(fromJSON('[]'))" => s("[]")),
        row!(e "toJSON(fromJSON('{}'))" => s("{}")),
        row!(e "toJSON(fromJSON('{\"a\":[1,2],\"b\":{}}'))" => s("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}")),
        row!(e "toJSON(matrix)" => s("{\n  \"os\": \"ubuntu-latest\",\n  \"node\": 20\n}")),
        row!(e "toJson(fromJson('{\"z\":1,\"a\":2}'))" => s("{\n  \"z\": 1,\n  \"a\": 2\n}")),
        row!(e "toJSON(fromJSON(toJSON(github.event))) == toJSON(github.event)" => b(true)),
        row!(e "fromJSON('{\"a\":1}').a" => n(1.0)),
        row!(e "fromJSON('true')" => b(true)),
        row!(e "fromJSON('\"x\"')" => s("x")),
        row!(e "fromJSON('3')" => n(3.0)),
        row!(e "fromJSON(' null ')" => NULL),
        row!(e "fromJSON(env.COUNT) == 3" => b(true)),
        row!(e "fromJSON('')" => fails "invalid JSON passed to `fromJSON`"),
        row!(e "fromJSON('{bad')" => fails "invalid JSON passed to `fromJSON`"),
        row!(e "FROMJSON('[1]')[0]" => n(1.0)),
        // ---- case() ----
        row!(e "case(true, 'a', 'b')" => s("a")),
        row!(e "case(false, 'a', 'b')" => s("b")),
        row!(e "case(false, 'a', true, 'b', 'c')" => s("b")),
        row!(e "case(false, 'a', false, 'b', 'c')" => s("c")),
        row!(e "case(0, 'a', 'x', 'b', 'c')" => s("b")),
        row!(e "case(github.ref == 'refs/heads/main', 'production', 'development')" => s("production")),
        row!(e "case(1 == 1, 'x', fromJSON('bad'))" => s("x")),
        row!(e "case(false, fromJSON('bad'), 'd')" => s("d")),
        row!(e "case(true, 'a')" => err "too few arguments to `case`: expected at least 3, found 2" @ 0..15),
        row!(e "case(true, 'a', false, 'b')" => err "odd number of arguments" @ 0..27),
        // ---- status functions (status = success) ----
        row!(e "success()" => b(true)),
        row!(e "failure()" => b(false)),
        row!(e "cancelled()" => b(false)),
        row!(e "always()" => b(true)),
        row!(e "Always()" => b(true)),
        row!(e "success(1)" => err "too many arguments to `success`: expected 0, found 1" @ 0..10),
        row!(e "hashFiles('**/*.lock')" => fails "no workspace directory"),
        // ---- syntax errors with spans ----
        row!(e "" => err "unexpected end of expression, expected an expression" @ 0..0),
        row!(e "   " => err "unexpected end of expression, expected an expression" @ 3..3),
        row!(e "1 +" => err "unexpected character `+`" @ 2..3),
        row!(e "(1" => err "unexpected end of expression, expected `)`" @ 2..2),
        row!(e "1)" => err "unexpected token `)`, expected an operator or the end of the expression" @ 1..2),
        row!(e "a b" => err "unexpected token `b`" @ 2..3),
        row!(e "()" => err "unexpected token `)`, expected an expression" @ 1..2),
        row!(e "1 == == 2" => err "unexpected token `==`, expected an expression" @ 5..7),
        row!(e "a ==" => err "unexpected end of expression, expected an expression" @ 4..4),
        row!(e "!" => err "unexpected end of expression, expected an expression" @ 1..1),
        row!(e "'abc" => err "unterminated string literal" @ 0..4),
        row!(e "x == 'it''s" => err "unterminated string literal" @ 5..11),
        row!(e "\"x\"" => err "strings must use single quotes" @ 0..1),
        row!(e "a = b" => err "did you mean `==`?" @ 2..3),
        row!(e "a & b" => err "did you mean `&&`?" @ 2..3),
        row!(e "a | b" => err "did you mean `||`?" @ 2..3),
        row!(e "foo(1)" => err "unknown function `foo`" @ 0..3),
        row!(e "github.foo(1)" => err "unexpected token `(`" @ 10..11),
        row!(e "github." => err "unexpected end of expression, expected a property name or `*` after `.`" @ 7..7),
        row!(e "github.(" => err "unexpected token `(`" @ 7..8),
        row!(e "github[1" => err "unexpected end of expression, expected `]`" @ 8..8),
        row!(e "0x" => err "invalid number `0x`" @ 0..2),
        row!(e "1.2.3" => err "invalid number `1.2.3`" @ 0..5),
        row!(e "12abc" => err "invalid number `12abc`" @ 0..5),
        row!(e "-a" => err "unexpected character `-`" @ 0..1),
        row!(e "contains('a',)" => err "unexpected token `)`, expected an expression" @ 13..14),
        row!(e "contains('a' 'b')" => err "unexpected token `'b'`, expected `,` or `)`" @ 13..16),
        row!(e "'ä' == 1 +" => err "unexpected character `+`" @ 9..10),
        row!(e "toJSON(1, 2)" => err "too many arguments to `toJSON`: expected 1, found 2" @ 0..12),
        row!(e "a.b ? c : d" => err "unexpected character `?`" @ 4..5),
        // ---- depth limit ----
        row!(e deep_parens => err "nested too deeply"),
        row!(e deep_not => err "nested too deeply"),
        row!(e deep_props => err "nested too deeply"),
        row!(e long_or => err "nested too deeply"),
        row!(e ok_parens => n(1.0)),
        // ---- templates ----
        row!(t "plain text" => "plain text"),
        row!(t "" => ""),
        row!(t "a ${{ 1 }} b" => "a 1 b"),
        row!(t "${{ github.ref }}" => "refs/heads/main"),
        row!(t "${{ format('{{0}}', 1) }}" => "{0}"),
        row!(t "${{ 'a}}b' }}" => "a}}b"),
        row!(t "${{ null }}" => ""),
        row!(t "${{ true }}-${{ false }}" => "true-false"),
        row!(t "${{ fromJSON('[1]') }}" => "Array"),
        row!(t "x ${{ github.event }}" => "x Object"),
        row!(t "$ {{ not an expression }}" => "$ {{ not an expression }}"),
        row!(t "${{ matrix.os }}/${{ matrix.node }}" => "ubuntu-latest/20"),
        row!(t "}} stray ${{ 1 }}}" => "}} stray 1}"),
        row!(t "${{ 1" => err "unterminated `${{`" @ 0..3),
        row!(t "abc ${{ 'x }}" => err "unterminated `${{`" @ 4..7),
        row!(t "ok ${{ }}" => err "empty `${{ }}`" @ 3..9),
        row!(t "a ${{ 1 + }}" => err "unexpected character `+`" @ 8..9),
        row!(t "${{ 1 }} ${{ foo() }}" => err "unknown function `foo`" @ 13..16),
        // ---- conditions (implicit success()) ----
        row!(c "success()", Success => true),
        row!(c "success()", Failure => false),
        row!(c "${{ always() }}", Failure => true),
        row!(c "always()", Cancelled => true),
        row!(c "github.ref == 'refs/heads/main'", Success => true),
        row!(c "github.ref == 'refs/heads/main'", Failure => false),
        row!(c "${{ github.ref == 'refs/heads/main' }}", Success => true),
        row!(c "failure()", Failure => true),
        row!(c "failure() && github.ref == 'refs/heads/main'", Failure => true),
        row!(c "failure() && github.ref == 'refs/heads/dev'", Failure => false),
        row!(c "!cancelled()", Cancelled => false),
        row!(c "!cancelled()", Failure => true),
        row!(c "cancelled()", Cancelled => true),
        row!(c "${{ false }}", Success => false),
        row!(c "  ${{ false }}  ", Success => false),
        row!(c "${{ false }} && true", Success => true),
        row!(c "${{ false }} && true", Failure => false),
        row!(c "${{ always() }} text", Failure => true),
        row!(c "", Success => true),
        row!(c "", Failure => false),
        row!(c "0", Success => false),
        row!(c "'false'", Success => true),
        row!(c "fromJSON('bad')", Failure => false),
        row!(c "steps.build-step.outcome == 'success'", Success => true),
        row!(c "${{ 1 == }}", Success => err "unexpected end of expression" @ 9..9),
        row!(c "github.ref == ", Success => err "unexpected end of expression" @ 14..14),
        row!(k "github.ref == 'x'" => "expression"),
        row!(k "${{ github.ref == 'x' }}" => "expression"),
        row!(k " ${{ true }} " => "expression"),
        row!(k "${{ github.ref }} == 'x'" => "template"),
        row!(k "${{ a }}${{ b }}" => "template"),
        row!(k "   " => "empty"),
    ]
}

fn describe(result: &Result<Value, String>) -> String {
    match result {
        Ok(v) => format!("value {v:?}"),
        Err(e) => format!("error {e}"),
    }
}

fn check(row: &Row) -> Result<(), String> {
    let ctx = sample_context();
    match &row.kind {
        Kind::Expr => {
            let parsed = parse(&row.src);
            match (&row.expect, parsed) {
                (Expect::Syntax(msg, start, end), Err(e)) => check_syntax(&e, msg, *start, *end),
                (Expect::SyntaxAnySpan(msg), Err(e)) => check_message(&e.message, msg),
                (_, Err(e)) => Err(format!("unexpected syntax error: {e}")),
                (Expect::Value(want), Ok(expr)) => match evaluate(&expr, &ctx) {
                    Ok(got) if same(&got, want) => Ok(()),
                    other => {
                        Err(format!("expected {want:?}, got {}", describe(&other.map_err(|e| e.to_string()))))
                    }
                },
                (Expect::Eval(msg), Ok(expr)) => match evaluate(&expr, &ctx) {
                    Err(e) => check_message(&e.message, msg),
                    Ok(v) => Err(format!("expected evaluation error, got {v:?}")),
                },
                (_, Ok(expr)) => Err(format!("expected a syntax error, parsed {expr:?}")),
            }
        }
        Kind::Template => match (&row.expect, parse_template(&row.src)) {
            (Expect::Syntax(msg, start, end), Err(e)) => check_syntax(&e, msg, *start, *end),
            (_, Err(e)) => Err(format!("unexpected syntax error: {e}")),
            (Expect::Text(want), Ok(t)) => match interpolate(&t, &ctx) {
                Ok(got) if got == *want => Ok(()),
                other => Err(format!("expected {want:?}, got {other:?}")),
            },
            (_, Ok(t)) => Err(format!("expected a syntax error, parsed {t:?}")),
        },
        Kind::Cond(status) => {
            let ctx = ctx.with_status(*status);
            match (&row.expect, parse_condition(&row.src)) {
                (Expect::Syntax(msg, start, end), Err(e)) => check_syntax(&e, msg, *start, *end),
                (_, Err(e)) => Err(format!("unexpected syntax error: {e}")),
                (Expect::Bool(want), Ok(cond)) => match evaluate_condition(&cond, &ctx) {
                    Ok(got) if got == *want => Ok(()),
                    other => Err(format!("expected {want}, got {other:?}")),
                },
                (_, Ok(c)) => Err(format!("expected a syntax error, parsed {c:?}")),
            }
        }
        Kind::Classify => {
            let got = match parse_condition(&row.src) {
                Ok(Condition::Empty) => "empty",
                Ok(Condition::Expression(_)) => "expression",
                Ok(Condition::AlwaysTrueTemplate(_)) => "template",
                Err(_) => "error",
            };
            match &row.expect {
                Expect::Text(want) if got == *want => Ok(()),
                _ => Err(format!("classified as {got}")),
            }
        }
    }
}

fn check_message(got: &str, want: &str) -> Result<(), String> {
    if got.contains(want) { Ok(()) } else { Err(format!("message {got:?} does not contain {want:?}")) }
}

fn check_syntax(e: &ExprError, msg: &str, start: usize, end: usize) -> Result<(), String> {
    check_message(&e.message, msg)?;
    if e.span == Span::new(start, end) {
        Ok(())
    } else {
        Err(format!(
            "error {:?} has span {}..{}, expected {start}..{end}",
            e.message, e.span.start, e.span.end
        ))
    }
}

#[test]
fn table_cases() {
    let rows = rows();
    assert!(rows.len() >= 150, "only {} rows", rows.len());
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|row| check(row).err().map(|why| format!("line {}: `{}`: {why}", row.line, row.src)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn table_has_enough_rows() {
    let count = rows().len();
    println!("expression table rows: {count}");
    assert!(count >= 150);
}
