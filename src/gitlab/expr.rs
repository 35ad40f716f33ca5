//! GitLab's `rules:if` / `workflow:rules:if` expression language: `$VAR`, `"string"`, `'string'`,
//! `/regex/flags`, `null`, `==`, `!=`, `=~`, `!~`, `&&` (binds tighter than `||`), `||` and
//! parentheses. Parsed once (syntax errors carry the column), evaluated against the variables of
//! one pipeline at plan time.

use std::collections::BTreeMap;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Var(String),
    Str(String),
    Regex { pattern: String, flags: String },
    Null,
    Compare { op: Op, left: Box<Expr>, right: Box<Expr> },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Match,
    NoMatch,
}

/// A syntax error at a character index of the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Var(String),
    Str(String),
    Regex(String, String),
    Null,
    Op(Op),
    And,
    Or,
    Open,
    Close,
}

fn lex(text: &str) -> Result<Vec<(usize, Token)>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, message: &str| SyntaxError { at, message: message.to_string() };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '$' => {
                i += 1;
                let braced = chars.get(i) == Some(&'{');
                if braced {
                    i += 1;
                }
                let name_start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                if i == name_start {
                    return Err(err(start, "`$` must be followed by a variable name"));
                }
                let name: String = chars[name_start..i].iter().collect();
                if braced {
                    if chars.get(i) != Some(&'}') {
                        return Err(err(start, "`${` is not closed with `}`"));
                    }
                    i += 1;
                }
                out.push((start, Token::Var(name)));
            }
            '"' | '\'' => {
                i += 1;
                let mut s = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "string is not closed")),
                        Some(q) if *q == c => break,
                        Some('\\') if chars.get(i + 1) == Some(&c) => {
                            s.push(c);
                            i += 2;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push((start, Token::Str(s)));
            }
            '/' => {
                i += 1;
                let mut pattern = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "regular expression is not closed with `/`")),
                        Some('/') => break,
                        Some('\\') if chars.get(i + 1) == Some(&'/') => {
                            pattern.push('/');
                            i += 2;
                        }
                        Some(ch) => {
                            pattern.push(*ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                let flags_start = i;
                while i < chars.len() && chars[i].is_ascii_alphabetic() {
                    i += 1;
                }
                let flags: String = chars[flags_start..i].iter().collect();
                if let Some(bad) = flags.chars().find(|f| !matches!(f, 'i' | 'm' | 's')) {
                    return Err(err(flags_start, &format!("unknown regular expression flag `{bad}`")));
                }
                out.push((start, Token::Regex(pattern, flags)));
            }
            '=' | '!' => {
                let next = chars.get(i + 1).copied();
                let op = match (c, next) {
                    ('=', Some('=')) => Op::Eq,
                    ('!', Some('=')) => Op::Ne,
                    ('=', Some('~')) => Op::Match,
                    ('!', Some('~')) => Op::NoMatch,
                    _ => return Err(err(start, &format!("unknown operator `{c}`: use ==, !=, =~ or !~"))),
                };
                i += 2;
                out.push((start, Token::Op(op)));
            }
            '&' | '|' => {
                if chars.get(i + 1) != Some(&c) {
                    return Err(err(start, &format!("unknown operator `{c}`: use `{c}{c}`")));
                }
                i += 2;
                out.push((start, if c == '&' { Token::And } else { Token::Or }));
            }
            '(' => {
                i += 1;
                out.push((start, Token::Open));
            }
            ')' => {
                i += 1;
                out.push((start, Token::Close));
            }
            _ if c.is_ascii_alphabetic() => {
                while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word != "null" {
                    return Err(err(
                        start,
                        &format!("unexpected `{word}`: strings are quoted and variables start with `$`"),
                    ));
                }
                out.push((start, Token::Null));
            }
            _ => return Err(err(start, &format!("unexpected character `{c}`"))),
        }
    }
    Ok(out)
}

/// Parse an expression.
pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
    let tokens = lex(text)?;
    let mut p = Parser { tokens: &tokens, at: 0, end: text.chars().count() };
    if tokens.is_empty() {
        return Err(SyntaxError { at: 0, message: "the expression is empty".into() });
    }
    let e = p.or()?;
    if let Some((at, _)) = tokens.get(p.at) {
        return Err(SyntaxError { at: *at, message: "unexpected text after the expression".into() });
    }
    Ok(e)
}

struct Parser<'a> {
    tokens: &'a [(usize, Token)],
    at: usize,
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(i, _)| *i)
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.comparison()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.comparison()?));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let left = self.operand()?;
        if let Some(Token::Op(op)) = self.peek().cloned() {
            self.at += 1;
            let at = self.here();
            let right = self.operand()?;
            if matches!(op, Op::Match | Op::NoMatch) && !matches!(right, Expr::Regex { .. } | Expr::Var(_)) {
                return Err(SyntaxError { at, message: "the right side of =~ and !~ is a /regex/".into() });
            }
            return Ok(Expr::Compare { op, left: Box::new(left), right: Box::new(right) });
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Expr, SyntaxError> {
        let at = self.here();
        let Some(token) = self.peek().cloned() else {
            return Err(SyntaxError { at, message: "the expression ends where a value is expected".into() });
        };
        self.at += 1;
        Ok(match token {
            Token::Var(v) => Expr::Var(v),
            Token::Str(s) => Expr::Str(s),
            Token::Regex(pattern, flags) => {
                if let Err(e) = regex(&pattern, &flags) {
                    return Err(SyntaxError { at, message: format!("invalid regular expression: {e}") });
                }
                Expr::Regex { pattern, flags }
            }
            Token::Null => Expr::Null,
            Token::Open => {
                let e = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(SyntaxError {
                        at: self.here(),
                        message: "`(` is not closed with `)`".into(),
                    });
                }
                self.at += 1;
                e
            }
            _ => return Err(SyntaxError { at, message: "a value is expected here".into() }),
        })
    }
}

fn regex(pattern: &str, flags: &str) -> Result<regex::Regex, regex::Error> {
    let prefix = if flags.is_empty() { String::new() } else { format!("(?{flags})") };
    regex::Regex::new(&format!("{prefix}{pattern}"))
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Str(String),
    Regex(String, String),
}

impl Value {
    /// GitLab: a variable alone is true when it is defined and not empty.
    fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Str(s) => !s.is_empty(),
            Value::Regex(..) => true,
        }
    }
}

/// Evaluate against the pipeline's variables (undefined variables are `null`).
pub fn eval(e: &Expr, vars: &BTreeMap<String, String>) -> bool {
    value(e, vars).truthy()
}

fn value(e: &Expr, vars: &BTreeMap<String, String>) -> Value {
    let yes = |b: bool| if b { Value::Str("true".into()) } else { Value::Null };
    match e {
        Expr::Var(v) => vars.get(v).map_or(Value::Null, |s| Value::Str(s.clone())),
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Regex { pattern, flags } => Value::Regex(pattern.clone(), flags.clone()),
        Expr::Null => Value::Null,
        Expr::And(a, b) => yes(eval(a, vars) && eval(b, vars)),
        Expr::Or(a, b) => yes(eval(a, vars) || eval(b, vars)),
        Expr::Compare { op, left, right } => {
            let (l, r) = (value(left, vars), value(right, vars));
            match op {
                Op::Eq => yes(l == r),
                Op::Ne => yes(l != r),
                Op::Match => yes(matches(&l, &r)),
                Op::NoMatch => yes(!matches(&l, &r)),
            }
        }
    }
}

/// `=~`: the right side is a regex, or a variable holding `/pattern/flags`.
fn matches(left: &Value, right: &Value) -> bool {
    let Value::Str(subject) = left else { return false };
    let (pattern, flags) = match right {
        Value::Regex(p, f) => (p.clone(), f.clone()),
        Value::Str(s) => match s.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
            Some((p, f)) => (p.to_string(), f.to_string()),
            None => (regex::escape(s), String::new()),
        },
        Value::Null => return false,
    };
    regex(&pattern, &flags).is_ok_and(|re| re.is_match(subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<bool, SyntaxError> {
        let vars: BTreeMap<String, String> =
            [("CI_COMMIT_BRANCH", "main"), ("CI_PIPELINE_SOURCE", "push"), ("EMPTY", ""), ("RE", "/^ma/")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        parse(text).map(|e| eval(&e, &vars))
    }

    /// One row per case: expression → result, or the column of the syntax error.
    macro_rules! cases {
        ($($name:ident: $text:expr => $want:expr;)+) => {
            $(#[test] fn $name() { assert_eq!(run($text).map_err(|e| e.at), $want); })+
        };
    }

    cases! {
        equal: r#"$CI_COMMIT_BRANCH == "main""# => Ok(true);
        equal_single_quotes: "$CI_COMMIT_BRANCH == 'dev'" => Ok(false);
        not_equal: r#"$CI_PIPELINE_SOURCE != "merge_request_event""# => Ok(true);
        braced: r#"${CI_COMMIT_BRANCH} == "main""# => Ok(true);
        defined: "$CI_COMMIT_BRANCH" => Ok(true);
        undefined: "$CI_COMMIT_TAG" => Ok(false);
        empty_is_false: "$EMPTY" => Ok(false);
        null_compare: "$CI_COMMIT_TAG == null" => Ok(true);
        empty_is_not_null: "$EMPTY == null" => Ok(false);
        regex: "$CI_COMMIT_BRANCH =~ /^ma/" => Ok(true);
        regex_case: "$CI_COMMIT_BRANCH =~ /^MAIN$/i" => Ok(true);
        regex_no_match: "$CI_COMMIT_BRANCH !~ /^release/" => Ok(true);
        regex_from_variable: "$CI_COMMIT_BRANCH =~ $RE" => Ok(true);
        regex_on_undefined: "$CI_COMMIT_TAG =~ /.*/" => Ok(false);
        and_before_or: r#"$CI_COMMIT_TAG || $CI_COMMIT_BRANCH == "main" && $CI_PIPELINE_SOURCE == "push""# => Ok(true);
        parentheses: r#"($CI_COMMIT_TAG || $CI_COMMIT_BRANCH == "main") && $EMPTY"# => Ok(false);
        unclosed_string: r#"$A == "main"# => Err(6);
        single_equals: r#"$A = "x""# => Err(3);
        bare_word: "$A == main" => Err(6);
        unclosed_paren: "($A" => Err(3);
        bad_regex: "$A =~ /(/" => Err(6);
        regex_needs_regex: r#"$A =~ "x""# => Err(6);
        dangling_and: "$A &&" => Err(5);
        empty: "" => Err(0);
    }
}
