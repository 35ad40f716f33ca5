//! `on.schedule[].cron`: POSIX cron syntax (five fields; numbers, ranges, steps, lists, month and
//! day names) and GitHub's limit of one run every 5 minutes at most.

use crate::diagnostic::Diagnostic;
use crate::source::Source;
use crate::yaml::Node;

/// GitHub runs scheduled workflows at most once every this many minutes.
const MIN_INTERVAL: u32 = 5;

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MONTHS: &[&str] = &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: [Field; 5] = [
    Field { name: "minute", min: 0, max: 59, names: &[] },
    Field { name: "hour", min: 0, max: 23, names: &[] },
    Field { name: "day of month", min: 1, max: 31, names: &[] },
    Field { name: "month", min: 1, max: 12, names: MONTHS },
    // 7 is Sunday too in most crons; accepting it avoids a false alarm.
    Field { name: "day of week", min: 0, max: 7, names: DAYS },
];

/// Why a cron expression is wrong, and where (character range in the expression).
#[derive(Debug, PartialEq)]
pub struct CronError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

pub fn check(node: &Node, text: &str, source: &Source, out: &mut Vec<Diagnostic>) {
    match parse(text) {
        Err(e) => out.push(
            Diagnostic::error(
                "cron-syntax",
                node.span_in_scalar(source, e.start, e.end),
                format!("invalid cron expression `{text}`: {}", e.message),
            )
            .with_help("five fields: minute hour day-of-month month day-of-week, e.g. `30 5 * * 1-5`"),
        ),
        Ok(sets) => {
            let interval = shortest_interval(&sets[0], &sets[1]);
            if interval < MIN_INTERVAL {
                out.push(
                    Diagnostic::error(
                        "cron-too-frequent",
                        node.span_in_scalar(source, 0, text.chars().count()),
                        format!(
                            "`{text}` runs every {interval} minute(s); GitHub runs a schedule at most every {MIN_INTERVAL} minutes"
                        ),
                    )
                    .with_help("use `*/5` or a longer interval in the minute field"),
                );
            }
        }
    }
}

/// The values each of the five fields allows.
pub fn parse(text: &str) -> Result<[Vec<u32>; 5], CronError> {
    if text.trim_start().starts_with('@') {
        return Err(CronError {
            message: "GitHub does not support `@` shortcuts such as `@daily`".into(),
            start: 0,
            end: text.chars().count(),
        });
    }
    let fields = words(text);
    if fields.len() != 5 {
        return Err(CronError {
            message: format!("expected 5 fields, found {}", fields.len()),
            start: 0,
            end: text.chars().count(),
        });
    }
    let mut sets: [Vec<u32>; 5] = Default::default();
    for (i, (start, word)) in fields.iter().enumerate() {
        sets[i] = field_values(&FIELDS[i], word).map_err(|message| CronError {
            message: format!("{} field `{word}`: {message}", FIELDS[i].name),
            start: *start,
            end: start + word.chars().count(),
        })?;
    }
    Ok(sets)
}

/// Whitespace-separated words with their character index.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut byte_start = 0;
    for (ci, (bi, c)) in text.char_indices().enumerate() {
        match (c.is_whitespace(), start) {
            (false, None) => {
                start = Some(ci);
                byte_start = bi;
            }
            (true, Some(s)) => {
                out.push((s, &text[byte_start..bi]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[byte_start..]));
    }
    out
}

fn field_values(field: &Field, word: &str) -> Result<Vec<u32>, String> {
    let mut values = Vec::new();
    for part in word.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| format!("`{s}` is not a step number"))?;
                if step == 0 {
                    return Err("a step of 0 never advances".into());
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = match range {
            "*" => (field.min, field.max),
            _ => match range.split_once('-') {
                Some((a, b)) => (value(field, a)?, value(field, b)?),
                // `5/15` means from 5 to the end, every 15.
                None if step > 1 || part.contains('/') => (value(field, range)?, field.max),
                None => {
                    let v = value(field, range)?;
                    (v, v)
                }
            },
        };
        if lo > hi {
            return Err(format!("the range {lo}-{hi} ends before it starts"));
        }
        values.extend((lo..=hi).step_by(step as usize));
    }
    values.sort_unstable();
    values.dedup();
    Ok(values)
}

fn value(field: &Field, s: &str) -> Result<u32, String> {
    if s.is_empty() {
        return Err("a value is missing".into());
    }
    if let Some(i) = field.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(field.min + i as u32);
    }
    let v: u32 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v < field.min || v > field.max {
        return Err(format!("{v} is outside {}-{}", field.min, field.max));
    }
    Ok(v)
}

/// The shortest time in minutes between two runs, from the minutes and hours allowed.
fn shortest_interval(minutes: &[u32], hours: &[u32]) -> u32 {
    let mut shortest = u32::MAX;
    for pair in minutes.windows(2) {
        shortest = shortest.min(pair[1] - pair[0]);
    }
    // From the last minute of one hour to the first of the next, when both hours run.
    let next_hour_runs = hours.len() == 24 || hours.windows(2).any(|h| h[1] == h[0] + 1);
    if let (Some(first), Some(last)) = (minutes.first(), minutes.last())
        && next_hour_runs
    {
        shortest = shortest.min(60 - last + first);
    }
    shortest.min(60 * 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! interval {
        ($($name:ident: $text:expr => $want:expr;)+) => {$(
            #[test]
            fn $name() {
                let sets = parse($text).expect("valid");
                assert_eq!(shortest_interval(&sets[0], &sets[1]), $want);
            }
        )+};
    }

    interval! {
        every_minute: "* * * * *" => 1;
        every_five: "*/5 * * * *" => 5;
        every_four: "*/4 * * * *" => 4;
        hourly: "0 * * * *" => 60;
        daily: "30 5 * * *" => 60 * 24;
        list_close: "0,3 * * * *" => 3;
        wrap_across_hours: "0,58 * * * *" => 2;
        no_wrap_when_hours_apart: "0,58 1,5 * * *" => 58;
        range_step: "10-30/10 * * * 1-5" => 10;
        names: "0 12 * JAN-MAR mon,WED" => 60 * 24;
    }

    macro_rules! invalid {
        ($($name:ident: $text:expr => ($start:expr, $end:expr);)+) => {$(
            #[test]
            fn $name() {
                let e = parse($text).expect_err("invalid");
                assert_eq!((e.start, e.end), ($start, $end), "{}", e.message);
            }
        )+};
    }

    invalid! {
        four_fields: "0 */3 * *" => (0, 9);
        minute_out_of_range: "60 * * * *" => (0, 2);
        bad_hour: "0 2x * * *" => (2, 4);
        reversed: "0 0 * * 5-1" => (8, 11);
        zero_step: "*/0 * * * *" => (0, 3);
        shortcut: "@daily" => (0, 6);
        bad_month_name: "0 0 1 foo *" => (6, 9);
    }
}
