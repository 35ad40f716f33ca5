//! Which Docker engine to talk to, decided as Docker's own CLI decides it: `DOCKER_HOST` (with
//! `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`), else the context named by `DOCKER_CONTEXT`, else
//! the `currentContext` of `config.json` (in `DOCKER_CONFIG`, default `~/.docker`), else the local
//! socket. A context's endpoint is `contexts/meta/<sha256 of its name>/meta.json`, its TLS
//! material `contexts/tls/<sha256 of its name>/docker/{ca,cert,key}.pem`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Error;

/// The local socket, when nothing names another engine.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// An engine's address and how to secure the connection to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `unix:///…`, `tcp://host:port`, `ssh://[user@]host[:port]`, …
    pub host: String,
    /// Client certificate, key and the CA that signed the daemon's certificate (TLS on tcp).
    pub tls: Option<Tls>,
    /// Where the setting came from, for messages: `DOCKER_HOST`, `context "NAME"`, `default`.
    pub source: String,
}

/// The three PEM files Docker's clients read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Tls {
    fn in_dir(dir: &Path) -> Tls {
        Tls { ca: dir.join("ca.pem"), cert: dir.join("cert.pem"), key: dir.join("key.pem") }
    }

    /// The first of the three files that is missing, if one is.
    pub fn missing(&self) -> Option<&Path> {
        [&self.ca, &self.cert, &self.key].into_iter().find(|p| !p.is_file()).map(PathBuf::as_path)
    }
}

impl Endpoint {
    /// Whether the engine runs on another machine, which cannot see this machine's files (bind
    /// mounts of local paths do not work; files cross by archive upload and download).
    pub fn is_remote(&self) -> bool {
        super::daemon_is_remote(Some(&self.host))
    }
}

/// What the environment and Docker's configuration name.
pub fn resolve() -> Result<Endpoint, Error> {
    resolve_with(&|name| std::env::var(name).ok().filter(|v| !v.is_empty()), &config_dir())
}

/// [`resolve`] with the environment read through `var` and the configuration in `config`.
pub fn resolve_with(var: &dyn Fn(&str) -> Option<String>, config: &Path) -> Result<Endpoint, Error> {
    if let Some(host) = var("DOCKER_HOST") {
        return from_env(host, var, config);
    }
    let context = var("DOCKER_CONTEXT").or_else(|| current_context(config));
    match context {
        Some(name) if name != "default" => from_context(&name, config),
        _ => Ok(Endpoint { host: DEFAULT_HOST.to_string(), tls: None, source: "default".to_string() }),
    }
}

fn from_env(host: String, var: &dyn Fn(&str) -> Option<String>, config: &Path) -> Result<Endpoint, Error> {
    let source = "DOCKER_HOST".to_string();
    let certs = var("DOCKER_CERT_PATH").map_or_else(|| config.to_path_buf(), PathBuf::from);
    let tls = if var("DOCKER_TLS_VERIFY").is_some() || host.starts_with("https://") {
        Some(Tls::in_dir(&certs))
    } else if var("DOCKER_TLS").is_some() {
        return Err(unsupported(
            &format!(
                "DOCKER_TLS without DOCKER_TLS_VERIFY (TLS that does not check the daemon's certificate) for {host}"
            ),
            "set DOCKER_TLS_VERIFY=1 with the daemon's CA as ca.pem in DOCKER_CERT_PATH",
        ));
    } else {
        None
    };
    Ok(Endpoint { host, tls, source })
}

fn from_context(name: &str, config: &Path) -> Result<Endpoint, Error> {
    let id = context_id(name);
    let meta_path = config.join("contexts").join("meta").join(&id).join("meta.json");
    let source = format!("context \"{name}\"");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::Docker {
        message: format!("Docker context \"{name}\" is not found: {}: {e}", meta_path.display()),
        hint: Some("list the contexts with `docker context ls`, or unset DOCKER_CONTEXT".to_string()),
    })?;
    let meta: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Docker {
        message: format!("Docker context \"{name}\": {} is not valid JSON: {e}", meta_path.display()),
        hint: None,
    })?;
    let docker = &meta["Endpoints"]["docker"];
    let host = docker["Host"].as_str().filter(|h| !h.is_empty()).unwrap_or(DEFAULT_HOST).to_string();
    if docker["SkipTLSVerify"].as_bool() == Some(true) {
        return Err(unsupported(
            &format!(
                "Docker context \"{name}\" skips the check of the daemon's certificate (skip-tls-verify)"
            ),
            "give the context the daemon's CA (`docker context update --docker ca=…`)",
        ));
    }
    let tls_dir = config.join("contexts").join("tls").join(&id).join("docker");
    let tls = tls_dir.join("ca.pem").is_file().then(|| Tls::in_dir(&tls_dir));
    Ok(Endpoint { host, tls, source })
}

/// `currentContext` in `config.json`, when set.
fn current_context(config: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config.join("config.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["currentContext"].as_str().filter(|c| !c.is_empty()).map(str::to_string)
}

/// The directory of a context: the hex SHA-256 of its name.
fn context_id(name: &str) -> String {
    Sha256::digest(name.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Docker's configuration directory: `DOCKER_CONFIG`, else `~/.docker`.
fn config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::var_os("HOME").map_or_else(|| PathBuf::from(".docker"), |h| PathBuf::from(h).join(".docker"))
}

fn unsupported(what: &str, hint: &str) -> Error {
    Error::Docker { message: format!("{what} is not supported"), hint: Some(hint.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve_in(vars: &[(&str, &str)], config: &Path) -> Result<Endpoint, Error> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        resolve_with(&|name| vars.get(name).cloned(), config)
    }

    fn context(config: &Path, name: &str, meta: &str, tls: bool) {
        let id = context_id(name);
        let dir = config.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("meta.json"), meta).unwrap();
        if tls {
            let tls = config.join("contexts/tls").join(&id).join("docker");
            std::fs::create_dir_all(&tls).unwrap();
            for f in ["ca.pem", "cert.pem", "key.pem"] {
                std::fs::write(tls.join(f), "x").unwrap();
            }
        }
    }

    #[test]
    fn context_ids_are_the_sha256_of_the_name() {
        // `docker context create remote` stores it under this directory.
        assert_eq!(context_id("default"), "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f");
    }

    #[test]
    fn nothing_set_is_the_local_socket() {
        let config = tempfile::tempdir().unwrap();
        let e = resolve_in(&[], config.path()).unwrap();
        assert_eq!(e.host, DEFAULT_HOST);
        assert!(e.tls.is_none() && !e.is_remote());
    }

    #[test]
    fn docker_host_with_tls_verify_reads_the_cert_path() {
        let config = tempfile::tempdir().unwrap();
        let vars = [
            ("DOCKER_HOST", "tcp://10.0.0.5:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", "/certs"),
            ("DOCKER_CONTEXT", "ignored"),
        ];
        let e = resolve_in(&vars, config.path()).unwrap();
        assert_eq!(e.host, "tcp://10.0.0.5:2376");
        assert_eq!(e.tls.as_ref().unwrap().ca, Path::new("/certs/ca.pem"));
        assert_eq!(e.tls.as_ref().unwrap().key, Path::new("/certs/key.pem"));
        assert!(e.is_remote());
        // Without DOCKER_CERT_PATH: the configuration directory.
        let e = resolve_in(&vars[..2], config.path()).unwrap();
        assert_eq!(e.tls.unwrap().cert, config.path().join("cert.pem"));
        // Plain tcp without DOCKER_TLS_VERIFY.
        assert!(resolve_in(&vars[..1], config.path()).unwrap().tls.is_none());
        // TLS without checking the daemon is refused.
        let err = resolve_in(&[vars[0], ("DOCKER_TLS", "1")], config.path()).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
    }

    #[test]
    fn contexts_come_from_the_environment_or_config_json() {
        let config = tempfile::tempdir().unwrap();
        let c = config.path();
        context(
            c,
            "build-box",
            r#"{"Name":"build-box","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://ci@build-box","SkipTLSVerify":false}}}"#,
            false,
        );
        context(
            c,
            "tls-box",
            r#"{"Name":"tls-box","Endpoints":{"docker":{"Host":"tcp://10.1.2.3:2376"}}}"#,
            true,
        );
        let e = resolve_in(&[("DOCKER_CONTEXT", "build-box")], c).unwrap();
        assert_eq!((e.host.as_str(), e.source.as_str()), ("ssh://ci@build-box", "context \"build-box\""));
        assert!(e.tls.is_none());
        std::fs::write(c.join("config.json"), r#"{"auths":{},"currentContext":"tls-box"}"#).unwrap();
        let e = resolve_in(&[], c).unwrap();
        assert_eq!(e.host, "tcp://10.1.2.3:2376");
        assert_eq!(
            e.tls.unwrap().ca,
            c.join("contexts/tls").join(context_id("tls-box")).join("docker/ca.pem")
        );
        // DOCKER_CONTEXT wins over config.json, DOCKER_HOST over both, `default` is the socket.
        assert_eq!(resolve_in(&[("DOCKER_CONTEXT", "build-box")], c).unwrap().host, "ssh://ci@build-box");
        assert_eq!(resolve_in(&[("DOCKER_HOST", "unix:///x.sock")], c).unwrap().host, "unix:///x.sock");
        assert_eq!(resolve_in(&[("DOCKER_CONTEXT", "default")], c).unwrap().host, DEFAULT_HOST);
        let err = resolve_in(&[("DOCKER_CONTEXT", "nope")], c).unwrap_err();
        assert!(err.to_string().contains("context \"nope\" is not found"), "{err}");
        context(c, "lax", r#"{"Endpoints":{"docker":{"Host":"tcp://h:2376","SkipTLSVerify":true}}}"#, false);
        assert!(resolve_in(&[("DOCKER_CONTEXT", "lax")], c).is_err());
    }
}
