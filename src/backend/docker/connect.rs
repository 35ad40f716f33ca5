//! Reaching the daemon.

use std::time::Duration;

use bollard::Docker;

use super::one_line;
use crate::Error;

const HINT_DOWN: &str = "start the Docker daemon, or run with --executor host";
/// How long `connect` waits for the daemon to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `available` waits.
const AVAILABLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connect to the daemon named by `DOCKER_HOST` (default: the local unix socket), agree on an
/// API version and check that it answers.
pub async fn connect() -> Result<Docker, Error> {
    connect_within(CONNECT_TIMEOUT).await
}

/// Whether a daemon answers within about two seconds (used by `--executor auto`).
pub async fn available() -> bool {
    connect_within(AVAILABLE_TIMEOUT).await.is_ok()
}

/// Why the daemon behind `docker` does not answer (within five seconds), if it does not: a job
/// that could not start for this reason was interrupted, not failed.
pub async fn unreachable(docker: &Docker) -> Option<String> {
    match tokio::time::timeout(Duration::from_secs(5), docker.ping()).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("the Docker daemon does not answer: {}", one_line(&e))),
        Err(_) => Some("the Docker daemon does not answer within 5 s".to_string()),
    }
}

/// Connect to the daemon at `host` (`unix:///…`, `tcp://host:port`, …), like [`connect`].
pub async fn connect_to(host: &str) -> Result<Docker, Error> {
    connect_host(host, CONNECT_TIMEOUT).await
}

async fn connect_within(limit: Duration) -> Result<Docker, Error> {
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
    connect_host(&host, limit).await
}

async fn connect_host(host: &str, limit: Duration) -> Result<Docker, Error> {
    let down = |cause: String| Error::Docker {
        message: format!("cannot reach the Docker daemon at {host}: {cause}"),
        hint: Some(HINT_DOWN.to_string()),
    };
    let attempt = async {
        let docker = Docker::connect_with_host(host).map_err(|e| down(one_line(&e)))?;
        let docker = docker.negotiate_version().await.map_err(|e| down(one_line(&e)))?;
        docker.ping().await.map_err(|e| down(one_line(&e)))?;
        Ok(docker)
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(down(format!("no answer within {} s", limit.as_secs()))),
    }
}

/// Whether a `DOCKER_HOST` value names a daemon on another machine, which cannot see this
/// machine's files (so bind mounts of host paths do not work). Unix sockets, named pipes and tcp
/// on loopback are local.
pub fn daemon_is_remote(docker_host: Option<&str>) -> bool {
    let Some(host) = docker_host.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    let Some((scheme, rest)) = host.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "tcp" | "http" | "https" | "ssh") {
        return false;
    }
    // Strip user info and path, then the port.
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let hostname = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let loopback = hostname.eq_ignore_ascii_case("localhost")
        || hostname.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    !loopback
}

#[cfg(test)]
mod tests {
    use super::daemon_is_remote;

    #[test]
    fn remote_detection() {
        assert!(!daemon_is_remote(None));
        assert!(!daemon_is_remote(Some("unix:///var/run/docker.sock")));
        assert!(!daemon_is_remote(Some("tcp://127.0.0.1:2375")));
        assert!(!daemon_is_remote(Some("tcp://localhost:2375")));
        assert!(!daemon_is_remote(Some("tcp://[::1]:2375")));
        assert!(daemon_is_remote(Some("tcp://10.0.0.5:2375")));
        assert!(daemon_is_remote(Some("ssh://user@build-host")));
        assert!(daemon_is_remote(Some("https://docker.example.com:2376/")));
    }
}
