//! Secret masking: every occurrence of a secret value (and of every `::add-mask::` value) is
//! written `***` in terminal output, logs, events and state files.

use std::sync::{Arc, RwLock};

/// Shared by every writer of a run, so a mask added by one step applies everywhere at once.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    values: Arc<RwLock<Vec<String>>>,
}

impl Masker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Mask `value`; a multi-line value is also masked line by line, because output is
    /// processed a line at a time. Values shorter than 2 characters are ignored: masking every
    /// `1` or `a` would destroy all output and protect nothing.
    pub fn add(&self, value: &str) {
        let mut v = match self.values.write() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut push = |s: &str| {
            let s = s.trim_end_matches('\r');
            if s.chars().count() >= 2 && !v.iter().any(|x| x == s) {
                v.push(s.to_string());
            }
        };
        push(value);
        if value.contains('\n') {
            value.lines().for_each(&mut push);
        }
        // Longest first, so a secret that contains another is replaced whole.
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    pub fn mask(&self, text: &str) -> String {
        let v = match self.values.read() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut out = text.to_string();
        for s in v.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    pub fn mask_json(&self, value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::String(s) => serde_json::Value::String(self.mask(s)),
            serde_json::Value::Array(a) => a.iter().map(|v| self.mask_json(v)).collect(),
            serde_json::Value::Object(o) => {
                o.iter().map(|(k, v)| (self.mask(k), self.mask_json(v))).collect()
            }
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_lines_and_nested_json() {
        let m = Masker::new();
        m.add("s3cr3t");
        m.add("line-one\nline-two");
        m.add("x");
        assert_eq!(m.mask("a s3cr3t b"), "a *** b");
        assert_eq!(m.mask("line-two only"), "*** only");
        assert_eq!(m.mask("line-one\nline-two"), "***");
        assert_eq!(m.mask("x marks"), "x marks");
        let j = serde_json::json!({"k": ["s3cr3t", 1], "s3cr3t": "ok"});
        assert_eq!(m.mask_json(&j), serde_json::json!({"k": ["***", 1], "***": "ok"}));
    }
}
