//! A service's health check run by pipe, for an engine that runs none itself: Podman 4 schedules
//! health checks with systemd timers, so without systemd (a container, a CI machine) a service
//! with a health check stays `starting` for ever. pipe then runs the container's own check (the
//! image's `HEALTHCHECK` or `--health-cmd`) as an exec, with Docker's rules: the first check one
//! interval after the start, each limited to the check's timeout, healthy at the first success,
//! unhealthy after `retries` failures in a row once the start period is over.

use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::HealthConfig;
use futures_util::StreamExt;

use super::docker_error;
use crate::Error;

/// Docker's defaults for a check that does not say.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_RETRIES: u32 = 3;

/// What the checks decided so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Starting,
    Healthy,
    /// With the last check's output.
    Unhealthy(String),
}

pub(crate) struct OwnCheck {
    argv: Vec<String>,
    interval: Duration,
    timeout: Duration,
    retries: u32,
    start_period: Duration,
    started: Instant,
    next: Instant,
    failures: u32,
}

impl OwnCheck {
    /// The check a container was created with; None when it has none (`NONE`, or no test).
    pub(crate) fn new(config: &HealthConfig, started: Instant) -> Option<OwnCheck> {
        let test = config.test.as_deref().unwrap_or_default();
        let argv = match test.split_first() {
            Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
            Some((kind, [command])) if kind == "CMD-SHELL" => {
                vec!["/bin/sh".to_string(), "-c".to_string(), command.clone()]
            }
            _ => return None,
        };
        let duration = |ns: Option<i64>, default: Duration| match ns {
            Some(ns) if ns > 0 => Duration::from_nanos(ns.unsigned_abs()),
            _ => default,
        };
        let interval = duration(config.interval, DEFAULT_INTERVAL);
        Some(OwnCheck {
            argv,
            interval,
            timeout: duration(config.timeout, DEFAULT_TIMEOUT),
            retries: config
                .retries
                .filter(|r| *r > 0)
                .map_or(DEFAULT_RETRIES, |r| u32::try_from(r).unwrap_or(u32::MAX)),
            start_period: duration(config.start_period, Duration::ZERO),
            started,
            next: started + interval,
            failures: 0,
        })
    }

    /// Run the check if it is due.
    pub(crate) async fn poll(&mut self, docker: &Docker, id: &str, what: &str) -> Result<Verdict, Error> {
        let now = Instant::now();
        if now < self.next {
            return Ok(Verdict::Starting);
        }
        let (passed, output) = self.run_once(docker, id, what).await?;
        self.next = Instant::now() + self.interval;
        if passed {
            return Ok(Verdict::Healthy);
        }
        if now.duration_since(self.started) >= self.start_period {
            self.failures += 1;
        }
        if self.failures >= self.retries {
            return Ok(Verdict::Unhealthy(output));
        }
        Ok(Verdict::Starting)
    }

    /// One check: whether it exited 0 within its timeout, and what it printed.
    async fn run_once(&self, docker: &Docker, id: &str, what: &str) -> Result<(bool, String), Error> {
        let doing = format!("running the health check of {what}");
        let options = CreateExecOptions {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(self.argv.clone()),
            ..Default::default()
        };
        let created = docker.create_exec(id, options).await.map_err(|e| docker_error(&doing, &e))?;
        let mut said = Vec::new();
        let attached = async {
            if let StartExecResults::Attached { mut output, .. } =
                docker.start_exec(&created.id, None).await.map_err(|e| docker_error(&doing, &e))?
            {
                while let Some(Ok(chunk)) = output.next().await {
                    said.extend_from_slice(&chunk.into_bytes());
                }
            }
            Ok::<(), Error>(())
        };
        if tokio::time::timeout(self.timeout, attached).await.is_err() {
            return Ok((false, format!("the check took longer than {} s", self.timeout.as_secs_f32())));
        }
        let info = docker.inspect_exec(&created.id).await.map_err(|e| docker_error(&doing, &e))?;
        let output = String::from_utf8_lossy(&said).split_whitespace().collect::<Vec<_>>().join(" ");
        Ok((info.exit_code == Some(0), output))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(test: &[&str]) -> HealthConfig {
        HealthConfig {
            test: Some(test.iter().map(|s| s.to_string()).collect()),
            interval: Some(500_000_000),
            retries: Some(2),
            ..Default::default()
        }
    }

    #[test]
    fn the_check_is_the_containers_own() {
        let now = Instant::now();
        let shell = OwnCheck::new(&config(&["CMD-SHELL", "wget -q localhost"]), now).unwrap();
        assert_eq!(shell.argv, ["/bin/sh", "-c", "wget -q localhost"]);
        assert_eq!(shell.interval, Duration::from_millis(500));
        assert_eq!(shell.timeout, DEFAULT_TIMEOUT);
        assert_eq!(shell.retries, 2);
        assert_eq!(shell.next, now + Duration::from_millis(500));
        let direct = OwnCheck::new(&config(&["CMD", "pg_isready", "-q"]), now).unwrap();
        assert_eq!(direct.argv, ["pg_isready", "-q"]);
        assert!(OwnCheck::new(&config(&["NONE"]), now).is_none());
        assert!(OwnCheck::new(&config(&["CMD"]), now).is_none());
        assert!(OwnCheck::new(&HealthConfig::default(), now).is_none());
        let defaults =
            OwnCheck::new(&HealthConfig { test: config(&["CMD", "true"]).test, ..Default::default() }, now);
        let defaults = defaults.unwrap();
        assert_eq!((defaults.interval, defaults.retries), (DEFAULT_INTERVAL, DEFAULT_RETRIES));
    }
}
