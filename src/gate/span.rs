//! Byte ranges from the TOML parser turned into the character line/col spans diagnostics use.

use std::ops::Range;

use crate::source::{Pos, Source, Span};

/// The span of a byte range of `source` (clamped to the text, snapped to character boundaries).
pub fn span_of(source: &Source, bytes: Range<usize>) -> Span {
    Span::new(pos_of(source, bytes.start), pos_of(source, bytes.end))
}

/// The line/col position of a byte offset.
pub fn pos_of(source: &Source, byte: usize) -> Pos {
    let text = source.text.as_str();
    let mut byte = byte.min(text.len());
    // The parser reports byte offsets; a stray one inside a character would split it.
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..byte].chars().count() + 1;
    Pos::new(before.chars().count(), line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_become_character_columns() {
        let s = Source::new("pipe.toml", "a = 1\nçé = \"x\"\n");
        assert_eq!(pos_of(&s, 0), Pos { offset: 0, line: 1, col: 1 });
        // `=` on line 2 is after two 2-byte characters and a space.
        assert_eq!(pos_of(&s, 6 + 5), Pos { offset: 9, line: 2, col: 4 });
        // Inside a character: snapped back to its start.
        assert_eq!(pos_of(&s, 7), Pos { offset: 6, line: 2, col: 1 });
        assert_eq!(pos_of(&s, 999).line, 3);
    }
}
