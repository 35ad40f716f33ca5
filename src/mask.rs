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

    /// [`mask`](Self::mask) on raw bytes: output that is not UTF-8 (binary) is kept byte for
    /// byte around the secrets.
    pub fn mask_bytes<'b>(&self, bytes: &'b [u8]) -> std::borrow::Cow<'b, [u8]> {
        let v = self.read();
        let mut out = std::borrow::Cow::Borrowed(bytes);
        for s in v.iter() {
            if let Some(masked) = replace_bytes(&out, s.as_bytes(), b"***") {
                out = std::borrow::Cow::Owned(masked);
            }
        }
        out
    }

    /// Where to split `bytes` at or before `cut` so that no masked value is cut in two (each
    /// piece is then masked on its own) and no UTF-8 character either.
    pub fn safe_cut(&self, bytes: &[u8], cut: usize) -> usize {
        let v = self.read();
        let mut cut = cut.min(bytes.len());
        // Moving the cut back may make it split another value: repeat until none is split.
        loop {
            let before = cut;
            for s in v.iter().map(String::as_bytes) {
                let from = (cut + 1).saturating_sub(s.len());
                let to = (cut + s.len() - 1).min(bytes.len());
                if from >= to {
                    continue;
                }
                if let Some(at) = bytes[from..to].windows(s.len()).position(|w| w == s) {
                    let start = from + at;
                    if start < cut {
                        cut = start;
                    }
                }
            }
            while cut > 0 && cut < bytes.len() && (bytes[cut] & 0xC0) == 0x80 {
                cut -= 1;
            }
            if cut == before {
                return cut;
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<String>> {
        match self.values.read() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        }
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

/// `haystack` with every `needle` replaced, or `None` when there is none.
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let first = haystack.windows(needle.len()).position(|w| w == needle)?;
    let mut out = Vec::with_capacity(haystack.len());
    out.extend_from_slice(&haystack[..first]);
    out.extend_from_slice(with);
    let mut rest = &haystack[first + needle.len()..];
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    Some(out)
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

    #[test]
    fn bytes_are_masked_and_kept_around_secrets() {
        let m = Masker::new();
        m.add("s3cr3t");
        assert_eq!(&*m.mask_bytes(b"\xff\x00s3cr3t\xfe"), b"\xff\x00***\xfe");
        assert!(matches!(m.mask_bytes(b"plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn a_cut_never_splits_a_secret_or_a_character() {
        let m = Masker::new();
        m.add("abcdef");
        //             0123456789
        let text = b"xxxxabcdefyy";
        for cut in 5..10 {
            assert_eq!(m.safe_cut(text, cut), 4, "cut at {cut}");
        }
        assert_eq!(m.safe_cut(text, 4), 4);
        assert_eq!(m.safe_cut(text, 10), 10);
        let utf8 = "aé".as_bytes();
        assert_eq!(m.safe_cut(utf8, 2), 1);
    }
}
