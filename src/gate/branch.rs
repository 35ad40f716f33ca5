//! `branches` rules: GitHub's filter patterns (`*`, `**`, `?`, `+`, `[a-z]`, `!` negation) on the
//! short branch name of a ref.

use regex::Regex;

/// The branch a ref names: `refs/heads/main` → `main`; a bare name is taken as a branch (what a
/// user types with `--ref main`); other refs (tags, pull requests) are not branches at all.
pub fn branch_name(git_ref: &str) -> Option<&str> {
    match git_ref.strip_prefix("refs/heads/") {
        Some(b) => Some(b),
        None if git_ref.starts_with("refs/") => None,
        None => Some(git_ref),
    }
}

/// Whether `branch` is allowed by the list: later patterns override earlier ones, so
/// `["release/**", "!release/old"]` allows every release branch but one (as GitHub's filters).
pub fn allowed(patterns: &[String], branch: &str) -> bool {
    let mut allowed = false;
    for pattern in patterns {
        let (negated, body) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern.as_str()),
        };
        // An invalid pattern is reported by the pipe.toml checks; here it matches nothing.
        if compile(body).is_ok_and(|re| re.is_match(branch)) {
            allowed = !negated;
        }
    }
    allowed
}

/// The pattern as an anchored regex, or why it is not a valid filter pattern.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    let body = pattern.strip_prefix('!').unwrap_or(pattern);
    if body.is_empty() {
        return Err("an empty branch pattern matches nothing".into());
    }
    let mut re = String::from("^");
    let mut chars = body.chars().peekable();
    // Whether the last thing emitted can take a `?`/`+` (a character or a class, not a star).
    let mut quantifiable = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    return Err(format!("`{pattern}` ends with a lone `\\`"));
                };
                re.push_str(&regex::escape(&next.to_string()));
                quantifiable = true;
            }
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re.push_str(".*");
                quantifiable = false;
            }
            '*' => {
                re.push_str("[^/]*");
                quantifiable = false;
            }
            '?' | '+' if quantifiable => {
                re.push(c);
                quantifiable = false;
            }
            '[' => {
                let mut class = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(ch) if ch.is_ascii_alphanumeric() || ch == '-' => class.push(ch),
                        Some(ch) => return Err(format!("`{ch}` cannot appear in `[...]` of `{pattern}`")),
                        None => return Err(format!("`[` is never closed in `{pattern}`")),
                    }
                }
                if class.is_empty() {
                    return Err(format!("`[]` in `{pattern}` matches nothing"));
                }
                re.push('[');
                re.push_str(&class);
                re.push(']');
                quantifiable = true;
            }
            _ => {
                re.push_str(&regex::escape(&c.to_string()));
                quantifiable = true;
            }
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| format!("`{pattern}` is not a valid pattern: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(patterns: &[&str], branch: &str) -> bool {
        let p: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        allowed(&p, branch)
    }

    #[test]
    fn github_filter_patterns() {
        assert!(ok(&["main"], "main"));
        assert!(!ok(&["main"], "main2"));
        assert!(ok(&["release/*"], "release/1.0"));
        assert!(!ok(&["release/*"], "release/1.0/hotfix"));
        assert!(ok(&["release/**"], "release/1.0/hotfix"));
        assert!(ok(&["**"], "any/thing"));
        assert!(ok(&["v[0-9].x"], "v2.x"));
        assert!(ok(&["ma?in"], "min"));
        assert!(ok(&["v1+"], "v111"));
        assert!(!ok(&["v1+"], "v"));
        assert!(ok(&["feat\\*"], "feat*"));
        assert!(!ok(&["feat\\*"], "feature"));
        assert!(!ok(&[], "main"));
    }

    #[test]
    fn later_negations_win() {
        let list = ["release/**", "!release/old"];
        assert!(ok(&list, "release/new"));
        assert!(!ok(&list, "release/old"));
        assert!(ok(&["!main", "main"], "main"));
    }

    #[test]
    fn invalid_patterns_are_explained() {
        assert!(compile("[abc").is_err());
        assert!(compile("a[.]").is_err());
        assert!(compile("trail\\").is_err());
        assert!(compile("!").is_err());
        assert!(compile("?start").is_ok());
    }

    #[test]
    fn refs_and_branch_names() {
        assert_eq!(branch_name("refs/heads/feature/x"), Some("feature/x"));
        assert_eq!(branch_name("main"), Some("main"));
        assert_eq!(branch_name("refs/tags/v1"), None);
        assert_eq!(branch_name("refs/pull/1/merge"), None);
    }
}
