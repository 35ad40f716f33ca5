//! The documented contexts whose shape does not depend on the file: `github`, `runner`, `job`,
//! `strategy` (GitHub's "Contexts reference"). `github.event` is left open: its shape is the
//! webhook payload of whichever event ran.

use super::ty::Shape::{self, Bool, Map, Number, Object, Open, String};

pub static GITHUB: &[(&str, Shape)] = &[
    ("action", String),
    ("action_path", String),
    ("action_ref", String),
    ("action_repository", String),
    ("action_status", String),
    ("actor", String),
    ("actor_id", String),
    ("api_url", String),
    ("base_ref", String),
    ("env", String),
    ("event", Open),
    ("event_name", String),
    ("event_path", String),
    ("graphql_url", String),
    ("head_ref", String),
    ("job", String),
    ("job_workflow_sha", String),
    ("output", String),
    ("path", String),
    ("ref", String),
    ("ref_name", String),
    ("ref_protected", Bool),
    ("ref_type", String),
    ("repository", String),
    ("repository_id", String),
    ("repository_owner", String),
    ("repository_owner_id", String),
    ("repository_visibility", String),
    ("repositoryurl", String),
    ("retention_days", String),
    ("run_attempt", String),
    ("run_id", String),
    ("run_number", String),
    ("secret_source", String),
    ("server_url", String),
    ("sha", String),
    ("state", String),
    ("step_summary", String),
    ("token", String),
    ("triggering_actor", String),
    ("workflow", String),
    ("workflow_ref", String),
    ("workflow_sha", String),
    ("workspace", String),
];

pub static RUNNER: &[(&str, Shape)] = &[
    ("arch", String),
    ("debug", String),
    ("environment", String),
    ("name", String),
    ("os", String),
    ("temp", String),
    ("tool_cache", String),
];

static CONTAINER: &[(&str, Shape)] = &[("id", String), ("network", String)];
static SERVICE: Shape = Object(&[("id", String), ("network", String), ("ports", Map(&String))]);

pub static JOB: &[(&str, Shape)] = &[
    ("check_run_id", Number),
    ("container", Object(CONTAINER)),
    ("services", Map(&SERVICE)),
    ("status", String),
    ("workflow_file_path", String),
    ("workflow_ref", String),
    ("workflow_repository", String),
    ("workflow_sha", String),
];

pub static STRATEGY: &[(&str, Shape)] =
    &[("fail-fast", Bool), ("job-index", Number), ("job-total", Number), ("max-parallel", Number)];
