//! A very large workflow read on two threads. Reading YAML is sequential, and for a file of
//! 100,000 jobs it is about half of `pipe validate`'s time; but such a file is one long `jobs:`
//! mapping, and a line of that mapping's own indentation always starts one of its keys: a block
//! scalar, a multi-line flow scalar or a flow collection that spanned it would have to be
//! indented deeper, or be left open before it, which is a syntax error of the first half. So the
//! text is cut at such a line near the middle of the mapping, the halves are read at once, and
//! the second half's entries join the first half's `jobs:` with their positions moved to where
//! they are in the file. The result is the tree of a single reading, node for node and span for
//! span; whenever that cannot be sure (a problem in either half, anchors or aliases, a key in
//! both halves, `jobs:` not the last key at the top) the file is read again in one piece.

use super::{Diagnostic, Dialect, Node, Value};
use crate::source::Pos;

/// Files below this size are read in one piece: a thread costs more than it saves.
pub(super) const MIN_BYTES: usize = 1 << 20;

/// The tree and problems of `text` read in two halves, or `None` when it must be read in one.
pub(super) fn parse(text: &str, dialect: Dialect) -> Option<(Option<Node>, Vec<Diagnostic>)> {
    let cut = cut(text)?;
    let (head, tail) = text.split_at(cut);
    let (first, second) = std::thread::scope(|scope| {
        // The second half's root stands for `jobs:`, one level below the file's root.
        let second = scope.spawn(|| super::parse_part(tail, dialect, 1));
        (super::parse_part(head, dialect, 0), second.join().ok())
    });
    let second = second?;
    if first.anchored || second.anchored || !first.diags.is_empty() || !second.diags.is_empty() {
        return None;
    }
    let mut root = first.root?;
    let mut rest = second.root?;
    let moved = Pos::new(head.chars().count(), head.bytes().filter(|&b| b == b'\n').count(), 0);
    shift(&mut rest, moved);
    let end = rest.span.end;
    let Value::Map(rest_entries) = rest.value else { return None };
    // What the first half left open ended there at the end of its text; read in one piece it
    // ends where the next token starts: the second half's first key.
    let next = rest_entries.first()?.0.span.start;
    let head_end = Pos { offset: moved.offset, line: moved.line + 1, col: 1 };
    let Value::Map(top) = &mut root.value else { return None };
    let (key, jobs) = top.last_mut()?;
    if !key.is_key("jobs") {
        return None;
    }
    let Value::Map(entries) = &mut jobs.value else { return None };
    if let Some((_, last)) = entries.last_mut() {
        close_at(last, head_end, next);
    }
    // A key in both halves is a duplicate the single reading reports: leave that to it.
    let first_keys: std::collections::HashSet<&str> =
        entries.iter().filter_map(|(k, _)| k.as_scalar().map(|s| s.text.as_str())).collect();
    if rest_entries.iter().any(|(k, _)| k.as_scalar().is_none_or(|s| first_keys.contains(s.text.as_str()))) {
        return None;
    }
    entries.extend(rest_entries);
    entries.shrink_to_fit();
    // Both mappings end where the file's last one does.
    jobs.span.end = end;
    root.span.end = end;
    Some((Some(root), Vec::new()))
}

/// Where to cut `text`: the start of a line of the top-level `jobs:` mapping's own indentation,
/// starting a plain key, about halfway through the mapping. `None` unless `jobs:` is the last
/// top-level key, written as a block mapping, every line after it indented at least as deep as
/// its entries (or blank, or a comment), and two keys at least.
fn cut(text: &str) -> Option<usize> {
    let mut lines = line_starts(text);
    let jobs_line = lines.by_ref().find(|&(_, line)| line.trim_end() == "jobs:")?;
    let block_start = jobs_line.0 + jobs_line.1.len() + 1;
    if block_start >= text.len() {
        return None;
    }
    let mut indent = None;
    let mut candidates = Vec::new();
    // A cut right after a blank or comment line would leave it to the first half: where a
    // block scalar ends then is not certain, so such keys are not cut at.
    let mut after_content = false;
    for (start, line) in line_starts(&text[block_start..]) {
        let content = line.trim_start_matches(' ');
        if content.trim_end().is_empty() || content.starts_with('#') {
            after_content = false;
            continue;
        }
        let depth = line.len() - content.len();
        let indent = *indent.get_or_insert(depth);
        if depth == 0 || depth < indent || content.starts_with('\t') {
            return None;
        }
        if after_content
            && depth == indent
            && content.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            candidates.push(block_start + start);
        }
        after_content = true;
    }
    // The first key of the mapping is never a candidate (nothing of it precedes), so either
    // half holds one key at least.
    let middle = block_start + (text.len() - block_start) / 2;
    let at = candidates.partition_point(|&c| c < middle).min(candidates.len().checked_sub(1)?);
    Some(candidates[at])
}

/// Each line of `text` with the byte offset it starts at (without its line break).
fn line_starts(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |piece| {
        let start = offset;
        offset += piece.len();
        (start, piece.strip_suffix('\n').unwrap_or(piece))
    })
}

/// `node` and its last descendants, as far as they end at `open` (the end of the text they were
/// read from), end at `next` instead.
fn close_at(node: &mut Node, open: Pos, next: Pos) {
    if node.span.end != open {
        return;
    }
    node.span.end = next;
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => {
            if let Some(last) = items.last_mut() {
                close_at(last, open, next);
            }
        }
        Value::Map(entries) => {
            if let Some((_, last)) = entries.last_mut() {
                close_at(last, open, next);
            }
        }
    }
}

/// Move every position of `node` and below by `by` characters and lines.
fn shift(node: &mut Node, by: Pos) {
    for pos in [&mut node.span.start, &mut node.span.end] {
        pos.offset = pos.offset.saturating_add(by.offset);
        pos.line = pos.line.saturating_add(by.line);
    }
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, by)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift(k, by);
            shift(v, by);
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> String {
        let mut s = String::from("on: push\njobs:\n");
        for i in 0..n {
            s.push_str(&format!("  j{i}:\n    runs-on: ubuntu-latest\n"));
            if i > 0 {
                s.push_str(&format!("    needs: j{}\n", i - 1));
            }
            s.push_str("    steps:\n      - run: |\n          echo {i}\n\n          true\n");
        }
        s
    }

    fn single(text: &str) -> (Option<Node>, Vec<Diagnostic>) {
        let part = super::super::parse_part(text, Dialect::Github, 0);
        (part.root, part.diags)
    }

    #[test]
    fn two_halves_give_the_tree_of_one_reading() {
        for text in [
            chain(2),
            chain(301),
            format!("name: x\n# a comment\n{}# the end\n\n", chain(40)),
            chain(40).replace("jobs:\n", "jobs:   \n# jobs below\n"),
            chain(40).replace("\n", "\r\n"),
            "on: push\njobs:\n  a: {runs-on: x, steps: [{run: 'a\n    b'}]}\n  b:\n    runs-on: \"y\n      z\"\n  c: [1,\n    2]\n"
                .to_string(),
        ] {
            let parsed = parse(&text, Dialect::Github);
            let (tree, diags) = parsed.unwrap_or_else(|| panic!("not read in halves:\n{text}"));
            assert_eq!((tree, diags), single(&text), "{text}");
        }
    }

    #[test]
    fn what_cannot_be_cut_safely_is_read_in_one_piece() {
        let anchors = chain(20)
            .replacen("ubuntu-latest", "&os ubuntu-latest", 1)
            .replace("j19:\n    runs-on: ubuntu-latest", "j19:\n    runs-on: *os");
        let duplicate = format!("{}  j0:\n    runs-on: x\n", chain(20));
        let after = format!("{}env: {{}}\n", chain(20));
        let open_quote =
            chain(20).replace("  j10:\n    runs-on: ubuntu-latest", "  j10:\n    runs-on: 'ubuntu-latest");
        let deep_dedent = chain(20).replacen("  j15:", " j15:", 1);
        let flow = "on: push\njobs: {a: 1, b: 2}\n".to_string();
        for text in [anchors, duplicate, after, open_quote, deep_dedent, flow, chain(1)] {
            assert!(parse(&text, Dialect::Github).is_none(), "read in halves:\n{text}");
            let (tree, diags) = super::super::parse_with(&text, Dialect::Github);
            assert_eq!((tree, diags), single(&text));
        }
    }

    /// Every YAML file of the repository (fixtures of every rule, the examples, the fuzz
    /// corpus's seeds), and each with its jobs written out ten times over under new ids: read in
    /// halves wherever that is done, the tree and problems are those of one reading.
    #[test]
    fn every_workflow_of_the_repository_reads_the_same_in_halves() {
        let files = super::super::repository_yaml_files();
        assert!(files.len() > 100, "{} files", files.len());
        let (mut halved, mut whole) = (0, 0);
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else { continue };
            let mut texts = vec![text.clone()];
            // The jobs block repeated with each top-level job id suffixed: many cut points.
            if let Some(at) = text.find("\njobs:\n") {
                let (head, block) = text.split_at(at + "\njobs:\n".len());
                let mut grown = head.to_string();
                for copy in 0..10 {
                    for line in block.split_inclusive('\n') {
                        let key = line
                            .strip_prefix("  ")
                            .filter(|l| l.starts_with(|c: char| c.is_ascii_alphanumeric()));
                        match key.and_then(|l| l.split_once(':')) {
                            Some((id, rest)) => grown.push_str(&format!("  {id}{copy}:{rest}")),
                            None => grown.push_str(line),
                        }
                    }
                }
                texts.push(grown);
            }
            for text in texts {
                for dialect in [Dialect::Github, Dialect::Gitlab] {
                    match parse(&text, dialect) {
                        Some(parsed) => {
                            halved += 1;
                            let part = super::super::parse_part(&text, dialect, 0);
                            assert_eq!(parsed, (part.root, part.diags), "{}", file.display());
                        }
                        None => whole += 1,
                    }
                }
            }
        }
        assert!(halved > 100, "read in halves: {halved}, in one piece: {whole}");
    }

    /// The nesting limit counts from the file's root in the second half too: as deep as one
    /// reading allows is read in halves, one level more is refused as one reading refuses it.
    #[test]
    fn the_nesting_limit_is_the_same_in_the_second_half() {
        let nested = |levels: usize| {
            let value = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
            chain(40).replace("  j30:\n", &format!("  j30:\n    x: {value}\n"))
        };
        // Root, jobs and the job's mapping, then 61 sequences: 64 levels.
        let deepest = nested(61);
        assert!(cut(&deepest).unwrap() < deepest.find("  j30:").unwrap(), "j30 is in the second half");
        let parsed = parse(&deepest, Dialect::Github).expect("read in halves");
        assert!(parsed.1.is_empty());
        assert_eq!(parsed, single(&deepest));
        let deeper = nested(62);
        assert!(parse(&deeper, Dialect::Github).is_none());
        assert_eq!(single(&deeper).1[0].rule, "yaml-syntax");
    }

    #[test]
    fn the_cut_is_a_key_of_jobs_near_the_middle() {
        let text = chain(100);
        let at = cut(&text).unwrap();
        assert!(text[at..].starts_with("  j"), "{}", &text[at..at + 10]);
        let ratio = at as f64 / text.len() as f64;
        assert!((0.4..0.6).contains(&ratio), "{ratio}");
    }
}
