//! GitLab's human durations (`timeout: 1h 30m`, `start_in: 30 minutes`, `expire_in: 1 week`),
//! in seconds. A bare number is seconds.

pub fn seconds(text: &str) -> Option<u64> {
    let text = text.trim().to_lowercase();
    if let Ok(n) = text.parse::<u64>() {
        return Some(n);
    }
    let mut total = 0u64;
    let mut number: Option<f64> = None;
    let mut any = false;
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() || c == '.' {
            let mut s = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '.') {
                s.push(d);
                chars.next();
            }
            number = Some(s.parse().ok()?);
        } else if c.is_alphabetic() {
            let mut unit = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphabetic()) {
                unit.push(d);
                chars.next();
            }
            if unit == "and" {
                continue;
            }
            let n = number.take()?;
            let factor = match unit.as_str() {
                "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
                "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
                "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
                "d" | "day" | "days" => 86_400.0,
                "w" | "wk" | "week" | "weeks" => 604_800.0,
                "mo" | "month" | "months" => 2_592_000.0,
                "y" | "yr" | "year" | "years" => 31_536_000.0,
                _ => return None,
            };
            total += (n * factor) as u64;
            any = true;
        } else if c.is_whitespace() || c == ',' {
            chars.next();
        } else {
            return None;
        }
    }
    if number.is_some() {
        return None;
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn durations() {
        assert_eq!(seconds("1h 30m"), Some(5400));
        assert_eq!(seconds("30 minutes"), Some(1800));
        assert_eq!(seconds("2 hours and 10 seconds"), Some(7210));
        assert_eq!(seconds("90"), Some(90));
        assert_eq!(seconds("1 week"), Some(604_800));
        assert_eq!(seconds("soon"), None);
        assert_eq!(seconds("10"), Some(10));
        assert_eq!(seconds("10 parsecs"), None);
    }
}
