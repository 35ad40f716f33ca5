//! An environment's `secrets_file`: `NAME=VALUE` lines only jobs of that environment see.

use std::path::Path;

use crate::Error;

use super::config::EnvironmentPolicy;

/// The secrets of an environment (none without `secrets_file`). Errors name the file.
pub fn load_env_secrets(policy: &EnvironmentPolicy) -> Result<Vec<(String, String)>, Error> {
    let Some(path) = &policy.secrets_file else {
        return Ok(Vec::new());
    };
    read(path)
}

/// Read and parse a secrets file.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    parse(&text).map_err(|(line, why)| Error::Environment {
        message: format!("{}:{line}: {why}", path.display()),
        hint: Some("a secrets file holds NAME=VALUE lines; `#` starts a comment line".into()),
    })
}

/// `NAME=VALUE` lines (an optional `export `, blank lines and `#` comment lines allowed; a value
/// may be quoted). A later line for the same name wins. Unquoted values are kept whole, `#`
/// included: a secret may well contain one. The error is the 1-based line and why.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((name, value)) = line.split_once('=') else {
            return Err((i + 1, "expected NAME=VALUE".into()));
        };
        let name = name.trim();
        if !is_name(name) {
            return Err((i + 1, format!("`{name}` is not a valid secret name (letters, digits and _)")));
        }
        let value = unquote(value.trim()).map_err(|why| (i + 1, why))?;
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), value));
    }
    Ok(out)
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Strip matching quotes; double quotes understand `\n`, `\"` and `\\`.
fn unquote(value: &str) -> Result<String, String> {
    let quote = match value.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => return Ok(value.to_string()),
    };
    let inner = value
        .strip_prefix(quote)
        .and_then(|v| v.strip_suffix(quote))
        .filter(|_| value.len() >= 2)
        .ok_or_else(|| format!("the value's {quote} is never closed"))?;
    if quote == '\'' {
        return Ok(inner.to_string());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_quotes() {
        let text = "# prod\n\nTOKEN=abc#def\nexport KEY = \"a b\\n\\\"c\"\nSINGLE='x=y'\nEMPTY=\nTOKEN=new\n";
        let parsed = parse(text).unwrap();
        let expected = [("KEY", "a b\n\"c"), ("SINGLE", "x=y"), ("EMPTY", ""), ("TOKEN", "new")];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("A=1\nnonsense\n"), Err((2, "expected NAME=VALUE".into())));
        assert!(parse("1BAD=x").unwrap_err().1.contains("not a valid secret name"));
        assert!(parse("Q=\"open").unwrap_err().1.contains("never closed"));
        assert!(parse("Q=\"").is_err());
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prod.env");
        let policy = EnvironmentPolicy { secrets_file: Some(path.clone()), ..Default::default() };
        let missing = load_env_secrets(&policy).unwrap_err().to_string();
        assert!(missing.contains("prod.env"), "{missing}");
        std::fs::write(&path, "A=1\noops\n").unwrap();
        let bad = load_env_secrets(&policy).unwrap_err().to_string();
        assert!(bad.ends_with("prod.env:2: expected NAME=VALUE"), "{bad}");
        std::fs::write(&path, "A=1\n").unwrap();
        assert_eq!(load_env_secrets(&policy).unwrap(), vec![("A".to_string(), "1".to_string())]);
        assert_eq!(load_env_secrets(&EnvironmentPolicy::default()).unwrap(), vec![]);
    }
}
