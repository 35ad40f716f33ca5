//! Tokenizer for the text between `${{` and `}}`.
//!
//! Works on characters so spans are character offsets. A `base` offset is
//! added to every span, letting templates report positions in the whole
//! template string.

use std::fmt;

use super::error::ExprError;
use super::span::Span;
use super::value::parse_number;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    True,
    False,
    Null,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Star,
    Not,
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// The token stream plus the source characters, which the parser slices
/// (by span) for error messages instead of storing text in every token.
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub chars: Vec<char>,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Tok::Ident(name) => return f.write_str(name),
            Tok::Str(_) => "string",
            Tok::Num(_) => "number",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Null => "null",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::Star => "*",
            Tok::Not => "!",
            Tok::And => "&&",
            Tok::Or => "||",
            Tok::Eq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Eof => "end of expression",
        };
        f.write_str(s)
    }
}

/// Identifier characters: GitHub allows `-` inside names (`steps.my-step`).
fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    base: usize,
    tokens: Vec<Token>,
}

/// Splits `src` into tokens; the last token is always [`Tok::Eof`].
pub fn lex(src: &str, base: usize) -> Result<Lexed, ExprError> {
    let mut lexer = Lexer { chars: src.chars().collect(), pos: 0, base, tokens: Vec::new() };
    lexer.run()?;
    Ok(Lexed { tokens: lexer.tokens, chars: lexer.chars })
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.base + start, self.base + end)
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.chars.get(start..end).map(|s| s.iter().collect()).unwrap_or_default()
    }

    fn push(&mut self, tok: Tok, start: usize) {
        let span = self.span(start, self.pos);
        self.tokens.push(Token { tok, span });
    }

    /// A `.` right after an operand is a property access; anywhere else it
    /// starts a number such as `.5`.
    fn after_operand(&self) -> bool {
        matches!(
            self.tokens.last().map(|t| &t.tok),
            Some(
                Tok::Ident(_)
                    | Tok::Str(_)
                    | Tok::Num(_)
                    | Tok::True
                    | Tok::False
                    | Tok::Null
                    | Tok::RParen
                    | Tok::RBracket
                    | Tok::Star
            )
        )
    }

    fn run(&mut self) -> Result<(), ExprError> {
        while let Some(c) = self.peek(0) {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += 1;
                continue;
            }
            let two = |s: &Self, next: char| s.peek(1) == Some(next);
            let (tok, len) = match c {
                '(' => (Tok::LParen, 1),
                ')' => (Tok::RParen, 1),
                '[' => (Tok::LBracket, 1),
                ']' => (Tok::RBracket, 1),
                ',' => (Tok::Comma, 1),
                '*' => (Tok::Star, 1),
                '.' if self.after_operand() => (Tok::Dot, 1),
                '!' if two(self, '=') => (Tok::Ne, 2),
                '!' => (Tok::Not, 1),
                '=' if two(self, '=') => (Tok::Eq, 2),
                '<' if two(self, '=') => (Tok::Le, 2),
                '<' => (Tok::Lt, 1),
                '>' if two(self, '=') => (Tok::Ge, 2),
                '>' => (Tok::Gt, 1),
                '&' if two(self, '&') => (Tok::And, 2),
                '|' if two(self, '|') => (Tok::Or, 2),
                '\'' => {
                    self.string()?;
                    continue;
                }
                '.' => {
                    self.number()?;
                    continue;
                }
                '-' if self.peek(1).is_some_and(|n| n.is_ascii_digit() || n == '.' || n == 'I') => {
                    self.number()?;
                    continue;
                }
                c if c.is_ascii_digit() => {
                    self.number()?;
                    continue;
                }
                c if is_ident_start(c) => {
                    self.word();
                    continue;
                }
                other => return Err(self.bad_char(other)),
            };
            self.pos += len;
            self.push(tok, start);
        }
        let end = self.chars.len();
        self.tokens.push(Token { tok: Tok::Eof, span: self.span(end, end) });
        Ok(())
    }

    fn bad_char(&self, c: char) -> ExprError {
        let span = self.span(self.pos, self.pos + 1);
        let message = match c {
            '=' => "unexpected character `=`, did you mean `==`?".to_string(),
            '&' => "unexpected character `&`, did you mean `&&`?".to_string(),
            '|' => "unexpected character `|`, did you mean `||`?".to_string(),
            '"' => "unexpected character `\"`, strings must use single quotes".to_string(),
            _ => format!("unexpected character `{c}`"),
        };
        ExprError::new(message, span)
    }

    /// `'it''s'`: a doubled quote is an escaped quote.
    fn string(&mut self) -> Result<(), ExprError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek(0) {
                None => {
                    return Err(ExprError::new(
                        "unterminated string literal",
                        self.span(start, self.chars.len()),
                    ));
                }
                Some('\'') if self.peek(1) == Some('\'') => {
                    value.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    break;
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
        self.push(Tok::Str(value), start);
        Ok(())
    }

    /// Numbers: decimal with fraction/exponent, `0x` hex, `-Infinity`.
    fn number(&mut self) -> Result<(), ExprError> {
        let start = self.pos;
        if self.peek(0) == Some('-') {
            self.pos += 1;
        }
        let mut hex = false;
        while let Some(c) = self.peek(0) {
            let prev = self.pos.checked_sub(1).and_then(|p| self.chars.get(p));
            let exponent_sign = matches!(c, '+' | '-') && matches!(prev, Some('e' | 'E')) && !hex;
            if c.is_alphanumeric() || c == '.' || c == '_' || exponent_sign {
                hex |= matches!(c, 'x' | 'X');
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = self.text(start, self.pos);
        let value = parse_number(&text);
        if value.is_nan() {
            return Err(ExprError::new(format!("invalid number `{text}`"), self.span(start, self.pos)));
        }
        self.push(Tok::Num(value), start);
        Ok(())
    }

    /// Identifiers and the keywords `true`, `false`, `null`, `NaN`, `Infinity`.
    fn word(&mut self) {
        let start = self.pos;
        while self.peek(0).is_some_and(is_ident_continue) {
            self.pos += 1;
        }
        let text = self.text(start, self.pos);
        // After a `.` every word is a property name, even `null` or `NaN`.
        let after_dot = matches!(self.tokens.last().map(|t| &t.tok), Some(Tok::Dot));
        let tok = match text.as_str() {
            _ if after_dot => Tok::Ident(text),
            "true" => Tok::True,
            "false" => Tok::False,
            "null" => Tok::Null,
            "NaN" => Tok::Num(f64::NAN),
            "Infinity" => Tok::Num(f64::INFINITY),
            _ => Tok::Ident(text),
        };
        self.push(tok, start);
    }
}
