//! `pipe.toml`: the per-environment gate policy and the platform map, read with the same
//! `file:line:col` diagnostics as pipelines (the file is checked by `pipe validate` too).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::Error;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::source::{Source, Span};

use super::{branch, duration, span};

/// The file name, at the repository root.
pub const FILE_NAME: &str = "pipe.toml";

const TOP_KEYS: &[&str] = &["environments", "platforms", "actions", "variables"];
const ACTIONS_KEYS: &[&str] = &["source", "disable_builtin", "node"];
const ENV_KEYS: &[&str] = &["approval", "reviewers", "requires", "wait_timer", "branches", "secrets_file"];

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// By name as written in pipe.toml; look up with [`Config::environment`] (case-insensitive,
    /// as GitHub's environment names are).
    pub environments: BTreeMap<String, EnvironmentPolicy>,
    /// `runs-on` label → image (or `host`), in file order.
    pub platforms: Vec<(String, String)>,
    /// `[actions]`: where remote actions come from, which built-in actions are turned off.
    pub actions: ActionsConfig,
    /// CI/CD variables a GitLab pipeline sees, like a project's settings (`CI_REGISTRY_IMAGE`,
    /// `CI_DEFAULT_BRANCH`, ...), in file order.
    pub variables: Vec<(String, String)>,
    /// The file it was read from; `None` for a config built in code.
    pub source: Option<Source>,
}

/// `[actions]` of pipe.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionsConfig {
    /// Git URL template of `owner/repo` actions (`{owner}`, `{repo}`).
    pub source: Option<String>,
    /// Built-in actions (`actions/cache`, `docker/*`, or `*` for all) that run as the real,
    /// fetched action instead.
    pub disable_builtin: Vec<String>,
    /// The node binary JavaScript actions run with (default: `node` on PATH).
    pub node: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentPolicy {
    /// Whether a human must approve (default true: continuous delivery is the safe default).
    pub approval: bool,
    /// Who may approve or reject; `None` = anyone.
    pub reviewers: Option<Vec<String>>,
    /// Jobs a deploy here must have passed (must be in the deploy job's transitive `needs`).
    pub requires: Vec<String>,
    /// Delay between the approval and the start of the job.
    pub wait_timer: Option<Duration>,
    /// Branch filter patterns allowed to deploy here; `None` = any ref.
    pub branches: Option<Vec<String>>,
    /// Secrets only jobs of this environment see; `~` expanded, relative to the repository root.
    pub secrets_file: Option<PathBuf>,
    /// Where the environment is declared in pipe.toml (its name).
    pub span: Span,
}

impl Default for EnvironmentPolicy {
    fn default() -> Self {
        EnvironmentPolicy {
            approval: true,
            reviewers: None,
            requires: Vec::new(),
            wait_timer: None,
            branches: None,
            secrets_file: None,
            span: Span::default_at_start(),
        }
    }
}

impl Config {
    /// The policy of an environment: the exact name first, else ignoring ASCII case.
    pub fn environment(&self, name: &str) -> Option<&EnvironmentPolicy> {
        self.environments
            .get(name)
            .or_else(|| self.environments.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
    }
}

/// Read `dir/pipe.toml`. `None` when there is no such file; otherwise the config (what could be
/// read of it, even with errors) and its diagnostics. Only I/O failures are `Err`.
pub fn load(dir: &Path) -> Result<(Option<Config>, Vec<Diagnostic>), Error> {
    let path = dir.join(FILE_NAME);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, Vec::new())),
        Err(source) => return Err(Error::Read { path, source }),
    };
    let display = path.strip_prefix(".").unwrap_or(&path).display().to_string();
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    match String::from_utf8(bytes) {
        Ok(text) => {
            let (config, diags) = parse(Source::new(display, text), dir, home.as_deref());
            Ok((Some(config), diags))
        }
        Err(e) => {
            let d = Diagnostic::error(
                "toml-syntax",
                Span::default_at_start(),
                format!("not a text file: invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
            );
            Ok((Some(Config { source: Some(Source::new(display, "")), ..Config::default() }), vec![d]))
        }
    }
}

/// Parse the text of a pipe.toml. `dir` anchors relative `secrets_file` paths; `home` expands `~`.
pub fn parse(source: Source, dir: &Path, home: Option<&Path>) -> (Config, Vec<Diagnostic>) {
    let mut reader =
        Reader { source: &source, dir, home, diags: Vec::new(), actions: ActionsConfig::default() };
    let (environments, platforms, variables) = reader.document();
    let actions = std::mem::take(&mut reader.actions);
    let mut diags = reader.diags;
    // What the parser recovered on a line with a syntax error is a guess: say only the syntax
    // error there.
    let broken: Vec<u32> =
        diags.iter().filter(|d| d.rule == "toml-syntax").map(|d| d.span.start.line).collect();
    diags.retain(|d| d.rule == "toml-syntax" || !broken.contains(&d.span.start.line));
    diags.sort_by(|a, b| a.span.start.cmp(&b.span.start).then(a.rule.cmp(b.rule)));
    (Config { environments, platforms, actions, variables, source: Some(source) }, diags)
}

type Value<'i> = Spanned<DeValue<'i>>;

struct Reader<'a> {
    source: &'a Source,
    dir: &'a Path,
    home: Option<&'a Path>,
    diags: Vec<Diagnostic>,
    actions: ActionsConfig,
}

impl Reader<'_> {
    fn span(&self, bytes: Range<usize>) -> Span {
        span::span_of(self.source, bytes)
    }

    #[allow(clippy::type_complexity)]
    fn document(
        &mut self,
    ) -> (BTreeMap<String, EnvironmentPolicy>, Vec<(String, String)>, Vec<(String, String)>) {
        let text = self.source.text.as_str();
        // Recoverable: report every syntax error and still check what could be read.
        let (doc, errors) = DeTable::parse_recoverable(text);
        for e in errors {
            let at = e.span().map_or(Span::default_at_start(), |r| self.span(r));
            let message = e.message().trim().to_string();
            self.diags.push(Diagnostic::error("toml-syntax", at, format!("invalid TOML: {message}")));
        }
        let mut environments = BTreeMap::new();
        let mut platforms = Vec::new();
        let mut variables = Vec::new();
        for (key, value) in sorted(doc.get_ref()) {
            match key.get_ref().as_ref() {
                "environments" => environments = self.environments(value),
                "platforms" => platforms = self.platforms(value),
                "actions" => self.actions = self.actions(value),
                "variables" => variables = self.variables(value),
                other => self.unknown_key(key, other, TOP_KEYS, "pipe.toml"),
            }
        }
        (environments, platforms, variables)
    }

    fn environments(&mut self, value: &Value<'_>) -> BTreeMap<String, EnvironmentPolicy> {
        let mut out: BTreeMap<String, EnvironmentPolicy> = BTreeMap::new();
        let Some(table) = self.table(value, "a table of environments, like [environments.production]") else {
            return out;
        };
        for (key, value) in sorted(table) {
            let name = key.get_ref().to_string();
            let span = self.span(key.span());
            if name.trim().is_empty() {
                self.diags.push(Diagnostic::error(
                    "invalid-value",
                    span,
                    "an environment name cannot be empty",
                ));
                continue;
            }
            if let Some(first) = out.keys().find(|k| k.eq_ignore_ascii_case(&name)) {
                let d = Diagnostic::error(
                    "duplicate-environment",
                    span,
                    format!("environment `{name}` is declared twice (also as `{first}`)"),
                )
                .with_help("environment names ignore case, as on GitHub");
                self.diags.push(d);
                continue;
            }
            let policy = self.environment(&name, value, span);
            out.insert(name, policy);
        }
        out
    }

    fn environment(&mut self, name: &str, value: &Value<'_>, span: Span) -> EnvironmentPolicy {
        let mut policy = EnvironmentPolicy { span, ..EnvironmentPolicy::default() };
        let Some(table) = self.table(value, &format!("a table of settings, like [environments.{name}]"))
        else {
            return policy;
        };
        for (key, value) in sorted(table) {
            match key.get_ref().as_ref() {
                "approval" => match value.get_ref().as_bool() {
                    Some(b) => policy.approval = b,
                    None => self.wrong_type(value, "a boolean (true or false)"),
                },
                "reviewers" => policy.reviewers = self.strings(value),
                "requires" => policy.requires = self.strings(value).unwrap_or_default(),
                "wait_timer" => policy.wait_timer = self.duration(value),
                "branches" => policy.branches = self.branches(value),
                "secrets_file" => policy.secrets_file = self.path(value),
                other => self.unknown_key(key, other, ENV_KEYS, &format!("environment `{name}`")),
            }
        }
        if policy.approval && policy.reviewers.as_ref().is_some_and(Vec::is_empty) {
            let at = sorted(table)
                .find(|(k, _)| k.get_ref() == "reviewers")
                .map_or(span, |(_, v)| self.span(v.span()));
            self.diags.push(
                Diagnostic::warning(
                    "reviewers-empty",
                    at,
                    format!("nobody may approve deploys to `{name}`: `reviewers` is empty"),
                )
                .with_help(
                    "name who may approve, remove `reviewers` to let anyone, or set `approval = false`",
                ),
            );
        }
        policy
    }

    fn platforms(&mut self, value: &Value<'_>) -> Vec<(String, String)> {
        let Some(table) = self.table(value, "a table of `label = \"image\"` lines") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in sorted(table) {
            match value.get_ref().as_str() {
                Some("") => self.diags.push(
                    Diagnostic::error(
                        "invalid-value",
                        self.span(value.span()),
                        format!("platform `{}` maps to an empty image", key.get_ref()),
                    )
                    .with_help("name an image, like \"ubuntu:24.04\", or \"host\""),
                ),
                Some(image) => out.push((key.get_ref().to_string(), image.to_string())),
                None => self.wrong_type(value, "a string (an image, or \"host\")"),
            }
        }
        out
    }

    fn actions(&mut self, value: &Value<'_>) -> ActionsConfig {
        let mut out = ActionsConfig::default();
        let Some(table) = self.table(value, "a table, like [actions]") else { return out };
        for (key, value) in sorted(table) {
            match key.get_ref().as_ref() {
                "source" => match value.get_ref().as_str() {
                    Some(s) if !s.trim().is_empty() => out.source = Some(s.trim().to_string()),
                    Some(_) => self.diags.push(Diagnostic::error(
                        "invalid-value",
                        self.span(value.span()),
                        "an empty source",
                    )),
                    None => {
                        self.wrong_type(value, "a git URL, like \"https://git.example.com/{owner}/{repo}\"")
                    }
                },
                "disable_builtin" => out.disable_builtin = self.strings(value).unwrap_or_default(),
                "node" => out.node = self.path(value),
                other => self.unknown_key(key, other, ACTIONS_KEYS, "[actions]"),
            }
        }
        out
    }

    fn variables(&mut self, value: &Value<'_>) -> Vec<(String, String)> {
        let Some(table) = self.table(value, "a table of `NAME = \"value\"` lines") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in sorted(table) {
            match value.get_ref().as_str() {
                Some(v) => out.push((key.get_ref().to_string(), v.to_string())),
                None => self.wrong_type(value, "a string"),
            }
        }
        out
    }

    fn table<'v, 'i>(&mut self, value: &'v Value<'i>, expected: &str) -> Option<&'v DeTable<'i>> {
        let table = value.get_ref().as_table();
        if table.is_none() {
            self.wrong_type(value, expected);
        }
        table
    }

    /// An array of non-empty strings; each wrong item is reported, the rest kept.
    fn strings(&mut self, value: &Value<'_>) -> Option<Vec<String>> {
        let Some(items) = value.get_ref().as_array() else {
            self.wrong_type(value, "an array of strings, like [\"a\", \"b\"]");
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref().as_str() {
                Some(s) if s.trim().is_empty() => {
                    self.diags.push(Diagnostic::error(
                        "invalid-value",
                        self.span(item.span()),
                        "an empty name",
                    ));
                }
                Some(s) => out.push(s.to_string()),
                None => self.wrong_type(item, "a string"),
            }
        }
        Some(out)
    }

    fn duration(&mut self, value: &Value<'_>) -> Option<Duration> {
        let Some(text) = value.get_ref().as_str() else {
            let d = Diagnostic::error(
                "wrong-type",
                self.span(value.span()),
                format!("expected a duration string, found {}", value.get_ref().type_str()),
            )
            .with_help("write the unit too, like \"30s\", \"5m\" or \"1h30m\"");
            self.diags.push(d);
            return None;
        };
        match duration::parse(text) {
            Ok(d) => Some(d),
            Err(message) => {
                self.diags.push(Diagnostic::error("invalid-duration", self.span(value.span()), message));
                None
            }
        }
    }

    fn branches(&mut self, value: &Value<'_>) -> Option<Vec<String>> {
        let patterns = self.strings(value)?;
        if let Some(items) = value.get_ref().as_array() {
            for item in items.iter() {
                if let Some(Err(why)) =
                    item.get_ref().as_str().filter(|s| !s.trim().is_empty()).map(branch::compile)
                {
                    self.diags.push(Diagnostic::error("invalid-value", self.span(item.span()), why));
                }
            }
        }
        Some(patterns)
    }

    /// A path with `~/` expanded and a relative path anchored at the repository root.
    fn path(&mut self, value: &Value<'_>) -> Option<PathBuf> {
        let Some(text) = value.get_ref().as_str() else {
            self.wrong_type(value, "a string (a file path)");
            return None;
        };
        let span = self.span(value.span());
        if text.trim().is_empty() {
            self.diags.push(Diagnostic::error("invalid-value", span, "an empty path"));
            return None;
        }
        let expanded = match text.strip_prefix('~') {
            None => PathBuf::from(text),
            Some(rest) if rest.is_empty() || rest.starts_with('/') => match self.home {
                Some(home) => home.join(rest.trim_start_matches('/')),
                None => {
                    self.diags.push(Diagnostic::error(
                        "invalid-value",
                        span,
                        format!("cannot expand `~` in `{text}`: HOME is not set"),
                    ));
                    return None;
                }
            },
            Some(_) => {
                let d = Diagnostic::error("invalid-value", span, format!("cannot expand `{text}`"))
                    .with_help("only `~/` (your home folder) is expanded; write the full path");
                self.diags.push(d);
                return None;
            }
        };
        Some(if expanded.is_absolute() { expanded } else { self.dir.join(expanded) })
    }

    fn wrong_type(&mut self, value: &Value<'_>, expected: &str) {
        let found = value.get_ref().type_str();
        self.diags.push(Diagnostic::error(
            "wrong-type",
            self.span(value.span()),
            format!("expected {expected}, found {found}"),
        ));
    }

    fn unknown_key(
        &mut self,
        key: &Spanned<toml::de::DeString<'_>>,
        name: &str,
        known: &[&str],
        owner: &str,
    ) {
        let mut d = Diagnostic::error(
            "unknown-key",
            self.span(key.span()),
            format!("unknown key `{name}` in {owner}"),
        );
        d = match did_you_mean(name, known.iter().copied()) {
            Some(m) => d.with_help(format!("did you mean `{m}`?")),
            None => d.with_help(format!("known keys: {}", known.join(", "))),
        };
        self.diags.push(d);
    }
}

/// Entries in file order (the map itself is sorted by key).
fn sorted<'t, 'i>(
    table: &'t DeTable<'i>,
) -> impl Iterator<Item = (&'t Spanned<toml::de::DeString<'i>>, &'t Value<'i>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (Config, Vec<Diagnostic>) {
        parse(Source::new("pipe.toml", text), Path::new("/repo"), Some(Path::new("/home/me")))
    }

    /// Each diagnostic as `line:col rule: message`.
    fn problems(text: &str) -> Vec<String> {
        parse_text(text)
            .1
            .iter()
            .map(|d| format!("{}:{} {}: {}", d.span.start.line, d.span.start.col, d.rule, d.message))
            .collect()
    }

    const SPEC_EXAMPLE: &str = r#"[environments.staging]
approval = false                  # deploys without a human (the default is true)
[environments.production]
reviewers = ["alice", "bob"]      # who may approve; absent = anyone
requires = ["test", "scan"]       # gate jobs a deploy here must have passed
wait_timer = "30s"                # delay after approval before the job starts
branches = ["main"]               # refs allowed to deploy here
secrets_file = "~/.config/pipe/production.env"   # secrets only jobs of this environment see
[platforms]
ubuntu-latest = "ubuntu:24.04"
self-hosted = "host"
"#;

    #[test]
    fn the_spec_example_reads_cleanly() {
        let (config, diags) = parse_text(SPEC_EXAMPLE);
        assert!(diags.is_empty(), "{diags:?}");
        let staging = &config.environments["staging"];
        assert!(!staging.approval);
        assert_eq!((staging.span.start.line, staging.span.start.col), (1, 15));
        let prod = config.environment("Production").unwrap();
        assert!(prod.approval);
        assert_eq!(prod.reviewers, Some(vec!["alice".to_string(), "bob".to_string()]));
        assert_eq!(prod.requires, ["test", "scan"]);
        assert_eq!(prod.wait_timer, Some(Duration::from_secs(30)));
        assert_eq!(prod.branches, Some(vec!["main".to_string()]));
        assert_eq!(prod.secrets_file, Some(PathBuf::from("/home/me/.config/pipe/production.env")));
        assert_eq!(
            config.platforms,
            [
                ("ubuntu-latest".to_string(), "ubuntu:24.04".to_string()),
                ("self-hosted".into(), "host".into())
            ]
        );
        assert!(config.source.is_some());
    }

    #[test]
    fn defaults_and_relative_paths() {
        let (config, diags) = parse_text("[environments.qa]\nsecrets_file = \"secrets/qa.env\"\n");
        assert!(diags.is_empty(), "{diags:?}");
        let qa = &config.environments["qa"];
        assert!(qa.approval && qa.reviewers.is_none() && qa.branches.is_none() && qa.wait_timer.is_none());
        assert_eq!(qa.secrets_file, Some(PathBuf::from("/repo/secrets/qa.env")));
        assert!(parse_text("").1.is_empty());
    }

    #[test]
    fn unknown_keys_with_suggestions() {
        let text = "[environments.production]\naproval = false\nwait-timer = \"5m\"\nfoo = 1\n[platfroms]\n";
        assert_eq!(
            problems(text),
            [
                "2:1 unknown-key: unknown key `aproval` in environment `production`",
                "3:1 unknown-key: unknown key `wait-timer` in environment `production`",
                "4:1 unknown-key: unknown key `foo` in environment `production`",
                "5:2 unknown-key: unknown key `platfroms` in pipe.toml",
            ]
        );
        let (_, diags) = parse_text(text);
        let helps: Vec<_> = diags.iter().map(|d| d.help.clone().unwrap_or_default()).collect();
        assert_eq!(helps[0], "did you mean `approval`?");
        assert_eq!(helps[1], "did you mean `wait_timer`?");
        assert!(helps[2].starts_with("known keys: approval, reviewers"));
        assert_eq!(helps[3], "did you mean `platforms`?");
    }

    #[test]
    fn wrong_types() {
        let text = "environments = 3\n";
        assert_eq!(
            problems(text),
            [
                "1:16 wrong-type: expected a table of environments, like [environments.production], found integer"
            ]
        );
        let text = "[environments.production]\napproval = \"no\"\nreviewers = \"alice\"\nrequires = [\"test\", 2]\n\
                    wait_timer = 30\nsecrets_file = false\n[platforms]\nubuntu-latest = 24\n";
        assert_eq!(
            problems(text),
            [
                "2:12 wrong-type: expected a boolean (true or false), found string",
                "3:13 wrong-type: expected an array of strings, like [\"a\", \"b\"], found string",
                "4:21 wrong-type: expected a string, found integer",
                "5:14 wrong-type: expected a duration string, found integer",
                "6:16 wrong-type: expected a string (a file path), found boolean",
                "8:17 wrong-type: expected a string (an image, or \"host\"), found integer",
            ]
        );
        assert_eq!(
            problems("[environments]\nstaging = 1\n"),
            ["2:11 wrong-type: expected a table of settings, like [environments.staging], found integer"]
        );
    }

    #[test]
    fn bad_durations() {
        for (value, col) in [("\"-5s\"", 14), ("\"soon\"", 14), ("\"5\"", 14), ("\"\"", 14)] {
            let text = format!("[environments.production]\nwait_timer = {value}\n");
            let p = problems(&text);
            assert_eq!(p.len(), 1, "{value}: {p:?}");
            assert!(p[0].starts_with(&format!("2:{col} invalid-duration: ")), "{value}: {p:?}");
        }
        let (c, d) = parse_text("[environments.production]\nwait_timer = \"1h30m\"\n");
        assert!(d.is_empty());
        assert_eq!(c.environments["production"].wait_timer, Some(Duration::from_secs(5400)));
    }

    #[test]
    fn invalid_toml_is_reported_at_its_position() {
        let p = problems("[environments.production]\napproval = \n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("2:") && p[0].contains(" toml-syntax: invalid TOML"), "{p:?}");
        let p = problems("[environments.production]\napproval = true\napproval = false\n");
        assert!(p.iter().any(|l| l.starts_with("3:1 toml-syntax")), "{p:?}");
        let p = problems("[environments.production\n");
        assert!(p.iter().all(|l| l.starts_with("1:") && l.contains("toml-syntax")) && !p.is_empty(), "{p:?}");
    }

    #[test]
    fn values_that_cannot_work() {
        let text = "[environments.production]\nbranches = [\"main\", \"[oops\", \"\"]\nreviewers = []\n\
                    secrets_file = \"~bob/x.env\"\n[environments.Production]\n[platforms]\nx = \"\"\n";
        assert_eq!(
            problems(text),
            [
                "2:21 invalid-value: `[` is never closed in `[oops`",
                "2:30 invalid-value: an empty name",
                "3:13 reviewers-empty: nobody may approve deploys to `production`: `reviewers` is empty",
                "4:16 invalid-value: cannot expand `~bob/x.env`",
                "5:15 duplicate-environment: environment `Production` is declared twice (also as `production`)",
                "7:5 invalid-value: platform `x` maps to an empty image",
            ]
        );
    }

    #[test]
    fn no_home_means_no_tilde() {
        let text = "[environments.p]\nsecrets_file = \"~/p.env\"\n";
        let (_, d) = parse(Source::new("pipe.toml", text), Path::new("."), None);
        assert_eq!(d[0].message, "cannot expand `~` in `~/p.env`: HOME is not set");
    }

    #[test]
    fn load_reads_the_file_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (config, diags) = load(dir.path()).unwrap();
        assert!(config.is_none() && diags.is_empty());
        std::fs::write(dir.path().join(FILE_NAME), "[environments.staging]\napproval = false\n").unwrap();
        let (config, diags) = load(dir.path()).unwrap();
        assert!(diags.is_empty());
        assert!(!config.unwrap().environments["staging"].approval);
        std::fs::write(dir.path().join(FILE_NAME), b"\xff\xfe").unwrap();
        let (config, diags) = load(dir.path()).unwrap();
        assert!(config.is_some());
        assert_eq!(diags[0].rule, "toml-syntax");
    }
}
