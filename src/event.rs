//! The events a run emits. The runner only emits these; the terminal reporter, the JSON stream
//! and the state store consume them (SPEC: "JSON event stream").

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    Success,
    Failure,
    Skipped,
    Cancelled,
    /// Stopped by its infrastructure (the Docker daemon lost, the job container gone), not by
    /// its steps: `pipe resume` runs it again.
    Interrupted,
}

impl Conclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Skipped => "skipped",
            Conclusion::Cancelled => "cancelled",
            Conclusion::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunResult {
    Success,
    Failure,
    Cancelled,
    Waiting,
    /// A leg was interrupted by its infrastructure: `pipe resume` runs it again.
    Interrupted,
}

/// One event with its envelope (`v`, `run_id`, `ts`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub v: u32,
    #[serde(flatten)]
    pub event: Event,
    pub run_id: String,
    pub ts: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        pipeline: String,
        event_name: String,
        #[serde(rename = "ref")]
        git_ref: String,
        sha: String,
        mode: String,
    },
    JobStarted {
        job: String,
        name: String,
        matrix: Option<Json>,
        executor: String,
        image: Option<String>,
    },
    /// Not in the required set: a step began (the terminal shows it live).
    StepStarted {
        job: String,
        name: String,
        step: usize,
        id: Option<String>,
        step_name: String,
    },
    /// Not in the required set: one line of step output (already masked).
    StepOutput {
        job: String,
        name: String,
        step: usize,
        stream: String,
        line: String,
    },
    /// Only in `events.jsonl`, never shown: step output kept by reference. Bytes `offset` to
    /// `offset + len` of the step's log file (`log`, relative to the run's folder) are lines the
    /// step printed to `stream`; the reporters and the JSON stream got them as `step_output`
    /// events, one per line.
    StepLog {
        job: String,
        name: String,
        step: usize,
        stream: String,
        log: String,
        offset: u64,
        len: u64,
    },
    StepFinished {
        job: String,
        name: String,
        step: usize,
        id: Option<String>,
        step_name: String,
        outcome: Conclusion,
        conclusion: Conclusion,
        duration_ms: u64,
    },
    /// An `::error::`/`::warning::`/`::notice::` annotation from a step.
    Annotation {
        job: String,
        name: String,
        step: usize,
        level: String,
        message: String,
    },
    /// Not in the required set: a message from pipe itself about the run (a state file that could
    /// not be written, a container that could not be removed, a gate already answered).
    Notice {
        level: String,
        message: String,
    },
    GateWaiting {
        job: String,
        name: String,
        environment: String,
    },
    GateDecided {
        job: String,
        environment: String,
        decision: String,
        by: String,
        comment: Option<String>,
    },
    /// Not in the required set: a deployment leg finished and was written to the ledger.
    Deployed {
        job: String,
        name: String,
        environment: String,
        url: Option<String>,
        result: Conclusion,
    },
    JobFinished {
        job: String,
        name: String,
        matrix: Option<Json>,
        result: Conclusion,
        outputs: Json,
        duration_ms: u64,
    },
    RunFinished {
        result: RunResult,
        duration_ms: u64,
    },
}

/// Current time as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}
