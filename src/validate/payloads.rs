//! Which events' webhook payloads carry which top-level objects (GitHub's "Webhook events and
//! payloads"), for `github.event.<key>`: read under events none of whose payloads has the key,
//! it is null at run time. Only keys whose events are certain are listed (every other key is
//! left alone: payloads are large and grow), and only events whose payloads are known are judged
//! (a workflow with any other event, `workflow_call` included, whose `github.event` is the
//! caller's, is not judged at all).

/// A top-level payload key and every event whose payload has it (union over activity types).
pub static KEYS: &[(&str, &[&str])] = &[
    ("check_run", &["check_run"]),
    ("check_suite", &["check_suite", "check_run"]),
    ("client_payload", &["repository_dispatch"]),
    ("comment", &["issue_comment", "pull_request_review_comment", "discussion_comment", "commit_comment"]),
    ("commits", &["push"]),
    ("deployment", &["deployment", "deployment_status"]),
    ("deployment_status", &["deployment_status"]),
    ("discussion", &["discussion", "discussion_comment"]),
    ("forkee", &["fork"]),
    ("head_commit", &["push"]),
    ("inputs", &["workflow_dispatch"]),
    ("issue", &["issues", "issue_comment"]),
    ("merge_group", &["merge_group"]),
    ("pages", &["gollum"]),
    (
        "pull_request",
        &["pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"],
    ),
    ("pusher", &["push"]),
    ("release", &["release"]),
    ("review", &["pull_request_review"]),
    ("schedule", &["schedule"]),
    ("workflow_run", &["workflow_run"]),
];

/// Events whose payloads are known as far as [`KEYS`] goes: which of those keys they carry.
pub static EVENTS: &[&str] = &[
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "commit_comment",
    "create",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "issue_comment",
    "issues",
    "label",
    "merge_group",
    "milestone",
    "page_build",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_target",
    "push",
    "registry_package",
    "release",
    "repository_dispatch",
    "schedule",
    "status",
    "watch",
    "workflow_dispatch",
    "workflow_run",
];

/// The events carrying `key` when it is one of [`KEYS`] (case-insensitive, as GitHub reads it).
pub fn carriers(key: &str) -> Option<&'static [&'static str]> {
    KEYS.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, events)| *events)
}
