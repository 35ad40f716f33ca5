//! The GitHub Actions workflow syntax, key by key. Keys, their shapes and their allowed values
//! follow GitHub's "Workflow syntax for GitHub Actions" reference and the workflow schema GitHub's
//! own parser uses; where a mapping may instead be one `${{ }}` expression (`services`,
//! `credentials`, `env`, `matrix`), the shape says so.

use super::Shape::{self, Any, Bool, Enum, Expr, Null, Number, OneOf, Seq, String as Str};
use super::{Object, map_of, opt, req};

/// Events that can trigger a workflow (the per-event details are in [`super::events`]).
pub const EVENTS: &[&str] = &[
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "create",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "image_version",
    "issue_comment",
    "issues",
    "label",
    "merge_group",
    "milestone",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "pull_request",
    "pull_request_comment",
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
    "workflow_call",
    "workflow_dispatch",
    "workflow_run",
];

/// Shell names GitHub knows, compared without case (anything else must be a template with `{0}`).
pub const SHELLS: &[&str] = &["bash", "sh", "pwsh", "powershell", "python", "cmd"];

static STRING: Shape = Str;
static STRINGS: Shape = Seq(&STRING);
static STRING_OR_STRINGS: Shape = OneOf(&[Str, Seq(&STRING)]);
static ANY: Shape = Any;
static ENV: Object = map_of("env", "Environment variables (name: value).", &STRING);
/// A mapping, or one `${{ }}` expression that yields one.
static ENV_OR_EXPR: Shape = OneOf(&[Expr, Shape::Object(&ENV)]);
static SCALAR: Shape = OneOf(&[Str, Bool, Number]);

/// Every filter and option an event may take; which event takes which is checked by the event
/// checks (with a message that names the events a filter is for).
static EVENT_CONFIG: Object = Object {
    name: "event-config",
    description: "Activity types and filters of an event trigger.",
    keys: &[
        opt("types", STRING_OR_STRINGS, "Activity types that trigger the workflow."),
        opt("branches", STRING_OR_STRINGS, "Run only for these branches (patterns)."),
        opt("branches-ignore", STRING_OR_STRINGS, "Do not run for these branches (patterns)."),
        opt("tags", STRING_OR_STRINGS, "Run only for these tags (patterns; push only)."),
        opt("tags-ignore", STRING_OR_STRINGS, "Do not run for these tags (patterns; push only)."),
        opt("paths", STRING_OR_STRINGS, "Run only when these paths change (patterns)."),
        opt("paths-ignore", STRING_OR_STRINGS, "Do not run when only these paths change."),
        opt("workflows", STRING_OR_STRINGS, "Workflows whose runs trigger this one (workflow_run)."),
        opt("names", STRING_OR_STRINGS, "Image names (image_version)."),
        opt("versions", STRING_OR_STRINGS, "Image versions (image_version)."),
    ],
    other_keys: None,
    required_unless: None,
};
static EVENT: Shape = OneOf(&[Null, Shape::Object(&EVENT_CONFIG)]);

static DISPATCH_INPUT_TYPES: &[&str] = &["string", "boolean", "number", "choice", "environment"];
static DISPATCH_INPUT: Object = Object {
    name: "workflow-dispatch-input",
    description: "An input of a manually started run.",
    keys: &[
        opt("description", Str, "Shown to the person starting the run."),
        opt("required", Bool, "Whether a value must be given."),
        opt("default", SCALAR, "Value when none is given."),
        opt("type", Enum(DISPATCH_INPUT_TYPES), "Value type (default string)."),
        opt("options", STRINGS, "Choices of a `choice` input."),
    ],
    other_keys: None,
    required_unless: None,
};
static DISPATCH_INPUT_SHAPE: Shape = OneOf(&[Null, Shape::Object(&DISPATCH_INPUT)]);
static DISPATCH_INPUTS: Object = map_of("workflow-dispatch-inputs", "Inputs by name.", &DISPATCH_INPUT_SHAPE);
static DISPATCH: Object = Object {
    name: "workflow-dispatch",
    description: "Manual trigger.",
    keys: &[opt("inputs", OneOf(&[Null, Shape::Object(&DISPATCH_INPUTS)]), "Inputs the run asks for.")],
    other_keys: None,
    required_unless: None,
};

static CALL_INPUT_TYPES: &[&str] = &["string", "boolean", "number"];
static CALL_INPUT: Object = Object {
    name: "workflow-call-input",
    description: "An input of a reusable workflow.",
    keys: &[
        opt("description", Str, "What the input is for."),
        opt("required", Bool, "Whether the caller must give it."),
        opt("default", SCALAR, "Value when the caller gives none (expressions: github, inputs, vars)."),
        req("type", Enum(CALL_INPUT_TYPES), "Value type: boolean, number or string."),
    ],
    other_keys: None,
    required_unless: None,
};
static CALL_INPUT_SHAPE: Shape = Shape::Object(&CALL_INPUT);
static CALL_INPUTS: Object = map_of("workflow-call-inputs", "Inputs by name.", &CALL_INPUT_SHAPE);
static CALL_OUTPUT: Object = Object {
    name: "workflow-call-output",
    description: "An output of a reusable workflow.",
    keys: &[
        opt("description", Str, "What the output holds."),
        req("value", Str, "Its value, usually `${{ jobs.<id>.outputs.<name> }}`."),
    ],
    other_keys: None,
    required_unless: None,
};
static CALL_OUTPUT_SHAPE: Shape = Shape::Object(&CALL_OUTPUT);
static CALL_OUTPUTS: Object = map_of("workflow-call-outputs", "Outputs by name.", &CALL_OUTPUT_SHAPE);
static CALL_SECRET: Object = Object {
    name: "workflow-call-secret",
    description: "A secret a reusable workflow accepts.",
    keys: &[
        opt("description", Str, "What the secret is for."),
        opt("required", Bool, "Whether the caller must pass it."),
    ],
    other_keys: None,
    required_unless: None,
};
static CALL_SECRET_SHAPE: Shape = OneOf(&[Null, Shape::Object(&CALL_SECRET)]);
static CALL_SECRETS: Object = map_of("workflow-call-secrets", "Secrets by name.", &CALL_SECRET_SHAPE);
static CALL: Object = Object {
    name: "workflow-call",
    description: "Reusable workflow trigger.",
    keys: &[
        opt("inputs", OneOf(&[Null, Shape::Object(&CALL_INPUTS)]), "Inputs of the reusable workflow."),
        opt("outputs", OneOf(&[Null, Shape::Object(&CALL_OUTPUTS)]), "Outputs of the reusable workflow."),
        opt("secrets", OneOf(&[Null, Shape::Object(&CALL_SECRETS)]), "Secrets of the reusable workflow."),
    ],
    other_keys: None,
    required_unless: None,
};
static CRON: Object = Object {
    name: "cron",
    description: "A schedule entry.",
    keys: &[
        req("cron", Str, "POSIX cron expression: minute hour day-of-month month day-of-week."),
        opt("timezone", Str, "IANA time zone the cron expression is read in (default UTC)."),
    ],
    other_keys: None,
    required_unless: None,
};
static CRON_SHAPE: Shape = Shape::Object(&CRON);

static ON_MAP: Object = Object {
    name: "triggers",
    description: "Events that trigger the workflow, with their filters.",
    keys: &[
        opt("workflow_dispatch", OneOf(&[Null, Shape::Object(&DISPATCH)]), "Started by hand."),
        opt("workflow_call", OneOf(&[Null, Shape::Object(&CALL)]), "Called by another workflow."),
        opt("schedule", Seq(&CRON_SHAPE), "Runs on a schedule."),
        opt("branch_protection_rule", EVENT, ""),
        opt("check_run", EVENT, ""),
        opt("check_suite", EVENT, ""),
        opt("create", EVENT, ""),
        opt("delete", EVENT, ""),
        opt("deployment", EVENT, ""),
        opt("deployment_status", EVENT, ""),
        opt("discussion", EVENT, ""),
        opt("discussion_comment", EVENT, ""),
        opt("fork", EVENT, ""),
        opt("gollum", EVENT, ""),
        opt("image_version", EVENT, "An image version is created or changes state."),
        opt("issue_comment", EVENT, ""),
        opt("issues", EVENT, ""),
        opt("label", EVENT, ""),
        opt("merge_group", EVENT, ""),
        opt("milestone", EVENT, ""),
        opt("page_build", EVENT, ""),
        opt("project", EVENT, ""),
        opt("project_card", EVENT, ""),
        opt("project_column", EVENT, ""),
        opt("public", EVENT, ""),
        opt("pull_request", EVENT, "Activity on a pull request."),
        opt("pull_request_comment", EVENT, "Use issue_comment instead."),
        opt("pull_request_review", EVENT, ""),
        opt("pull_request_review_comment", EVENT, ""),
        opt("pull_request_target", EVENT, "Pull request activity, in the base's context."),
        opt("push", EVENT, "A push to a branch or tag."),
        opt("registry_package", EVENT, ""),
        opt("release", EVENT, ""),
        opt("repository_dispatch", EVENT, ""),
        opt("status", EVENT, ""),
        opt("watch", EVENT, ""),
        opt("workflow_run", EVENT, "Another workflow's run was requested or completed."),
    ],
    other_keys: None,
    required_unless: None,
};
static EVENT_NAME: Shape = Enum(EVENTS);

static RUN_DEFAULTS: Object = Object {
    name: "run-defaults",
    description: "Defaults for `run` steps.",
    keys: &[
        opt("shell", Str, "Shell of run steps."),
        opt("working-directory", Str, "Directory run steps start in."),
    ],
    other_keys: None,
    required_unless: None,
};
static DEFAULTS: Object = Object {
    name: "defaults",
    description: "Defaults for all jobs or steps.",
    keys: &[opt("run", Shape::Object(&RUN_DEFAULTS), "Defaults of run steps.")],
    other_keys: None,
    required_unless: None,
};

static CONCURRENCY_OBJ: Object = Object {
    name: "concurrency",
    description: "At most one run of a group at a time.",
    keys: &[
        req("group", Str, "Group name (expressions allowed)."),
        opt("cancel-in-progress", Bool, "Cancel the run in progress in the same group."),
        opt(
            "queue",
            Enum(&["single", "max"]),
            "How many runs may wait: one (single) or up to the limit (max).",
        ),
    ],
    other_keys: None,
    required_unless: None,
};
static CONCURRENCY: Shape = OneOf(&[Str, Shape::Object(&CONCURRENCY_OBJ)]);

static ANY_LEVEL: Shape = Enum(&["read", "write", "none"]);
static READ_LEVEL: Shape = Enum(&["read", "none"]);
static WRITE_LEVEL: Shape = Enum(&["write", "none"]);
static PERMISSIONS_OBJ: Object = Object {
    name: "permissions",
    description: "GITHUB_TOKEN permissions by scope.",
    keys: &[
        opt("actions", ANY_LEVEL, "Workflows, runs and artifacts."),
        opt("artifact-metadata", ANY_LEVEL, "Storage and deployment records of build artifacts."),
        opt("attestations", ANY_LEVEL, "Artifact attestations."),
        opt("checks", ANY_LEVEL, "Check runs and suites."),
        opt("contents", ANY_LEVEL, "Contents, commits, branches, releases."),
        opt("copilot-requests", WRITE_LEVEL, "Copilot requests (write or none)."),
        opt("deployments", ANY_LEVEL, "Deployments and their statuses."),
        opt("discussions", ANY_LEVEL, "Discussions."),
        opt("id-token", WRITE_LEVEL, "OpenID Connect token (write or none)."),
        opt("issues", ANY_LEVEL, "Issues."),
        opt("models", READ_LEVEL, "GitHub Models (read or none)."),
        opt("packages", ANY_LEVEL, "Packages."),
        opt("pages", ANY_LEVEL, "Pages builds."),
        opt("pull-requests", ANY_LEVEL, "Pull requests."),
        opt("repository-projects", ANY_LEVEL, "Classic projects."),
        opt("security-events", ANY_LEVEL, "Code scanning alerts."),
        opt("statuses", ANY_LEVEL, "Commit statuses."),
        opt("vulnerability-alerts", READ_LEVEL, "Dependabot alerts (read or none)."),
    ],
    other_keys: None,
    required_unless: None,
};
static PERMISSIONS: Shape = OneOf(&[Enum(&["read-all", "write-all"]), Shape::Object(&PERMISSIONS_OBJ)]);

static ENVIRONMENT_OBJ: Object = Object {
    name: "environment",
    description: "The deployment environment of a job.",
    keys: &[
        req("name", Str, "Environment name (e.g. production)."),
        opt("url", Str, "URL shown for the deployment."),
        opt("deployment", Bool, "Whether to create a deployment record (default true)."),
    ],
    other_keys: None,
    required_unless: None,
};

static CREDENTIALS_OBJ: Object = Object {
    name: "credentials",
    description: "Registry credentials.",
    keys: &[
        opt("username", Str, "Registry user."),
        opt("password", Str, "Registry password (use a secret)."),
    ],
    other_keys: None,
    required_unless: None,
};
static CREDENTIALS: Shape = OneOf(&[Expr, Shape::Object(&CREDENTIALS_OBJ)]);
static CONTAINER_ENV: Shape = OneOf(&[Expr, Shape::Object(&ENV)]);
/// Keys of a job container and of a service container (GitHub documents `entrypoint` and
/// `command` for services; they are accepted on the job container too).
static CONTAINER_KEYS: &[super::Key] = &[
    req("image", Str, "Image reference."),
    opt("credentials", CREDENTIALS, "Registry credentials."),
    opt("env", CONTAINER_ENV, "Container environment."),
    opt("ports", Seq(&ANY), "Ports to expose."),
    opt("volumes", STRINGS, "Volumes to mount."),
    opt("options", Str, "Extra `docker create` options."),
    opt("entrypoint", Str, "Override the image's ENTRYPOINT."),
    opt("command", Str, "Override the image's CMD."),
];
static CONTAINER_OBJ: Object = Object {
    name: "container",
    description: "A container to run the job's steps in.",
    keys: CONTAINER_KEYS,
    other_keys: None,
    required_unless: None,
};
static CONTAINER: Shape = OneOf(&[Str, Shape::Object(&CONTAINER_OBJ)]);
static SERVICE_OBJ: Object = Object {
    name: "service",
    description: "A service container of a job, reachable by its id.",
    keys: CONTAINER_KEYS,
    other_keys: None,
    required_unless: None,
};
static SERVICE: Shape = OneOf(&[Str, Shape::Object(&SERVICE_OBJ)]);
static SERVICES_OBJ: Object = map_of("services", "Service containers by id.", &SERVICE);
static SERVICES: Shape = OneOf(&[Expr, Shape::Object(&SERVICES_OBJ)]);

static MATRIX_ROWS: Shape = OneOf(&[Expr, Seq(&ANY)]);
static MATRIX_OBJ: Object = Object {
    name: "matrix",
    description: "Matrix axes (name: list of values) plus include/exclude.",
    keys: &[
        opt("include", MATRIX_ROWS, "Extra combinations, or values added to matching ones."),
        opt("exclude", MATRIX_ROWS, "Combinations to remove."),
    ],
    other_keys: Some(&MATRIX_ROWS),
    required_unless: None,
};
static STRATEGY: Object = Object {
    name: "strategy",
    description: "Matrix strategy.",
    keys: &[
        opt("matrix", OneOf(&[Expr, Shape::Object(&MATRIX_OBJ)]), "Axes and combinations."),
        opt("fail-fast", Bool, "Cancel other legs when one fails (default true)."),
        opt("max-parallel", Number, "Legs running at once."),
    ],
    other_keys: None,
    required_unless: None,
};

static WITH: Object = map_of("with", "Inputs of an action.", &STRING);
static STEP: Object = Object {
    name: "step",
    description: "One step: a `run` script, a `uses` action, or a `wait`/`wait-all`/`cancel` of background steps.",
    keys: &[
        opt("id", Str, "Identifier for `steps.<id>`."),
        opt("name", Str, "Display name."),
        opt("if", Str, "Condition (an expression)."),
        opt("run", Str, "Script run by the shell."),
        opt("uses", Str, "Action to run."),
        opt("with", Shape::Object(&WITH), "Inputs of the action."),
        opt("env", ENV_OR_EXPR, "Environment variables of the step."),
        opt("shell", Str, "Shell of a run step."),
        opt("working-directory", Str, "Directory of a run step."),
        opt("continue-on-error", Bool, "Let the job continue when this step fails."),
        opt("timeout-minutes", Number, "Minutes before the step is stopped."),
        opt("background", Bool, "Run the step in the background; later steps do not wait for it."),
        opt("wait", STRING_OR_STRINGS, "Wait for these background steps (ids)."),
        opt("wait-all", OneOf(&[Null, Bool]), "Wait for every earlier background step."),
        opt("cancel", Str, "Cancel this background step (id)."),
    ],
    other_keys: None,
    required_unless: None,
};
static STEP_SHAPE: Shape = Shape::Object(&STEP);
static OUTPUTS: Object = map_of("outputs", "Job outputs (name: expression).", &STRING);

static RUNS_ON_OBJ: Object = Object {
    name: "runs-on-group",
    description: "Runner group and labels.",
    keys: &[opt("group", Str, "Runner group."), opt("labels", STRING_OR_STRINGS, "Labels.")],
    other_keys: None,
    required_unless: None,
};

static SNAPSHOT_OBJ: Object = Object {
    name: "snapshot",
    description: "A custom runner image made from the runner when the job succeeds.",
    keys: &[
        req("image-name", Str, "Name of the custom image to create or update."),
        opt("version", Str, "Major version to update, e.g. `2.*`."),
        opt("if", Str, "Condition for taking the snapshot."),
    ],
    other_keys: None,
    required_unless: None,
};

static JOB_SECRETS: Object = map_of("job-secrets", "Secrets passed to the reusable workflow.", &STRING);

static JOB: Object = Object {
    name: "job",
    description: "A job: steps run on one runner, or a call of a reusable workflow.",
    keys: &[
        opt("name", Str, "Display name."),
        req(
            "runs-on",
            OneOf(&[Str, Seq(&STRING), Shape::Object(&RUNS_ON_OBJ)]),
            "Runner label(s); pipe maps them to an image or the host.",
        ),
        opt("needs", STRING_OR_STRINGS, "Jobs that must finish first."),
        opt("if", Str, "Condition (an expression)."),
        opt(
            "environment",
            OneOf(&[Str, Shape::Object(&ENVIRONMENT_OBJ)]),
            "Deployment environment: makes this a deployment job behind a gate.",
        ),
        opt("outputs", Shape::Object(&OUTPUTS), "Outputs for dependent jobs."),
        opt("env", ENV_OR_EXPR, "Environment variables of all steps."),
        opt("defaults", Shape::Object(&DEFAULTS), "Defaults of run steps."),
        opt("strategy", Shape::Object(&STRATEGY), "Matrix strategy."),
        opt("container", CONTAINER, "Container for the steps."),
        opt("services", SERVICES, "Service containers."),
        opt("timeout-minutes", Number, "Minutes before the job is stopped (default 360)."),
        opt("cancel-timeout-minutes", Number, "Minutes a cancelled job gets to finish."),
        opt("continue-on-error", Bool, "Let the run succeed when this job fails."),
        opt("concurrency", CONCURRENCY, "Concurrency group of the job."),
        opt("permissions", PERMISSIONS, "GITHUB_TOKEN permissions."),
        opt("snapshot", OneOf(&[Str, Shape::Object(&SNAPSHOT_OBJ)]), "Make a custom runner image."),
        req("steps", Seq(&STEP_SHAPE), "The steps, in order."),
        opt("uses", Str, "Reusable workflow to call instead of steps."),
        opt("with", Shape::Object(&WITH), "Inputs of the reusable workflow."),
        opt(
            "secrets",
            OneOf(&[Enum(&["inherit"]), Shape::Object(&JOB_SECRETS)]),
            "Secrets for the reusable workflow.",
        ),
    ],
    other_keys: None,
    required_unless: Some("uses"),
};
static JOB_SHAPE: Shape = Shape::Object(&JOB);
static JOBS: Object = map_of("jobs", "Jobs by id.", &JOB_SHAPE);

static WORKFLOW_OBJ: Object = Object {
    name: "workflow",
    description: "A GitHub Actions workflow, as run by pipe.",
    keys: &[
        opt("name", Str, "Workflow name."),
        opt("description", Str, "What the workflow (or reusable workflow) does."),
        opt("run-name", Str, "Name of each run (expressions allowed)."),
        req(
            "on",
            OneOf(&[EVENT_NAME, Seq(&EVENT_NAME), Shape::Object(&ON_MAP)]),
            "Events that trigger the workflow.",
        ),
        opt("env", ENV_OR_EXPR, "Environment variables of all jobs."),
        opt("defaults", Shape::Object(&DEFAULTS), "Defaults of all jobs."),
        opt("concurrency", CONCURRENCY, "Concurrency group of the workflow."),
        opt("permissions", PERMISSIONS, "GITHUB_TOKEN permissions."),
        req("jobs", Shape::Object(&JOBS), "The jobs."),
    ],
    other_keys: None,
    required_unless: None,
};

/// The whole file.
pub static WORKFLOW: Shape = Shape::Object(&WORKFLOW_OBJ);
