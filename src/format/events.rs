//! What each event trigger accepts: its activity types and the filters that apply to it, as
//! GitHub's "Events that trigger workflows" reference and its workflow schema list them.

/// One event: its activity types (empty: the event has none; [`ANY_TYPE`]: any name) and its
/// filters.
#[derive(Debug)]
pub struct EventSpec {
    pub name: &'static str,
    pub types: &'static [&'static str],
    pub filters: &'static [&'static str],
    /// False for events that take no configuration at all (`create:` with nothing after).
    pub configurable: bool,
}

const fn ev(
    name: &'static str,
    types: &'static [&'static str],
    filters: &'static [&'static str],
) -> EventSpec {
    EventSpec { name, types, filters, configurable: true }
}

const fn bare(name: &'static str) -> EventSpec {
    EventSpec { name, types: &[], filters: &[], configurable: false }
}

const PULL_REQUEST_TYPES: &[&str] = &[
    "assigned",
    "unassigned",
    "labeled",
    "unlabeled",
    "opened",
    "edited",
    "closed",
    "reopened",
    "synchronize",
    "converted_to_draft",
    "locked",
    "unlocked",
    "enqueued",
    "dequeued",
    "milestoned",
    "demilestoned",
    "ready_for_review",
    "review_requested",
    "review_request_removed",
    "auto_merge_enabled",
    "auto_merge_disabled",
];
/// The activity types of an event whose types are free.
pub const ANY_TYPE: &[&str] = &["*"];
const PR_FILTERS: &[&str] = &["branches", "branches-ignore", "paths", "paths-ignore"];
const CREATED_EDITED_DELETED: &[&str] = &["created", "edited", "deleted"];

/// Every event of [`super::EVENTS`] except `schedule`, `workflow_call` and `workflow_dispatch`,
/// which have shapes of their own.
pub const EVENT_SPECS: &[EventSpec] = &[
    ev("branch_protection_rule", CREATED_EDITED_DELETED, &[]),
    ev("check_run", &["created", "rerequested", "completed", "requested_action"], &[]),
    ev("check_suite", &["completed"], &[]),
    bare("create"),
    bare("delete"),
    bare("deployment"),
    bare("deployment_status"),
    ev(
        "discussion",
        &[
            "created",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "category_changed",
            "answered",
            "unanswered",
        ],
        &[],
    ),
    ev("discussion_comment", CREATED_EDITED_DELETED, &[]),
    bare("fork"),
    bare("gollum"),
    ev("image_version", &["created", "ready", "deleted"], &["names", "versions"]),
    ev("issue_comment", CREATED_EDITED_DELETED, &[]),
    ev(
        "issues",
        &[
            "opened",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "closed",
            "reopened",
            "assigned",
            "unassigned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "milestoned",
            "demilestoned",
        ],
        &[],
    ),
    ev("label", CREATED_EDITED_DELETED, &[]),
    ev("merge_group", &["checks_requested"], &["branches", "branches-ignore"]),
    ev("milestone", &["created", "closed", "opened", "edited", "deleted"], &[]),
    bare("page_build"),
    ev("project", &["created", "closed", "reopened", "edited", "deleted"], &[]),
    ev("project_card", &["created", "moved", "converted", "edited", "deleted"], &[]),
    ev("project_column", &["created", "updated", "moved", "deleted"], &[]),
    bare("public"),
    ev("pull_request", PULL_REQUEST_TYPES, PR_FILTERS),
    ev("pull_request_comment", CREATED_EDITED_DELETED, &[]),
    ev("pull_request_review", &["submitted", "edited", "dismissed"], &[]),
    ev("pull_request_review_comment", CREATED_EDITED_DELETED, &[]),
    ev("pull_request_target", PULL_REQUEST_TYPES, PR_FILTERS),
    EventSpec {
        name: "push",
        types: &[],
        filters: &["branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore"],
        configurable: true,
    },
    ev("registry_package", &["published", "updated"], &[]),
    ev(
        "release",
        &["published", "unpublished", "created", "edited", "deleted", "prereleased", "released"],
        &[],
    ),
    // The sender of the dispatch chooses the type: any name is valid.
    ev("repository_dispatch", ANY_TYPE, &[]),
    bare("status"),
    ev("watch", &["started"], &[]),
    ev(
        "workflow_run",
        &["completed", "requested", "in_progress"],
        &["workflows", "branches", "branches-ignore"],
    ),
];

/// The spec of `name`, if it is an event with activity types or filters.
pub fn event_spec(name: &str) -> Option<&'static EventSpec> {
    EVENT_SPECS.iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_a_spec_or_a_shape_of_its_own() {
        let own = ["schedule", "workflow_call", "workflow_dispatch"];
        for name in super::super::EVENTS {
            assert!(own.contains(name) || event_spec(name).is_some(), "{name} has no spec");
        }
        for spec in EVENT_SPECS {
            assert!(super::super::EVENTS.contains(&spec.name), "{} is not in EVENTS", spec.name);
        }
    }
}
