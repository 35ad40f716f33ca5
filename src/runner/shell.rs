//! Shells as GitHub defines them: the command that runs a step's script file, and the file's
//! extension.

/// argv for running `script` with `shell` (as written in the workflow; `None` = the default).
pub fn command(shell: Option<&str>, script: &str) -> Result<(Vec<String>, &'static str), String> {
    let s = |v: &[&str]| v.iter().map(|x| x.replace("{0}", script)).collect::<Vec<String>>();
    Ok(match shell.map(str::trim) {
        // GitHub's default on Linux: bash -e when bash exists, else sh -e.
        None | Some("") => (
            vec![
                "sh".into(),
                "-c".into(),
                "if command -v bash >/dev/null 2>&1; then exec bash -e \"$1\"; else exec sh -e \"$1\"; fi"
                    .into(),
                "sh".into(),
                script.into(),
            ],
            ".sh",
        ),
        Some("bash") => (s(&["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"]), ".sh"),
        Some("sh") => (s(&["sh", "-e", "{0}"]), ".sh"),
        Some("python") => (s(&["python3", "{0}"]), ".py"),
        Some("pwsh") => (s(&["pwsh", "-command", ". '{0}'"]), ".ps1"),
        Some("powershell") => (s(&["powershell", "-command", ". '{0}'"]), ".ps1"),
        Some("cmd") => return Err("the `cmd` shell exists on Windows runners only".into()),
        Some(custom) if custom.contains("{0}") => {
            (split_words(custom).iter().map(|w| w.replace("{0}", script)).collect(), "")
        }
        Some(other) => return Err(format!("unknown shell `{other}`: a custom shell must contain `{{0}}`")),
    })
}

/// The default shell when bash is known to be at `bash`: GitHub's `bash -e {0}`.
pub fn default_with_bash(bash: &std::path::Path, script: &str) -> Vec<String> {
    vec![bash.display().to_string(), "-e".into(), script.into()]
}

/// Split a custom shell template on white space, honouring simple quotes.
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut has = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                has = true;
            }
            (None, c) if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells() {
        assert_eq!(
            command(Some("bash"), "/s").unwrap().0,
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "/s"]
        );
        assert_eq!(command(Some("sh"), "/s").unwrap().0, ["sh", "-e", "/s"]);
        assert_eq!(
            command(Some("python"), "/s").unwrap(),
            (vec!["python3".to_string(), "/s".to_string()], ".py")
        );
        assert_eq!(command(Some("perl -w '{0}'"), "/s").unwrap().0, ["perl", "-w", "/s"]);
        assert_eq!(command(None, "/s").unwrap().0.last().map(String::as_str), Some("/s"));
        assert!(command(Some("fish"), "/s").is_err());
    }
}
