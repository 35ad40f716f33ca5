//! GitHub's filter patterns for `branches`, `tags` and `paths` (the "Filter pattern cheat sheet" of
//! the workflow-syntax docs), translated to anchored regexes.
//!
//! - `*` any characters except `/`; `**` any characters including `/` (`**/` may also match no
//!   folder at all, so `**/README.md` matches `README.md`, as the cheat sheet lists);
//! - `?` zero or one of the preceding character, `+` one or more of it;
//! - `[...]` one character of a class or range; `\` escapes the next character;
//! - `!` first negates the pattern. A list is evaluated in order and the last matching pattern
//!   decides, so a name starts excluded: a list of negations only matches nothing (GitHub asks for
//!   at least one positive pattern next to negations).

use regex::Regex;

/// One compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    pub negated: bool,
    regex: Regex,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        let (negated, body) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let regex = Regex::new(&translate(body).map_err(|e| format!("pattern `{text}`: {}", e.message))?)
            .map_err(|e| format!("pattern `{text}`: {e}"))?;
        Ok(Pattern { text: text.to_string(), negated, regex })
    }

    /// Whether the pattern's body (ignoring `!`) matches the whole `name`.
    pub fn is_match(&self, name: &str) -> bool {
        self.regex.is_match(name)
    }
}

/// An ordered list of patterns: the last one that matches decides.
#[derive(Debug, Clone, Default)]
pub struct FilterList {
    patterns: Vec<Pattern>,
}

impl FilterList {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<FilterList, String> {
        let patterns = patterns.iter().map(|p| Pattern::new(p.as_ref())).collect::<Result<_, _>>()?;
        Ok(FilterList { patterns })
    }

    /// True when `name` is included by the list.
    pub fn matches(&self, name: &str) -> bool {
        let mut included = false;
        for p in &self.patterns {
            if p.is_match(name) {
                included = !p.negated;
            }
        }
        included
    }

    /// The patterns as written, for messages.
    pub fn texts(&self) -> Vec<&str> {
        self.patterns.iter().map(|p| p.text.as_str()).collect()
    }
}

/// Why a pattern cannot be read, and the index (in characters) of the character at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternError {
    pub message: String,
    pub at: usize,
}

fn error_at(at: usize, message: &str) -> PatternError {
    PatternError { message: message.to_string(), at }
}

/// Check a pattern as written (with its optional leading `!`) without compiling it: the error
/// names the character at fault by its index in `text`.
pub fn check_syntax(text: &str) -> Result<(), PatternError> {
    let offset = usize::from(text.starts_with('!'));
    let body = text.strip_prefix('!').unwrap_or(text);
    translate(body).map(|_| ()).map_err(|e| PatternError { at: e.at + offset, ..e })
}

/// The pattern body as an anchored regex. Each piece becomes one regex atom, so `?` and `+` can
/// apply to "the preceding character" whatever it was (a literal, a class, an escape).
fn translate(body: &str) -> Result<String, PatternError> {
    let chars: Vec<char> = body.chars().collect();
    let mut atoms: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                // `**/` may also match zero folders.
                if chars.get(i + 2) == Some(&'/') {
                    atoms.push("(?:.*/)?".into());
                    i += 3;
                } else {
                    atoms.push(".*".into());
                    i += 2;
                }
                continue;
            }
            '*' => atoms.push("[^/]*".into()),
            '?' | '+' => match atoms.pop() {
                Some(prev) => atoms.push(format!("(?:{prev}){c}")),
                // Nothing precedes: take it literally.
                None => atoms.push(regex::escape(&c.to_string())),
            },
            '\\' => {
                let next = chars.get(i + 1).ok_or_else(|| error_at(i, "a trailing `\\` escapes nothing"))?;
                atoms.push(regex::escape(&next.to_string()));
                i += 2;
                continue;
            }
            '[' => {
                let (class, end) = char_class(&chars, i)?;
                atoms.push(class);
                i = end;
                continue;
            }
            _ => atoms.push(regex::escape(&c.to_string())),
        }
        i += 1;
    }
    Ok(format!("^{}$", atoms.concat()))
}

/// The class starting at `chars[start] == '['`: its regex and the index after its `]`.
fn char_class(chars: &[char], start: usize) -> Result<(String, usize), PatternError> {
    let mut out = String::from("[");
    let mut i = start + 1;
    if matches!(chars.get(i), Some('!') | Some('^')) {
        out.push('^');
        i += 1;
    }
    let first = i;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ']' if i > first => return Ok((format!("{out}]"), i + 1)),
            '-' if i > first && chars.get(i + 1).is_some_and(|n| *n != ']') => {
                if chars[i - 1] > chars[i + 1] {
                    return Err(error_at(
                        i + 1,
                        &format!("the range `{}-{}` ends before it starts", chars[i - 1], chars[i + 1]),
                    ));
                }
                out.push('-');
            }
            '\\' => {
                i += 1;
                let next = chars.get(i).ok_or_else(|| error_at(i - 1, "a trailing `\\` escapes nothing"))?;
                out.push_str(&class_escape(*next));
            }
            _ => out.push_str(&class_escape(c)),
        }
        i += 1;
    }
    Err(error_at(start, "`[` without a closing `]`"))
}

/// A character made literal inside a regex class.
fn class_escape(c: char) -> String {
    if c.is_ascii_alphanumeric() { c.to_string() } else { format!("\\{c}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per case: patterns (in order), name, expected match.
    macro_rules! cases {
        ($($name:ident: [$($p:expr),+] $subject:expr => $want:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let list = FilterList::new(&[$($p),+]).expect("valid patterns");
                    assert_eq!(list.matches($subject), $want, "{:?} on {:?}", list.texts(), $subject);
                }
            )+
        };
    }

    // Patterns to match branches and tags (cheat sheet).
    cases! {
        star_feature_mine: ["feature/*"] "feature/my-branch" => true;
        star_feature_yours: ["feature/*"] "feature/your-branch" => true;
        star_stops_at_slash: ["feature/*"] "feature/beta-a/my-branch" => false;
        star_needs_prefix: ["feature/*"] "features/x" => false;
        double_star_deep: ["feature/**"] "feature/beta-a/my-branch" => true;
        double_star_shallow: ["feature/**"] "feature/your-branch" => true;
        double_star_deeper: ["feature/**"] "feature/mona/the/octocat" => true;
        exact_main: ["main"] "main" => true;
        exact_releases: ["releases/mona-the-octocat"] "releases/mona-the-octocat" => true;
        exact_is_whole_name: ["main"] "main2" => false;
        exact_is_whole_name_prefix: ["main"] "not-main" => false;
        star_all_main: ["*"] "main" => true;
        star_all_releases: ["*"] "releases" => true;
        star_no_slash: ["*"] "releases/v1" => false;
        all_branches: ["**"] "all/the/branches" => true;
        all_tags: ["**"] "every/tag" => true;
        star_feature_mona: ["*feature"] "mona-feature" => true;
        star_feature_plain: ["*feature"] "feature" => true;
        star_feature_ver: ["*feature"] "ver-10-feature" => true;
        star_feature_suffix_only: ["*feature"] "feature-x" => false;
        v2_star: ["v2*"] "v2" => true;
        v2_star_0: ["v2*"] "v2.0" => true;
        v2_star_9: ["v2*"] "v2.9" => true;
        v2_star_not_v1: ["v2*"] "v1.0" => false;
        semver_1: ["v[12].[0-9]+.[0-9]+"] "v1.10.1" => true;
        semver_2: ["v[12].[0-9]+.[0-9]+"] "v2.0.0" => true;
        semver_not_3: ["v[12].[0-9]+.[0-9]+"] "v3.0.0" => false;
        semver_dot_is_literal: ["v[12].[0-9]+.[0-9]+"] "v1x0.0" => false;
        semver_needs_digits: ["v[12].[0-9]+.[0-9]+"] "v1..0" => false;
        class_cat: ["[CB]at"] "Cat" => true;
        class_bat: ["[CB]at"] "Bat" => true;
        class_not_rat: ["[CB]at"] "Rat" => false;
        range_100: ["[1-2]00"] "100" => true;
        range_200: ["[1-2]00"] "200" => true;
        range_not_300: ["[1-2]00"] "300" => false;
        star_octo: ["Octo*"] "Octocat" => true;
        releases_alpha_included: ["releases/**", "!releases/**-alpha"] "releases/10" => true;
        releases_beta_mona: ["releases/**", "!releases/**-alpha"] "releases/beta/mona" => true;
        releases_alpha_excluded: ["releases/**", "!releases/**-alpha"] "releases/10-alpha" => false;
        releases_beta_alpha_excluded: ["releases/**", "!releases/**-alpha"] "releases/beta/3-alpha" => false;
        negations_only_match_nothing: ["!main"] "dev" => false;
        escaped_star_is_literal: ["feat\\*"] "feat*" => true;
        escaped_star_not_wild: ["feat\\*"] "feature" => false;
        bang_later_is_literal: ["a!b"] "a!b" => true;
    }

    // Patterns to match file paths (cheat sheet).
    cases! {
        path_star_readme: ["*"] "README.md" => true;
        path_star_server: ["*"] "server.rb" => true;
        path_star_not_nested: ["*"] "docs/README.md" => false;
        jsx_optional_js: ["*.jsx?"] "page.js" => true;
        jsx_optional_jsx: ["*.jsx?"] "page.jsx" => true;
        jsx_optional_not_jsxx: ["*.jsx?"] "page.jsxx" => false;
        path_all: ["**"] "all/the/files.md" => true;
        js_root_app: ["*.js"] "app.js" => true;
        js_root_index: ["*.js"] "index.js" => true;
        js_root_not_nested: ["*.js"] "src/app.js" => false;
        js_any_root: ["**.js"] "index.js" => true;
        js_any_js: ["**.js"] "js/index.js" => true;
        js_any_deep: ["**.js"] "src/js/app.js" => true;
        docs_star_readme: ["docs/*"] "docs/README.md" => true;
        docs_star_file: ["docs/*"] "docs/file.txt" => true;
        docs_star_not_nested: ["docs/*"] "docs/mona/octocat.txt" => false;
        docs_all_readme: ["docs/**"] "docs/README.md" => true;
        docs_all_nested: ["docs/**"] "docs/mona/octocat.txt" => true;
        docs_all_from_root_only: ["docs/**"] "src/docs/x.md" => false;
        docs_md_readme: ["docs/**/*.md"] "docs/README.md" => true;
        docs_md_hello: ["docs/**/*.md"] "docs/mona/hello-world.md" => true;
        docs_md_deep: ["docs/**/*.md"] "docs/a/markdown/file.md" => true;
        docs_md_not_txt: ["docs/**/*.md"] "docs/a/file.txt" => false;
        any_docs_root: ["**/docs/**"] "docs/hello.md" => true;
        any_docs_dir: ["**/docs/**"] "dir/docs/my-file.txt" => true;
        any_docs_deep: ["**/docs/**"] "space/docs/plan/space.doc" => true;
        any_docs_not_docsx: ["**/docs/**"] "dir/docsx/a.txt" => false;
        readme_root: ["**/README.md"] "README.md" => true;
        readme_nested: ["**/README.md"] "js/README.md" => true;
        readme_not_suffix: ["**/README.md"] "js/MY-README.md" => false;
        src_suffix_a: ["**/*src/**"] "a/src/app.js" => true;
        src_suffix_my: ["**/*src/**"] "my-src/code/js/app.js" => true;
        post_root: ["**/*-post.md"] "my-post.md" => true;
        post_nested: ["**/*-post.md"] "path/their-post.md" => true;
        migrate_root: ["**/migrate-*.sql"] "migrate-10909.sql" => true;
        migrate_db: ["**/migrate-*.sql"] "db/migrate-v1.0.sql" => true;
        migrate_deep: ["**/migrate-*.sql"] "db/sept/migrate-v1.sql" => true;
        md_not_readme_hello: ["*.md", "!README.md"] "hello.md" => true;
        md_not_readme_readme: ["*.md", "!README.md"] "README.md" => false;
        md_not_readme_nested: ["*.md", "!README.md"] "docs/hello.md" => false;
        reinclude_hello: ["*.md", "!README.md", "README*"] "hello.md" => true;
        reinclude_readme: ["*.md", "!README.md", "README*"] "README.md" => true;
        reinclude_readme_doc: ["*.md", "!README.md", "README*"] "README.doc" => true;
    }

    #[test]
    fn unterminated_class_is_an_error_not_a_panic() {
        assert!(Pattern::new("v[12").is_err());
        assert!(Pattern::new("a\\").is_err());
        assert!(Pattern::new("[]").is_err());
    }

    #[test]
    fn syntax_errors_name_the_character_at_fault() {
        let at = |p: &str| check_syntax(p).map_err(|e| e.at);
        assert_eq!(at("v[12"), Err(1));
        assert_eq!(at("!v[12"), Err(2));
        assert_eq!(at("ab\\"), Err(2));
        assert_eq!(at("v[9-1]"), Err(4));
        assert_eq!(at("v[1-9]"), Ok(()));
        assert_eq!(at("releases/**-alpha"), Ok(()));
    }

    #[test]
    fn leading_quantifier_is_literal() {
        assert!(FilterList::new(&["+x"]).unwrap().matches("+x"));
        assert!(FilterList::new(&["?"]).unwrap().matches("?"));
    }

    #[test]
    fn negated_class() {
        assert!(FilterList::new(&["[!a]b"]).unwrap().matches("cb"));
        assert!(!FilterList::new(&["[!a]b"]).unwrap().matches("ab"));
    }
}
