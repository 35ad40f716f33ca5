//! Pratt parser from tokens to [`Expr`].
//!
//! Precedence, loosest first (as GitHub documents it): `||`, `&&`,
//! `== !=`, `< <= > >=`, `!`, then postfix `.name`, `.*`, `[i]` and calls.
//! Function names and arities are checked here, as GitHub rejects unknown
//! functions when the workflow is loaded, not when it runs.

use super::ast::{CompareOp, Expr, ExprKind};
use super::error::ExprError;
use super::functions;
use super::lexer::{Tok, Token, lex};
use super::span::Span;
use super::value::Value;

/// Maximum nesting of the syntax tree. Deeper input is rejected with an
/// error instead of risking a stack overflow in the recursive passes.
pub const MAX_DEPTH: usize = 200;

/// Binding power of the `!` operand: tighter than every binary operator.
const NOT_BP: u8 = 5;

/// Parses a bare expression (the text that would sit inside `${{ }}`).
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    parse_at(src, 0)
}

/// Parses `src` as if it started at character offset `base` of a larger
/// string; all spans are shifted by `base`.
pub fn parse_at(src: &str, base: usize) -> Result<Expr, ExprError> {
    let lexed = lex(src, base)?;
    let end = base + lexed.chars.len();
    let mut parser = Parser {
        tokens: lexed.tokens,
        chars: lexed.chars,
        base,
        pos: 0,
        nesting: 0,
        eof: Token { tok: Tok::Eof, span: Span::new(end, end) },
    };
    let (expr, _) = parser.expr(0)?;
    let next = parser.peek();
    if next.tok != Tok::Eof {
        return Err(parser.unexpected("an operator or the end of the expression"));
    }
    Ok(expr)
}

/// A parsed node together with its depth in the tree.
type Parsed = (Expr, usize);

struct Parser {
    tokens: Vec<Token>,
    /// Source characters, for quoting tokens in error messages.
    chars: Vec<char>,
    base: usize,
    pos: usize,
    nesting: usize,
    /// Returned by `peek` past the end, so lookups never index out of range.
    eof: Token,
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens.get(self.pos).unwrap_or(&self.eof)
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        self.tokens.get(self.pos + ahead).unwrap_or(&self.eof)
    }

    /// Moves the current token out (tokens are never revisited), leaving a
    /// cheap placeholder, so identifiers and strings are not cloned.
    fn advance(&mut self) -> Token {
        match self.tokens.get_mut(self.pos) {
            Some(slot) => {
                self.pos += 1;
                let placeholder = Token { tok: Tok::Eof, span: slot.span };
                std::mem::replace(slot, placeholder)
            }
            None => self.eof.clone(),
        }
    }

    fn text(&self, span: Span) -> String {
        let start = span.start.saturating_sub(self.base);
        let end = span.end.saturating_sub(self.base);
        self.chars.get(start..end).map(|c| c.iter().collect()).unwrap_or_default()
    }

    /// "unexpected token `)`, expected an expression".
    fn unexpected(&self, expected: &str) -> ExprError {
        let token = self.peek();
        let found = match token.tok {
            Tok::Eof => "end of expression".to_string(),
            _ => format!("token `{}`", self.text(token.span)),
        };
        ExprError::new(format!("unexpected {found}, expected {expected}"), token.span)
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> Result<Token, ExprError> {
        if self.peek().tok == tok { Ok(self.advance()) } else { Err(self.unexpected(expected)) }
    }

    fn too_deep(span: Span) -> ExprError {
        ExprError::new(format!("expression is nested too deeply (the limit is {MAX_DEPTH} levels)"), span)
    }

    fn check_depth(depth: usize, span: Span) -> Result<usize, ExprError> {
        if depth > MAX_DEPTH { Err(Self::too_deep(span)) } else { Ok(depth) }
    }

    /// Entry point of every recursion, so nesting is bounded here.
    fn expr(&mut self, min_bp: u8) -> Result<Parsed, ExprError> {
        self.nesting += 1;
        let result = if self.nesting > MAX_DEPTH {
            Err(Self::too_deep(self.peek().span))
        } else {
            self.expr_inner(min_bp)
        };
        self.nesting -= 1;
        result
    }

    fn expr_inner(&mut self, min_bp: u8) -> Result<Parsed, ExprError> {
        let (mut lhs, mut depth) = self.prefix()?;
        loop {
            let (bp, op) = match self.peek().tok {
                Tok::Or => (1, None),
                Tok::And => (2, None),
                Tok::Eq => (3, Some(CompareOp::Eq)),
                Tok::Ne => (3, Some(CompareOp::Ne)),
                Tok::Lt => (4, Some(CompareOp::Lt)),
                Tok::Le => (4, Some(CompareOp::Le)),
                Tok::Gt => (4, Some(CompareOp::Gt)),
                Tok::Ge => (4, Some(CompareOp::Ge)),
                _ => break,
            };
            if bp < min_bp {
                break;
            }
            let op_token = self.advance();
            // Left associative: the right side binds one level tighter.
            let (rhs, rhs_depth) = self.expr(bp + 1)?;
            let span = lhs.span.to(rhs.span);
            depth = Self::check_depth(1 + depth.max(rhs_depth), span)?;
            let kind = match (op_token.tok, op) {
                (_, Some(op)) => ExprKind::Compare { op, left: boxed(lhs), right: boxed(rhs) },
                (Tok::And, None) => ExprKind::And(boxed(lhs), boxed(rhs)),
                (_, None) => ExprKind::Or(boxed(lhs), boxed(rhs)),
            };
            lhs = Expr::new(kind, span);
        }
        Ok((lhs, depth))
    }

    fn prefix(&mut self) -> Result<Parsed, ExprError> {
        if self.peek().tok == Tok::Not {
            let bang = self.advance();
            let (operand, depth) = self.expr(NOT_BP)?;
            let span = bang.span.to(operand.span);
            let depth = Self::check_depth(depth + 1, span)?;
            return Ok((Expr::new(ExprKind::Not(boxed(operand)), span), depth));
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    fn primary(&mut self) -> Result<Parsed, ExprError> {
        let is_call = matches!(self.peek().tok, Tok::Ident(_)) && self.peek_at(1).tok == Tok::LParen;
        let starts_operand = matches!(
            self.peek().tok,
            Tok::Num(_) | Tok::Str(_) | Tok::True | Tok::False | Tok::Null | Tok::Ident(_) | Tok::LParen
        );
        if !starts_operand {
            return Err(self.unexpected("an expression"));
        }
        let token = self.advance();
        let span = token.span;
        let literal = |v: Value| Ok((Expr::new(ExprKind::Literal(v), span), 1));
        match token.tok {
            Tok::Num(n) => literal(Value::Number(n)),
            Tok::Str(s) => literal(Value::String(s)),
            Tok::True => literal(Value::Bool(true)),
            Tok::False => literal(Value::Bool(false)),
            Tok::Null => literal(Value::Null),
            Tok::Ident(name) if is_call => self.call(&name, span),
            Tok::Ident(name) => Ok((Expr::new(ExprKind::Context(name), span), 1)),
            _ => {
                // `(`: a group.
                let (inner, depth) = self.expr(0)?;
                let close = self.expect(Tok::RParen, "`)`")?;
                let span = span.to(close.span);
                let depth = Self::check_depth(depth + 1, span)?;
                Ok((Expr::new(ExprKind::Group(boxed(inner)), span), depth))
            }
        }
    }

    fn call(&mut self, name: &str, name_span: Span) -> Result<Parsed, ExprError> {
        let Some(spec) = functions::lookup(name) else {
            return Err(ExprError::new(format!("unknown function `{name}`"), name_span));
        };
        self.advance(); // (
        let mut args = Vec::new();
        let mut depth = 1;
        if self.peek().tok != Tok::RParen {
            loop {
                let (arg, arg_depth) = self.expr(0)?;
                depth = depth.max(arg_depth + 1);
                args.push(arg);
                if self.peek().tok == Tok::Comma {
                    self.advance();
                } else {
                    break;
                }
            }
        }
        let close = self.expect(Tok::RParen, "`,` or `)`")?;
        let span = name_span.to(close.span);
        let depth = Self::check_depth(depth, span)?;
        spec.check_arity(args.len()).map_err(|message| ExprError::new(message, span))?;
        let kind = ExprKind::Call { name: spec.name.to_string(), name_span, args };
        Ok((Expr::new(kind, span), depth))
    }

    /// `.name`, `.*`, `[index]` and `[*]` after an operand.
    fn postfix(&mut self, (mut expr, mut depth): Parsed) -> Result<Parsed, ExprError> {
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.advance();
                    if !matches!(self.peek().tok, Tok::Ident(_) | Tok::Star) {
                        return Err(self.unexpected("a property name or `*` after `.`"));
                    }
                    let token = self.advance();
                    let span = expr.span.to(token.span);
                    let kind = match token.tok {
                        Tok::Ident(name) => {
                            ExprKind::Property { object: boxed(expr), name, name_span: token.span }
                        }
                        _ => ExprKind::Filter(boxed(expr)),
                    };
                    expr = Expr::new(kind, span);
                }
                Tok::LBracket => {
                    self.advance();
                    let close;
                    if self.peek().tok == Tok::Star && self.peek_at(1).tok == Tok::RBracket {
                        self.advance();
                        close = self.advance();
                        let span = expr.span.to(close.span);
                        expr = Expr::new(ExprKind::Filter(boxed(expr)), span);
                    } else {
                        let (index, index_depth) = self.expr(0)?;
                        close = self.expect(Tok::RBracket, "`]`")?;
                        depth = depth.max(index_depth);
                        let span = expr.span.to(close.span);
                        let kind = ExprKind::Index { object: boxed(expr), index: boxed(index) };
                        expr = Expr::new(kind, span);
                    }
                }
                _ => return Ok((expr, depth)),
            }
            depth = Self::check_depth(depth + 1, expr.span)?;
        }
    }
}
