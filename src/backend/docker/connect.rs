//! Reaching the daemon.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;

use super::endpoint::{self, Endpoint};
use super::one_line;
use crate::Error;

const HINT_DOWN: &str = "start the Docker daemon, or run with --executor host";
const HINT_REMOTE_DOWN: &str = "check that the engine's machine answers and the credentials (TLS files, ssh key) are accepted, or run with --executor host";
/// How long `connect` waits for the daemon to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `available` waits.
const AVAILABLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connect to the engine Docker's CLI would use ([`endpoint::resolve`]: `DOCKER_HOST` with its
/// TLS settings, a Docker context, else the local unix socket), agree on an API version and
/// check that it answers.
pub async fn connect() -> Result<Docker, Error> {
    connect_within(CONNECT_TIMEOUT).await
}

/// Whether a daemon answers a ping within about two seconds (used by `--executor auto`). Only
/// the ping: Podman takes about a second for `/version` (it asks conmon and the OCI runtime for
/// theirs), more when busy.
pub async fn available() -> bool {
    let Ok(endpoint) = endpoint::resolve() else { return false };
    let Ok(docker) = client(&endpoint, Arc::new(Mutex::new(String::new()))) else { return false };
    matches!(tokio::time::timeout(AVAILABLE_TIMEOUT, docker.ping()).await, Ok(Ok(_)))
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

/// Connect to the daemon at `host` (`unix:///…`, `tcp://host:port`, `ssh://…`), without TLS,
/// like [`connect`].
pub async fn connect_to(host: &str) -> Result<Docker, Error> {
    let endpoint = Endpoint { host: host.to_string(), tls: None, source: "given".to_string() };
    connect_endpoint(&endpoint, CONNECT_TIMEOUT).await
}

/// Connect to `endpoint`, like [`connect`].
pub async fn connect_endpoint(endpoint: &Endpoint, limit: Duration) -> Result<Docker, Error> {
    let host = &endpoint.host;
    let from = match endpoint.source.as_str() {
        "default" | "given" | "DOCKER_HOST" => String::new(),
        context => format!(" (Docker {context})"),
    };
    let said = Arc::new(Mutex::new(String::new()));
    let down = |cause: String| {
        let ssh = said.lock().map(|s| s.clone()).unwrap_or_default();
        let cause = if ssh.is_empty() { cause } else { format!("{cause}; ssh: {ssh}") };
        let hint = if endpoint.is_remote() { HINT_REMOTE_DOWN } else { HINT_DOWN };
        Error::Docker {
            message: format!("cannot reach the Docker daemon at {host}{from}: {cause}"),
            hint: Some(hint.to_string()),
        }
    };
    let attempt = async {
        let docker = client(endpoint, Arc::clone(&said)).map_err(|e| down(e.to_string()))?;
        let reached = async {
            let docker = docker.negotiate_version().await?;
            docker.ping().await?;
            Ok::<_, bollard::errors::Error>(docker)
        };
        match reached.await {
            Ok(docker) => Ok(docker),
            Err(e) => {
                if host.starts_with("ssh://") {
                    ssh_words(&said).await;
                }
                Err(down(one_line(&e)))
            }
        }
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(down(format!("no answer within {} s", limit.as_secs()))),
    }
}

/// Waits a moment for ssh's own words (why it refused): they come on its stderr, read by another
/// task, just after the connection closes, and without them the message says only "closed".
async fn ssh_words(said: &Mutex<String>) {
    for _ in 0..50 {
        if said.lock().map(|s| !s.is_empty()).unwrap_or(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client for `endpoint` (no request made yet).
fn client(endpoint: &Endpoint, said: Arc<Mutex<String>>) -> Result<Docker, String> {
    let host = endpoint.host.as_str();
    if host.starts_with("ssh://") {
        return super::ssh::client(host, said).map_err(|e| e.to_string());
    }
    let Some(tls) = &endpoint.tls else {
        return Docker::connect_with_host(host).map_err(|e| one_line(&e));
    };
    if let Some(missing) = tls.missing() {
        return Err(format!(
            "TLS is on (DOCKER_TLS_VERIFY or the context's TLS material) but {} is missing",
            missing.display()
        ));
    }
    let addr = host.replacen("https://", "tcp://", 1);
    Docker::connect_with_ssl(&addr, &tls.key, &tls.cert, &tls.ca, 120, bollard::API_DEFAULT_VERSION)
        .map_err(|e| one_line(&e))
}

async fn connect_within(limit: Duration) -> Result<Docker, Error> {
    connect_endpoint(&endpoint::resolve()?, limit).await
}

/// Whether the engine [`connect`] reaches runs on another machine (see [`daemon_is_remote`]).
/// A setting that cannot be read counts as local: connecting reports it.
pub fn engine_is_remote() -> bool {
    endpoint::resolve().is_ok_and(|e| e.is_remote())
}

/// Whether an engine address names a daemon on another machine, which cannot see this
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
