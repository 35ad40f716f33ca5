//! Reporters: consumers of run events. The JSON reporter prints the event stream; the text
//! reporter prints what a person wants to follow.

mod json;
mod text;

pub use json::JsonReporter;
pub use text::TextReporter;
