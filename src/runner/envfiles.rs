//! The files a step writes to talk to the runner: GITHUB_OUTPUT and GITHUB_ENV (`NAME=value`
//! lines, or `NAME<<DELIMITER` heredocs for multi-line values) and GITHUB_PATH (one directory per
//! line).

/// Parse `NAME=value` / heredoc content. Errors name the line, as GitHub's runner does.
pub fn parse_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate();
    while let Some((n, line)) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                let name = &line[..e];
                check_name(name, n)?;
                out.push((name.to_string(), line[e + 1..].to_string()));
            }
            (_, Some(h)) => {
                let name = &line[..h];
                let delimiter = &line[h + 2..];
                check_name(name, n)?;
                if delimiter.is_empty() {
                    return Err(format!("line {}: empty heredoc delimiter after `{name}<<`", n + 1));
                }
                let mut value: Vec<&str> = Vec::new();
                let mut closed = false;
                for (_, l) in lines.by_ref() {
                    if l == delimiter {
                        closed = true;
                        break;
                    }
                    value.push(l);
                }
                if !closed {
                    return Err(format!(
                        "line {}: the value of `{name}` is never closed by its delimiter `{delimiter}`",
                        n + 1
                    ));
                }
                out.push((name.to_string(), value.join("\n")));
            }
            _ => {
                return Err(format!(
                    "line {}: expected `NAME=value` or `NAME<<DELIMITER`, found `{line}`",
                    n + 1
                ));
            }
        }
    }
    Ok(out)
}

fn check_name(name: &str, n: usize) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("line {}: a name is missing before `=` or `<<`", n + 1));
    }
    Ok(())
}

/// GITHUB_PATH: non-empty lines; the last line written is searched first.
pub fn parse_path(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_heredocs() {
        let text = "a=1\nb=x=y\n\nmulti<<EOF\nline 1\nline 2\nEOF\nc=\nd<<X\nX\n";
        let got = parse_pairs(text).unwrap();
        let want: Vec<(String, String)> =
            [("a", "1"), ("b", "x=y"), ("multi", "line 1\nline 2"), ("c", ""), ("d", "")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn heredoc_with_equals_in_delimiter_line_and_errors() {
        assert_eq!(
            parse_pairs("k<<ghadelim_1=x\nv\nghadelim_1=x\n").unwrap(),
            vec![("k".into(), "v".into())]
        );
        assert!(parse_pairs("k<<EOF\nno end\n").unwrap_err().contains("never closed"));
        assert!(parse_pairs("garbage\n").unwrap_err().contains("line 1"));
        assert!(parse_pairs("=v\n").is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path("/a\n\n /b \n"), vec!["/a", "/b"]);
    }
}
