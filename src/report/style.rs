//! How human output looks: a live view (spinners, redrawn lines) or plain lines, with or without
//! colours. Decided once, from facts gathered at the start, by one pure function.

use crate::cli::ColorChoice;

/// What the choice depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The stream the output goes to is a terminal.
    pub terminal: bool,
    /// `CI` is set (to anything but `false` or empty): logs are read later, never redrawn.
    pub ci: bool,
    /// `NO_COLOR` is set and not empty.
    pub no_color: bool,
    /// `TERM=dumb`: the terminal cannot move the cursor.
    pub dumb: bool,
    /// `--color`.
    pub choice: ColorChoice,
    /// `-q`: results and problems only.
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Spinners and lines redrawn in place.
    pub live: bool,
    /// ANSI colours.
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { live: false, color: false };

    /// The one place where the output style is decided.
    pub fn choose(f: Facts) -> Style {
        let plain_world = !f.terminal || f.ci || f.no_color || f.dumb;
        let color = match f.choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !plain_world,
        };
        let live = !plain_world && !f.quiet && f.choice != ColorChoice::Never;
        Style { live, color }
    }
}

impl Facts {
    /// The facts of this process for a stream that is (or is not) a terminal.
    pub fn of_process(terminal: bool, choice: ColorChoice, quiet: bool) -> Facts {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && !v.eq_ignore_ascii_case("false"));
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Facts { terminal, ci, no_color: set("NO_COLOR"), dumb, choice, quiet }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColorChoice::{Always, Auto, Never};

    const TTY: Facts =
        Facts { terminal: true, ci: false, no_color: false, dumb: false, choice: Auto, quiet: false };

    macro_rules! style {
        ($($name:ident: $facts:expr => live $live:expr, color $color:expr;)+) => {
            $(#[test]
            fn $name() {
                assert_eq!(Style::choose($facts), Style { live: $live, color: $color });
            })+
        };
    }

    style! {
        terminal: TTY => live true, color true;
        pipe_or_file: Facts { terminal: false, ..TTY } => live false, color false;
        under_ci: Facts { ci: true, ..TTY } => live false, color false;
        no_color: Facts { no_color: true, ..TTY } => live false, color false;
        dumb_terminal: Facts { dumb: true, ..TTY } => live false, color false;
        color_never: Facts { choice: Never, ..TTY } => live false, color false;
        color_always_in_a_pipe: Facts { terminal: false, choice: Always, ..TTY } => live false, color true;
        color_always_under_ci: Facts { ci: true, choice: Always, ..TTY } => live false, color true;
        color_always_beats_no_color: Facts { no_color: true, choice: Always, ..TTY } => live false, color true;
        color_always_on_a_terminal: Facts { choice: Always, ..TTY } => live true, color true;
        quiet_on_a_terminal: Facts { quiet: true, ..TTY } => live false, color true;
    }
}
