//! From a line and column of a `run:` script (as shellcheck reports them) back to the workflow
//! file. The script is the scalar's value; the file holds it indented (`|`), folded (`>`: one
//! script line may span several file lines), plain or quoted. Each file line is matched to the
//! piece of the value it holds, so that a column inside any of them lands on the right character.

use crate::model::Text;
use crate::source::{Pos, Source};
use crate::yaml::Style;

/// A run of value characters that sits on one file line.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Character index in the value where the piece starts.
    start: usize,
    len: usize,
    line: usize,
    /// 1-based file column of the piece's first character.
    col: usize,
}

/// The map of one scalar: value character index → file position.
pub struct ScriptMap<'a> {
    text: &'a Text,
    source: &'a Source,
    value: Vec<char>,
    /// Character index where each value line starts.
    line_starts: Vec<usize>,
    pieces: Vec<Piece>,
}

impl<'a> ScriptMap<'a> {
    pub fn new(text: &'a Text, source: &'a Source) -> Self {
        let value: Vec<char> = text.value.chars().collect();
        let mut line_starts = vec![0];
        line_starts.extend(value.iter().enumerate().filter(|(_, c)| **c == '\n').map(|(i, _)| i + 1));
        let pieces = pieces(text, &value, source);
        ScriptMap { text, source, value, line_starts, pieces }
    }

    /// The file position of a 1-based script line and column (columns count characters, a tab
    /// is one, as shellcheck's json1 format counts them).
    pub fn pos(&self, line: usize, col: usize) -> Pos {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.span.start;
        };
        let line_end = self.line_starts.get(line).map_or(self.value.len(), |&next| next - 1);
        let index = (start + col.saturating_sub(1)).min(line_end);
        self.pos_of(index)
    }

    fn pos_of(&self, index: usize) -> Pos {
        let piece = self.pieces.iter().rev().find(|p| p.start <= index);
        match piece {
            Some(p) => {
                let within = (index - p.start).min(p.len);
                self.source.pos_at(p.line, p.col + within)
            }
            None => self.text.pos(self.source, index),
        }
    }
}

/// Match the file lines of the scalar to the value, in order. Lines that do not match (a comment
/// after a plain scalar, escapes in a double-quoted one) end the matching; positions after them
/// fall back to the scalar's generic position.
fn pieces(text: &Text, value: &[char], source: &Source) -> Vec<Piece> {
    let quoted = matches!(text.style, Style::SingleQuoted | Style::DoubleQuoted);
    let block = matches!(text.style, Style::Literal | Style::Folded);
    let first = text.span.start.line as usize;
    let (start_col, end_line, end_col) =
        (text.span.start.col as usize, text.span.end.line as usize, text.span.end.col as usize);
    let last = end_line.max(first);
    let mut out = Vec::new();
    let mut cursor = 0;
    for line_no in first..=last {
        if cursor >= value.len() {
            break;
        }
        let line: Vec<char> = source.line(line_no).chars().collect();
        // Where this line's part of the scalar starts (after the opening quote on the first).
        let from = if line_no == first { start_col - 1 + usize::from(quoted) } else { 0 };
        let mut to = line.len();
        if line_no == end_line && !block {
            to = to.min(end_col.saturating_sub(1 + usize::from(quoted)));
        }
        let from = from.min(to);
        let indent = line[from..to].iter().take_while(|c| **c == ' ' || **c == '\t').count();
        let content = &line[from + indent..to];
        if content.is_empty() {
            // A blank file line is a line break in the value (literal and folded alike).
            if value.get(cursor) == Some(&'\n') {
                cursor += 1;
            }
            continue;
        }
        // A more-indented line of a block keeps its extra spaces in the value.
        let lead = value[cursor..].iter().take_while(|c| **c == ' ' || **c == '\t').count().min(indent);
        let at = cursor + lead;
        let rest = &value[at..];
        let len = if rest.starts_with(content) {
            content.len()
        } else {
            // The value's line may be a prefix of the file line (a trailing `# comment`).
            let end = rest.iter().position(|c| *c == '\n').unwrap_or(rest.len());
            if end == 0 || !content.starts_with(&rest[..end]) {
                break;
            }
            end
        };
        if lead > 0 {
            out.push(Piece { start: cursor, len: lead, line: line_no, col: from + indent - lead + 1 });
        }
        out.push(Piece { start: at, len, line: line_no, col: from + indent + 1 });
        cursor = at + len;
        // The line break (literal) or the space it folded into (folded, plain, quoted).
        if matches!(value.get(cursor), Some('\n' | ' ')) {
            cursor += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(yaml: &str) -> (Source, Text) {
        let source = Source::new("f.yml", yaml);
        let (root, _) = crate::yaml::parse(yaml);
        let node = root.unwrap().get("run").unwrap().clone();
        let s = node.as_scalar().unwrap();
        (source.clone(), Text { value: s.text.clone(), span: node.span, style: s.style })
    }

    fn at(yaml: &str, line: usize, col: usize) -> (usize, usize) {
        let (source, text) = run_text(yaml);
        let map = ScriptMap::new(&text, &source);
        let p = map.pos(line, col);
        (p.line as usize, p.col as usize)
    }

    #[test]
    fn literal_blocks_keep_lines_and_extra_indentation() {
        let y = "run: |\n  echo a\n    echo $x\n\n  ls $y\n";
        assert_eq!(at(y, 1, 1), (2, 3));
        assert_eq!(at(y, 2, 8), (3, 10));
        assert_eq!(at(y, 4, 4), (5, 6));
    }

    #[test]
    fn folded_blocks_join_lines() {
        // Value: "echo a echo $x\nls $y\n"
        let y = "run: >\n  echo a\n  echo $x\n\n  ls $y\n";
        assert_eq!(at(y, 1, 13), (3, 8));
        assert_eq!(at(y, 1, 1), (2, 3));
        assert_eq!(at(y, 2, 4), (5, 6));
    }

    #[test]
    fn plain_and_quoted_scalars() {
        assert_eq!(at("run: echo $x # note\n", 1, 6), (1, 11));
        assert_eq!(at("run: 'echo $x'\n", 1, 6), (1, 12));
        assert_eq!(at("run: \"echo $x\"\n", 1, 6), (1, 12));
        // A plain scalar over two lines folds into one.
        assert_eq!(at("run: echo a\n  $x\n", 1, 8), (2, 3));
    }
}
