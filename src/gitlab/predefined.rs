//! The pipeline context of a GitLab pipeline and its predefined variables (`CI`,
//! `CI_COMMIT_SHA`, `CI_COMMIT_BRANCH`, `CI_PIPELINE_SOURCE`, ...), from pipe's `--event`,
//! `--ref`, `--sha` and `--var` and from pipe.toml's `[variables]`.

use std::collections::BTreeMap;

/// What a GitLab pipeline is created for.
#[derive(Debug, Clone)]
pub struct Context {
    /// pipe's event name (`push`, `pull_request`, `workflow_dispatch`, `schedule`, or a GitLab
    /// pipeline source given as is).
    pub event: String,
    /// Full ref: `refs/heads/main`, `refs/tags/v1`.
    pub git_ref: String,
    pub sha: String,
    /// Files changed by the commit (`rules:changes`); `None` when unknown.
    pub changed_files: Option<Vec<String>>,
    /// `--var` values: pipeline variables, the highest precedence.
    pub vars: Vec<(String, String)>,
    /// pipe.toml `[variables]`: the project's CI/CD variables.
    pub project_vars: Vec<(String, String)>,
    /// The repository root (where `include: local` and `rules:exists` look).
    pub project_dir: std::path::PathBuf,
    /// Names of `--secret` values: they win over the file's variables of the same name, as a
    /// project's CI/CD variables do.
    pub secret_names: Vec<String>,
    /// `--job` selection: a manual job named here runs.
    pub selected: Vec<String>,
}

impl Default for Context {
    /// The context `pipe validate` uses: a push to the default branch.
    fn default() -> Self {
        Context {
            event: "push".into(),
            git_ref: "refs/heads/main".into(),
            sha: "0".repeat(40),
            changed_files: None,
            vars: Vec::new(),
            project_vars: Vec::new(),
            project_dir: std::path::PathBuf::from("."),
            secret_names: Vec::new(),
            selected: Vec::new(),
        }
    }
}

/// GitLab's `CI_PIPELINE_SOURCE` for pipe's event names.
pub fn pipeline_source(event: &str) -> &str {
    match event {
        "pull_request" | "pull_request_target" => "merge_request_event",
        "workflow_dispatch" => "web",
        "repository_dispatch" | "workflow_call" => "api",
        other => other,
    }
}

impl Context {
    fn project_var(&self, name: &str) -> Option<&str> {
        self.project_vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The predefined variables of the pipeline (job-specific ones are added per job).
    pub fn predefined(&self) -> BTreeMap<String, String> {
        let mut v = BTreeMap::new();
        let mut set = |k: &str, val: &str| {
            v.insert(k.to_string(), val.to_string());
        };
        set("CI", "true");
        set("GITLAB_CI", "true");
        set("CI_SERVER", "yes");
        set("CI_COMMIT_SHA", &self.sha);
        set("CI_COMMIT_SHORT_SHA", &self.sha.chars().take(8).collect::<String>());
        let default_branch = self.project_var("CI_DEFAULT_BRANCH").unwrap_or("main").to_string();
        set("CI_DEFAULT_BRANCH", &default_branch);
        let source = pipeline_source(&self.event).to_string();
        set("CI_PIPELINE_SOURCE", &source);
        set("CI_PIPELINE_ID", "1");
        set("CI_PIPELINE_IID", "1");
        let (name, is_tag) =
            match (self.git_ref.strip_prefix("refs/heads/"), self.git_ref.strip_prefix("refs/tags/")) {
                (Some(b), _) => (b.to_string(), false),
                (_, Some(t)) => (t.to_string(), true),
                _ => (self.git_ref.clone(), false),
            };
        set("CI_COMMIT_REF_NAME", &name);
        set("CI_COMMIT_REF_SLUG", &slug(&name));
        if is_tag {
            set("CI_COMMIT_TAG", &name);
        } else if source == "merge_request_event" {
            set("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", &name);
            set("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", &default_branch);
        } else {
            set("CI_COMMIT_BRANCH", &name);
        }
        let dir = self.project_dir.canonicalize().unwrap_or_else(|_| self.project_dir.clone());
        let project = dir.file_name().map_or("project".to_string(), |n| n.to_string_lossy().into_owned());
        set("CI_PROJECT_NAME", &project);
        set("CI_PROJECT_PATH", &project);
        set("CI_PROJECT_PATH_SLUG", &slug(&project));
        for (k, val) in &self.project_vars {
            v.insert(k.clone(), val.clone());
        }
        v
    }
}

/// `CI_COMMIT_REF_SLUG`: lower case, `[^a-z0-9]` → `-`, at most 63 characters, no `-` at the ends.
pub fn slug(s: &str) -> String {
    let lowered: String =
        s.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(63).collect();
    lowered.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_tag_and_merge_request() {
        let ctx = Context { sha: "0123456789abcdef".repeat(3), ..Context::default() };
        let v = ctx.predefined();
        assert_eq!(v["CI_COMMIT_BRANCH"], "main");
        assert_eq!(v["CI_COMMIT_SHORT_SHA"], "01234567");
        assert_eq!(v["CI_PIPELINE_SOURCE"], "push");
        assert!(!v.contains_key("CI_COMMIT_TAG"));
        let tag = Context { git_ref: "refs/tags/v1.2".into(), ..Context::default() }.predefined();
        assert_eq!(tag["CI_COMMIT_TAG"], "v1.2");
        assert!(!tag.contains_key("CI_COMMIT_BRANCH"));
        let mr = Context {
            event: "pull_request".into(),
            git_ref: "refs/heads/Feature/X".into(),
            ..Context::default()
        }
        .predefined();
        assert_eq!(mr["CI_PIPELINE_SOURCE"], "merge_request_event");
        assert_eq!(mr["CI_COMMIT_REF_SLUG"], "feature-x");
        assert!(!mr.contains_key("CI_COMMIT_BRANCH"));
    }
}
