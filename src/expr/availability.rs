//! Where each context and special function may be used: GitHub's "Context
//! availability" table (Contexts reference), kept as one data table.
//!
//! Functions not listed as special (`contains`, `format`, `toJSON`, …) can
//! be used anywhere; the special ones (`always`, `cancelled`, `success`,
//! `failure`, `hashFiles`) only where a row lists them.

/// A workflow key that accepts expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    RunName,
    Concurrency,
    Env,
    JobConcurrency,
    JobContainer,
    JobContainerCredentials,
    JobContainerEnv,
    JobContainerImage,
    JobContinueOnError,
    JobDefaultsRun,
    JobEnv,
    JobEnvironment,
    JobEnvironmentUrl,
    JobIf,
    JobName,
    JobOutputs,
    JobRunsOn,
    JobSecrets,
    JobServices,
    JobServiceCredentials,
    JobServiceEnv,
    StepContinueOnError,
    StepEnv,
    StepIf,
    StepName,
    StepRun,
    StepTimeoutMinutes,
    StepWith,
    StepWorkingDirectory,
    JobStrategy,
    JobTimeoutMinutes,
    JobWith,
    WorkflowCallInputDefault,
    WorkflowCallOutputValue,
}

/// The contexts and special functions allowed at one location. Names are
/// spelled as in GitHub's docs (`hashFiles`); compare with the helpers,
/// which ignore case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Availability {
    pub contexts: &'static [&'static str],
    pub functions: &'static [&'static str],
}

/// Functions restricted by the table; all others are allowed everywhere.
pub const SPECIAL_FUNCTIONS: &[&str] = &["always", "cancelled", "success", "failure", "hashFiles"];

impl Availability {
    pub fn allows_context(&self, name: &str) -> bool {
        self.contexts.iter().any(|c| c.eq_ignore_ascii_case(name))
    }

    pub fn allows_function(&self, name: &str) -> bool {
        let special = SPECIAL_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name));
        !special || self.functions.iter().any(|f| f.eq_ignore_ascii_case(name))
    }
}

struct Row {
    location: Location,
    key: &'static str,
    contexts: &'static [&'static str],
    functions: &'static [&'static str],
}

const NONE: &[&str] = &[];
const STATUS: &[&str] = &["always", "cancelled", "success", "failure"];
const HASH: &[&str] = &["hashFiles"];
const STATUS_HASH: &[&str] = &["always", "cancelled", "success", "failure", "hashFiles"];

/// Rows in the order of GitHub's table (contexts in the docs' order too).
#[rustfmt::skip]
const TABLE: &[Row] = &[
    Row { location: Location::RunName, key: "run-name", contexts: &["github", "inputs", "vars"], functions: NONE },
    Row { location: Location::Concurrency, key: "concurrency", contexts: &["github", "inputs", "vars"], functions: NONE },
    Row { location: Location::Env, key: "env", contexts: &["github", "secrets", "inputs", "vars"], functions: NONE },
    Row { location: Location::JobConcurrency, key: "jobs.<job_id>.concurrency", contexts: &["github", "needs", "strategy", "matrix", "inputs", "vars"], functions: NONE },
    Row { location: Location::JobContainer, key: "jobs.<job_id>.container", contexts: &["github", "needs", "strategy", "matrix", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobContainerCredentials, key: "jobs.<job_id>.container.credentials", contexts: &["github", "needs", "strategy", "matrix", "env", "vars", "secrets", "inputs"], functions: NONE },
    Row { location: Location::JobContainerEnv, key: "jobs.<job_id>.container.env.<env_id>", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "inputs"], functions: NONE },
    Row { location: Location::JobContainerImage, key: "jobs.<job_id>.container.image", contexts: &["github", "needs", "strategy", "matrix", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobContinueOnError, key: "jobs.<job_id>.continue-on-error", contexts: &["github", "needs", "strategy", "vars", "matrix", "inputs"], functions: NONE },
    Row { location: Location::JobDefaultsRun, key: "jobs.<job_id>.defaults.run", contexts: &["github", "needs", "strategy", "matrix", "env", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobEnv, key: "jobs.<job_id>.env", contexts: &["github", "needs", "strategy", "matrix", "vars", "secrets", "inputs"], functions: NONE },
    Row { location: Location::JobEnvironment, key: "jobs.<job_id>.environment", contexts: &["github", "needs", "strategy", "matrix", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobEnvironmentUrl, key: "jobs.<job_id>.environment.url", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "steps", "inputs"], functions: NONE },
    Row { location: Location::JobIf, key: "jobs.<job_id>.if", contexts: &["github", "needs", "vars", "inputs"], functions: STATUS },
    Row { location: Location::JobName, key: "jobs.<job_id>.name", contexts: &["github", "needs", "strategy", "matrix", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobOutputs, key: "jobs.<job_id>.outputs.<output_id>", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"], functions: NONE },
    Row { location: Location::JobRunsOn, key: "jobs.<job_id>.runs-on", contexts: &["github", "needs", "strategy", "matrix", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobSecrets, key: "jobs.<job_id>.secrets.<secrets_id>", contexts: &["github", "needs", "strategy", "matrix", "secrets", "inputs", "vars"], functions: NONE },
    Row { location: Location::JobServices, key: "jobs.<job_id>.services", contexts: &["github", "needs", "strategy", "matrix", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobServiceCredentials, key: "jobs.<job_id>.services.<service_id>.credentials", contexts: &["github", "needs", "strategy", "matrix", "env", "vars", "secrets", "inputs"], functions: NONE },
    Row { location: Location::JobServiceEnv, key: "jobs.<job_id>.services.<service_id>.env.<env_id>", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "inputs"], functions: NONE },
    Row { location: Location::StepContinueOnError, key: "jobs.<job_id>.steps.continue-on-error", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"], functions: HASH },
    Row { location: Location::StepEnv, key: "jobs.<job_id>.steps.env", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"], functions: HASH },
    Row { location: Location::StepIf, key: "jobs.<job_id>.steps.if", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "steps", "inputs"], functions: STATUS_HASH },
    Row { location: Location::StepName, key: "jobs.<job_id>.steps.name", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"], functions: HASH },
    Row { location: Location::StepRun, key: "jobs.<job_id>.steps.run", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"], functions: HASH },
    Row { location: Location::StepTimeoutMinutes, key: "jobs.<job_id>.steps.timeout-minutes", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"], functions: HASH },
    Row { location: Location::StepWith, key: "jobs.<job_id>.steps.with", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"], functions: HASH },
    Row { location: Location::StepWorkingDirectory, key: "jobs.<job_id>.steps.working-directory", contexts: &["github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"], functions: HASH },
    Row { location: Location::JobStrategy, key: "jobs.<job_id>.strategy", contexts: &["github", "needs", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobTimeoutMinutes, key: "jobs.<job_id>.timeout-minutes", contexts: &["github", "needs", "strategy", "matrix", "vars", "inputs"], functions: NONE },
    Row { location: Location::JobWith, key: "jobs.<job_id>.with.<with_id>", contexts: &["github", "needs", "strategy", "matrix", "inputs", "vars"], functions: NONE },
    Row { location: Location::WorkflowCallInputDefault, key: "on.workflow_call.inputs.<inputs_id>.default", contexts: &["github", "inputs", "vars"], functions: NONE },
    Row { location: Location::WorkflowCallOutputValue, key: "on.workflow_call.outputs.<output_id>.value", contexts: &["github", "jobs", "vars", "inputs"], functions: NONE },
];

fn row(location: Location) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.location == location)
}

/// The contexts and special functions allowed at `location`.
pub fn allowed(location: Location) -> Availability {
    // Every variant has a row (checked by a test); an empty answer is the
    // conservative fallback.
    row(location)
        .map(|r| Availability { contexts: r.contexts, functions: r.functions })
        .unwrap_or(Availability { contexts: NONE, functions: NONE })
}

impl Location {
    /// The key as GitHub's table spells it (`jobs.<job_id>.steps.if`).
    pub fn key(self) -> &'static str {
        row(self).map(|r| r.key).unwrap_or("")
    }

    /// Inverse of [`Location::key`].
    pub fn from_key(key: &str) -> Option<Location> {
        TABLE.iter().find(|r| r.key == key).map(|r| r.location)
    }

    /// All locations, in table order.
    pub fn all() -> impl Iterator<Item = Location> {
        TABLE.iter().map(|r| r.location)
    }
}
