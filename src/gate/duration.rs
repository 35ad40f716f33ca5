//! `wait_timer` durations: `90s`, `5m`, `1h30m`, `0s` (hours, minutes, seconds, in that order).

use std::time::Duration;

/// Parse a duration like `1h30m`; the error says what is wrong in words for a diagnostic.
pub fn parse(text: &str) -> Result<Duration, String> {
    const HINT: &str = "use a whole number with a unit (h, m, s), like `30s`, `5m` or `1h30m`";
    if text.is_empty() {
        return Err(format!("an empty duration: {HINT}"));
    }
    let mut total: u64 = 0;
    let mut rest = text;
    // Units must appear in decreasing order and at most once: `30s1h` is more likely a mistake
    // than a sum.
    let mut allowed: &[(char, u64)] = &[('h', 3600), ('m', 60), ('s', 1)];
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("`{text}` is not a duration: {HINT}"));
        }
        let (number, after) = rest.split_at(digits);
        let Some(unit) = after.chars().next() else {
            return Err(format!("`{text}` has no unit: {HINT}"));
        };
        let Some(i) = allowed.iter().position(|(u, _)| *u == unit) else {
            return Err(format!("`{text}` is not a duration: {HINT}"));
        };
        let seconds = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(allowed[i].1))
            .and_then(|n| n.checked_add(total))
            .ok_or_else(|| format!("`{text}` is too long a duration"))?;
        total = seconds;
        allowed = &allowed[i + 1..];
        rest = &after[unit.len_utf8()..];
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        for (text, secs) in
            [("0s", 0), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("1h2m3s", 3723), ("2h", 7200)]
        {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
    }

    #[test]
    fn rejected_forms() {
        for text in
            ["", "-5s", "5", "s", "1.5h", "30 s", "5x", "30s1h", "1m1m", "abc", "99999999999999999999h"]
        {
            assert!(parse(text).is_err(), "{text} should be rejected");
        }
    }
}
