//! Types of expression values, as far as they are known before the run. `Any` is the answer
//! whenever pipe cannot know (fromJSON results, `github.event` of most events, untyped inputs):
//! nothing is ever reported about an `Any`.

/// A value's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Any,
    Null,
    Bool,
    Number,
    String,
    Array(Box<Ty>),
    /// An object with known properties. `strict`: a property not listed is a mistake (the
    /// `github` context); otherwise it is `Any` and other checks judge it (`steps.<id>`).
    Object {
        props: Vec<(String, Ty)>,
        strict: bool,
    },
    /// A documented context's object, from a static table.
    Static(&'static [(&'static str, Shape)]),
    /// Any property name, each of one type (`env`, `secrets`, outputs).
    Map(Box<Ty>),
}

/// The static form of a type, for the context tables.
#[derive(Debug, PartialEq)]
pub enum Shape {
    Bool,
    Number,
    String,
    Object(&'static [(&'static str, Shape)]),
    Map(&'static Shape),
    /// An object whose properties are not known (`github.event`).
    Open,
}

impl Shape {
    pub fn ty(&'static self) -> Ty {
        match self {
            Shape::Bool => Ty::Bool,
            Shape::Number => Ty::Number,
            Shape::String => Ty::String,
            Shape::Object(props) => Ty::Static(props),
            Shape::Map(v) => Ty::Map(Box::new(v.ty())),
            Shape::Open => Ty::Object { props: Vec::new(), strict: false },
        }
    }
}

impl Ty {
    pub fn name(&self) -> &'static str {
        match self {
            Ty::Any => "any",
            Ty::Null => "null",
            Ty::Bool => "a boolean",
            Ty::Number => "a number",
            Ty::String => "a string",
            Ty::Array(_) => "an array",
            Ty::Object { .. } | Ty::Static(_) | Ty::Map(_) => "an object",
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Ty::Object { .. } | Ty::Static(_) | Ty::Map(_))
    }

    /// An object or an array: what turns into `Object`/`Array` in a string and `NaN` in a comparison.
    pub fn is_composite(&self) -> bool {
        self.is_object() || matches!(self, Ty::Array(_))
    }

    /// The type of the values of an object (for `.*` and `[expr]`).
    pub fn values(&self) -> Ty {
        match self {
            Ty::Map(v) => (**v).clone(),
            Ty::Object { props, .. } => common(props.iter().map(|(_, t)| t.clone())),
            Ty::Static(props) => common(props.iter().map(|(_, s)| s.ty())),
            _ => Ty::Any,
        }
    }
}

/// The one type every item has, else `Any`.
pub fn common(mut types: impl Iterator<Item = Ty>) -> Ty {
    let Some(first) = types.next() else { return Ty::Any };
    if types.all(|t| t == first) { first } else { Ty::Any }
}

/// The type of a JSON value written in the file (matrix values, input defaults).
pub fn of_json(v: &serde_json::Value) -> Ty {
    match v {
        serde_json::Value::Null => Ty::Null,
        serde_json::Value::Bool(_) => Ty::Bool,
        serde_json::Value::Number(_) => Ty::Number,
        serde_json::Value::String(s) if s.contains("${{") => Ty::Any,
        serde_json::Value::String(_) => Ty::String,
        // Objects and arrays in a matrix are read property by property: left open.
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => Ty::Any,
    }
}
