//! The name column in front of every line of a job: padded to the longest name of the plan so
//! the lines of parallel jobs align, and coloured per job (in order of appearance) on a terminal.

use std::collections::HashMap;

/// Colours for job names; red and green stay free for results.
const PALETTE: &[console::Color] = &[
    console::Color::Cyan,
    console::Color::Magenta,
    console::Color::Blue,
    console::Color::Yellow,
    console::Color::Color256(208),
    console::Color::Color256(141),
];

/// Names wider than this are not padded further: one long name does not push every line right.
const MAX_WIDTH: usize = 32;

pub struct Prefixes {
    width: usize,
    color: bool,
    colors: HashMap<String, console::Color>,
}

impl Prefixes {
    /// `names`: the jobs and legs the plan knows of (legs of a matrix expanded at run time and
    /// jobs of called workflows are measured when they appear).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>, color: bool) -> Self {
        let width = names.into_iter().map(console::measure_text_width).max().unwrap_or(0).min(MAX_WIDTH);
        Prefixes { width, color, colors: HashMap::new() }
    }

    /// `name` padded to the column, then ` |`.
    pub fn of(&mut self, name: &str) -> String {
        let name = self.name(name);
        format!("{name} {}", super::paint::paint(self.color, console::Style::new().dim(), "|"))
    }

    /// The name alone, padded and coloured like [`Prefixes::of`] (for the live view's lines).
    pub fn name(&mut self, name: &str) -> String {
        let pad = self.width.saturating_sub(console::measure_text_width(name));
        let padded = format!("{name}{:pad$}", "");
        if !self.color {
            return padded;
        }
        let next = PALETTE[self.colors.len() % PALETTE.len()];
        let color = *self.colors.entry(name.to_string()).or_insert(next);
        super::paint::paint(true, console::Style::new().fg(color).bold(), &padded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_padded_to_the_longest() {
        let mut p = Prefixes::new(["build", "test (3.12, linux)"], false);
        assert_eq!(p.of("build"), "build              |");
        assert_eq!(p.of("test (3.12, linux)"), "test (3.12, linux) |");
        assert_eq!(p.name("build"), "build             ");
        // A name that appears later and is longer is not cut.
        assert_eq!(p.of("a very long name of a called job"), "a very long name of a called job |");
    }

    #[test]
    fn each_job_keeps_its_colour() {
        let mut p = Prefixes::new(["a", "b"], true);
        let a = p.of("a");
        let b = p.of("b");
        assert_ne!(a, b);
        assert_eq!(p.of("a"), a);
        assert!(a.contains("\u{1b}["));
    }
}
