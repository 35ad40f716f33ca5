//! A file's text and positions in it. Positions count characters (as YAML parsers do), lines and
//! columns are 1-based (as editors show them); byte offsets are derived for rendering.

use std::fmt;

/// A position in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Pos {
    /// Character index from the start of the file. (`u32`s keep every span of the node tree and
    /// the model small: a 100,000-job file has millions of them; past 4 Gi characters they saturate.)
    pub offset: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

/// Which file a span is in: the file the user named, or one it includes (GitLab's
/// `include: local`), numbered in the order they were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct FileId(pub u16);

impl FileId {
    /// The file the user named.
    pub const MAIN: FileId = FileId(0);

    /// The `n`th included file (0-based).
    pub fn included(n: usize) -> FileId {
        FileId(u16::try_from(n + 1).unwrap_or(u16::MAX))
    }

    /// The index into the included files, `None` for the main file.
    pub fn included_index(self) -> Option<usize> {
        (self.0 > 0).then(|| usize::from(self.0) - 1)
    }
}

/// A half-open range of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Span {
    /// The file comes first, so that sorting keeps each file's problems together.
    #[serde(skip)]
    pub file: FileId,
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn new(start: Pos, end: Pos) -> Self {
        Span { file: FileId::MAIN, start, end: end.max(start) }
    }

    /// The same range, in `file`.
    #[must_use]
    pub fn in_file(mut self, file: FileId) -> Self {
        self.file = file;
        self
    }

    /// Line 1, column 1: for problems of a whole file.
    pub fn default_at_start() -> Self {
        Span::point(Pos { offset: 0, line: 1, col: 1 })
    }

    pub fn point(pos: Pos) -> Self {
        Span { file: FileId::MAIN, start: pos, end: pos }
    }
}

impl Pos {
    /// A position from `usize` counts (saturating at `u32::MAX`).
    pub fn new(offset: usize, line: usize, col: usize) -> Pos {
        Pos { offset: to_u32(offset), line: to_u32(line), col: to_u32(col) }
    }
}

/// A count as a position field, saturating.
pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A loaded file: its path as the user named it and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// Character offset of the start of each line (positions count characters).
    line_char_starts: Vec<usize>,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        // In ASCII text characters are bytes; otherwise count the characters of each line.
        let line_char_starts = if text.is_ascii() {
            line_starts.clone()
        } else {
            let mut chars = 0;
            let mut starts = Vec::with_capacity(line_starts.len());
            starts.push(0);
            for pair in line_starts.windows(2) {
                chars += text[pair[0]..pair[1]].chars().count();
                starts.push(chars);
            }
            starts
        };
        Source { path: path.into(), text, line_starts, line_char_starts }
    }

    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self.line_starts.get(line).map_or(self.text.len(), |&e| e);
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset of a position (clamped to the text).
    pub fn byte_offset(&self, pos: Pos) -> usize {
        let Some(&start) = self.line_starts.get((pos.line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        let line = self.line(pos.line as usize);
        let within =
            line.char_indices().nth((pos.col as usize).saturating_sub(1)).map_or(line.len(), |(i, _)| i);
        start + within
    }

    /// The position `n` characters after the start of a 1-based line, 1-based column `col`.
    pub fn pos_at(&self, line: usize, col: usize) -> Pos {
        let line = line.clamp(1, self.line_count());
        let offset = self.line_char_starts[line - 1] + col.saturating_sub(1);
        Pos::new(offset, line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_byte_offsets() {
        let s = Source::new("f.yml", "ab\nçd: x\n");
        assert_eq!(s.line(1), "ab");
        assert_eq!(s.line(2), "çd: x");
        assert_eq!(s.line(9), "");
        assert_eq!(s.byte_offset(Pos { offset: 4, line: 2, col: 2 }), 5);
        assert_eq!(s.pos_at(2, 3), Pos { offset: 5, line: 2, col: 3 });
        let ascii = Source::new("f.yml", "ab\ncd: x\n");
        assert_eq!(ascii.pos_at(2, 3), Pos { offset: 5, line: 2, col: 3 });
        assert_eq!(ascii.pos_at(3, 1), Pos { offset: 9, line: 3, col: 1 });
        assert_eq!(s.pos_at(3, 1), Pos { offset: 9, line: 3, col: 1 });
    }
}
