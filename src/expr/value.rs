//! Runtime values of the expression language and their coercions.
//!
//! The rules follow GitHub's "Evaluate expressions in workflows and actions"
//! page: loose typing, numbers are IEEE doubles, objects keep insertion order
//! and are looked up case-insensitively.

use std::fmt;

use super::text::eq_ignore_case;

/// A value produced by evaluating an expression or read from a context.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    /// Key/value pairs in insertion order (GitHub's `toJSON` keeps it).
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Builds an object from key/value pairs, keeping their order.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Case-insensitive property lookup; `None` on non-objects or a missing key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(pairs) => pairs.iter().find(|(k, _)| eq_ignore_case(k, key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a dotted path of case-insensitive keys (`"event.pull_request"`).
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self, |v, key| v.get(key))
    }

    /// GitHub truthiness: `false`, `0`, `-0`, `NaN`, `''` and `null` are falsy.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
            Value::Array(_) | Value::Object(_) => true,
        }
    }

    /// Null, booleans, numbers and strings; arrays and objects are not.
    pub fn is_primitive(&self) -> bool {
        !matches!(self, Value::Array(_) | Value::Object(_))
    }

    /// Number coercion used by comparisons between different types.
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::String(s) => parse_number(s),
            Value::Array(_) | Value::Object(_) => f64::NAN,
        }
    }

    /// A short type name for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// String to number the way GitHub does it: trimmed; empty is 0; decimal
/// with optional sign, fraction and exponent; `0x` hex and `0o` octal
/// (32-bit, as .NET parses them); `Infinity`/`-Infinity`; otherwise NaN.
pub fn parse_number(s: &str) -> f64 {
    let s = s.trim();
    if s.is_empty() {
        return 0.0;
    }
    if let Some(n) = parse_decimal(s) {
        return n;
    }
    if let Some(digits) = s.strip_prefix("0x") {
        return parse_radix_i32(digits, 16).unwrap_or(f64::NAN);
    }
    if let Some(digits) = s.strip_prefix("0o") {
        return parse_radix_i32(digits, 8).unwrap_or(f64::NAN);
    }
    match s {
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => f64::NAN,
    }
}

/// Decimal numbers only: Rust's `f64::from_str` also accepts `inf` and
/// `nan`, which GitHub does not, so the alphabet is checked first.
fn parse_decimal(s: &str) -> Option<f64> {
    let ok = s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !ok || !s.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<f64>().ok()
}

/// .NET reads hex with `Int32.TryParse(AllowHexSpecifier)`: up to 32 bits,
/// two's complement (so `0xffffffff` is -1); more bits fail.
fn parse_radix_i32(digits: &str, radix: u32) -> Option<f64> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = u64::from_str_radix(digits.trim_start_matches('0'), radix)
        .ok()
        .or_else(|| digits.chars().all(|c| c == '0').then_some(0))?;
    let n = u32::try_from(n).ok()?;
    if radix == 16 {
        // Reinterpretation of the 32 bits as signed is intended here.
        Some(f64::from(n as i32))
    } else {
        // Octal goes through Convert.ToInt32, which rejects overflow.
        i32::try_from(n).ok().map(f64::from)
    }
}

/// Number to string as GitHub prints it (.NET `G15`): integers without a
/// fraction, up to 15 significant digits, scientific notation (`1E+15`,
/// `1E-05`) for very large or very small magnitudes.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".to_string();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if n == 0.0 {
        return "0".to_string();
    }
    // `{:.14e}` rounds to 15 significant digits and gives the exponent after
    // rounding, so carries like 9.999…→10 are already accounted for.
    let sci = format!("{:.14e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if n < 0.0 { "-" } else { "" };
    if (-5 < exp) && (exp < 15) {
        let digits = digits.as_str();
        let body = if exp >= 0 {
            let split = usize::try_from(exp + 1).unwrap_or(1).min(digits.len());
            let (int, frac) = digits.split_at(split);
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") }
        } else {
            let zeros = "0".repeat(usize::try_from(-exp - 1).unwrap_or(0));
            format!("0.{zeros}{}", digits.trim_end_matches('0'))
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = rest.trim_end_matches('0');
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}{rest}E{esign}{:02}", exp.abs())
    }
}

/// The string form used by interpolation, `format`, `join`, `contains`…:
/// null is empty, booleans `true`/`false`, numbers as [`format_number`],
/// arrays and objects `Array`/`Object`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::String(s) => f.write_str(s),
            Value::Array(_) => f.write_str("Array"),
            Value::Object(_) => f.write_str("Object"),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        // Precision loss above 2^53 is inherent to the language's numbers.
        Value::Number(n as f64)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}
