//! The values of the run-wide contexts (`github`, `inputs`, `vars`) and of `runner`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::{Compiled, Scope};

/// Run-wide facts, the same for every job.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub run_id: String,
    pub run_number: u64,
    pub workflow: String,
    pub event_name: String,
    pub git_ref: String,
    pub sha: String,
    pub repository: String,
    pub actor: String,
    pub event: Json,
    pub inputs: Map<String, Json>,
    pub vars: BTreeMap<String, String>,
}

impl RunFacts {
    /// The run-wide part of a job's scope: `github`, `inputs` and `vars`.
    pub fn scope(&self, compiled: Arc<Compiled>, job: &str) -> Scope {
        Scope::new(compiled)
            .with("github", &self.github(job, ""))
            .with("inputs", &Json::Object(self.inputs.clone()))
            .with("vars", &object(&self.vars))
    }

    /// The `github` context for a job.
    pub fn github(&self, job: &str, workspace: &str) -> Json {
        let (ref_type, ref_name) = match self.git_ref.strip_prefix("refs/tags/") {
            Some(tag) => ("tag", tag.to_string()),
            None => ("branch", self.git_ref.strip_prefix("refs/heads/").unwrap_or(&self.git_ref).to_string()),
        };
        let owner = self.repository.split('/').next().unwrap_or("").to_string();
        let head_ref = self.event.pointer("/pull_request/head/ref").cloned().unwrap_or(json!(""));
        let base_ref = self.event.pointer("/pull_request/base/ref").cloned().unwrap_or(json!(""));
        json!({
            "action": "",
            "actor": self.actor,
            "triggering_actor": self.actor,
            "api_url": "https://api.github.com",
            "base_ref": base_ref,
            "event": self.event,
            "event_name": self.event_name,
            "event_path": "",
            "graphql_url": "https://api.github.com/graphql",
            "head_ref": head_ref,
            "job": job,
            "ref": self.git_ref,
            "ref_name": ref_name,
            "ref_protected": false,
            "ref_type": ref_type,
            "repository": self.repository,
            "repository_owner": owner,
            "retention_days": "0",
            "run_attempt": "1",
            "run_id": self.run_id,
            "run_number": self.run_number.to_string(),
            "server_url": "https://github.com",
            "sha": self.sha,
            "token": "",
            "workflow": self.workflow,
            "workspace": workspace,
        })
    }
}

/// The `runner` context.
pub fn runner(temp: &str, tool_cache: &str) -> Json {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "X64",
        "aarch64" => "ARM64",
        "x86" => "X86",
        "arm" => "ARM",
        other => other,
    };
    json!({
        "name": "pipe",
        "os": "Linux",
        "arch": arch,
        "temp": temp,
        "tool_cache": tool_cache,
        "debug": "",
        "environment": "self-hosted",
    })
}

/// A BTreeMap of strings as a JSON object.
pub fn object(map: &BTreeMap<String, String>) -> Json {
    Json::Object(map.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect())
}
