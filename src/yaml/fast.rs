//! A reader for the YAML that workflows are written in: block mappings and sequences, plain,
//! quoted and block scalars, comments, and flow collections on one line. It gives the builder
//! the same events, with the same spans, as saphyr-parser does, in a fraction of the time.
//!
//! Anything else (anchors, aliases, tags, complex keys, multi-line plain, quoted or flow
//! scalars, tabs, CR line ends, a second document, an error of any kind) makes it give up
//! with `None`, and the text is read again by saphyr-parser: the fast path never has to be
//! right about a rare form, only to recognise it. The tests compare both readings of every
//! YAML file of the repository.

use std::borrow::Cow;

use saphyr_parser::{Event, ScalarStyle};

use super::Builder;
use crate::source::{Pos, Span};

/// Collections nested deeper than this are left to saphyr-parser (and the builder's limit).
const MAX_NESTING: usize = 48;

/// Read `text` into `builder`; `None` when the text is not of the form this reader knows.
pub(super) fn read(text: &str, builder: &mut Builder) -> Option<()> {
    let b = text.as_bytes();
    if !b.ends_with(b"\n")
        || memchr::memchr3(b'\t', b'\r', b'\0', b).is_some()
        || text.starts_with('\u{feff}')
    {
        return None;
    }
    let mut r = Reader {
        text,
        b,
        at: 0,
        line: 1,
        line_start: 0,
        line_chars: 0,
        ascii: text.is_ascii(),
        builder,
        nesting: 0,
        started: false,
    };
    r.document()
}

struct Reader<'a, 'b> {
    text: &'a str,
    b: &'a [u8],
    /// The byte read next.
    at: usize,
    /// The 1-based line of `at`, where it starts (in bytes) and its first character's index.
    line: usize,
    line_start: usize,
    line_chars: usize,
    ascii: bool,
    builder: &'b mut Builder,
    nesting: usize,
    /// Past the first token (or the `---` that starts the document).
    started: bool,
}

impl<'a> Reader<'a, '_> {
    fn document(&mut self) -> Option<()> {
        let mut indent = self.skip_to_content()?;
        if indent == EOF {
            return None;
        }
        if indent == 0
            && self.b[self.at..].starts_with(b"---")
            && matches!(self.byte(self.at + 3), b' ' | b'\n')
        {
            self.at += 3;
            self.started = true;
            self.rest_of_line()?;
            indent = self.skip_to_content()?;
        }
        if indent == EOF || !self.is_key_line() {
            return None;
        }
        self.started = true;
        self.map(indent)?;
        (self.at == self.b.len()).then_some(())
    }

    // ---- positions -------------------------------------------------------------------------

    fn byte(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(b'\n')
    }

    /// The position of byte `i` of the current line.
    fn pos(&self, i: usize) -> Pos {
        let col = if self.ascii { i - self.line_start } else { chars(&self.b[self.line_start..i]) };
        Pos::new(self.line_chars + col, self.line, col + 1)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.pos(start), self.pos(end))
    }

    /// Move to the start of the next line (the current one ends with a line feed).
    fn next_line(&mut self) {
        let end = memchr::memchr(b'\n', &self.b[self.at..]).map_or(self.b.len(), |i| self.at + i + 1);
        self.line_chars +=
            if self.ascii { end - self.line_start } else { chars(&self.b[self.line_start..end]) };
        self.line_start = end;
        self.at = end;
        self.line += 1;
    }

    fn skip_spaces(&mut self) {
        while self.byte(self.at) == b' ' && self.at < self.b.len() {
            self.at += 1;
        }
    }

    /// From the start of a line (or from a line's first token), the indentation of the next line
    /// holding a token, with `at` on that token; `None` at the end of the text. A document marker
    /// gives up.
    fn skip_to_content(&mut self) -> Option<usize> {
        if self.at != self.line_start && self.b[self.line_start..self.at].iter().all(|&c| c == b' ') {
            return Some(self.at - self.line_start);
        }
        debug_assert_eq!(self.at, self.line_start);
        while self.at < self.b.len() {
            self.skip_spaces();
            match self.b[self.at] {
                b'\n' | b'#' => self.next_line(),
                _ => {
                    let indent = self.at - self.line_start;
                    let marker = |m: &[u8]| {
                        self.b[self.at..].starts_with(m) && matches!(self.byte(self.at + 3), b' ' | b'\n')
                    };
                    if indent == 0
                        && (marker(b"---") || marker(b"...") || self.b[self.at] == b'%')
                        && self.started
                    {
                        return None;
                    }
                    return Some(indent);
                }
            }
        }
        Some(EOF)
    }

    /// After a token: spaces, then a comment or the line's end; `at` moves to the next line.
    fn rest_of_line(&mut self) -> Option<()> {
        self.skip_spaces();
        match self.byte(self.at) {
            b'\n' => {}
            b'#' if self.at == self.line_start || self.b[self.at - 1] == b' ' => {}
            _ => return None,
        }
        self.next_line();
        Some(())
    }

    fn emit(&mut self, event: Event<'_>, span: Span) -> Option<()> {
        self.builder.event(event, span).then_some(())
    }

    fn scalar(&mut self, text: Cow<'_, str>, style: ScalarStyle, span: Span) -> Option<()> {
        self.emit(Event::Scalar(text, style, 0, None), span)
    }

    fn text(&self, start: usize, end: usize) -> &'a str {
        // Both ends are ASCII bytes of the text, so they are character boundaries.
        self.text.get(start..end).unwrap_or_default()
    }

    fn after_spaces(&self, mut i: usize) -> usize {
        while self.byte(i) == b' ' && i < self.b.len() {
            i += 1;
        }
        i
    }

    /// Where saphyr-parser ends a token other than a plain scalar that ends before byte `i`: where
    /// the next one starts, past spaces and past a comment up to the line's end.
    fn token_end(&self, i: usize) -> usize {
        let to = self.after_spaces(i);
        if self.b[to] == b'#' && to > i { self.eol(to) } else { to }
    }

    /// The line feed ending the line of byte `i`.
    fn eol(&self, i: usize) -> usize {
        memchr::memchr(b'\n', &self.b[i..]).map_or(self.b.len(), |n| i + n)
    }

    fn is_item(&self) -> bool {
        self.byte(self.at) == b'-' && matches!(self.byte(self.at + 1), b' ' | b'\n')
    }

    // ---- block collections -----------------------------------------------------------------

    fn nest(&mut self) -> Option<()> {
        self.nesting += 1;
        (self.nesting <= MAX_NESTING).then_some(())
    }

    /// A node whose first token starts a line at `indent`, inside a collection at `parent`.
    fn block_node(&mut self, parent: isize, indent: usize) -> Option<()> {
        if self.is_item() {
            self.seq(indent, false)
        } else if self.is_key_line() {
            self.map(indent)
        } else {
            self.inline(parent)
        }
    }

    /// A block mapping whose keys are at `indent`; `at` is on its first key.
    fn map(&mut self, indent: usize) -> Option<()> {
        self.nest()?;
        self.emit(Event::MappingStart(0, None), self.span(self.at, self.at))?;
        loop {
            let colon = self.key()?;
            self.value(indent, colon)?;
            match self.skip_to_content()? {
                EOF => break,
                c if c < indent => break,
                c if c == indent && !self.is_item() => {}
                _ => return None,
            }
        }
        self.emit(Event::MappingEnd, self.span(self.at, self.at))?;
        self.nesting -= 1;
        Some(())
    }

    /// A block sequence whose `-` are at `indent` (at the indentation of the mapping it is the
    /// value of when `indentless`); `at` is on its first `-`.
    fn seq(&mut self, indent: usize, indentless: bool) -> Option<()> {
        self.nest()?;
        let start = if indentless { self.token_end(self.at + 1) } else { self.at };
        self.emit(Event::SequenceStart(0, None), self.span(start, start))?;
        loop {
            self.at += 1;
            let after_dash = self.at;
            self.skip_spaces();
            match self.b[self.at] {
                b'\n' | b'#' => {
                    let empty = self.token_end(after_dash);
                    let pos = self.span(empty, empty);
                    self.rest_of_line()?;
                    match self.skip_to_content()? {
                        c if c != EOF && c > indent => self.block_node(indent as isize, c)?,
                        _ => self.scalar(Cow::Borrowed(""), ScalarStyle::Plain, pos)?,
                    }
                }
                _ => {
                    let col = self.at - self.line_start;
                    if self.is_item() {
                        self.seq(col, false)?;
                    } else if self.is_key_line() {
                        self.map(col)?;
                    } else if matches!(self.b[self.at], b'|' | b'>') {
                        self.block_scalar(indent as isize)?;
                    } else {
                        self.inline(indent as isize)?;
                    }
                }
            }
            match self.skip_to_content()? {
                EOF => break,
                c if c < indent => break,
                c if c == indent && self.is_item() => {}
                c if c == indent && indentless => break,
                _ => return None,
            }
        }
        self.emit(Event::SequenceEnd, self.span(self.at, self.at))?;
        self.nesting -= 1;
        Some(())
    }

    /// A mapping key and its `:`; `at` moves past the colon, whose position is returned.
    fn key(&mut self) -> Option<Pos> {
        let start = self.at;
        match self.b[start] {
            b'"' | b'\'' => self.quoted_scalar(|_, end| end)?,
            _ => {
                let (end, stop) = self.plain_block(start)?;
                if stop != Stop::Colon {
                    return None;
                }
                let span = self.span(start, end);
                self.scalar(Cow::Borrowed(self.text(start, end)), ScalarStyle::Plain, span)?;
                self.at = end;
            }
        }
        // Spaces before the colon are left to saphyr-parser, whose key span then takes them in.
        if self.byte(self.at) != b':' || !matches!(self.byte(self.at + 1), b' ' | b'\n') {
            return None;
        }
        let colon = self.pos(self.at);
        self.at += 1;
        Some(colon)
    }

    /// The value after a key of a mapping at `indent` whose colon is at `colon`.
    fn value(&mut self, indent: usize, colon: Pos) -> Option<()> {
        self.skip_spaces();
        match self.byte(self.at) {
            b'\n' | b'#' => {
                self.rest_of_line()?;
                match self.skip_to_content()? {
                    c if c != EOF && c > indent => self.block_node(indent as isize, c),
                    c if c == indent && self.is_item() => self.seq(indent, true),
                    _ => self.scalar(Cow::Borrowed(""), ScalarStyle::Plain, Span::point(colon)),
                }
            }
            b'|' | b'>' => self.block_scalar(indent as isize),
            _ => self.inline(indent as isize),
        }
    }

    /// Whether the token at `at` is a mapping key (a one-line scalar followed by `: `).
    fn is_key_line(&self) -> bool {
        let end = match self.b[self.at] {
            q @ (b'"' | b'\'') => match self.quoted_end(q) {
                Some(end) => end,
                None => return false,
            },
            _ => match self.plain_block(self.at) {
                Some((end, Stop::Colon)) => end,
                _ => return false,
            },
        };
        self.byte(end) == b':' && matches!(self.byte(end + 1), b' ' | b'\n')
    }

    // ---- scalars and flow collections on one line ----------------------------------------

    /// A scalar or flow collection that starts at `at` and ends on this line, inside a block
    /// collection at `parent`: nothing of it may continue on a more indented line.
    fn inline(&mut self, parent: isize) -> Option<()> {
        let start = self.at;
        match self.b[start] {
            b'[' | b'{' => {
                self.flow()?;
            }
            b'"' | b'\'' => self.quoted_scalar(Self::token_end)?,
            _ => {
                let (end, stop) = self.plain_block(start)?;
                if stop == Stop::Colon {
                    return None;
                }
                let first = self.pos(start);
                let mut text = Cow::Borrowed(self.text(start, end));
                self.at = end;
                let last =
                    if stop == Stop::Line { self.plain_lines(parent, &mut text)? } else { self.pos(end) };
                self.scalar(text, ScalarStyle::Plain, Span::new(first, last))?;
            }
        }
        self.rest_of_line()?;
        match self.skip_to_content()? {
            c if c != EOF && c as isize > parent => None,
            _ => Some(()),
        }
    }

    /// The lines a plain scalar of a collection at `parent` goes on over, after the one whose
    /// text ends at `at`: each more indented line joins with a space, or with a line feed per
    /// blank line between. `at` moves to the end of the last one, whose position is returned.
    fn plain_lines(&mut self, parent: isize, text: &mut Cow<'a, str>) -> Option<Pos> {
        let mut last = self.pos(self.at);
        loop {
            let (mut i, mut blanks) = (self.eol(self.at) + 1, 0);
            let (line_start, first) = loop {
                if i >= self.b.len() {
                    return Some(last);
                }
                let spaces = self.b[i..].iter().take_while(|&&c| c == b' ').count();
                if self.b[i + spaces] != b'\n' {
                    break (i, i + spaces);
                }
                blanks += 1;
                i += spaces + 1;
            };
            if (first - line_start) as isize <= parent || self.b[first] == b'#' {
                return Some(last);
            }
            while self.line_start < line_start {
                self.next_line();
            }
            let (end, stop) = self.plain_block(first)?;
            if stop == Stop::Colon {
                return None;
            }
            let joined = text.to_mut();
            if blanks == 0 {
                joined.push(' ');
            } else {
                joined.extend(std::iter::repeat_n('\n', blanks));
            }
            joined.push_str(self.text(first, end));
            self.at = end;
            last = self.pos(end);
            if stop == Stop::Comment {
                return Some(last);
            }
        }
    }

    /// The end of a plain scalar of block context starting at `start` (trailing spaces left
    /// out) and what stopped it; `None` when it cannot start a plain scalar here.
    fn plain_block(&self, start: usize) -> Option<(usize, Stop)> {
        let first = self.b[start];
        let next = self.byte(start + 1);
        let indicator = is_indicator(first);
        if indicator || first == b'\n' || (first == b'-' && matches!(next, b' ' | b'\n')) {
            return None;
        }
        let mut i = start;
        let stop = loop {
            match self.b[i] {
                b'\n' => break Stop::Line,
                b':' if matches!(self.byte(i + 1), b' ' | b'\n') => break Stop::Colon,
                b'#' if self.b[i - 1] == b' ' => break Stop::Comment,
                _ => i += 1,
            }
        };
        while self.b[i - 1] == b' ' {
            i -= 1;
        }
        Some((i, stop))
    }

    /// The one-line quoted scalar opening at `at`, whose span ends where `span_end` says from the
    /// byte after its closing quote (saphyr-parser's spans differ by context); `at` moves to that
    /// byte.
    fn quoted_scalar(&mut self, span_end: fn(&Self, usize) -> usize) -> Option<()> {
        let (start, q) = (self.at, self.b[self.at]);
        let (text, end) = self.quoted(q)?;
        let style = if q == b'"' { ScalarStyle::DoubleQuoted } else { ScalarStyle::SingleQuoted };
        let span = self.span(start, span_end(self, end));
        self.scalar(text, style, span)?;
        self.at = end;
        Some(())
    }

    /// The byte after the closing quote of a one-line quoted scalar opening at `at`.
    fn quoted_end(&self, q: u8) -> Option<usize> {
        let mut i = self.at + 1;
        loop {
            match self.byte(i) {
                b'\n' => return None,
                b'\\' if q == b'"' => i += 2,
                c if c == q => {
                    if q == b'\'' && self.byte(i + 1) == b'\'' {
                        i += 2;
                    } else {
                        return Some(i + 1);
                    }
                }
                _ => i += 1,
            }
        }
    }

    /// A one-line quoted scalar opening at `at`: its value and the byte after it.
    fn quoted(&self, q: u8) -> Option<(Cow<'a, str>, usize)> {
        let end = self.quoted_end(q)?;
        let body = &self.b[self.at + 1..end - 1];
        let escape = if q == b'"' { b'\\' } else { b'\'' };
        if !body.contains(&escape) {
            return Some((Cow::Borrowed(self.text(self.at + 1, end - 1)), end));
        }
        let mut out = Vec::with_capacity(body.len());
        let mut i = 0;
        while i < body.len() {
            let c = body[i];
            if c != escape {
                out.push(c);
                i += 1;
                continue;
            }
            let e = body.get(i + 1).copied()?;
            if q == b'\'' {
                out.push(b'\'');
            } else {
                out.extend_from_slice(match e {
                    b'\\' => b"\\",
                    b'"' => b"\"",
                    b'/' => b"/",
                    b' ' => b" ",
                    b'n' => b"\n",
                    b't' => b"\t",
                    b'r' => b"\r",
                    b'0' => b"\0",
                    b'a' => b"\x07",
                    b'b' => b"\x08",
                    b'e' => b"\x1b",
                    b'f' => b"\x0c",
                    b'v' => b"\x0b",
                    _ => return None,
                });
            }
            i += 2;
        }
        Some((Cow::Owned(String::from_utf8(out).ok()?), end))
    }

    /// A flow sequence or mapping that closes on this line; `at` moves past it.
    fn flow(&mut self) -> Option<()> {
        self.nest()?;
        let open = self.b[self.at];
        let (close, start, end) = if open == b'[' {
            (b']', Event::SequenceStart(0, None), Event::SequenceEnd)
        } else {
            (b'}', Event::MappingStart(0, None), Event::MappingEnd)
        };
        // A bracket's span, like a quoted scalar's, takes in the spaces after it.
        self.emit(start, self.span(self.at, self.after_spaces(self.at + 1)))?;
        self.at += 1;
        loop {
            self.skip_spaces();
            if self.b[self.at] == close {
                break;
            }
            if open == b'[' && self.flow_pair_ahead() {
                self.flow_pair()?;
            } else {
                self.flow_node()?;
            }
            if open == b'{' {
                self.skip_spaces();
                self.flow_value(close)?;
            }
            self.skip_spaces();
            match self.b[self.at] {
                // saphyr-parser ends a mapping closed after a trailing comma at the comma.
                b',' if open == b'{' && self.b[self.after_spaces(self.at + 1)] == b'}' => return None,
                b',' => self.at += 1,
                c if c == close => {}
                _ => return None,
            }
        }
        self.emit(end, self.span(self.at, self.token_end(self.at + 1)))?;
        self.at += 1;
        self.nesting -= 1;
        Some(())
    }

    /// One entry of a flow collection: a nested collection, a quoted or a plain scalar.
    fn flow_node(&mut self) -> Option<()> {
        let start = self.at;
        match self.b[start] {
            b'[' | b'{' => self.flow(),
            b'"' | b'\'' => self.quoted_scalar(Self::after_spaces),
            _ => {
                let (i, _) = self.plain_flow(start)?;
                let span = self.span(start, i);
                self.scalar(Cow::Borrowed(self.text(start, i)), ScalarStyle::Plain, span)?;
                self.at = i;
                Some(())
            }
        }
    }

    /// The end of a plain scalar of flow context starting at `start` (trailing spaces left out)
    /// and whether `: ` follows it.
    fn plain_flow(&self, start: usize) -> Option<(usize, bool)> {
        let first = self.b[start];
        let indicator = is_indicator(first) || matches!(first, b'\n' | b' ');
        if indicator || (first == b'-' && matches!(self.byte(start + 1), b' ' | b',' | b']' | b'}' | b'\n')) {
            return None;
        }
        let mut i = start;
        let colon = loop {
            match self.b[i] {
                b',' | b'[' | b']' | b'{' | b'}' | b'\n' => break false,
                b':' if self.byte(i + 1) == b' ' => break true,
                b':' | b'#' => return None,
                _ => i += 1,
            }
        };
        while self.b[i - 1] == b' ' {
            i -= 1;
        }
        Some((i, colon))
    }

    /// Whether the entry of a flow sequence at `at` is a pair (`[key: value]`): a one-line
    /// scalar followed by `: `.
    fn flow_pair_ahead(&self) -> bool {
        let end = match self.b[self.at] {
            q @ (b'"' | b'\'') => match self.quoted_end(q) {
                Some(end) => end,
                None => return false,
            },
            _ => match self.plain_flow(self.at) {
                Some((end, true)) => end,
                _ => return false,
            },
        };
        self.byte(end) == b':' && self.byte(end + 1) == b' '
    }

    /// The `: ` after a key of a flow collection closed by `close`, and the value after it (an
    /// empty value is left to saphyr-parser).
    fn flow_value(&mut self, close: u8) -> Option<()> {
        if self.b[self.at] != b':' || self.byte(self.at + 1) != b' ' {
            return None;
        }
        self.at += 1;
        self.skip_spaces();
        if self.b[self.at] == b',' || self.b[self.at] == close {
            return None;
        }
        self.flow_node()
    }

    /// A pair in a flow sequence: a mapping of one entry, from its key to where the next token starts.
    fn flow_pair(&mut self) -> Option<()> {
        self.emit(Event::MappingStart(0, None), self.span(self.at, self.at))?;
        self.flow_node()?;
        self.flow_value(b']')?;
        self.skip_spaces();
        self.emit(Event::MappingEnd, self.span(self.at, self.at))
    }

    // ---- block scalars ---------------------------------------------------------------------

    /// A literal (`|`) or folded (`>`) scalar whose header is at `at`, inside a block collection
    /// at `parent`.
    fn block_scalar(&mut self, parent: isize) -> Option<()> {
        let literal = self.b[self.at] == b'|';
        self.at += 1;
        let chomp = match self.b[self.at] {
            b'-' => Chomp::Strip,
            b'+' => Chomp::Keep,
            _ => Chomp::Clip,
        };
        if chomp != Chomp::Clip {
            self.at += 1;
        }
        if !matches!(self.b[self.at], b' ' | b'\n') {
            return None;
        }
        self.rest_of_line()?;
        // The first line that is not blank sets the indentation of the content.
        let (mut blank_max, mut i) = (0, self.at);
        let indent = loop {
            let spaces = self.b[i..].iter().take_while(|&&c| c == b' ').count();
            if i + spaces >= self.b.len() {
                return None;
            }
            if self.b[i + spaces] != b'\n' {
                break spaces;
            }
            blank_max = blank_max.max(spaces);
            i += spaces + 1;
        };
        if indent as isize <= parent || blank_max > indent {
            return None;
        }
        let mut lines: Vec<Line<'a>> = Vec::new();
        let mut start = None;
        let end = loop {
            if self.at == self.b.len() {
                break self.span(self.at, self.at);
            }
            let spaces = self.b[self.at..].iter().take_while(|&&c| c == b' ').count();
            let first = self.at + spaces;
            if self.b[first] == b'\n' && spaces <= indent {
                lines.push(Line::Blank);
            } else if spaces < indent {
                break self.span(first, first);
            } else {
                let content = self.at + indent;
                start.get_or_insert_with(|| self.pos(content));
                let eol = self.eol(content);
                lines.push(Line::Text(self.text(content, eol), spaces > indent));
            }
            self.next_line();
        };
        let span = Span::new(start?, end.start);
        let value = if literal { literal_value(&lines, chomp) } else { folded_value(&lines, chomp) };
        let style = if literal { ScalarStyle::Literal } else { ScalarStyle::Folded };
        // Leave `at` at the start of the line that ended the scalar.
        self.at = self.line_start;
        self.scalar(Cow::Owned(value), style, span)
    }
}

/// What [`skip_to_content`](Reader::skip_to_content) gives at the end of the text.
const EOF: usize = usize::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Line,
    Colon,
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// A line of a block scalar: blank, or its text after the indentation and whether it is
/// indented further.
enum Line<'a> {
    Blank,
    Text(&'a str, bool),
}

/// The line feeds after the last text line, as chomping keeps them.
fn chomped(mut out: String, lines: &[Line<'_>], chomp: Chomp) -> String {
    let trailing = lines.iter().rev().take_while(|l| matches!(l, Line::Blank)).count();
    match chomp {
        Chomp::Strip => {}
        Chomp::Clip => out.push('\n'),
        Chomp::Keep => out.extend(std::iter::repeat_n('\n', trailing + 1)),
    }
    out
}

fn literal_value(lines: &[Line<'_>], chomp: Chomp) -> String {
    let last = lines.iter().rposition(|l| matches!(l, Line::Text(..))).unwrap_or(0);
    let mut out = String::new();
    for (n, line) in lines[..=last].iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if let Line::Text(t, _) = line {
            out.push_str(t);
        }
    }
    chomped(out, lines, chomp)
}

/// Folding: a line break between two lines that are not indented further becomes a space,
/// or is dropped before blank lines, which each stay a line feed.
fn folded_value(lines: &[Line<'_>], chomp: Chomp) -> String {
    let mut out = String::new();
    let (mut previous, mut blanks) = (None, 0);
    for line in lines {
        match line {
            Line::Blank => blanks += 1,
            Line::Text(t, more) => {
                match previous {
                    None => out.extend(std::iter::repeat_n('\n', blanks)),
                    Some(false) if !more && blanks == 0 => out.push(' '),
                    Some(false) if !more => out.extend(std::iter::repeat_n('\n', blanks)),
                    Some(_) => out.extend(std::iter::repeat_n('\n', blanks + 1)),
                }
                out.push_str(t);
                previous = Some(*more);
                blanks = 0;
            }
        }
    }
    chomped(out, lines, chomp)
}

/// YAML's indicator characters, which cannot start a plain scalar.
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'&' | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'?'
            | b':'
            | b'"'
            | b'\''
    )
}

/// Characters in UTF-8 bytes.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&c| c & 0xC0 != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::super::{Dialect, fast_part, saphyr_part};

    /// Whether the fast path read `text`; when it did, its tree and problems are saphyr-parser's.
    fn same(text: &str, what: &str) -> bool {
        let mut fast = false;
        for dialect in [Dialect::Github, Dialect::Gitlab] {
            let Some(part) = fast_part(text, dialect, 0) else { continue };
            fast = true;
            let slow = saphyr_part(text, dialect, 0);
            assert_eq!((part.root, part.diags), (slow.root, slow.diags), "{what}:\n{text}");
        }
        fast
    }

    #[test]
    fn the_forms_of_workflows_read_as_saphyr_parser_reads_them() {
        let read = [
            "on: push\njobs:\n  a:\n    runs-on: x   # c\n    steps:\n    - run: |\n        echo a\n\n        b\n\n    - uses: \"x/y@v1\"\n      with:\n        k:\n    # comment\n  b: [a, \"b\", {c: d}]\n\n# end\n",
            "---\nsteps:\n  - a é\n  - b\nx: é1\ny: |\n  l1\n# c\nz: >-\n  f1\n  f2\n\n  f3\n    more\n  f4\nw:   # c\nv:\n  -\n    q: 1\n  - - n1\n    - n2\nu: a#b c  # d\nt: \"a: b\"\nlast: |+\n  keep\n\n",
            "a: |\n\n  l1\n\n # c\nb:\n- \n  x: 1\n- \n- y\nc:\n  - \n  - z\nd:\n  e\nf: >\n  a\n   b\n  c\n\n\n  d\n  \n",
            "a: 'it''s'\nb: \"q\\\"x\\\\y\\n\"\n'c d': \"e\"\nh: [ ]\ni: {}\nj: [a, [b, c], {d: e}, ]\nk: -1\nl: --flag\nm: https://x.y/z\nn: a:b\n",
            "a: 1\nb: 2\na: 3\n<<: {x: 1}\n",
            "x: ${{ a }}\ny: ${{ b && 'c' }} # d\n",
            "jobs:\n  a:\n    steps:\n      - name: 🚀 go\n        run: >\n          echo ü\n          more\n      - run: echo 'ä'\n",
            "a: |-\n    x\n      y\n\n    z\nb: >+\n  k\n\n\nc: |\n  tail\n",
            "a:\n  b:\n    c:\n      d: 1\n  e: 2\nf: 3\n",
            "  a: 1\n  b:\n  - x\n  - y\n",
            "a:\n- b: 1\n  c: 2\n- d\ne: f\n",
            "a: {b: [c, {d: 'e'}]}  # f\n",
            "a:\n- # c\n  x: 1\nb:\n  - # d\n    y: 2\n  - # e\n  - f\nc: |\n  l1\n      \n  l2\n     \nd: >\n  l1\n      \n  l2\ne: one\n  two\n\n  three   \n   four\nf: x\ng:\n  - a\n    b # c\n",
            "a: [cron: \"40 1 * * *\"]\nb: [ x: y , z]\nc: [--all, -x]\n",
            "a: [ \"x\" , 'y' ]\nb: { \"k\": \"v\" }\nc: [[a] , {b: c} ]\nd: \"x\" # c\ne: 'y'   \nf:\n  - g: \"h\"  # i\n",
        ];
        for (n, text) in read.iter().enumerate() {
            assert!(same(text, &format!("case {n}")), "not read by the fast path:\n{text}");
        }
        // Forms it leaves to saphyr-parser: errors, anchors and aliases, a second document, tabs,
        // multi-line scalars, a key with spaces before its colon, escapes it does not decode, a
        // file that does not end with a line feed.
        for text in [
            "a: [1, 2\nb: 3\n",
            "a: b: c\n",
            "a: &x 1\nb: *x\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n\tb: 2\n",
            "a: b\n  c: d\n",
            "a: 'x\n  y'\n",
            "\"f\" : g\n",
            "a: \"\\u00e9\"\n",
            "z: [${{ x }}]\n",
            "a: 1",
            "",
            "# only a comment\n",
            "- a\n- b\n",
            "a: |\n   \n  y\n",
        ] {
            assert!(!same(text, "a form left to saphyr-parser"), "read by the fast path:\n{text}");
        }
    }

    /// Every YAML file of the repository, and those under `PIPE_YAML_CORPUS` (a folder of
    /// workflows to compare against, for a local run over real-world files).
    #[test]
    fn every_yaml_file_of_the_repository_reads_as_saphyr_parser_reads_it() {
        let mut files = super::super::repository_yaml_files();
        let repository = files.len();
        if let Some(extra) = std::env::var_os("PIPE_YAML_CORPUS") {
            super::super::yaml_files_below(std::path::Path::new(&extra), &mut files);
        }
        assert!(repository > 100, "{repository} files");
        let (mut fast, mut fast_of_repository) = (0, 0);
        let mut slow = Vec::new();
        for (n, file) in files.iter().enumerate() {
            let Ok(text) = std::fs::read_to_string(file) else { continue };
            if same(&text, &file.display().to_string()) {
                fast += 1;
                fast_of_repository += usize::from(n < repository);
            } else {
                slow.push(file.display().to_string());
            }
        }
        eprintln!("read by the fast path: {fast} of {}; left to saphyr-parser: {slow:#?}", files.len());
        // Most of the repository's files are workflows of the common form (some fixtures are
        // there for the forms that are not).
        assert!(
            fast_of_repository * 10 >= repository * 9,
            "the fast path read only {fast_of_repository} of {repository} files"
        );
    }

    /// Texts a byte away from the repository's files (deleted, replaced or inserted, chosen by a
    /// fixed pseudo-random sequence): the fast path never panics, and when it reads one, its
    /// tree and problems are saphyr-parser's.
    #[test]
    fn near_misses_of_real_files_read_as_saphyr_parser_reads_them() {
        const NOISE: &[u8] = b" :-#'\"[]{}|>,&*!?\n\\x";
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        let (mut tried, mut fast) = (0, 0);
        for file in super::super::repository_yaml_files() {
            let Ok(text) = std::fs::read_to_string(&file) else { continue };
            if !text.is_ascii() || text.is_empty() {
                continue;
            }
            for _ in 0..12 {
                let mut bytes = text.clone().into_bytes();
                let at = next(bytes.len());
                let c = NOISE[next(NOISE.len())];
                match next(3) {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => bytes[at] = c,
                    _ => bytes.insert(at, c),
                }
                let Ok(mutated) = String::from_utf8(bytes) else { continue };
                tried += 1;
                fast += usize::from(same(&mutated, &format!("{} changed at byte {at}", file.display())));
            }
        }
        assert!(tried > 1000 && fast > tried / 2, "{fast} of {tried} read by the fast path");
    }
}
