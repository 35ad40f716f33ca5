//! The GitHub Actions workflow syntax, as far as pipe reads it. Keys and their meaning follow
//! GitHub's "Workflow syntax for GitHub Actions" reference.

use super::Shape::{self, Any, Bool, Enum, Null, Number, OneOf, Seq, String as Str};
use super::{Object, map_of, opt, req};

/// Events that can trigger a workflow.
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
    "workflow_call",
    "workflow_dispatch",
    "workflow_run",
];

/// Shell names GitHub knows (anything else must be a template containing `{0}`).
pub const SHELLS: &[&str] = &["bash", "sh", "pwsh", "powershell", "python", "cmd"];

static STRING: Shape = Str;
static STRINGS: Shape = Seq(&STRING);
static STRING_OR_STRINGS: Shape = OneOf(&[Str, Seq(&STRING)]);
static ANY: Shape = Any;
static ENV: Object = map_of("env", "Environment variables (name: value).", &STRING);
static ENV_OR_EXPR: Shape = OneOf(&[Str, Shape::Object(&ENV)]);

static BRANCH_FILTERS: Object = Object {
    name: "ref-filters",
    description: "Branch, tag and path filters of a push or pull_request trigger.",
    keys: &[
        opt("branches", STRING_OR_STRINGS, "Run only for these branches (globs)."),
        opt("branches-ignore", STRING_OR_STRINGS, "Do not run for these branches (globs)."),
        opt("tags", STRING_OR_STRINGS, "Run only for these tags (globs)."),
        opt("tags-ignore", STRING_OR_STRINGS, "Do not run for these tags (globs)."),
        opt("paths", STRING_OR_STRINGS, "Run only when these paths change (globs)."),
        opt("paths-ignore", STRING_OR_STRINGS, "Do not run when only these paths change."),
        opt("types", STRING_OR_STRINGS, "Activity types."),
    ],
    other_keys: None,
    required_unless: None,
};

static INPUT_TYPES: &[&str] = &["string", "boolean", "number", "choice", "environment"];
static INPUT: Object = Object {
    name: "input",
    description: "A workflow_dispatch or workflow_call input.",
    keys: &[
        opt("description", Str, "Shown to the person starting the run."),
        opt("required", Bool, "Whether a value must be given."),
        opt("default", Any, "Value when none is given."),
        opt("type", Enum(INPUT_TYPES), "Value type."),
        opt("options", STRINGS, "Choices of a `choice` input."),
        opt("deprecationMessage", Str, "Warning shown when the input is used."),
    ],
    other_keys: None,
    required_unless: None,
};
static INPUT_SHAPE: Shape = Shape::Object(&INPUT);
static INPUTS: Object = map_of("inputs", "Inputs by name.", &INPUT_SHAPE);
static DISPATCH: Object = Object {
    name: "workflow-dispatch",
    description: "Manual trigger.",
    keys: &[opt("inputs", Shape::Object(&INPUTS), "Inputs the run asks for.")],
    other_keys: None,
    required_unless: None,
};
static CALL: Object = Object {
    name: "workflow-call",
    description: "Reusable workflow trigger.",
    keys: &[
        opt("inputs", Shape::Object(&INPUTS), "Inputs of the reusable workflow."),
        opt("outputs", Any, "Outputs of the reusable workflow."),
        opt("secrets", Any, "Secrets of the reusable workflow."),
    ],
    other_keys: None,
    required_unless: None,
};
static CRON: Object = Object {
    name: "cron",
    description: "A schedule entry.",
    keys: &[req("cron", Str, "POSIX cron expression (UTC).")],
    other_keys: None,
    required_unless: None,
};
static CRON_SHAPE: Shape = Shape::Object(&CRON);
static FILTERED: Shape = OneOf(&[Null, Shape::Object(&BRANCH_FILTERS)]);
static GENERIC_EVENT: Object = Object {
    name: "event",
    description: "An event trigger with optional activity types.",
    keys: &[
        opt("types", STRING_OR_STRINGS, "Activity types."),
        opt("branches", STRING_OR_STRINGS, "Branches (workflow_run)."),
        opt("branches-ignore", STRING_OR_STRINGS, "Branches to ignore (workflow_run)."),
        opt("workflows", STRING_OR_STRINGS, "Workflows (workflow_run)."),
    ],
    other_keys: None,
    required_unless: None,
};
static GENERIC: Shape = OneOf(&[Null, Shape::Object(&GENERIC_EVENT)]);

static ON_MAP: Object = Object {
    name: "triggers",
    description: "Events that trigger the workflow, with their filters.",
    keys: &[
        opt("push", FILTERED, "A push to a branch or tag."),
        opt("pull_request", FILTERED, "Activity on a pull request."),
        opt("pull_request_target", FILTERED, "Pull request activity, in the base's context."),
        opt("workflow_dispatch", OneOf(&[Null, Shape::Object(&DISPATCH)]), "Started by hand."),
        opt("workflow_call", OneOf(&[Null, Shape::Object(&CALL)]), "Called by another workflow."),
        opt("schedule", Seq(&CRON_SHAPE), "Runs on a schedule."),
        opt("branch_protection_rule", GENERIC, ""),
        opt("check_run", GENERIC, ""),
        opt("check_suite", GENERIC, ""),
        opt("create", GENERIC, ""),
        opt("delete", GENERIC, ""),
        opt("deployment", GENERIC, ""),
        opt("deployment_status", GENERIC, ""),
        opt("discussion", GENERIC, ""),
        opt("discussion_comment", GENERIC, ""),
        opt("fork", GENERIC, ""),
        opt("gollum", GENERIC, ""),
        opt("issue_comment", GENERIC, ""),
        opt("issues", GENERIC, ""),
        opt("label", GENERIC, ""),
        opt("merge_group", GENERIC, ""),
        opt("milestone", GENERIC, ""),
        opt("page_build", GENERIC, ""),
        opt("public", GENERIC, ""),
        opt("pull_request_review", GENERIC, ""),
        opt("pull_request_review_comment", GENERIC, ""),
        opt("registry_package", GENERIC, ""),
        opt("release", GENERIC, ""),
        opt("repository_dispatch", GENERIC, ""),
        opt("status", GENERIC, ""),
        opt("watch", GENERIC, ""),
        opt("workflow_run", GENERIC, ""),
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
    ],
    other_keys: None,
    required_unless: None,
};
static CONCURRENCY: Shape = OneOf(&[Str, Shape::Object(&CONCURRENCY_OBJ)]);

static PERMISSION_LEVEL: Shape = Enum(&["read", "write", "none"]);
static PERMISSIONS_OBJ: Object = Object {
    name: "permissions",
    description: "GITHUB_TOKEN permissions by scope.",
    keys: &[
        opt("actions", PERMISSION_LEVEL, ""),
        opt("attestations", PERMISSION_LEVEL, ""),
        opt("checks", PERMISSION_LEVEL, ""),
        opt("contents", PERMISSION_LEVEL, ""),
        opt("deployments", PERMISSION_LEVEL, ""),
        opt("discussions", PERMISSION_LEVEL, ""),
        opt("id-token", PERMISSION_LEVEL, ""),
        opt("issues", PERMISSION_LEVEL, ""),
        opt("models", PERMISSION_LEVEL, ""),
        opt("packages", PERMISSION_LEVEL, ""),
        opt("pages", PERMISSION_LEVEL, ""),
        opt("pull-requests", PERMISSION_LEVEL, ""),
        opt("repository-projects", PERMISSION_LEVEL, ""),
        opt("security-events", PERMISSION_LEVEL, ""),
        opt("statuses", PERMISSION_LEVEL, ""),
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
        opt("deployment", Bool, "Whether to create a deployment."),
    ],
    other_keys: None,
    required_unless: None,
};

static CREDENTIALS: Object = Object {
    name: "credentials",
    description: "Registry credentials.",
    keys: &[req("username", Str, ""), req("password", Str, "")],
    other_keys: None,
    required_unless: None,
};
static CONTAINER_OBJ: Object = Object {
    name: "container",
    description: "A container to run the job's steps (or a service) in.",
    keys: &[
        req("image", Str, "Image reference."),
        opt("credentials", Shape::Object(&CREDENTIALS), "Registry credentials."),
        opt("env", Shape::Object(&ENV), "Container environment."),
        opt("ports", Seq(&ANY), "Ports to expose."),
        opt("volumes", STRINGS, "Volumes to mount."),
        opt("options", Str, "Extra `docker create` options."),
    ],
    other_keys: None,
    required_unless: None,
};
static CONTAINER: Shape = OneOf(&[Str, Shape::Object(&CONTAINER_OBJ)]);
static SERVICES: Object = map_of("services", "Service containers by id.", &CONTAINER);

static MATRIX_ROWS: Shape = OneOf(&[Str, Seq(&ANY)]);
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
        opt("matrix", OneOf(&[Str, Shape::Object(&MATRIX_OBJ)]), "Axes and combinations."),
        opt("fail-fast", Bool, "Cancel other legs when one fails (default true)."),
        opt("max-parallel", Number, "Legs running at once."),
    ],
    other_keys: None,
    required_unless: None,
};

static WITH: Object = map_of("with", "Inputs of an action.", &STRING);
static STEP: Object = Object {
    name: "step",
    description: "One step: a `run` script or a `uses` action.",
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

static JOB: Object = Object {
    name: "job",
    description: "A job: steps run on one runner.",
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
        opt("services", Shape::Object(&SERVICES), "Service containers."),
        opt("timeout-minutes", Number, "Minutes before the job is stopped (default 360)."),
        opt("continue-on-error", Bool, "Let the run succeed when this job fails."),
        opt("concurrency", CONCURRENCY, "Concurrency group of the job."),
        opt("permissions", PERMISSIONS, "GITHUB_TOKEN permissions."),
        req("steps", Seq(&STEP_SHAPE), "The steps, in order."),
        opt("uses", Str, "Reusable workflow to call instead of steps."),
        opt("with", Shape::Object(&WITH), "Inputs of the reusable workflow."),
        opt(
            "secrets",
            OneOf(&[Enum(&["inherit"]), Shape::Object(&ENV)]),
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
