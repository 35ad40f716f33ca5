//! YAML text → a tree of nodes that keep their spans. Built on saphyr-parser's event stream so
//! that we, not the parser, decide what is an error: duplicate keys and `<<` merge keys (both
//! rejected by GitHub) are reported with their positions, and parsing goes on where it can.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diagnostic::Diagnostic;
use crate::source::{Pos, Span};

mod fast;
mod halves;

/// Deeper nesting than this is reported instead of built: no workflow needs it and it keeps the
/// tree (and every recursive pass over it) bounded.
const MAX_DEPTH: usize = 64;
/// Aliases are expanded by copying; this bounds the copies ("billion laughs").
const MAX_ALIAS_NODES: usize = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    /// A local tag as written (`!reference`), kept for front ends that give tags a meaning.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Style {
    #[default]
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// What a scalar means under YAML 1.2's core schema (the one GitHub uses: `on` and `yes` stay strings).
#[derive(Debug, Clone, PartialEq)]
pub enum Typed<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Node {
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of any scalar that is not null (numbers and booleans included, as written).
    pub fn as_str(&self) -> Option<&str> {
        match self.typed()? {
            Typed::Null => None,
            _ => self.as_scalar().map(|s| s.text.as_str()),
        }
    }

    pub fn typed(&self) -> Option<Typed<'_>> {
        self.as_scalar().map(Scalar::typed)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.typed(), Some(Typed::Null))
    }

    /// Value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.is_key(key)).map(|(_, v)| v)
    }

    /// Whether this node is the mapping key `key` (text compared first: it is cheap).
    fn is_key(&self, key: &str) -> bool {
        self.as_scalar().is_some_and(|s| s.text == key) && !self.is_null()
    }

    /// The key node of `key` in a mapping (for pointing at the key rather than the value).
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.is_key(key)).map(|(k, _)| k)
    }

    /// A short description of the node's kind for messages ("a string", "a mapping", ...).
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a sequence",
            Value::Scalar(s) => match s.typed() {
                Typed::Null => "null",
                Typed::Bool(_) => "a boolean",
                Typed::Int(_) | Typed::Float(_) => "a number",
                Typed::Str(_) => "a string",
            },
        }
    }

    /// The file position of the character `index` of this scalar's value, so that a diagnostic
    /// about part of a string (an expression inside `run:`) points at the exact column.
    pub fn pos_in_scalar(&self, source: &crate::source::Source, index: usize) -> Pos {
        match self.as_scalar() {
            Some(s) => pos_in_scalar(&s.text, self.span, s.style, source, index),
            None => self.span.start,
        }
    }

    /// A span covering characters `range` of this scalar's value.
    pub fn span_in_scalar(&self, source: &crate::source::Source, start: usize, end: usize) -> Span {
        Span::new(self.pos_in_scalar(source, start), self.pos_in_scalar(source, end)).in_file(self.span.file)
    }
}

/// The file position of character `index` of a scalar's value `text` found at `span`.
pub fn pos_in_scalar(
    text: &str,
    span: Span,
    style: Style,
    source: &crate::source::Source,
    index: usize,
) -> Pos {
    let start = span.start;
    let (line, col) = (start.line as usize, start.col as usize);
    // Lines and the column after the last line break among the first `index` characters.
    let (mut line_delta, mut col_in_line) = (0, 0);
    for c in text.chars().take(index) {
        if c == '\n' {
            line_delta += 1;
            col_in_line = 0;
        } else {
            col_in_line += 1;
        }
    }
    // `source` is the main file: a scalar of an included file keeps its own lines and columns
    // (rendering finds the characters from them; the offset is only an estimate).
    let source_at = |line: usize, col: usize| {
        if span.file == crate::source::FileId::MAIN {
            source.pos_at(line, col)
        } else {
            Pos::new(start.offset as usize + index, line, col)
        }
    };
    match style {
        Style::Literal | Style::Folded => source_at(line + line_delta, col + col_in_line),
        Style::SingleQuoted | Style::DoubleQuoted if line_delta == 0 => {
            source_at(line, col + 1 + col_in_line)
        }
        _ if line_delta == 0 => source_at(line, col + col_in_line),
        // Multi-line flow scalars fold their line breaks: the exact column is lost, keep the line.
        _ => source_at(line + line_delta, 1),
    }
}

impl Scalar {
    pub fn typed(&self) -> Typed<'_> {
        let t = self.text.as_str();
        if self.style != Style::Plain {
            return Typed::Str(t);
        }
        // Most plain scalars are words (`ubuntu-latest`, `actions/checkout@v4`): only these first
        // characters can start a null, a boolean or a number.
        if let Some(&first) = t.as_bytes().first()
            && !matches!(
                first,
                b'0'..=b'9'
                    | b'-'
                    | b'+'
                    | b'.'
                    | b'~'
                    | b'n'
                    | b'N'
                    | b't'
                    | b'T'
                    | b'f'
                    | b'F'
                    | b'e'
                    | b'E'
            )
        {
            return Typed::Str(t);
        }
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return Typed::Null,
            "true" | "True" | "TRUE" => return Typed::Bool(true),
            "false" | "False" | "FALSE" => return Typed::Bool(false),
            // A number starts with a digit, a sign or a dot, never with a letter.
            _ if first_is_letter(t) => return Typed::Str(t),
            _ => {}
        }
        if let Some(i) = parse_int(t) {
            return Typed::Int(i);
        }
        if let Some(f) = parse_float(t) {
            return Typed::Float(f);
        }
        Typed::Str(t)
    }
}

fn first_is_letter(t: &str) -> bool {
    t.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
}

fn parse_int(t: &str) -> Option<i64> {
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn parse_float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let ok = !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if ok { t.parse().ok() } else { None }
}

fn pos(m: &saphyr_parser::Marker) -> Pos {
    Pos::new(m.index(), m.line(), m.col() + 1)
}

fn span(s: &saphyr_parser::Span) -> Span {
    Span::new(pos(&s.start), pos(&s.end))
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Span,
        anchor: usize,
        tag: Option<String>,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// Scalar keys past the first [`LINEAR_KEYS`] entries, with the position of their first
        /// entry: a duplicate is found in constant time (a `jobs:` mapping may hold 100,000 keys).
        seen: HashMap<Scalar, usize>,
        start: Span,
        anchor: usize,
        tag: Option<String>,
    },
}

/// Which YAML features a pipeline format allows beyond plain YAML 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// GitHub Actions: merge keys (`<<`) are errors.
    #[default]
    Github,
    /// GitLab CI: merge keys are kept as `<<` entries for the front end to apply.
    Gitlab,
}

fn tag_text(tag: Option<&saphyr_parser::Tag>) -> Option<String> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix))
}

/// Parse `text` into a node tree. Problems (syntax, duplicate keys, merge keys, nesting) become
/// diagnostics; the tree is `None` only when nothing usable was parsed.
pub fn parse(text: &str) -> (Option<Node>, Vec<Diagnostic>) {
    parse_with(text, Dialect::Github)
}

/// [`parse`] for a given dialect.
pub fn parse_with(text: &str, dialect: Dialect) -> (Option<Node>, Vec<Diagnostic>) {
    if text.len() >= halves::MIN_BYTES
        && let Some(parsed) = halves::parse(text, dialect)
    {
        return parsed;
    }
    let part = parse_part(text, dialect, 0);
    (part.root, part.diags)
}

/// What one reading of a text gave: the tree, the problems, and whether anchors or aliases
/// were used (a text read in parts must not: an alias may name an anchor of another part).
struct Part {
    root: Option<Node>,
    diags: Vec<Diagnostic>,
    anchored: bool,
}

/// Read `text` whose nodes start `depth` levels deep in the whole file (the nesting limit
/// counts from the file's root).
fn parse_part(text: &str, dialect: Dialect, depth: usize) -> Part {
    fast_part(text, dialect, depth).unwrap_or_else(|| saphyr_part(text, dialect, depth))
}

/// [`parse_part`] by the fast path, when the text is of the form it knows.
fn fast_part(text: &str, dialect: Dialect, depth: usize) -> Option<Part> {
    let mut builder = Builder { dialect, depth, ..Builder::default() };
    fast::read(text, &mut builder)?;
    let root = builder.root.take();
    Some(builder.finish(root))
}

/// [`parse_part`] by saphyr-parser, which reads all of YAML and says what is wrong.
fn saphyr_part(text: &str, dialect: Dialect, depth: usize) -> Part {
    let mut builder = Builder { dialect, depth, ..Builder::default() };
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, sp) = match event {
            Ok(ev) => ev,
            Err(err) => {
                let at = Span::point(pos(err.marker()));
                builder.diags.push(Diagnostic::error(
                    "yaml-syntax",
                    at,
                    format!("invalid YAML: {}", err.info()),
                ));
                // The tree so far is incomplete: validating it would report noise.
                return builder.finish(None);
            }
        };
        if let Event::DocumentStart(_) = event {
            documents += 1;
            if documents == 2 {
                builder.diags.push(Diagnostic::error(
                    "yaml-syntax",
                    span(&sp),
                    "a workflow file holds one YAML document; this one starts a second",
                ));
            }
        }
        if documents >= 2 {
            continue;
        }
        if !builder.event(event, span(&sp)) {
            return builder.finish(None);
        }
    }
    let root = builder.root.take();
    builder.finish(root)
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    diags: Vec<Diagnostic>,
    alias_nodes: usize,
    dialect: Dialect,
    /// Levels above the text's root (a part of a file read on its own).
    depth: usize,
    /// An alias was met (anchors are in `anchors`).
    aliased: bool,
}

impl Builder {
    /// The reading's result, with `root` as its tree.
    fn finish(self, root: Option<Node>) -> Part {
        Part { root, anchored: self.aliased || !self.anchors.is_empty(), diags: self.diags }
    }

    /// Feed one event; false stops the build (a problem that makes the rest meaningless).
    fn event(&mut self, event: Event<'_>, sp: Span) -> bool {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let node = Node {
                    value: Value::Scalar(Scalar { text: text.into_owned(), style }),
                    span: sp,
                    tag: tag_text(tag.as_deref()),
                };
                self.remember(anchor, &node);
                self.complete(node);
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if self.depth + self.stack.len() >= MAX_DEPTH {
                    self.diags.push(Diagnostic::error(
                        "yaml-syntax",
                        sp,
                        format!("nesting deeper than {MAX_DEPTH} levels is not supported"),
                    ));
                    return false;
                }
                let tag = tag_text(tag.as_deref());
                self.stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq { items: Vec::new(), start: sp, anchor, tag }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        seen: HashMap::new(),
                        start: sp,
                        anchor,
                        tag,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq { items, start, anchor, tag }) => {
                        let node = Node {
                            value: Value::Seq(fitted(items)),
                            span: Span::new(start.start, sp.end),
                            tag,
                        };
                        self.remember(anchor, &node);
                        node
                    }
                    Some(Frame::Map { entries, start, anchor, tag, .. }) => {
                        let node = Node {
                            value: Value::Map(fitted(entries)),
                            span: Span::new(start.start, sp.end),
                            tag,
                        };
                        self.remember(anchor, &node);
                        node
                    }
                    None => return true,
                };
                self.complete(node);
            }
            Event::Alias(id) => {
                self.aliased = true;
                let Some(mut node) = self.anchors.get(&id).cloned() else {
                    self.diags.push(Diagnostic::error("yaml-syntax", sp, "alias to an unknown anchor"));
                    return false;
                };
                self.alias_nodes += count_nodes(&node);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    self.diags.push(Diagnostic::error(
                        "yaml-syntax",
                        sp,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                    ));
                    return false;
                }
                node.span = sp;
                self.complete(node);
            }
            _ => {}
        }
        true
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn complete(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, seen, .. }) => match key.take() {
                None => {
                    if let Some(s) = node.as_scalar() {
                        if s.text == "<<" && s.style == Style::Plain && self.dialect == Dialect::Github {
                            self.diags.push(
                                Diagnostic::error("merge-key", node.span, "GitHub does not support YAML merge keys (`<<`)")
                                    .with_help("anchors and aliases work; repeat the keys or use an alias for the whole value"),
                            );
                        } else if let Some(first) = first_entry(entries, seen, s) {
                            self.diags.push(
                                Diagnostic::error(
                                    "duplicate-key",
                                    node.span,
                                    format!("duplicate key `{}`", s.text),
                                )
                                .with_help(format!("first defined at line {}", first.span.start.line)),
                            );
                        }
                        if entries.len() >= LINEAR_KEYS {
                            seen.entry(s.clone()).or_insert(entries.len());
                        }
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

/// A finished mapping's or sequence's items without the spare room of their growth: a tree
/// stays alive through every check, and most of its mappings hold one to three entries (a
/// 100,000-job file kept a quarter of its memory in spare room).
fn fitted<T>(mut items: Vec<T>) -> Vec<T> {
    if items.capacity() - items.len() > 1 {
        items.shrink_to_fit();
    }
    items
}

/// Up to this many entries, a mapping's keys are compared one by one (no copy, no hash):
/// workflow mappings are small. Bigger ones index their keys from here on.
const LINEAR_KEYS: usize = 16;

/// The key of the first entry whose key is `s`, when there is one.
fn first_entry<'a>(
    entries: &'a [(Node, Node)],
    seen: &HashMap<Scalar, usize>,
    s: &Scalar,
) -> Option<&'a Node> {
    let small = &entries[..entries.len().min(LINEAR_KEYS)];
    if let Some((k, _)) = small.iter().find(|(k, _)| k.as_scalar() == Some(s)) {
        return Some(k);
    }
    seen.get(s).map(|&at| &entries[at].0)
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Scalar(_) => 0,
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|(k, v)| count_nodes(k) + count_nodes(v)).sum(),
    }
}

/// Every YAML file of the repository: the fixtures of every rule, the examples, the workflows, the
/// fuzz corpus's seeds (for the tests that compare readings).
#[cfg(test)]
fn repository_yaml_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests/fixtures", "pipelines", ".github", "examples", "fuzz"] {
        yaml_files_below(&root.join(dir), &mut files);
    }
    files
}

#[cfg(test)]
fn yaml_files_below(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files_below(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<(String, u32, u32)> {
        parse(text).1.iter().map(|d| (d.rule.to_string(), d.span.start.line, d.span.start.col)).collect()
    }

    #[test]
    fn spans_are_one_based() {
        let (root, diags) = parse("on: push\njobs:\n  a: {x: 1}\n");
        assert!(diags.is_empty());
        let root = root.unwrap();
        let a = root.get("jobs").unwrap().get("a").unwrap();
        assert_eq!((a.span.start.line, a.span.start.col), (3, 6));
        assert_eq!(a.get("x").unwrap().typed(), Some(Typed::Int(1)));
    }

    #[test]
    fn core_schema_scalars() {
        let (root, _) = parse("a: yes\nb: on\nc: true\nd: ~\ne:\nf: '1'\ng: 1.5\nh: 0x1f\n");
        let root = root.unwrap();
        assert_eq!(root.get("a").unwrap().typed(), Some(Typed::Str("yes")));
        assert_eq!(root.get("b").unwrap().typed(), Some(Typed::Str("on")));
        assert_eq!(root.get("c").unwrap().typed(), Some(Typed::Bool(true)));
        assert!(root.get("d").unwrap().is_null());
        assert!(root.get("e").unwrap().is_null());
        assert_eq!(root.get("f").unwrap().typed(), Some(Typed::Str("1")));
        assert_eq!(root.get("g").unwrap().typed(), Some(Typed::Float(1.5)));
        assert_eq!(root.get("h").unwrap().typed(), Some(Typed::Int(31)));
        // Every first character that can start a number, a boolean or null still gets parsed.
        let (root, _) = parse("a: -3\nb: +.inf\nc: .5\nd: 1e3\ne: e5\nf: False\ng: NULL\nh: nope\ni: tru\n");
        let root = root.unwrap();
        let typed = |k: &str| root.get(k).unwrap().typed();
        assert_eq!(typed("a"), Some(Typed::Int(-3)));
        assert_eq!(typed("b"), Some(Typed::Float(f64::INFINITY)));
        assert_eq!(typed("c"), Some(Typed::Float(0.5)));
        assert_eq!(typed("d"), Some(Typed::Float(1000.0)));
        assert_eq!(typed("e"), Some(Typed::Str("e5")));
        assert_eq!(typed("f"), Some(Typed::Bool(false)));
        assert_eq!(typed("g"), Some(Typed::Null));
        assert_eq!(typed("h"), Some(Typed::Str("nope")));
        assert_eq!(typed("i"), Some(Typed::Str("tru")));
    }

    #[test]
    fn duplicate_and_merge_keys_are_reported() {
        assert_eq!(rules("a: 1\nb: 2\na: 3\n"), vec![("duplicate-key".into(), 3, 1)]);
        assert_eq!(rules("x: &x {a: 1}\ny:\n  <<: *x\n"), vec![("merge-key".into(), 3, 3)]);
        // Small mappings compare keys one by one, big ones index them: both find every duplicate.
        let mut big: String = (0..40).map(|i| format!("k{i}: 1\n")).collect();
        big.push_str("k3: 2\nk30: 2\nk30: 3\n");
        let found: Vec<_> = rules(&big).into_iter().map(|(r, line, _)| (r, line)).collect();
        let dup = |line| ("duplicate-key".to_string(), line);
        assert_eq!(found, vec![dup(41), dup(42), dup(43)]);
    }

    #[test]
    fn syntax_errors_and_limits_never_panic() {
        assert_eq!(rules("a: [1, 2\n")[0].0, "yaml-syntax");
        let deep = "[".repeat(10_000);
        assert_eq!(rules(&deep)[0].0, "yaml-syntax");
        assert_eq!(rules("a: *nope\n")[0].0, "yaml-syntax");
        let laughs = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
        assert_eq!(rules(laughs)[0].0, "yaml-syntax");
        assert!(parse("").0.is_none());
    }

    #[test]
    fn positions_inside_block_scalars() {
        let text = "run: |\n  echo a\n  echo ${{ x }}\n";
        let source = crate::source::Source::new("f", text);
        let (root, _) = parse(text);
        let run = root.unwrap().get("run").unwrap().clone();
        let idx = run.as_str().unwrap().find("${{").unwrap();
        let p = run.pos_in_scalar(&source, idx);
        assert_eq!((p.line, p.col), (3, 8));
    }
}
