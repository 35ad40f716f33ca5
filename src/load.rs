//! YAML → [`Pipeline`]. Parsing and the shape checks report problems; the model is then built
//! leniently from whatever is usable, so that the semantic checks can still run and report more.

use serde_json::Value as Json;

use crate::diagnostic::Diagnostic;
use crate::format;
use crate::model::{
    AxisValues, CallSecrets, Concurrency, Container, Env, Environment, Flag, Input, Job, Matrix, MatrixAxes,
    MatrixRow, Number, Pairs, Pipeline, RunDefaults, Step, Strategy, Text, Trigger,
};
use crate::source::{Source, Span};
use crate::yaml::{self, Node, Typed, Value};

/// The result of loading one file.
pub struct Loaded {
    pub pipeline: Option<Pipeline>,
    /// The node tree, for checks that need the raw YAML.
    pub root: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn load(source: &Source) -> Loaded {
    let (root, mut diagnostics) = yaml::parse(&source.text);
    let Some(root) = root else {
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic::error(
                "missing-key",
                Span::default_at_start(),
                "the file is empty: a workflow needs `on` and `jobs`",
            ));
        }
        return Loaded { pipeline: None, root: None, diagnostics };
    };
    if root.as_map().is_none() {
        diagnostics.push(Diagnostic::error(
            "wrong-type",
            root.span,
            format!("a workflow is a mapping with `on` and `jobs`, found {}", root.kind_name()),
        ));
        return Loaded { pipeline: None, root: Some(root), diagnostics };
    }
    format::check(&root, &format::WORKFLOW, root.span, &mut diagnostics);
    let pipeline = pipeline(&root);
    Loaded { pipeline: Some(pipeline), root: Some(root), diagnostics }
}

fn text(node: &Node) -> Option<Text> {
    let s = node.as_scalar()?;
    if node.is_null() {
        return None;
    }
    Some(Text { value: s.text.clone(), span: node.span, style: s.style })
}

fn text_at(node: &Node, key: &str) -> Option<Text> {
    node.get(key).and_then(text)
}

fn texts(node: Option<&Node>) -> Option<Vec<Text>> {
    let node = node?;
    Some(match node.as_seq() {
        Some(items) => items.iter().filter_map(text).collect(),
        None => text(node).into_iter().collect(),
    })
}

fn pairs(node: Option<&Node>) -> Pairs {
    node.and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let value = text(v).unwrap_or(Text {
                        value: String::new(),
                        span: v.span,
                        style: yaml::Style::Plain,
                    });
                    Some((text(k)?, value))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn env(node: Option<&Node>) -> Env {
    match node {
        None => Env::None,
        Some(n) if n.as_map().is_some() => Env::Pairs(pairs(Some(n))),
        Some(n) => text(n).map_or(Env::None, Env::Expr),
    }
}

fn flag(node: Option<&Node>) -> Option<Flag> {
    let node = node?;
    match node.typed()? {
        Typed::Bool(b) => Some(Flag::Value(b, node.span)),
        Typed::Str(_) => text(node).map(Flag::Expr),
        _ => None,
    }
}

fn number(node: Option<&Node>) -> Option<Number> {
    let node = node?;
    match node.typed()? {
        Typed::Int(i) => Some(Number::Value(i as f64, node.span)),
        Typed::Float(f) => Some(Number::Value(f, node.span)),
        Typed::Str(_) => text(node).map(Number::Expr),
        _ => None,
    }
}

/// A YAML node as JSON (matrix values, input defaults).
pub fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Scalar(_) => match node.typed() {
            Some(Typed::Null) | None => Json::Null,
            Some(Typed::Bool(b)) => Json::Bool(b),
            Some(Typed::Int(i)) => Json::from(i),
            Some(Typed::Float(f)) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
            Some(Typed::Str(s)) => Json::String(s.to_string()),
        },
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), to_json(v)))).collect(),
        ),
    }
}

fn pipeline(root: &Node) -> Pipeline {
    Pipeline {
        name: text_at(root, "name"),
        run_name: text_at(root, "run-name"),
        on: root.get("on").map(triggers).unwrap_or_default(),
        env: env(root.get("env")),
        defaults: run_defaults(root.get("defaults")),
        concurrency: root.get("concurrency").and_then(concurrency),
        jobs: root.get("jobs").and_then(Node::as_map).map(jobs).unwrap_or_default(),
        not_run: None,
        excluded: Vec::new(),
        included: Vec::new(),
    }
}

/// Below this many jobs a second thread costs more than it saves.
const JOBS_PER_THREAD: usize = 5_000;

/// The jobs of a `jobs:` mapping, in file order. A big one (100,000 entries is valid input) is
/// built on two cores: the second half on another thread while this one builds the first.
fn jobs(entries: &[(Node, Node)]) -> Vec<Job> {
    let build = |part: &[(Node, Node)]| {
        let mut jobs = Vec::with_capacity(part.len());
        jobs.extend(part.iter().filter_map(|(k, v)| job(k, v)));
        jobs
    };
    if entries.len() < 2 * JOBS_PER_THREAD || crate::cores::available() < 2 {
        return build(entries);
    }
    let (head, tail) = entries.split_at(entries.len() / 2);
    std::thread::scope(|scope| {
        let second = scope.spawn(|| build(tail));
        let mut jobs = Vec::with_capacity(entries.len());
        jobs.extend(head.iter().filter_map(|(k, v)| job(k, v)));
        jobs.extend(second.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        jobs
    })
}

fn triggers(node: &Node) -> Vec<Trigger> {
    let simple = |n: &Node| text(n).map(|event| Trigger { event, ..Trigger::default() });
    match &node.value {
        Value::Scalar(_) => simple(node).into_iter().collect(),
        Value::Seq(items) => items.iter().filter_map(simple).collect(),
        Value::Map(entries) => entries
            .iter()
            .filter_map(|(k, v)| {
                let mut t = simple(k)?;
                t.branches = texts(v.get("branches"));
                t.branches_ignore = texts(v.get("branches-ignore"));
                t.tags = texts(v.get("tags"));
                t.tags_ignore = texts(v.get("tags-ignore"));
                t.paths = texts(v.get("paths"));
                t.paths_ignore = texts(v.get("paths-ignore"));
                t.types = texts(v.get("types"));
                t.inputs = v
                    .get("inputs")
                    .and_then(Node::as_map)
                    .map(|m| m.iter().filter_map(|(k, v)| input(k, v)).collect())
                    .unwrap_or_default();
                Some(t)
            })
            .collect(),
    }
}

fn input(key: &Node, node: &Node) -> Option<Input> {
    Some(Input {
        name: text(key)?,
        description: node.get("description").and_then(Node::as_str).map(str::to_string),
        required: matches!(node.get("required").and_then(Node::typed), Some(Typed::Bool(true))),
        default: node.get("default").map(to_json),
        kind: node.get("type").and_then(Node::as_str).unwrap_or("string").to_string(),
        options: node
            .get("options")
            .and_then(Node::as_seq)
            .map(|s| s.iter().filter_map(|o| o.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
    })
}

fn run_defaults(node: Option<&Node>) -> RunDefaults {
    let run = node.and_then(|n| n.get("run"));
    RunDefaults {
        shell: run.and_then(|r| text_at(r, "shell")),
        working_directory: run.and_then(|r| text_at(r, "working-directory")),
    }
}

fn concurrency(node: &Node) -> Option<Concurrency> {
    match text(node) {
        Some(group) => Some(Concurrency { group, cancel_in_progress: None }),
        None => Some(Concurrency {
            group: text_at(node, "group")?,
            cancel_in_progress: flag(node.get("cancel-in-progress")),
        }),
    }
}

fn job(key: &Node, node: &Node) -> Option<Job> {
    let id = text(key)?;
    node.as_map()?;
    let runs_on = match node.get("runs-on") {
        Some(r) if r.as_map().is_some() => texts(r.get("labels")).unwrap_or_default(),
        other => texts(other).unwrap_or_default(),
    };
    let environment = node.get("environment").and_then(|e| match text(e) {
        Some(name) => Some(Box::new(Environment { name, url: None })),
        None => Some(Box::new(Environment { name: text_at(e, "name")?, url: text_at(e, "url") })),
    });
    Some(Job {
        id,
        name: text_at(node, "name"),
        runs_on,
        needs: texts(node.get("needs")).unwrap_or_default(),
        condition: text_at(node, "if"),
        environment,
        outputs: pairs(node.get("outputs")),
        env: env(node.get("env")),
        defaults: run_defaults(node.get("defaults")),
        strategy: node.get("strategy").map(|s| Box::new(strategy(s))),
        container: node.get("container").and_then(container).map(Box::new),
        services: node
            .get("services")
            .and_then(Node::as_map)
            .map(|m| m.iter().filter_map(|(k, v)| Some((text(k)?, container(v)?))).collect())
            .unwrap_or_default(),
        timeout_minutes: number(node.get("timeout-minutes")),
        continue_on_error: flag(node.get("continue-on-error")),
        concurrency: node.get("concurrency").and_then(concurrency).map(Box::new),
        steps: node
            .get("steps")
            .and_then(Node::as_seq)
            .map(|s| s.iter().map(step).collect())
            .unwrap_or_default(),
        uses: text_at(node, "uses"),
        with: pairs(node.get("with")),
        secrets: match node.get("secrets") {
            Some(s) if s.as_map().is_some() => CallSecrets::Pairs(pairs(Some(s))),
            Some(s) if s.as_str() == Some("inherit") => CallSecrets::Inherit(s.span),
            _ => CallSecrets::None,
        },
        manual: false,
        retry: 0,
        span: node.span,
    })
}

fn strategy(node: &Node) -> Strategy {
    Strategy {
        matrix: node.get("matrix").and_then(matrix),
        fail_fast: flag(node.get("fail-fast")),
        max_parallel: number(node.get("max-parallel")),
    }
}

fn matrix(node: &Node) -> Option<Matrix> {
    if let Some(t) = text(node) {
        return Some(Matrix::Expr(t));
    }
    let mut m = MatrixAxes::default();
    for (k, v) in node.as_map()? {
        let Some(name) = text(k) else { continue };
        match name.value.as_str() {
            "include" => match v.as_seq() {
                Some(rows) => m.include = rows.iter().filter_map(matrix_row).collect(),
                None => m.include_expr = text(v),
            },
            "exclude" => match v.as_seq() {
                Some(rows) => m.exclude = rows.iter().filter_map(matrix_row).collect(),
                None => m.exclude_expr = text(v),
            },
            _ => {
                let values = match v.as_seq() {
                    Some(items) => AxisValues::List(items.iter().map(to_json).collect()),
                    None => match text(v) {
                        Some(t) => AxisValues::Expr(t),
                        None => continue,
                    },
                };
                m.axes.push((name, values));
            }
        }
    }
    Some(Matrix::Axes(m))
}

fn matrix_row(node: &Node) -> Option<MatrixRow> {
    let entries = node.as_map()?.iter().filter_map(|(k, v)| Some((text(k)?, to_json(v)))).collect();
    Some(MatrixRow { entries, span: node.span })
}

fn container(node: &Node) -> Option<Container> {
    if let Some(image) = text(node) {
        return Some(Container {
            image,
            env: Vec::new(),
            ports: Vec::new(),
            volumes: Vec::new(),
            options: None,
            credentials: None,
            span: node.span,
        });
    }
    let strings = |key: &str| {
        node.get(key)
            .and_then(Node::as_seq)
            .map(|s| s.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    Some(Container {
        image: text_at(node, "image")?,
        env: pairs(node.get("env")),
        ports: strings("ports"),
        volumes: strings("volumes"),
        options: text_at(node, "options"),
        credentials: node
            .get("credentials")
            .and_then(|c| Some((text_at(c, "username")?, text_at(c, "password")?))),
        span: node.span,
    })
}

/// A step mapping (of a workflow, or of a composite action's `runs.steps`).
pub(crate) fn step(node: &Node) -> Step {
    Step {
        id: text_at(node, "id"),
        name: text_at(node, "name"),
        condition: text_at(node, "if"),
        run: text_at(node, "run"),
        uses: text_at(node, "uses"),
        with: pairs(node.get("with")),
        env: env(node.get("env")),
        shell: text_at(node, "shell"),
        working_directory: text_at(node, "working-directory"),
        continue_on_error: flag(node.get("continue-on-error")),
        timeout_minutes: number(node.get("timeout-minutes")),
        allowed_exit_codes: Vec::new(),
        span: node.span,
    }
}
