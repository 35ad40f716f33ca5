//! Case-insensitive string helpers.
//!
//! GitHub compares strings with .NET's `OrdinalIgnoreCase`: each character is
//! mapped through its simple (one-to-one) upper-case form and then compared by
//! code point. Folding one character to exactly one character keeps character
//! counts stable, which matters for substring search and spans.

use std::cmp::Ordering;

/// Simple upper-case mapping; characters whose upper case expands to several
/// characters (like `ß`) are kept as they are, as .NET does.
pub fn fold_char(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// The folded form of a whole string.
pub fn fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars().map(fold_char).eq(b.chars().map(fold_char))
}

pub fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.chars().map(fold_char).cmp(b.chars().map(fold_char))
}

pub fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    fold(haystack).contains(&fold(needle))
}

pub fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    fold(s).starts_with(&fold(prefix))
}

pub fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    fold(s).ends_with(&fold(suffix))
}
