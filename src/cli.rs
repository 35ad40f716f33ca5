//! The command line of SPEC.md, declared with clap's derive.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::PullPolicy;
use crate::backend::engine::Engine;
use crate::gitlab::Syntax;
use crate::render::Format;

#[derive(Debug, Parser)]
#[command(
    name = "pipe",
    version,
    about = "Run GitHub-Actions-style pipelines on your own machine",
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// State directory for runs, logs, the ledger and the audit log.
    #[arg(long, global = true, env = "PIPE_STATE_DIR", default_value = ".pipe", value_name = "DIR")]
    pub state_dir: PathBuf,
    /// When to use colours (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print less.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Container engine of the Docker backend: Docker (DOCKER_HOST, else its socket) or Podman
    /// (its API socket, rootless or rootful).
    #[arg(long, global = true, env = "PIPE_ENGINE", value_enum, default_value_t = Engine::Docker)]
    pub engine: Engine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

// Parsed once per process: the size of the larger variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check pipeline files and report every problem with its file:line:col.
    Validate {
        /// Files or folders (default: pipelines/ and .github/workflows/).
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        actions: ActionArgs,
        /// Pipeline syntax: decided from the file name and shape (auto), or forced.
        #[arg(long, value_enum, default_value_t = Syntax::Auto)]
        syntax: Syntax,
        /// Do not run shellcheck on `run:` scripts (it runs when `shellcheck` is on PATH).
        #[arg(long)]
        no_shellcheck: bool,
    },
    /// Show what a run would do, without running anything.
    Plan {
        file: PathBuf,
        #[command(flatten)]
        select: Selection,
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        #[command(flatten)]
        actions: ActionArgs,
    },
    /// Run a pipeline.
    Run(Box<RunArgs>),
    /// Approve a run waiting at an approval gate.
    Approve(Decision),
    /// Reject a run waiting at an approval gate.
    Reject(Decision),
    /// Continue a paused or interrupted run with the options it was started with.
    Resume {
        run: String,
        #[command(flatten)]
        secrets: SecretArgs,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
        /// Who answers approval prompts (default: git user.name, else $USER).
        #[arg(long = "as", value_name = "NAME")]
        as_name: Option<String>,
    },
    /// List runs, newest first.
    Runs,
    /// Print the saved log of a run, or of one of its jobs.
    Logs {
        /// Run id, a unique prefix of it, or `last`.
        run: String,
        /// A job id, or a job's name as the run shows it (`test (3.12, linux)`).
        job: Option<String>,
        /// Follow a live run: print its output as it comes, until it ends.
        #[arg(short, long)]
        follow: bool,
    },
    /// What runs where now, and the deployment ledger: what was deployed where, when, approved by
    /// whom, rolled forward or back.
    History {
        environment: Option<String>,
        /// Every environment where this artifact (a tag, version, digest or commit) was deployed,
        /// with its state: current, replaced, rolled back, failed.
        #[arg(long, value_name = "VERSION")]
        artifact: Option<String>,
    },
    /// Bring back an environment's previous known-good artifact (or VERSION): its deploy job runs
    /// again with the outputs the ledger recorded, never rebuilding, through the same gate.
    Rollback(RollbackArgs),
    /// Remove containers, networks and volumes left by crashed runs.
    Prune,
    /// Print the JSON Schema of the pipeline format.
    Schema,
    /// Print shell completions (e.g. `pipe completions bash > ~/.local/share/bash-completion/completions/pipe`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `pipe man > pipe.1`.
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Mermaid,
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A human approves each gated deploy (continuous delivery).
    #[default]
    Delivery,
    /// Every gate passes automatically (continuous deployment).
    Deployment,
}

/// `--executor`: defined with the backends (see [`crate::backend::Executor`]).
pub use crate::backend::ExecutorChoice;

/// Flags shared by `plan` and `run` that choose what runs.
#[derive(Debug, Args, Clone, Default)]
pub struct Selection {
    /// Event that triggers the run.
    #[arg(long, default_value = "push", value_name = "NAME")]
    pub event: String,
    /// Git ref (default: the current branch as refs/heads/...).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// Commit (default: git rev-parse HEAD).
    #[arg(long)]
    pub sha: Option<String>,
    /// Event payload JSON file.
    #[arg(long, value_name = "FILE")]
    pub eventpath: Option<PathBuf>,
    /// workflow_dispatch input.
    #[arg(long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// Run these jobs and what they need (repeatable).
    #[arg(long = "job", value_name = "ID")]
    pub jobs: Vec<String>,
    /// delivery: a human approves deploys; deployment: gates pass automatically.
    #[arg(long, value_enum, default_value_t = Mode::Delivery)]
    pub mode: Mode,
    /// Pre-approve this environment for this run (repeatable).
    #[arg(long = "approve", value_name = "ENV")]
    pub approve: Vec<String>,
    /// Map a runs-on label to an image, or to `host` (repeatable).
    #[arg(short = 'P', long = "platform", value_name = "LABEL=IMAGE")]
    pub platforms: Vec<String>,
    /// Variable for the `vars` context (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Pipeline syntax: decided from the file name and shape (auto), or forced.
    #[arg(long, value_enum, default_value_t = Syntax::Auto)]
    pub syntax: Syntax,
}

/// Where `owner/repo` actions come from (shared by `validate`, `plan` and `run`).
#[derive(Debug, Args, Clone, Default)]
pub struct ActionArgs {
    /// Git URL of `owner/repo` actions, with `{owner}` and `{repo}` (default https://github.com/{owner}/{repo}).
    #[arg(long = "action-source", value_name = "URL")]
    pub source: Option<String>,
    /// Use a local folder for that action instead of fetching it (repeatable).
    #[arg(long = "local-action", value_name = "OWNER/REPO@REF=PATH")]
    pub local: Vec<String>,
    /// Use only the action cache; name the actions that are missing.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SecretArgs {
    /// Secret as NAME=VALUE, or NAME to read it from the environment (repeatable).
    #[arg(long = "secret", value_name = "NAME[=VALUE]")]
    pub secrets: Vec<String>,
    /// File of NAME=VALUE secret lines.
    #[arg(long = "secret-file", value_name = "FILE")]
    pub secret_files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub select: Selection,
    #[command(flatten)]
    pub secrets: SecretArgs,
    #[command(flatten)]
    pub actions: ActionArgs,
    /// Print the plan and execute nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where jobs run: Docker when the daemon answers (auto), Docker, or the host.
    #[arg(long, value_enum, default_value_t = ExecutorChoice::Auto)]
    pub executor: ExecutorChoice,
    /// File of NAME=VALUE lines added to every job's environment.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Legs at once (default: every ready leg, as on GitHub).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// When to pull images.
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Run in the working tree instead of a copy.
    #[arg(long)]
    pub bind: bool,
    /// Who answers approval prompts (default: git user.name, else $USER).
    #[arg(long = "as", value_name = "NAME")]
    pub as_name: Option<String>,
    /// Last lines of a failed step shown when it fails (0: none, only where its log is).
    #[arg(long, value_name = "N", default_value_t = crate::report::FAILURE_LINES)]
    pub failure_lines: usize,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The environment to roll back.
    pub environment: String,
    /// The artifact to bring back (a tag, version, digest or commit; default: the newest earlier
    /// known-good one).
    #[arg(long = "to", value_name = "VERSION")]
    pub to: Option<String>,
    /// delivery: a human approves the deploy (as for any deploy); deployment: the gate passes.
    #[arg(long, value_enum, default_value_t = Mode::Delivery)]
    pub mode: Mode,
    /// Pre-approve this environment for this rollback (repeatable).
    #[arg(long = "approve", value_name = "ENV")]
    pub approve: Vec<String>,
    #[command(flatten)]
    pub secrets: SecretArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Who rolls back and answers approval prompts (default: git user.name, else $USER).
    #[arg(long = "as", value_name = "NAME")]
    pub as_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct Decision {
    /// Run id, a unique prefix of it, or `last`.
    pub run: String,
    /// The environment whose gate is answered (needed when several wait).
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    #[arg(long)]
    pub comment: Option<String>,
    /// Who decides (default: git user.name, else $USER).
    #[arg(long = "as", value_name = "NAME")]
    pub as_name: Option<String>,
}
