//! Templates: strings with embedded `${{ … }}` expressions.
//!
//! The closing `}}` is searched outside single-quoted string literals, so
//! `${{ format('{{0}}', 1) }}` is one expression. Spans of the embedded
//! expressions are character offsets into the whole template string.

use super::ast::Expr;
use super::error::ExprError;
use super::parser::parse_at;
use super::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Literal(String),
    Expr(Expr),
}

impl Template {
    /// The expression when the template is exactly one `${{ }}` with no
    /// surrounding text; such templates evaluate to the value itself
    /// rather than to a string.
    pub fn single_expression(&self) -> Option<&Expr> {
        match self.parts.as_slice() {
            [Part::Expr(e)] => Some(e),
            _ => None,
        }
    }

    /// All embedded expressions, in order.
    pub fn expressions(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e),
            Part::Literal(_) => None,
        })
    }

    pub fn has_expressions(&self) -> bool {
        self.expressions().next().is_some()
    }
}

const OPEN: [char; 3] = ['$', '{', '{'];

/// Splits a string into literal text and parsed `${{ }}` expressions.
pub fn parse_template(src: &str) -> Result<Template, ExprError> {
    // Most strings of a workflow hold no expression: one literal, without a walk over characters.
    if !src.contains("${{") {
        let parts = if src.is_empty() { Vec::new() } else { vec![Part::Literal(src.to_string())] };
        return Ok(Template { parts });
    }
    let chars: Vec<char> = src.chars().collect();
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if chars.get(i..i + 3) != Some(&OPEN[..]) {
            literal.push(c);
            i += 1;
            continue;
        }
        let body_start = i + 3;
        let Some(close) = find_close(&chars, body_start) else {
            return Err(ExprError::new(
                "unterminated `${{`: no matching `}}` found",
                Span::new(i, body_start),
            ));
        };
        let body: String = chars.get(body_start..close).unwrap_or(&[]).iter().collect();
        if body.trim().is_empty() {
            return Err(ExprError::new("empty `${{ }}`, expected an expression", Span::new(i, close + 2)));
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut literal)));
        }
        parts.push(Part::Expr(parse_at(&body, body_start)?));
        i = close + 2;
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(Template { parts })
}

/// Index of the `}}` that closes an expression starting at `from`, skipping
/// over string literals (`''` escapes toggle twice, which is harmless).
fn find_close(chars: &[char], from: usize) -> Option<usize> {
    let mut in_string = false;
    let mut j = from;
    while let Some(&c) = chars.get(j) {
        if c == '\'' {
            in_string = !in_string;
        } else if !in_string && c == '}' && chars.get(j + 1) == Some(&'}') {
            return Some(j);
        }
        j += 1;
    }
    None
}
