//! Colours, applied only when the output style says so (never console's own guess: the choice
//! is made once, in `style`).

use console::Style;

use crate::event::Conclusion;

/// `text` in `style` when `color`, else as is.
pub fn paint(color: bool, style: Style, text: &str) -> String {
    if color { style.force_styling(true).apply_to(text).to_string() } else { text.to_string() }
}

/// The colour of a result.
pub fn result_style(c: Conclusion) -> Style {
    match c {
        Conclusion::Success => Style::new().green(),
        Conclusion::Failure => Style::new().red().bold(),
        Conclusion::Cancelled | Conclusion::Interrupted => Style::new().yellow(),
        Conclusion::Skipped => Style::new().dim(),
    }
}

/// The word for a result in the lines of a run.
pub fn mark(c: Conclusion) -> &'static str {
    match c {
        Conclusion::Success => "ok",
        Conclusion::Failure => "FAILED",
        Conclusion::Skipped => "skipped",
        Conclusion::Cancelled => "cancelled",
        Conclusion::Interrupted => "interrupted",
    }
}

/// A step's line without escape sequences or other control characters (tabs stay): raw escapes
/// reach only a terminal with colours on, never a file or a pipe.
pub fn without_controls(line: &str) -> std::borrow::Cow<'_, str> {
    // Most lines have neither: no C0 control but the tab, no DEL and no C1 control (its UTF-8
    // encoding starts with 0xC2), so no escape sequence either.
    if line.bytes().all(|b| (b >= 0x20 && b != 0x7f && b != 0xc2) || b == b'\t') {
        return line.into();
    }
    let stripped = console::strip_ansi_codes(line);
    if !stripped.chars().any(|c| c.is_control() && c != '\t') {
        return stripped;
    }
    stripped.chars().filter(|c| !c.is_control() || *c == '\t').collect::<String>().into()
}

/// A step's line as this output may show it: as written with colours on, else without controls.
pub fn output_line(line: &str, color: bool) -> std::borrow::Cow<'_, str> {
    if color { line.into() } else { without_controls(line) }
}

/// A duration as people read it: `0.4s`, `12.0s`, `3m05s`.
pub fn duration(ms: u64) -> String {
    if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        let s = ms / 1000;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(0), "0.0s");
        assert_eq!(duration(420), "0.4s");
        assert_eq!(duration(59_949), "59.9s");
        assert_eq!(duration(185_000), "3m05s");
    }

    #[test]
    fn step_lines_lose_their_escapes_without_colour() {
        assert_eq!(output_line("\u{1b}[31mred\u{1b}[0m\tok\u{7}", false), "red\tok");
        assert_eq!(output_line("\u{1b}[31mred", true), "\u{1b}[31mred");
    }

    #[test]
    fn no_escape_codes_without_colour() {
        assert_eq!(paint(false, result_style(Conclusion::Failure), "FAILED"), "FAILED");
        assert!(paint(true, result_style(Conclusion::Failure), "FAILED").starts_with("\u{1b}["));
    }
}
