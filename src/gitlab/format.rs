//! The GitLab CI syntax as far as pipe reads it, as data for the shared shape checks
//! (`format::check`): unknown keys with a "did you mean", wrong types, values outside their
//! enumeration. Keys follow GitLab's "CI/CD YAML syntax reference".

use crate::format::Shape::{self, Any, Bool, Enum, Number, OneOf, Seq, String as Str, Text};
use crate::format::{Key, Object, map_of, opt, req};

/// Top-level keys that are not jobs.
pub const RESERVED: &[&str] = &[
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

pub const WHEN: &[&str] = &["on_success", "on_failure", "always", "manual", "delayed", "never"];

static STRING: Shape = Str;
static STRINGS: Shape = Seq(&STRING);
static STRING_OR_STRINGS: Shape = OneOf(&[Str, Seq(&STRING)]);
/// Script lines: strings, or lists of them (what a `!reference` brings in), nested.
static SCRIPT_ITEM: Shape = OneOf(&[Str, Seq(&STRING_OR_STRINGS)]);
static SCRIPT: Shape = OneOf(&[Str, Seq(&SCRIPT_ITEM)]);
static NUMBER: Shape = Number;
static NUMBERS: Shape = OneOf(&[Number, Seq(&NUMBER)]);

static VARIABLE: Object = Object {
    name: "variable",
    description: "A variable with a value and, for pipelines run by hand, a description and options.",
    keys: &[
        opt("value", Str, "The value."),
        opt("description", Str, "Shown when the pipeline is run by hand."),
        opt("options", Seq(&STRING), "Values to choose from."),
        opt("expand", Bool, "false: `$` in the value is not expanded."),
    ],
    other_keys: None,
    required_unless: None,
};
static VARIABLE_VALUE: Shape = OneOf(&[Str, Shape::Object(&VARIABLE)]);
static VARIABLES: Object = map_of("variables", "CI/CD variables (name: value).", &VARIABLE_VALUE);
static SIMPLE_VARIABLES: Object = map_of("variables", "Variables (name: value).", &STRING);

static IMAGE_OBJECT: Object = Object {
    name: "image",
    description: "A Docker image with options.",
    keys: &[
        req("name", Str, "The image."),
        opt("entrypoint", Seq(&STRING), "Overrides the image's entrypoint."),
        opt("pull_policy", STRING_OR_STRINGS, "always, if-not-present, never."),
        opt("docker", Any, "Docker options (platform, user)."),
    ],
    other_keys: None,
    required_unless: None,
};
static IMAGE: Shape = OneOf(&[Str, Shape::Object(&IMAGE_OBJECT)]);

static SERVICE_OBJECT: Object = Object {
    name: "service",
    description: "A service container started next to the job.",
    keys: &[
        req("name", Str, "The image."),
        opt("alias", Str, "Host name(s) the job reaches it by (comma-separated)."),
        opt("variables", Shape::Object(&SIMPLE_VARIABLES), "Environment of the service."),
        opt("command", Seq(&STRING), "Command (arguments) of the service."),
        opt("entrypoint", Seq(&STRING), "Entrypoint of the service."),
        opt("pull_policy", STRING_OR_STRINGS, "always, if-not-present, never."),
        opt("docker", Any, "Docker options."),
    ],
    other_keys: None,
    required_unless: None,
};
static SERVICE: Shape = OneOf(&[Str, Shape::Object(&SERVICE_OBJECT)]);
static SERVICES: Shape = Seq(&SERVICE);

static CHANGES_OBJECT: Object = Object {
    name: "changes",
    description: "Paths whose change makes the rule match.",
    keys: &[opt("paths", Seq(&STRING), "Globs."), opt("compare_to", Str, "Ref to compare with.")],
    other_keys: None,
    required_unless: None,
};
static CHANGES: Shape = OneOf(&[Seq(&STRING), Shape::Object(&CHANGES_OBJECT)]);
static EXISTS_OBJECT: Object = Object {
    name: "exists",
    description: "Paths that must exist for the rule to match.",
    keys: &[
        opt("paths", Seq(&STRING), "Globs."),
        opt("project", Str, "Another project."),
        opt("ref", Str, "Its ref."),
    ],
    other_keys: None,
    required_unless: None,
};
static EXISTS: Shape = OneOf(&[Seq(&STRING), Shape::Object(&EXISTS_OBJECT)]);
static ALLOW_FAILURE_OBJECT: Object = Object {
    name: "allow_failure",
    description: "Exit codes that are allowed failures.",
    keys: &[opt("exit_codes", NUMBERS, "An exit code or a list of them.")],
    other_keys: None,
    required_unless: None,
};
static ALLOW_FAILURE: Shape = OneOf(&[Bool, Shape::Object(&ALLOW_FAILURE_OBJECT)]);

static RULE: Object = Object {
    name: "rule",
    description: "A condition that adds the job (or the pipeline) and how.",
    keys: &[
        opt("if", Str, "An expression: $VAR == \"x\", =~ /regex/, &&, ||."),
        opt("changes", CHANGES, "Changed paths."),
        opt("exists", EXISTS, "Existing paths."),
        opt("when", Enum(WHEN), "How the job runs when the rule matches."),
        opt("allow_failure", Bool, "Whether a failure is allowed."),
        opt("variables", Shape::Object(&SIMPLE_VARIABLES), "Variables set when the rule matches."),
        opt("needs", Any, "Needs when the rule matches."),
        opt("start_in", Str, "Delay of a delayed job."),
        opt("interruptible", Bool, "Whether a newer pipeline may cancel it."),
    ],
    other_keys: None,
    required_unless: None,
};
static RULES: Shape = Seq(&Shape::Object(&RULE));

/// `only:`/`except:` take strings only: GitLab rejects `only: 5` or `only: [true]`.
static TEXT: Shape = Text;
static TEXTS: Shape = Seq(&TEXT);
static ONLY_CHANGES: Shape = OneOf(&[Seq(&TEXT), Shape::Object(&CHANGES_OBJECT)]);
static ONLY_OBJECT: Object = Object {
    name: "only/except",
    description: "Refs, variables and changes (the older form of rules).",
    keys: &[
        opt("refs", TEXTS, "Branches, tags, /regex/ or keywords (branches, tags, merge_requests, ...)."),
        opt("variables", TEXTS, "Expressions."),
        opt("changes", ONLY_CHANGES, "Changed paths."),
        opt("kubernetes", Enum(&["active"]), "active."),
    ],
    other_keys: None,
    required_unless: None,
};
static ONLY: Shape = OneOf(&[Text, Seq(&TEXT), Shape::Object(&ONLY_OBJECT)]);

static NEED_OBJECT: Object = Object {
    name: "need",
    description: "A job this one needs.",
    keys: &[
        opt("job", Str, "The job."),
        opt("optional", Bool, "Ignore the need when the job is not in the pipeline."),
        opt("artifacts", Bool, "Download its artifacts (default true)."),
        opt("pipeline", Str, "Another pipeline."),
        opt("project", Str, "Another project."),
        opt("ref", Str, "Its ref."),
        opt("parallel", Any, "Only some of its parallel jobs."),
    ],
    other_keys: None,
    required_unless: None,
};
static NEED: Shape = OneOf(&[Str, Shape::Object(&NEED_OBJECT)]);
static NEEDS: Shape = Seq(&NEED);

static REPORTS: Object = Object {
    name: "reports",
    description: "Reports; `dotenv` passes variables to later jobs.",
    keys: &[opt("dotenv", STRING_OR_STRINGS, "A file of NAME=VALUE lines.")],
    other_keys: Some(&Any),
    required_unless: None,
};
static ARTIFACTS: Object = Object {
    name: "artifacts",
    description: "Files kept after the job and given to later jobs.",
    keys: &[
        opt("paths", Seq(&STRING), "Files and folders (globs)."),
        opt("exclude", Seq(&STRING), "Paths left out."),
        opt("expire_in", Str, "How long they are kept."),
        opt("when", Enum(&["on_success", "on_failure", "always"]), "When they are uploaded."),
        opt("reports", Shape::Object(&REPORTS), "Reports."),
        opt("name", Str, "Archive name."),
        opt("untracked", Bool, "Add untracked files."),
        opt("expose_as", Str, "Link name in merge requests."),
        opt("public", Bool, "Public access."),
        opt("access", Str, "Who may download."),
    ],
    other_keys: None,
    required_unless: None,
};
static CACHE_KEY_OBJECT: Object = Object {
    name: "cache key",
    description: "A key computed from files.",
    keys: &[opt("files", Seq(&STRING), "Files hashed into the key."), opt("prefix", Str, "Key prefix.")],
    other_keys: None,
    required_unless: None,
};
static CACHE_OBJECT: Object = Object {
    name: "cache",
    description: "Files kept between pipelines.",
    keys: &[
        opt("key", OneOf(&[Str, Shape::Object(&CACHE_KEY_OBJECT)]), "The cache key."),
        opt("paths", Seq(&STRING), "Cached paths."),
        opt("policy", Enum(&["pull-push", "pull", "push"]), "Restore, save or both."),
        opt("when", Enum(&["on_success", "on_failure", "always"]), "When it is saved."),
        opt("untracked", Bool, "Cache untracked files."),
        opt("unprotect", Bool, "Share with unprotected branches."),
        opt("fallback_keys", Seq(&STRING), "Keys tried when the key misses."),
    ],
    other_keys: None,
    required_unless: None,
};
static CACHE_ONE: Shape = Shape::Object(&CACHE_OBJECT);
static CACHE: Shape = OneOf(&[Shape::Object(&CACHE_OBJECT), Seq(&CACHE_ONE)]);

static ENVIRONMENT_OBJECT: Object = Object {
    name: "environment",
    description: "The environment the job deploys to.",
    keys: &[
        req("name", Str, "Environment name."),
        opt("url", Str, "Its URL."),
        opt("action", Enum(&["start", "prepare", "stop", "verify", "access"]), "What the job does to it."),
        opt("deployment_tier", Enum(&["production", "staging", "testing", "development", "other"]), "Tier."),
        opt("on_stop", Str, "The job that stops it."),
        opt("auto_stop_in", Str, "Stop it after this long."),
        opt("kubernetes", Any, "Kubernetes settings."),
    ],
    other_keys: None,
    required_unless: None,
};
static ENVIRONMENT: Shape = OneOf(&[Str, Shape::Object(&ENVIRONMENT_OBJECT)]);

/// The failure kinds `retry: when` names (GitLab's list).
const RETRY_KINDS: &[&str] = &[
    "always",
    "unknown_failure",
    "script_failure",
    "api_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "runner_unsupported",
    "stale_schedule",
    "job_execution_timeout",
    "archived_failure",
    "unmet_prerequisites",
    "scheduler_failure",
    "data_integrity_failure",
];
static RETRY_KIND: Shape = Enum(RETRY_KINDS);
static RETRY_WHEN: Shape = OneOf(&[Enum(RETRY_KINDS), Seq(&RETRY_KIND)]);
static RETRY_OBJECT: Object = Object {
    name: "retry",
    description: "How often a failed job is tried again.",
    keys: &[
        opt("max", Number, "0, 1 or 2."),
        opt("when", RETRY_WHEN, "Failure kinds (always, script_failure, ...)."),
        opt("exit_codes", NUMBERS, "Exit codes to retry on."),
    ],
    other_keys: None,
    required_unless: None,
};
static RETRY: Shape = OneOf(&[Number, Shape::Object(&RETRY_OBJECT)]);
static MATRIX_ROW: Object =
    map_of("matrix entry", "Variable name: value or list of values.", &STRING_OR_STRINGS);
static PARALLEL_OBJECT: Object = Object {
    name: "parallel",
    description: "A matrix of variable values, one job per combination.",
    keys: &[opt("matrix", Seq(&Shape::Object(&MATRIX_ROW)), "Rows of variables and their values.")],
    other_keys: None,
    required_unless: None,
};
static PARALLEL: Shape = OneOf(&[Number, Shape::Object(&PARALLEL_OBJECT)]);
static INHERIT_OBJECT: Object = Object {
    name: "inherit",
    description: "Which global defaults and variables a job takes.",
    keys: &[
        opt("default", OneOf(&[Bool, Seq(&STRING)]), ""),
        opt("variables", OneOf(&[Bool, Seq(&STRING)]), ""),
    ],
    other_keys: None,
    required_unless: None,
};

/// Keys a job (and `default:`, for the subset GitLab allows there) may have.
const JOB_KEYS: &[Key] = &[
    opt("script", SCRIPT, "Commands run in the job's shell."),
    opt("before_script", SCRIPT, "Commands run before `script`, in the same shell."),
    opt("after_script", SCRIPT, "Commands run after `script`, in a new shell, also when it failed."),
    opt("stage", Str, "The stage the job belongs to (default `test`)."),
    opt("image", IMAGE, "Docker image of the job."),
    opt("services", SERVICES, "Service containers."),
    opt("variables", Shape::Object(&VARIABLES), "Job variables."),
    opt("needs", NEEDS, "Jobs this job needs (makes it start as soon as they finish)."),
    opt("dependencies", Seq(&STRING), "Jobs whose artifacts are downloaded."),
    opt("rules", RULES, "When the job is added to the pipeline."),
    opt("only", ONLY, "Refs the job runs for (older form of rules)."),
    opt("except", ONLY, "Refs the job does not run for."),
    opt("when", Enum(WHEN), "on_success, on_failure, always, manual, delayed or never."),
    opt("start_in", Str, "Delay of a `when: delayed` job."),
    opt("allow_failure", ALLOW_FAILURE, "Whether a failure lets the pipeline go on."),
    opt("timeout", Str, "How long the job may run (`1h 30m`)."),
    opt("retry", RETRY, "How often a failed job is retried."),
    opt("parallel", PARALLEL, "Number of copies, or a matrix."),
    opt("artifacts", Shape::Object(&ARTIFACTS), "Files passed to later jobs."),
    opt("cache", CACHE, "Files kept between pipelines."),
    opt("environment", ENVIRONMENT, "The environment the job deploys to."),
    opt("resource_group", Str, "Only one job of the group runs at a time."),
    opt("extends", STRING_OR_STRINGS, "Jobs or templates whose keys this job inherits."),
    opt("tags", Seq(&STRING), "Runner tags (mapped to executors like `runs-on` labels)."),
    opt("interruptible", Bool, "Whether a newer pipeline may cancel the job."),
    opt("coverage", Str, "Regex of the coverage line."),
    opt("inherit", Shape::Object(&INHERIT_OBJECT), "Which defaults the job takes."),
    opt("trigger", Any, "Starts a downstream pipeline (not supported by pipe)."),
    opt("release", Any, "Creates a release (not supported by pipe)."),
    opt("secrets", Any, "External secrets (not supported by pipe)."),
    opt("id_tokens", Any, "OIDC tokens (not supported by pipe)."),
    opt("hooks", Any, "Runner hooks."),
    opt("pages", Any, "GitLab Pages."),
    opt("identity", Any, "Identity federation."),
    opt("manual_confirmation", Str, "Message shown before a manual job runs."),
    opt("dast_configuration", Any, "DAST settings."),
];

pub static JOB: Object = Object {
    name: "job",
    description: "A GitLab CI job.",
    keys: JOB_KEYS,
    other_keys: None,
    required_unless: None,
};

static DEFAULT: Object = Object {
    name: "default",
    description: "Defaults for every job.",
    keys: &[
        opt("image", IMAGE, ""),
        opt("services", SERVICES, ""),
        opt("before_script", SCRIPT, ""),
        opt("after_script", SCRIPT, ""),
        opt("cache", CACHE, ""),
        opt("artifacts", Shape::Object(&ARTIFACTS), ""),
        opt("retry", RETRY, ""),
        opt("timeout", Str, ""),
        opt("tags", Seq(&STRING), ""),
        opt("interruptible", Bool, ""),
        opt("hooks", Any, ""),
        opt("id_tokens", Any, ""),
    ],
    other_keys: None,
    required_unless: None,
};

static WORKFLOW_RULE: Object = Object {
    name: "workflow rule",
    description: "A condition for the whole pipeline.",
    keys: &[
        opt("if", Str, ""),
        opt("changes", CHANGES, ""),
        opt("exists", EXISTS, ""),
        opt("when", Enum(&["always", "never"]), ""),
        opt("variables", Shape::Object(&SIMPLE_VARIABLES), ""),
        opt("auto_cancel", Any, ""),
    ],
    other_keys: None,
    required_unless: None,
};
static WORKFLOW: Object = Object {
    name: "workflow",
    description: "Whether and how the pipeline is created.",
    keys: &[
        opt("rules", Seq(&Shape::Object(&WORKFLOW_RULE)), ""),
        opt("name", Str, "Pipeline name."),
        opt("auto_cancel", Any, ""),
    ],
    other_keys: None,
    required_unless: None,
};
static INCLUDE_OBJECT: Object = Object {
    name: "include",
    description: "Another file merged into this one.",
    keys: &[
        opt("local", Str, ""),
        opt("project", Str, ""),
        opt("file", STRING_OR_STRINGS, ""),
        opt("ref", Str, ""),
        opt("remote", Str, ""),
        opt("template", Str, ""),
        opt("component", Str, ""),
        opt("rules", Any, ""),
        opt("inputs", Any, ""),
        opt("cache", Any, ""),
        opt("integrity", Str, ""),
    ],
    other_keys: None,
    required_unless: None,
};
static INCLUDE_ONE: Shape = OneOf(&[Str, Shape::Object(&INCLUDE_OBJECT)]);

/// The top-level keys that are not jobs, and their shapes.
pub static TOP: &[Key] = &[
    opt("stages", STRINGS, "Stage names in order."),
    opt("variables", Shape::Object(&VARIABLES), "Global variables."),
    opt("default", Shape::Object(&DEFAULT), "Defaults for every job."),
    opt("include", OneOf(&[Str, Seq(&INCLUDE_ONE), Shape::Object(&INCLUDE_OBJECT)]), "Files merged in."),
    opt("workflow", Shape::Object(&WORKFLOW), "Pipeline rules."),
    opt("image", IMAGE, "Default image (prefer default:image)."),
    opt("services", SERVICES, "Default services."),
    opt("cache", CACHE, "Default cache."),
    opt("before_script", SCRIPT, "Default before_script."),
    opt("after_script", SCRIPT, "Default after_script."),
    opt("spec", Any, "Inputs of an included file."),
];
