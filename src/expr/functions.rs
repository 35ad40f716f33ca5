//! The built-in function table, shared by the parser (arity checks), the
//! evaluator and static analysis.

/// Signature facts about one built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Canonical spelling (names are matched case-insensitively).
    pub name: &'static str,
    pub min_args: usize,
    /// `None` means no upper bound.
    pub max_args: Option<usize>,
    /// `case()` needs predicate/value pairs plus a default: an odd count.
    pub odd_args: bool,
    /// Status-check functions disable the implicit `success() &&` of `if:`.
    pub is_status: bool,
}

const fn f(name: &'static str, min_args: usize, max_args: Option<usize>) -> FunctionSpec {
    FunctionSpec { name, min_args, max_args, odd_args: false, is_status: false }
}

const fn status(name: &'static str) -> FunctionSpec {
    FunctionSpec { name, min_args: 0, max_args: Some(0), odd_args: false, is_status: true }
}

/// Every function GitHub Actions expressions know.
pub const FUNCTIONS: &[FunctionSpec] = &[
    f("contains", 2, Some(2)),
    f("startsWith", 2, Some(2)),
    f("endsWith", 2, Some(2)),
    f("format", 1, None),
    f("join", 1, Some(2)),
    f("toJSON", 1, Some(1)),
    f("fromJSON", 1, Some(1)),
    f("hashFiles", 1, None),
    FunctionSpec { name: "case", min_args: 3, max_args: None, odd_args: true, is_status: false },
    status("success"),
    status("always"),
    status("cancelled"),
    status("failure"),
];

/// Case-insensitive lookup.
pub fn lookup(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|spec| spec.name.eq_ignore_ascii_case(name))
}

impl FunctionSpec {
    /// Checks an argument count, returning a message when it is wrong.
    pub fn check_arity(&self, argc: usize) -> Result<(), String> {
        let expected = match self.max_args {
            Some(max) if max == self.min_args => format!("{max}"),
            Some(max) => format!("{} to {max}", self.min_args),
            None => format!("at least {}", self.min_args),
        };
        if argc < self.min_args {
            return Err(format!("too few arguments to `{}`: expected {expected}, found {argc}", self.name));
        }
        if self.max_args.is_some_and(|max| argc > max) {
            return Err(format!("too many arguments to `{}`: expected {expected}, found {argc}", self.name));
        }
        if self.odd_args && argc.is_multiple_of(2) {
            return Err(format!(
                "`{}` expects predicate/value pairs followed by a default (an odd number of arguments), found {argc}",
                self.name
            ));
        }
        Ok(())
    }
}
