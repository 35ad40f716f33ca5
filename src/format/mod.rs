//! The pipeline format as data. One declarative description of every key drives three things:
//! the structural checks of `pipe validate` (unknown keys, missing keys, wrong types and values),
//! the JSON Schema that `pipe schema` prints, and nothing else can drift from it.

mod check;
pub mod events;
mod schema;
mod workflow;

pub use check::check;
pub use schema::json_schema;
pub use workflow::{EVENTS, SHELLS, WORKFLOW};

/// The expected shape of a YAML value.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Any non-null scalar, used as a string.
    String,
    /// A string as YAML types it (quoted, or plain and not a number, boolean or null), where
    /// the reader rejects other scalars: GitLab's `only:`/`except:` lists.
    Text,
    /// `true`/`false`, or a string holding an expression.
    Bool,
    /// A number, or a string holding an expression.
    Number,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// A sequence of items of one shape.
    Seq(&'static Shape),
    /// A mapping with known keys (and, optionally, any other key of one shape).
    Object(&'static Object),
    /// The first alternative whose kind (scalar, sequence, mapping) fits is used.
    OneOf(&'static [Shape]),
    /// Anything, checked elsewhere or not at all.
    Any,
    /// `null`, for event triggers written as `push:` with nothing after.
    Null,
    /// One `${{ }}` expression standing where GitHub also accepts a mapping or a sequence
    /// (`services: ${{ fromJSON(...) }}`): evaluated at run time.
    Expr,
}

#[derive(Debug)]
pub struct Object {
    /// Name used in the schema's `$defs` and in messages ("job", "step").
    pub name: &'static str,
    pub description: &'static str,
    pub keys: &'static [Key],
    /// Shape of keys not listed; `None` makes them errors.
    pub other_keys: Option<&'static Shape>,
    /// Keys listed as required are not required when this key is present (a job calling a
    /// reusable workflow with `uses:` has no `runs-on`/`steps`).
    pub required_unless: Option<&'static str>,
}

#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    pub description: &'static str,
}

/// A key that may be absent.
pub const fn opt(name: &'static str, shape: Shape, description: &'static str) -> Key {
    Key { name, shape, required: false, description }
}

/// A key that must be present.
pub const fn req(name: &'static str, shape: Shape, description: &'static str) -> Key {
    Key { name, shape, required: true, description }
}

/// A mapping whose keys are free (env, with, outputs) and whose values have one shape.
pub const fn map_of(name: &'static str, description: &'static str, value: &'static Shape) -> Object {
    Object { name, description, keys: &[], other_keys: Some(value), required_unless: None }
}
