//! GitLab's variable expansion: `$NAME` and `${NAME}` are replaced by the variable's value, `$$`
//! is a literal `$`, and an unknown variable becomes the empty string (as in GitLab). Values that
//! refer to other variables are expanded through them, with a depth bound so a cycle cannot loop.

use std::collections::BTreeMap;

const MAX_DEPTH: usize = 10;

/// Expand `text` with `vars`.
pub fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    expand_at(text, vars, 0)
}

fn expand_at(text: &str, vars: &BTreeMap<String, String>, depth: usize) -> String {
    if !text.contains('$') {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        let braced = chars.get(i + 1) == Some(&'{');
        let start = if braced { i + 2 } else { i + 1 };
        let mut end = start;
        while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
            end += 1;
        }
        let closed = !braced || chars.get(end) == Some(&'}');
        if end == start || !closed {
            out.push('$');
            i += 1;
            continue;
        }
        let name: String = chars[start..end].iter().collect();
        if let Some(v) = vars.get(&name) {
            if depth < MAX_DEPTH {
                out.push_str(&expand_at(v, vars, depth + 1));
            } else {
                out.push_str(v);
            }
        }
        i = if braced { end + 1 } else { end };
    }
    out
}

/// Expand every value of `raw` (in order; later entries may refer to earlier and later ones).
/// Entries marked raw (`expand: false`) are kept as written.
pub fn expand_all(raw: &BTreeMap<String, (String, bool)>) -> BTreeMap<String, String> {
    let plain: BTreeMap<String, String> = raw.iter().map(|(k, (v, _))| (k.clone(), v.clone())).collect();
    raw.iter()
        .map(|(k, (v, expand_it))| (k.clone(), if *expand_it { expand(v, &plain) } else { v.clone() }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("A", "x"), ("B", "$A-y"), ("LOOP", "$LOOP!")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }

    macro_rules! cases {
        ($($name:ident: $text:expr => $want:expr;)+) => {
            $(#[test] fn $name() { assert_eq!(expand($text, &vars()), $want); })+
        };
    }

    cases! {
        plain: "$A" => "x";
        braced: "${A}z" => "xz";
        nested: "img:$B" => "img:x-y";
        unknown_is_empty: "a$NOPE.b" => "a.b";
        dollar_escape: "$$A" => "$A";
        lone_dollar: "cost: 5$" => "cost: 5$";
        unclosed_brace: "${A" => "${A";
        cycle_is_bounded: "$LOOP" => "$LOOP!!!!!!!!!!!";
    }
}
