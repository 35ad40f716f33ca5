//! The pipeline as pipe understands it: GitHub Actions workflow syntax, typed, with the spans of
//! everything a user can get wrong. Built by `load` from a node tree that passed the shape checks.

use serde_json::Value as Json;

use crate::source::{Pos, Source, Span};
use crate::yaml::Style;

/// A string from the file, with where it is and how it was quoted (for exact positions inside it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Text {
    pub value: String,
    pub span: Span,
    pub style: Style,
}

impl Text {
    /// The file position of the character `index` of the value.
    pub fn pos(&self, source: &Source, index: usize) -> Pos {
        crate::yaml::pos_in_scalar(&self.value, self.span, self.style, source, index)
    }

    /// The file span of characters `start..end` of the value.
    pub fn span_of(&self, source: &Source, start: usize, end: usize) -> Span {
        Span::new(self.pos(source, start), self.pos(source, end)).in_file(self.span.file)
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// `name: value` pairs in file order (env, with, outputs).
pub type Pairs = Vec<(Text, Text)>;

#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    pub name: Option<Text>,
    pub run_name: Option<Text>,
    pub on: Vec<Trigger>,
    pub env: Env,
    pub defaults: RunDefaults,
    pub concurrency: Option<Concurrency>,
    pub jobs: Vec<Job>,
    /// Why no job runs for this event and ref, when the file itself says so (GitLab's
    /// `workflow: rules`); GitHub's `on:` filters are decided by the planner.
    pub not_run: Option<String>,
    /// Jobs the file leaves out of this pipeline (GitLab's `rules`, `only`/`except`), with why.
    pub excluded: Vec<(String, String)>,
    /// The files the pipeline file includes (GitLab's `include: local`), in the order of their
    /// `FileId`s: spans in them point there.
    pub included: Vec<Source>,
}

impl Pipeline {
    /// The path of the file a span of this pipeline is in (`main` for the pipeline file itself).
    pub fn path_of<'a>(&'a self, main: &'a str, span: Span) -> &'a str {
        span.file.included_index().and_then(|i| self.included.get(i)).map_or(main, |s| s.path.as_str())
    }

    /// The file a span of this pipeline is in: `main`, or one it includes.
    pub fn source_of<'a>(&'a self, main: &'a Source, span: Span) -> &'a Source {
        span.file.included_index().and_then(|i| self.included.get(i)).unwrap_or(main)
    }
}

/// An `env:` block: a mapping, or one expression that yields a mapping.
#[derive(Debug, Clone, Default)]
pub enum Env {
    #[default]
    None,
    Pairs(Pairs),
    Expr(Text),
}

impl Env {
    pub fn pairs(&self) -> &[(Text, Text)] {
        match self {
            Env::Pairs(p) => p,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Trigger {
    pub event: Text,
    pub branches: Option<Vec<Text>>,
    pub branches_ignore: Option<Vec<Text>>,
    pub tags: Option<Vec<Text>>,
    pub tags_ignore: Option<Vec<Text>>,
    pub paths: Option<Vec<Text>>,
    pub paths_ignore: Option<Vec<Text>>,
    pub types: Option<Vec<Text>>,
    pub inputs: Vec<Input>,
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: Text,
    pub description: Option<String>,
    pub required: bool,
    pub default: Option<Json>,
    pub kind: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RunDefaults {
    pub shell: Option<Text>,
    pub working_directory: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct Concurrency {
    pub group: Text,
    pub cancel_in_progress: Option<Flag>,
}

/// A boolean that may also be an expression evaluated at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Flag {
    Value(bool, Span),
    Expr(Text),
}

/// A number that may also be an expression evaluated at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Value(f64, Span),
    Expr(Text),
}

/// Few jobs have an environment, a strategy, a container or a concurrency group: those are boxed,
/// so that a job without them stays small (a pipeline may hold 100,000 jobs).
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Text,
    pub name: Option<Text>,
    /// Runner labels (a single label, a list, or a group's labels).
    pub runs_on: Vec<Text>,
    pub needs: Vec<Text>,
    pub condition: Option<Text>,
    pub environment: Option<Box<Environment>>,
    pub outputs: Pairs,
    pub env: Env,
    pub defaults: RunDefaults,
    pub strategy: Option<Box<Strategy>>,
    pub container: Option<Box<Container>>,
    pub services: Vec<(Text, Container)>,
    pub timeout_minutes: Option<Number>,
    pub continue_on_error: Option<Flag>,
    pub concurrency: Option<Box<Concurrency>>,
    pub steps: Vec<Step>,
    /// A reusable workflow call (`uses:` on the job), with its `with:` inputs and `secrets:`.
    pub uses: Option<Text>,
    pub with: Pairs,
    pub secrets: CallSecrets,
    /// Runs only when asked for (GitLab's `when: manual` without an environment): planned and
    /// reported as "manual: not run", never skipped silently.
    pub manual: bool,
    /// How often a failed leg is run again (GitLab's `retry`).
    pub retry: u32,
    /// The span of the job's mapping.
    pub span: Span,
}

/// `secrets:` of a job that calls a reusable workflow.
#[derive(Debug, Clone, Default)]
pub enum CallSecrets {
    #[default]
    None,
    /// `secrets: inherit`: every secret of the caller.
    Inherit(Span),
    Pairs(Pairs),
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: Text,
    pub url: Option<Text>,
}

#[derive(Debug, Clone, Default)]
pub struct Strategy {
    pub matrix: Option<Matrix>,
    pub fail_fast: Option<Flag>,
    pub max_parallel: Option<Number>,
}

#[derive(Debug, Clone)]
pub enum Matrix {
    /// `matrix: ${{ fromJSON(needs.x.outputs.m) }}`: known at run time only.
    Expr(Text),
    Axes(MatrixAxes),
}

#[derive(Debug, Clone, Default)]
pub struct MatrixAxes {
    /// Axis name and its values; an axis may itself be an expression (`os: ${{ fromJSON(..) }}`).
    pub axes: Vec<(Text, AxisValues)>,
    pub include: Vec<MatrixRow>,
    pub exclude: Vec<MatrixRow>,
    /// `include:`/`exclude:` given as an expression string.
    pub include_expr: Option<Text>,
    pub exclude_expr: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum AxisValues {
    List(Vec<Json>),
    Expr(Text),
}

/// One `include`/`exclude` entry: key → value, with the span of each key.
#[derive(Debug, Clone, Default)]
pub struct MatrixRow {
    pub entries: Vec<(Text, Json)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub image: Text,
    pub env: Pairs,
    pub ports: Vec<String>,
    pub volumes: Vec<String>,
    pub options: Option<Text>,
    pub credentials: Option<(Text, Text)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: Option<Text>,
    pub name: Option<Text>,
    pub condition: Option<Text>,
    pub run: Option<Text>,
    pub uses: Option<Text>,
    pub with: Pairs,
    pub env: Env,
    pub shell: Option<Text>,
    pub working_directory: Option<Text>,
    pub continue_on_error: Option<Flag>,
    pub timeout_minutes: Option<Number>,
    /// Exit codes that make a failure allowed (GitLab's `allow_failure: exit_codes`).
    pub allowed_exit_codes: Vec<i64>,
    pub span: Span,
}

impl Job {
    /// The display name used by GitHub: `name:` if given, else the id.
    pub fn display_name(&self) -> &str {
        self.name.as_ref().map_or(self.id.as_str(), |n| n.as_str())
    }

    pub fn needs_ids(&self) -> impl Iterator<Item = &str> {
        self.needs.iter().map(Text::as_str)
    }
}

impl Step {
    /// The display name GitHub shows: `name:`, else `Run <first line>` or `Run <action>`.
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.value.clone();
        }
        if let Some(u) = &self.uses {
            return format!("Run {}", u.value);
        }
        let first = self.run.as_ref().map_or("", |r| r.value.lines().next().unwrap_or(""));
        format!("Run {}", first.trim())
    }
}

impl Pipeline {
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id.value == id)
    }

    pub fn trigger(&self, event: &str) -> Option<&Trigger> {
        self.on.iter().find(|t| t.event.value == event)
    }
}
