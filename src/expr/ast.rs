//! The syntax tree produced by the parser.

use std::fmt;

use super::span::Span;
use super::value::Value;

/// One node of an expression, with the span of source text it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `true`, `null`, `42`, `'text'`.
    Literal(Value),
    /// A named context such as `github` or `needs`, as written.
    Context(String),
    /// `object.name`; `name_span` covers just the name.
    Property {
        object: Box<Expr>,
        name: String,
        name_span: Span,
    },
    /// `object[index]`.
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
    },
    /// The object filter `object.*` (also `object[*]`).
    Filter(Box<Expr>),
    /// A function call; `name` is the canonical spelling from the function
    /// table (`toJSON`), `name_span` covers the name as written.
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `( inner )`, kept so spans and printing stay faithful.
    Group(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        })
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// Direct sub-expressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Context(_) => Vec::new(),
            ExprKind::Property { object, .. } => vec![object],
            ExprKind::Index { object, index } => vec![object, index],
            ExprKind::Filter(inner) | ExprKind::Not(inner) | ExprKind::Group(inner) => {
                vec![inner]
            }
            ExprKind::Call { args, .. } => args.iter().collect(),
            ExprKind::And(l, r) | ExprKind::Or(l, r) => vec![l, r],
            ExprKind::Compare { left, right, .. } => vec![left, right],
        }
    }
}
