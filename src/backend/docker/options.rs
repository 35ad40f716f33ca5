//! The subset of `docker run` flags accepted in `container.options` and `services.*.options`.
//!
//! Supported (both `--flag value` and `--flag=value`):
//!
//! | flag | effect |
//! |---|---|
//! | `--cpus N` | CPU limit (may be fractional) |
//! | `--memory`, `-m SIZE` | memory limit (`512m`, `2g`, bytes) |
//! | `--shm-size SIZE` | size of `/dev/shm` |
//! | `--user`, `-u USER[:GROUP]` | user the container (and every step) runs as |
//! | `--hostname`, `-h NAME` | host name inside the container |
//! | `--workdir`, `-w DIR` | working directory of the container |
//! | `--env`, `-e K=V` (or `K`: taken from pipe's environment) | environment variable |
//! | `--label`, `-l K=V` | extra label |
//! | `--network-alias ALIAS` | extra name on the job network |
//! | `--add-host HOST:IP` | extra `/etc/hosts` line |
//! | `--health-cmd CMD`, `--health-interval D`, `--health-timeout D`, `--health-retries N`, `--health-start-period D`, `--no-healthcheck` | health check (durations like `10s`, `1m30s`, `500ms`) |
//! | `--privileged` | privileged container |
//! | `--cap-add CAP`, `--cap-drop CAP` | capabilities |
//! | `--tmpfs PATH[:OPTS]` | tmpfs mount |
//! | `--init` | run an init process as PID 1 |
//!
//! Anything else is a usage error naming the flag and this list.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, HealthConfig, HostConfig};

use crate::Error;

/// The flags accepted in `options:`.
pub const SUPPORTED_OPTIONS: &[&str] = &[
    "--cpus",
    "--memory/-m",
    "--shm-size",
    "--user/-u",
    "--hostname/-h",
    "--workdir/-w",
    "--env/-e",
    "--label/-l",
    "--network-alias",
    "--add-host",
    "--health-cmd",
    "--health-interval",
    "--health-timeout",
    "--health-retries",
    "--health-start-period",
    "--no-healthcheck",
    "--privileged",
    "--cap-add",
    "--cap-drop",
    "--tmpfs",
    "--init",
];

/// Parsed `options:`.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RunOptions {
    pub nano_cpus: Option<i64>,
    pub memory: Option<i64>,
    pub shm_size: Option<i64>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub workdir: Option<String>,
    pub env: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub aliases: Vec<String>,
    pub add_hosts: Vec<String>,
    pub health_cmd: Option<String>,
    pub health_interval: Option<Duration>,
    pub health_timeout: Option<Duration>,
    pub health_retries: Option<i64>,
    pub health_start_period: Option<Duration>,
    pub no_healthcheck: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub tmpfs: Vec<(String, String)>,
    pub init: bool,
}

impl RunOptions {
    /// Parse an `options:` string; `what` names its owner in errors (e.g. "service `db`").
    pub fn parse(options: Option<&str>, what: &str) -> Result<RunOptions, Error> {
        let mut parsed = RunOptions::default();
        let Some(options) = options else {
            return Ok(parsed);
        };
        let words = split_words(options).map_err(|m| usage(format!("{what}: options: {m}")))?;
        let mut words = words.into_iter();
        while let Some(word) = words.next() {
            let (flag, inline) = match word.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (word.clone(), None),
            };
            let is_switch = matches!(flag.as_str(), "--privileged" | "--init" | "--no-healthcheck");
            if is_switch {
                let on = match inline.as_deref() {
                    None | Some("true") => true,
                    Some("false") => false,
                    Some(other) => {
                        return Err(usage(format!("{what}: options: {flag} takes no value (got `{other}`)")));
                    }
                };
                match flag.as_str() {
                    "--privileged" => parsed.privileged = on,
                    "--init" => parsed.init = on,
                    _ => parsed.no_healthcheck = on,
                }
                continue;
            }
            if !is_known(&flag) {
                return Err(unsupported(&flag, what));
            }
            let value = match inline {
                Some(v) => v,
                None => {
                    words.next().ok_or_else(|| usage(format!("{what}: options: {flag} needs a value")))?
                }
            };
            parsed.apply(&flag, value, what)?;
        }
        Ok(parsed)
    }

    fn apply(&mut self, flag: &str, value: String, what: &str) -> Result<(), Error> {
        let bad = |m: &str| usage(format!("{what}: options: {flag} {value}: {m}"));
        match flag {
            "--cpus" => {
                let cpus: f64 = value.parse().map_err(|_| bad("expected a number of CPUs"))?;
                if !(cpus > 0.0 && cpus < 10_000.0) {
                    return Err(bad("expected a positive number of CPUs"));
                }
                self.nano_cpus = Some((cpus * 1e9) as i64);
            }
            "--memory" | "-m" => {
                self.memory = Some(parse_size(&value).ok_or_else(|| bad("expected a size like 512m"))?)
            }
            "--shm-size" => {
                self.shm_size = Some(parse_size(&value).ok_or_else(|| bad("expected a size like 64m"))?)
            }
            "--user" | "-u" => self.user = Some(value),
            "--hostname" | "-h" => self.hostname = Some(value),
            "--workdir" | "-w" => self.workdir = Some(value),
            "--env" | "-e" => {
                if value.contains('=') {
                    self.env.push(value);
                } else if let Ok(v) = std::env::var(&value) {
                    self.env.push(format!("{value}={v}"));
                }
            }
            "--label" | "-l" => {
                let (k, v) = value.split_once('=').unwrap_or((value.as_str(), ""));
                self.labels.push((k.to_string(), v.to_string()));
            }
            "--network-alias" => self.aliases.push(value),
            "--add-host" => {
                if !value.contains(':') {
                    return Err(bad("expected HOST:IP"));
                }
                self.add_hosts.push(value);
            }
            "--health-cmd" => self.health_cmd = Some(value),
            "--health-interval" => {
                self.health_interval =
                    Some(parse_duration(&value).ok_or_else(|| bad("expected a duration like 10s"))?)
            }
            "--health-timeout" => {
                self.health_timeout =
                    Some(parse_duration(&value).ok_or_else(|| bad("expected a duration like 5s"))?)
            }
            "--health-start-period" => {
                self.health_start_period =
                    Some(parse_duration(&value).ok_or_else(|| bad("expected a duration like 30s"))?);
            }
            "--health-retries" => {
                let n: i64 = value.parse().map_err(|_| bad("expected a whole number"))?;
                if n < 0 {
                    return Err(bad("expected a whole number"));
                }
                self.health_retries = Some(n);
            }
            "--cap-add" => self.cap_add.push(value),
            "--cap-drop" => self.cap_drop.push(value),
            "--tmpfs" => {
                let (path, opts) = value.split_once(':').unwrap_or((value.as_str(), ""));
                self.tmpfs.push((path.to_string(), opts.to_string()));
            }
            _ => return Err(unsupported(flag, what)),
        }
        Ok(())
    }

    /// The health check these options ask for (None: keep the image's own).
    pub fn healthcheck(&self) -> Option<HealthConfig> {
        if self.no_healthcheck {
            return Some(HealthConfig { test: Some(vec!["NONE".to_string()]), ..Default::default() });
        }
        let any = self.health_cmd.is_some()
            || self.health_interval.is_some()
            || self.health_timeout.is_some()
            || self.health_retries.is_some()
            || self.health_start_period.is_some();
        if !any {
            return None;
        }
        let nanos = |d: Option<Duration>| d.map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        Some(HealthConfig {
            test: self.health_cmd.as_ref().map(|cmd| vec!["CMD-SHELL".to_string(), cmd.clone()]),
            interval: nanos(self.health_interval),
            timeout: nanos(self.health_timeout),
            retries: self.health_retries,
            start_period: nanos(self.health_start_period),
            ..Default::default()
        })
    }

    /// How long to wait for the health check to pass before giving up.
    pub fn health_deadline(&self) -> Duration {
        // Docker's defaults: interval 30 s, timeout 30 s, retries 3, start period 0.
        let interval = self.health_interval.unwrap_or(Duration::from_secs(30));
        let timeout = self.health_timeout.unwrap_or(Duration::from_secs(30));
        let retries = u32::try_from(self.health_retries.unwrap_or(3)).unwrap_or(u32::MAX).clamp(1, 1000);
        let start = self.health_start_period.unwrap_or_default();
        let total = start + (interval + timeout) * (retries + 1) + Duration::from_secs(30);
        total.min(Duration::from_secs(15 * 60))
    }

    /// Put these options into a container configuration.
    pub fn apply_to(&self, config: &mut ContainerCreateBody, host: &mut HostConfig) {
        if let Some(n) = self.nano_cpus {
            host.nano_cpus = Some(n);
        }
        if let Some(m) = self.memory {
            host.memory = Some(m);
        }
        if let Some(s) = self.shm_size {
            host.shm_size = Some(s);
        }
        if let Some(u) = &self.user {
            config.user = Some(u.clone());
        }
        if let Some(h) = &self.hostname {
            config.hostname = Some(h.clone());
        }
        if let Some(w) = &self.workdir {
            config.working_dir = Some(w.clone());
        }
        if !self.env.is_empty() {
            config.env.get_or_insert_with(Vec::new).extend(self.env.iter().cloned());
        }
        if !self.labels.is_empty() {
            let labels = config.labels.get_or_insert_with(HashMap::new);
            for (k, v) in &self.labels {
                // pipe's own labels win: prune depends on them.
                if !k.starts_with("dev.pipe.") {
                    labels.insert(k.clone(), v.clone());
                }
            }
        }
        if !self.add_hosts.is_empty() {
            host.extra_hosts = Some(self.add_hosts.clone());
        }
        if let Some(h) = self.healthcheck() {
            config.healthcheck = Some(h);
        }
        if self.privileged {
            host.privileged = Some(true);
        }
        if self.init {
            host.init = Some(true);
        }
        if !self.cap_add.is_empty() {
            host.cap_add = Some(self.cap_add.clone());
        }
        if !self.cap_drop.is_empty() {
            host.cap_drop = Some(self.cap_drop.clone());
        }
        if !self.tmpfs.is_empty() {
            host.tmpfs = Some(self.tmpfs.iter().cloned().collect());
        }
    }
}

fn is_known(flag: &str) -> bool {
    matches!(
        flag,
        "--cpus"
            | "--memory"
            | "-m"
            | "--shm-size"
            | "--user"
            | "-u"
            | "--hostname"
            | "-h"
            | "--workdir"
            | "-w"
            | "--env"
            | "-e"
            | "--label"
            | "-l"
            | "--network-alias"
            | "--add-host"
            | "--health-cmd"
            | "--health-interval"
            | "--health-timeout"
            | "--health-retries"
            | "--health-start-period"
            | "--cap-add"
            | "--cap-drop"
            | "--tmpfs"
    )
}

fn usage(message: String) -> Error {
    Error::Usage { message, hint: None }
}

fn unsupported(flag: &str, what: &str) -> Error {
    Error::Usage {
        message: format!("{what}: options: `{flag}` is not supported"),
        hint: Some(format!("supported options: {}", SUPPORTED_OPTIONS.join(", "))),
    }
}

/// Split like a POSIX shell (whitespace, '…', "…", backslash), without expansions.
pub(crate) fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err("unterminated single quote".to_string()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err("unterminated double quote".to_string()),
                        },
                        Some(c) => current.push(c),
                        None => return Err("unterminated double quote".to_string()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    current.push(c);
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// `512`, `512b`, `64k`, `512m`, `2g` (binary units, as docker).
pub(crate) fn parse_size(text: &str) -> Option<i64> {
    let text = text.trim().to_ascii_lowercase();
    let text = text
        .strip_suffix('b')
        .filter(|t| !t.is_empty() && t.ends_with(|c: char| c.is_ascii_alphabetic()))
        .map_or(text.as_str(), |t| t);
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    let multiplier: f64 = match unit {
        "" | "b" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let n: f64 = number.parse().ok()?;
    let bytes = n * multiplier;
    (bytes.is_finite() && bytes >= 0.0 && bytes < i64::MAX as f64).then_some(bytes as i64)
}

/// A Go-style duration: `10s`, `1m30s`, `500ms`, `1.5h`, `250us`, `0`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(split);
        let n: f64 = number.parse().ok()?;
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let seconds = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += n * seconds;
        rest = after;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            split_words(r#"--health-cmd "pg_isready -U x" --health-interval=10s -e 'A=b c'"#).unwrap(),
            vec!["--health-cmd", "pg_isready -U x", "--health-interval=10s", "-e", "A=b c"]
        );
        assert!(split_words("'open").is_err());
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("512m"), Some(512 * 1024 * 1024));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("64kb"), Some(64 * 1024));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn options_parse_and_reject() {
        let o = RunOptions::parse(
            Some("--cpus 1.5 --memory=256m --user 1000:1000 --privileged --health-cmd 'nc -z localhost 80' --health-retries 5"),
            "job",
        )
        .unwrap();
        assert_eq!(o.nano_cpus, Some(1_500_000_000));
        assert_eq!(o.memory, Some(256 << 20));
        assert_eq!(o.user.as_deref(), Some("1000:1000"));
        assert!(o.privileged);
        let h = o.healthcheck().unwrap();
        assert_eq!(h.test.unwrap(), vec!["CMD-SHELL", "nc -z localhost 80"]);
        assert_eq!(h.retries, Some(5));

        let err = RunOptions::parse(Some("--network host"), "service `db`").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--network") && text.contains("service `db`"), "{text}");
        assert!(err.hint().unwrap_or_default().contains("--cpus"));
        assert!(RunOptions::parse(Some("--cpus"), "job").is_err());
        assert!(RunOptions::parse(Some("--cpus abc"), "job").is_err());
    }
}
