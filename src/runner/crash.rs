//! A leg that panics is a failed leg, never a lost one. To test that path for real, a test (and
//! only a test) may ask a leg to panic: `PIPE_TEST_PANIC_IN_JOB=<job id>` makes every leg of that
//! job panic right after its environment started. Documented in the README as test-only.

/// The test-only variable (see the module comment).
pub const PANIC_IN_JOB: &str = "PIPE_TEST_PANIC_IN_JOB";

/// Panic when the test-only variable names this job.
pub(super) fn panic_if_asked(job_id: &str) {
    if std::env::var(PANIC_IN_JOB).is_ok_and(|j| j == job_id) {
        panic!("{PANIC_IN_JOB} asked job `{job_id}` to panic");
    }
}

/// The message a panic carried, for the failed leg's annotation.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}
