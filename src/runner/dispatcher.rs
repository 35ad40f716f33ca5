//! The scheduler: starts each job the moment its own `needs` are done (a true DAG, no stage
//! barriers), up to `--parallel` legs at once, honouring `max-parallel` and `fail-fast` per
//! matrix, job `if:` and gates. One loop owns every event of the run and all its state: finished
//! legs (a leg that panicked is a failed leg), signals (first: stop gracefully; second: kill),
//! gate answers (the prompt and `pipe approve` race in a task of their own), job timeouts and a
//! tick for the display. Nothing here waits on anything else.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value as Json, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::Shared;
use super::cancel::{Cancel, CancelReason};
use super::gate_wait::Answered;
use super::job::{Leg, LegResult};
use super::job_start::{Gated, Start, gated, start_job, with_gates};
use super::readiness::Readiness;
use super::signals::Signals;
use super::timer::{Armed, JobTimer};
use crate::event::{Conclusion, Event, RunResult};
use crate::gate::ledger::Decision;
use crate::plan::{Legs, Plan, PlannedJob};
use crate::store::JobRecord;

/// How often reporters are told that time passed (spinners, elapsed times).
const TICK: Duration = Duration::from_millis(100);

/// How a job ended, as dependents see it (`needs.<id>.result`, `needs.<id>.outputs`).
#[derive(Debug, Clone)]
pub struct JobDone {
    pub result: Conclusion,
    pub outputs: Map<String, Json>,
}

enum JobState {
    Pending,
    /// At a gate that is being asked; the legs start when every open question is answered.
    Asking {
        legs: Vec<Leg>,
        passed: BTreeMap<String, Gated>,
        open: usize,
        /// The first rejection: the job fails with it once every question is closed.
        refused: Option<String>,
        /// An input that ended without an answer: the job waits (exit 3).
        unanswered: bool,
    },
    Running {
        remaining: usize,
        failed: bool,
        cancelled: bool,
        /// A leg lost its infrastructure (the daemon, its container).
        interrupted: bool,
        /// A gate inside a called workflow waits for an answer.
        waiting: bool,
        outputs: Map<String, Json>,
        cancel: Cancel,
    },
    Waiting,
    Done(JobDone),
}

/// What the dispatcher ends with.
pub struct Finished {
    pub result: RunResult,
    pub jobs: BTreeMap<String, JobDone>,
    /// Legs that finished, for the run record.
    pub records: Vec<JobRecord>,
}

/// A leg's task ends with its result and whether a gate inside it (a called workflow's) waits.
type LegDone = (LegResult, bool);

/// A gate's task ends with the job, the environment and the answer that won (`None`: no answer).
type GateDone = (usize, String, Option<Answered>);

/// What woke the loop.
enum Wake {
    Leg(Result<(tokio::task::Id, LegDone), tokio::task::JoinError>),
    Gate(Result<GateDone, tokio::task::JoinError>),
    Signal(CancelReason),
    /// The run's token, cancelled by the caller (inside a called workflow).
    Cancelled,
    /// A leg's steps started: its timeout counts from now.
    Armed(Armed),
    /// The earliest job timeout ran out.
    TimedOut,
    Tick,
}

/// Dispatch the jobs of a whole run: the signals of the process are this loop's.
pub async fn dispatch_run(
    shared: Arc<Shared>,
    plan: &Plan,
    already: &BTreeMap<String, JobRecord>,
    signals: Signals,
) -> Finished {
    Dispatcher::new(shared, plan, already).run(Some(signals)).await
}

/// Dispatch the jobs of a called workflow: its caller's cancellation stops it.
pub async fn dispatch(shared: Arc<Shared>, plan: &Plan, already: &BTreeMap<String, JobRecord>) -> Finished {
    Dispatcher::new(shared, plan, already).run(None).await
}

struct Dispatcher<'p> {
    shared: Arc<Shared>,
    plan: &'p Plan,
    states: Vec<JobState>,
    records: Vec<JobRecord>,
    queue: VecDeque<(usize, Leg)>,
    running_per_job: Vec<usize>,
    legs: JoinSet<LegDone>,
    /// The job, leg and timer number of every running leg task (a panicked task still names
    /// its leg).
    leg_of: HashMap<tokio::task::Id, (usize, Leg, u64)>,
    /// Job timeouts of running legs, by timer number: when, and what to cancel.
    timers: HashMap<u64, Armed>,
    arm: mpsc::UnboundedSender<Armed>,
    armed: mpsc::UnboundedReceiver<Armed>,
    next_timer: u64,
    gates: JoinSet<GateDone>,
    /// Jobs whose needs are all done, found without scanning every job.
    readiness: Readiness,
    /// Position of each job by id (the first one of an id).
    index: HashMap<String, usize>,
    /// Result of every finished job by id, kept as jobs finish (gates show them).
    results: BTreeMap<String, String>,
    /// Why the run stops, once it does.
    stopping: Option<CancelReason>,
    waiting: bool,
    /// The run's state could not be written (a full disk): nothing new starts, and what
    /// finishes from now on is recorded as interrupted (`pipe resume` runs it again).
    state_lost: bool,
    /// Jobs with legs finished in an earlier attempt of this run, but not all of them: their
    /// records, by job.
    resumed: HashMap<usize, Vec<JobRecord>>,
    /// A leg ended since the last launch: its removal waits for what its end made ready.
    leg_ended: bool,
}

impl<'p> Dispatcher<'p> {
    fn new(shared: Arc<Shared>, plan: &'p Plan, already: &BTreeMap<String, JobRecord>) -> Self {
        let mut states: Vec<JobState> = plan.jobs.iter().map(|_| JobState::Pending).collect();
        let mut records = Vec::new();
        let mut resumed = HashMap::new();
        // Jobs finished in an earlier attempt of this run are not run again (resume).
        let mut earlier: HashMap<&str, Vec<&JobRecord>> = HashMap::new();
        for r in already.values() {
            earlier.entry(r.job.as_str()).or_default().push(r);
        }
        for (i, job) in plan.jobs.iter().enumerate() {
            let legs: Vec<&JobRecord> = earlier.remove(job.id.as_str()).unwrap_or_default();
            // A caller always runs again: its called jobs that finished are not re-run, and its
            // outputs are evaluated again from theirs.
            // A cancelled or interrupted leg runs again, with the other legs of its job.
            let again = |r: &&JobRecord| reruns(r.result);
            if legs.is_empty() || legs.iter().any(again) || job.call.is_some() {
                continue;
            }
            let legs: Vec<JobRecord> = legs.into_iter().cloned().collect();
            records.extend(legs.iter().cloned());
            if every_leg_recorded(job, &legs) {
                states[i] = JobState::Done(earlier_done(&legs));
            } else {
                // Legs that had not finished when the run stopped: the job starts again, and
                // only they run (see `run_legs`).
                resumed.insert(i, legs);
            }
        }
        let (arm, armed) = mpsc::unbounded_channel();
        let mut readiness = Readiness::new(plan);
        let mut results = BTreeMap::new();
        for (i, s) in states.iter().enumerate() {
            if let JobState::Done(d) = s {
                readiness.done(i);
                results.insert(plan.jobs[i].id.clone(), d.result.as_str().to_string());
            }
        }
        let index = plan.jobs.iter().enumerate().rev().map(|(i, j)| (j.id.clone(), i)).collect();
        Dispatcher {
            shared,
            plan,
            states,
            records,
            queue: VecDeque::new(),
            running_per_job: vec![0; plan.jobs.len()],
            legs: JoinSet::new(),
            leg_of: HashMap::new(),
            timers: HashMap::new(),
            arm,
            armed,
            next_timer: 0,
            gates: JoinSet::new(),
            readiness,
            index,
            results,
            stopping: None,
            waiting: false,
            state_lost: false,
            resumed,
            leg_ended: false,
        }
    }

    async fn run(mut self, mut signals: Option<Signals>) -> Finished {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            if !self.state_lost && self.shared.emitter.write_error().is_some() {
                self.hold_after_state_loss();
            }
            if self.stopping.is_none() && !self.state_lost {
                self.start_ready_jobs();
            }
            if self.state_lost {
                self.drop_queued_legs();
            }
            self.start_queued_legs();
            if std::mem::take(&mut self.leg_ended) {
                self.shared.reaper.launched();
            }
            if self.legs.is_empty() && self.gates.is_empty() {
                let unfinished =
                    self.states.iter().any(|s| matches!(s, JobState::Pending | JobState::Running { .. }));
                if !unfinished || self.stopping.is_some() || self.queue.is_empty() {
                    break;
                }
            }
            let next_timeout = self.timers.values().map(|t| t.at).min();
            let woken = tokio::select! {
                Some(joined) = self.legs.join_next_with_id() => Wake::Leg(joined),
                Some(joined) = self.gates.join_next() => Wake::Gate(joined),
                reason = next_signal(&mut signals) => Wake::Signal(reason),
                () = self.shared.cancel.cancelled(), if self.stopping.is_none() => Wake::Cancelled,
                Some(armed) = self.armed.recv() => Wake::Armed(armed),
                () = sleep_until(next_timeout) => Wake::TimedOut,
                _ = tick.tick() => Wake::Tick,
            };
            match woken {
                Wake::Leg(joined) => self.leg_finished(joined).await,
                Wake::Gate(Ok((i, environment, answer))) => self.gate_answered(i, &environment, answer),
                // Aborted when the run stops: the job was already marked cancelled.
                Wake::Gate(Err(_)) => {}
                Wake::Signal(reason) => self.signalled(reason),
                Wake::Cancelled => self.stop(self.shared.cancel.reason().unwrap_or(CancelReason::Interrupt)),
                Wake::Armed(armed) => {
                    self.timers.insert(armed.leg, armed);
                }
                Wake::TimedOut => self.time_out(),
                Wake::Tick => self.shared.emitter.tick(),
            }
        }
        self.finish()
    }

    /// Decide every pending job whose needs are all done.
    fn start_ready_jobs(&mut self) {
        let shared = self.shared.clone();
        let plan = self.plan;
        while let Some(i) = self.readiness.next() {
            if !matches!(self.states[i], JobState::Pending) {
                continue;
            }
            let pj = &plan.jobs[i];
            let Some(needs) = needs_done(&self.index, &self.states, pj) else { continue };
            match start_job(&shared, pj, &needs, &self.results) {
                Start::Skip => {
                    emit_skipped(&shared, pj);
                    self.records.push(skipped_record(pj));
                    self.set_done(i, JobDone { result: Conclusion::Skipped, outputs: Map::new() });
                }
                Start::Fail(message) => {
                    emit_failed(&shared, pj, &message);
                    self.set_done(i, JobDone { result: Conclusion::Failure, outputs: Map::new() });
                }
                Start::Wait(environments) => {
                    self.waiting = true;
                    self.states[i] = JobState::Waiting;
                    self.mark_waiting(pj, &environments);
                }
                Start::Ask { legs, passed, questions } => {
                    let environments: Vec<String> =
                        questions.iter().map(|(_, q)| q.environment.clone()).collect();
                    self.mark_waiting(pj, &environments);
                    self.states[i] = JobState::Asking {
                        legs,
                        passed,
                        open: questions.len(),
                        refused: None,
                        unanswered: false,
                    };
                    for (prompter, question) in questions {
                        let shared = shared.clone();
                        let environment = question.environment.clone();
                        self.gates.spawn(async move {
                            let answer = super::gate_wait::answer(shared, prompter, question).await;
                            (i, environment, answer)
                        });
                    }
                }
                Start::Legs(legs) => self.run_legs(i, legs),
            }
        }
    }

    fn run_legs(&mut self, i: usize, mut legs: Vec<Leg>) {
        // On resume, the legs finished in an earlier attempt count as they ended; the others run.
        let earlier = self.resumed.remove(&i).unwrap_or_default();
        legs.retain(|l| {
            let matrix = l.matrix.clone().map(Json::Object);
            !earlier.iter().any(|r| r.matrix == matrix)
        });
        let done = (!earlier.is_empty()).then(|| earlier_done(&earlier));
        if legs.is_empty()
            && let Some(done) = done
        {
            self.set_done(i, done);
            return;
        }
        let (failed, outputs) =
            done.map_or((false, Map::new()), |d| (d.result == Conclusion::Failure, d.outputs));
        self.states[i] = JobState::Running {
            remaining: legs.len(),
            failed,
            cancelled: false,
            interrupted: false,
            waiting: false,
            outputs,
            cancel: self.shared.cancel.child(),
        };
        // In the order they became ready.
        self.queue.extend(legs.into_iter().map(|l| (i, l)));
        self.make_ahead(i);
    }

    /// Job `i` runs or is done: the containers of dependents whose needs all run or are done
    /// are made ahead (see `ahead.rs`).
    fn make_ahead(&self, i: usize) {
        if self.shared.backends.engines().next().is_none() || self.stopping.is_some() {
            return;
        }
        for &d in self.readiness.dependents(i) {
            if !matches!(self.states[d], JobState::Pending) {
                continue;
            }
            let pj = &self.plan.jobs[d];
            if let Some(needs) = needs_started(&self.index, &self.states, pj) {
                super::ahead::make(&self.shared, pj, &needs);
            }
        }
    }

    /// Start queued legs while there is room.
    fn start_queued_legs(&mut self) {
        let parallel = self.shared.parallel.max(1);
        let mut deferred = VecDeque::new();
        while self.legs.len() < parallel {
            let Some((i, leg)) = self.queue.pop_front() else { break };
            let JobState::Running { cancel, .. } = &self.states[i] else { continue };
            if self.running_per_job[i] >= max_parallel(&self.plan.jobs[i]) {
                deferred.push_back((i, leg));
                continue;
            }
            self.running_per_job[i] += 1;
            let job = self.shared.pipeline.job(&self.plan.jobs[i].id).cloned();
            let call = self.plan.jobs[i].call.clone();
            // A reusable workflow's leg starts no environment of its own.
            if call.is_none() {
                self.shared.reaper.starting(&leg.key);
            }
            let (shared, cancel, task_leg) = (self.shared.clone(), cancel.child(), leg.clone());
            self.next_timer += 1;
            let timer = JobTimer::new(self.next_timer, self.arm.clone());
            let handle = self.legs.spawn(async move {
                let leg = task_leg;
                match (job, call) {
                    (Some(job), Some(call)) => {
                        let done = super::call::run_call(shared, &job, &leg, &call, cancel).await;
                        (done.leg, done.waiting)
                    }
                    (Some(job), None) => {
                        (super::retry::run_leg_with_retry(shared, &job, &leg, cancel, timer).await, false)
                    }
                    (None, _) => (LegResult::failed(), false),
                }
            });
            self.leg_of.insert(handle.id(), (i, leg, self.next_timer));
        }
        deferred.extend(self.queue.drain(..));
        self.queue = deferred;
    }

    async fn leg_finished(&mut self, joined: Result<(tokio::task::Id, LegDone), tokio::task::JoinError>) {
        let (id, (result, leg_waits)) = match joined {
            Ok((id, done)) => (id, done),
            Err(e) => {
                let id = e.id();
                let Some((_, leg, _)) = self.leg_of.get(&id) else { return };
                let result = self.crashed(leg, e).await;
                (id, (result, false))
            }
        };
        let Some((i, leg, timer)) = self.leg_of.remove(&id) else { return };
        self.shared.reaper.started(&leg.key);
        self.leg_ended = true;
        self.timers.remove(&timer);
        self.running_per_job[i] = self.running_per_job[i].saturating_sub(1);
        let mut result = result;
        // A leg that waits at a gate has not finished: nothing to record yet.
        if !leg_waits {
            // Once the run's state could not be written, no completion counts as recorded: its
            // log is cut, or its record may be the write that failed.
            let unrecorded = |r: &LegResult| self.shared.emitter.write_error().is_some() && !reruns(r.result);
            if unrecorded(&result) {
                result.result = Conclusion::Interrupted;
            }
            let mut record = leg_record(&leg, result.result, result.outputs.clone());
            persist(&self.shared, &record);
            // This very write may have been the first to fail.
            if unrecorded(&result) {
                result.result = Conclusion::Interrupted;
                record.result = Conclusion::Interrupted;
                persist(&self.shared, &record);
            }
            self.records.push(record);
            if leg.environment.is_some() {
                super::ledger::record_deployment(&self.shared, &leg, &result);
            }
        }
        let pj = &self.plan.jobs[i];
        let running = self.running_per_job[i];
        let JobState::Running {
            remaining,
            failed,
            cancelled,
            interrupted,
            waiting: job_waits,
            outputs,
            cancel,
        } = &mut self.states[i]
        else {
            return;
        };
        *remaining -= 1;
        *job_waits |= leg_waits;
        outputs.extend(result.outputs);
        match result.result {
            Conclusion::Failure if !leg.continue_on_error => {
                *failed = true;
                if fail_fast(pj) {
                    cancel.cancel(CancelReason::FailFast);
                    self.queue.retain(|(j, _)| *j != i);
                    *remaining = running;
                }
            }
            Conclusion::Cancelled => *cancelled = true,
            Conclusion::Interrupted => *interrupted = true,
            _ => {}
        }
        if *remaining == 0 && *job_waits && !*failed {
            self.waiting = true;
            self.states[i] = JobState::Waiting;
        } else if *remaining == 0 {
            // Interrupted first: `pipe resume` runs the whole job again.
            let result = if *interrupted {
                Conclusion::Interrupted
            } else if *failed {
                Conclusion::Failure
            } else if *cancelled {
                Conclusion::Cancelled
            } else {
                Conclusion::Success
            };
            let outputs = std::mem::take(outputs);
            self.set_done(i, JobDone { result, outputs });
        }
    }

    /// The run's state could not be written: nothing new starts (pending jobs stay unrun, for
    /// `pipe resume`), questions at gates are withdrawn (resume asks them again), and running
    /// legs run to their end.
    fn hold_after_state_loss(&mut self) {
        self.state_lost = true;
        if !self.gates.is_empty()
            && let Some(prompter) = &self.shared.prompter
        {
            prompter.interrupted();
        }
        self.gates.abort_all();
        for s in &mut self.states {
            if matches!(s, JobState::Asking { .. }) {
                *s = JobState::Pending;
            }
        }
        // Said once, by the run's own dispatcher (not again by a called workflow's).
        if self.shared.frame.id_prefix.is_empty() {
            self.shared.notice(
                "error",
                "no more jobs start; the running ones finish as interrupted, and `pipe resume` runs what did not finish once there is room",
            );
        }
    }

    /// Legs waiting for room to run, after the state was lost: they do not start, and count as
    /// interrupted (so that `pipe resume` runs their whole job again, not only what is missing).
    fn drop_queued_legs(&mut self) {
        for (i, leg) in std::mem::take(&mut self.queue) {
            emit_leg_ended(&self.shared, &leg, Conclusion::Interrupted);
            let record = leg_record(&leg, Conclusion::Interrupted, Map::new());
            persist(&self.shared, &record);
            self.records.push(record);
            let JobState::Running { remaining, interrupted, outputs, .. } = &mut self.states[i] else {
                continue;
            };
            *remaining -= 1;
            *interrupted = true;
            if *remaining == 0 {
                let outputs = std::mem::take(outputs);
                self.set_done(i, JobDone { result: Conclusion::Interrupted, outputs });
            }
        }
    }

    /// Job `i` finished: its dependents may start.
    fn set_done(&mut self, i: usize, done: JobDone) {
        self.results.insert(self.plan.jobs[i].id.clone(), done.result.as_str().to_string());
        self.states[i] = JobState::Done(done);
        self.readiness.done(i);
        super::ahead::discard_job(&self.shared, &self.shared.full_id(&self.plan.jobs[i].id));
        self.make_ahead(i);
    }

    /// A leg whose task panicked or was aborted: a failed leg, with what happened, and nothing
    /// it created left behind.
    async fn crashed(&self, leg: &Leg, e: tokio::task::JoinError) -> LegResult {
        let why = if e.is_panic() {
            format!("pipe panicked while running this job: {}", super::crash::panic_message(&*e.into_panic()))
        } else {
            "the job's task was aborted".to_string()
        };
        let shared = &self.shared;
        shared.emitter.emit(Event::Annotation {
            job: leg.job_id.clone(),
            name: leg.name.clone(),
            step: 0,
            level: "error".into(),
            message: shared.masker.mask(&why),
        });
        emit_leg_ended(shared, leg, Conclusion::Failure);
        for backend in shared.backends.engines() {
            if let Err(e) = backend.remove_job(&shared.run_id, &leg.key).await {
                shared
                    .notice("warning", format!("the containers of `{}` could not be removed: {e}", leg.name));
            }
        }
        LegResult::failed()
    }

    /// Stop every leg attempt whose timeout ran out.
    fn time_out(&mut self) {
        let now = tokio::time::Instant::now();
        self.timers.retain(|_, t| {
            if t.at <= now {
                t.cancel.cancel(CancelReason::Timeout);
                return false;
            }
            true
        });
    }

    /// The answer to one gate of job `i`.
    fn gate_answered(&mut self, i: usize, environment: &str, answer: Option<Answered>) {
        let pj = &self.plan.jobs[i];
        let shared = self.shared.clone();
        let JobState::Asking { passed, open, refused, unanswered, .. } = &mut self.states[i] else { return };
        *open -= 1;
        match answer {
            None => *unanswered = true,
            Some(a) => {
                let decision = if a.approved { Decision::Approved } else { Decision::Rejected };
                super::gate::decided(&shared, pj, environment, decision, &a.by, a.comment.clone(), a.here);
                if !a.approved {
                    refused
                        .get_or_insert(format!("the deployment to `{environment}` was rejected by {}", a.by));
                } else {
                    match gated(&shared, environment, Some(a.by)) {
                        Ok(g) => {
                            passed.insert(environment.to_string(), g);
                        }
                        Err(e) => {
                            refused.get_or_insert(e);
                        }
                    }
                }
                unmark_waiting(&shared, pj, environment);
            }
        }
        if *open > 0 {
            return;
        }
        let JobState::Asking { legs, passed, refused, unanswered, .. } =
            std::mem::replace(&mut self.states[i], JobState::Pending)
        else {
            return;
        };
        if let Some(why) = refused {
            emit_failed(&shared, pj, &why);
            self.set_done(i, JobDone { result: Conclusion::Failure, outputs: Map::new() });
        } else if unanswered {
            self.waiting = true;
            self.states[i] = JobState::Waiting;
        } else {
            let legs = with_gates(&shared, legs, &passed);
            self.run_legs(i, legs);
        }
    }

    /// A signal of the process: the first stops the run gracefully, the next kills at once.
    fn signalled(&mut self, reason: CancelReason) {
        if !self.gates.is_empty()
            && let Some(prompter) = &self.shared.prompter
        {
            prompter.interrupted();
        }
        if self.stopping.is_none() {
            self.shared.notice(
                "notice",
                "interrupted: stopping running steps (press Ctrl-C again to kill them at once)",
            );
            self.shared.cancel.cancel(reason);
            self.stop(reason);
        } else {
            self.shared.notice("notice", "killing running steps");
            self.stopping = Some(CancelReason::Kill);
            self.shared.force.cancel();
        }
    }

    /// Stop the run: nothing new starts, questions are withdrawn, running legs were told by
    /// their tokens (children of the run's).
    fn stop(&mut self, reason: CancelReason) {
        self.stopping = Some(reason);
        self.queue.clear();
        self.gates.abort_all();
        let shared = self.shared.clone();
        for (i, s) in self.states.iter_mut().enumerate() {
            if matches!(s, JobState::Pending | JobState::Asking { .. }) {
                let pj = &self.plan.jobs[i];
                shared.emitter.emit(Event::JobFinished {
                    job: pj.id.clone(),
                    name: pj.name.clone(),
                    matrix: None,
                    result: Conclusion::Cancelled,
                    outputs: json!({}),
                    duration_ms: 0,
                });
                *s = JobState::Done(JobDone { result: Conclusion::Cancelled, outputs: Map::new() });
                super::ahead::discard_job(&shared, &shared.full_id(&pj.id));
            }
        }
        // Gates nobody will answer now are not waiting any more.
        if let Ok(mut r) = shared.record.lock() {
            r.waiting.clear();
        }
    }

    fn finish(self) -> Finished {
        let mut jobs = BTreeMap::new();
        let mut any_failed = false;
        let mut any_interrupted = false;
        for (pj, s) in self.plan.jobs.iter().zip(&self.states) {
            if let JobState::Done(d) = s {
                any_failed |= d.result == Conclusion::Failure;
                any_interrupted |= d.result == Conclusion::Interrupted;
                jobs.insert(pj.id.clone(), d.clone());
            }
        }
        let result = if self.stopping.is_some() {
            RunResult::Cancelled
        } else if any_interrupted {
            RunResult::Interrupted
        } else if any_failed {
            RunResult::Failure
        } else if self.waiting {
            RunResult::Waiting
        } else {
            RunResult::Success
        };
        Finished { result, jobs, records: self.records }
    }

    /// Record that job `pj` waits at these gates: `pipe runs` shows the run as waiting and
    /// `pipe approve` accepts an answer.
    fn mark_waiting(&self, pj: &PlannedJob, environments: &[String]) {
        let shared = &self.shared;
        let Ok(mut r) = shared.record.lock() else { return };
        let several = environments.len() > 1;
        for env in environments {
            r.waiting.insert(waiting_key(shared, pj, env, several), env.clone());
        }
        r.status = "waiting".into();
        if let Err(e) = shared.store.write_record(&r) {
            shared.emitter.state_write_failed(e.to_string());
        }
    }
}

/// The run record's key of a gate of `pj` (with the environment when the job has several).
fn waiting_key(shared: &Shared, pj: &PlannedJob, environment: &str, several: bool) -> String {
    let id = format!("{}{}", shared.frame.id_prefix, pj.id);
    if several { format!("{id} ({environment})") } else { id }
}

/// An answered gate no longer waits; with none left the run is running again.
fn unmark_waiting(shared: &Shared, pj: &PlannedJob, environment: &str) {
    let Ok(mut r) = shared.record.lock() else { return };
    let id = waiting_key(shared, pj, environment, false);
    r.waiting.retain(|k, e| !(e.eq_ignore_ascii_case(environment) && k.starts_with(&id)));
    if r.waiting.is_empty() {
        r.status = "running".into();
    }
    if let Err(e) = shared.store.write_record(&r) {
        shared.emitter.state_write_failed(e.to_string());
    }
}

/// When the earliest timeout runs out; never without one.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The next signal, when this loop owns the signals; never otherwise.
async fn next_signal(signals: &mut Option<Signals>) -> CancelReason {
    match signals {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// The `needs` context of a job when all its needs are done, else `None`.
fn needs_done(
    index: &HashMap<String, usize>,
    states: &[JobState],
    pj: &PlannedJob,
) -> Option<Map<String, Json>> {
    let mut ctx = Map::new();
    for need in &pj.needs {
        match &states[*index.get(need)?] {
            // The dependents of an interrupted job wait for `pipe resume`: they are neither run
            // nor skipped.
            JobState::Done(d) if d.result == Conclusion::Interrupted => return None,
            JobState::Done(d) => {
                ctx.insert(need.clone(), json!({"result": d.result.as_str(), "outputs": d.outputs}));
            }
            _ => return None,
        }
    }
    Some(ctx)
}

/// The `needs` context a job will see if its running needs succeed, when at least one of them
/// runs and every other is done; else `None`.
fn needs_started(
    index: &HashMap<String, usize>,
    states: &[JobState],
    pj: &PlannedJob,
) -> Option<Map<String, Json>> {
    let mut ctx = Map::new();
    let mut running = false;
    for need in &pj.needs {
        match &states[*index.get(need)?] {
            JobState::Done(d) if d.result == Conclusion::Interrupted => return None,
            JobState::Done(d) => {
                ctx.insert(need.clone(), json!({"result": d.result.as_str(), "outputs": d.outputs}));
            }
            JobState::Running { failed: false, cancelled: false, interrupted: false, .. } => {
                running = true;
                ctx.insert(need.clone(), json!({"result": "success", "outputs": {}}));
            }
            _ => return None,
        }
    }
    running.then_some(ctx)
}

/// Keep the run record current after every leg: a run killed now resumes from here.
fn persist(shared: &Shared, record: &JobRecord) {
    let Ok(mut r) = shared.record.lock() else { return };
    let key = match &record.matrix {
        Some(m) => format!("{} {}", record.job, m),
        None => record.job.clone(),
    };
    // Inside a called workflow, ids and keys carry the caller's prefixes.
    let frame = &shared.frame;
    let job = format!("{}{}", frame.id_prefix, record.job);
    let name = format!("{}{}", frame.name_prefix, record.name);
    r.jobs.insert(format!("{}{key}", frame.record_prefix), JobRecord { job, name, ..record.clone() });
    if let Err(e) = shared.store.write_record(&r) {
        shared.emitter.state_write_failed(e.to_string());
    }
}

/// The run record's entry of a finished leg.
fn leg_record(leg: &Leg, result: Conclusion, outputs: Map<String, Json>) -> JobRecord {
    JobRecord {
        job: leg.job_id.clone(),
        name: leg.name.clone(),
        matrix: leg.matrix.clone().map(Json::Object),
        result,
        outputs: Json::Object(outputs),
    }
}

/// Say that a leg ended without running (to its end), with no outputs.
fn emit_leg_ended(shared: &Shared, leg: &Leg, result: Conclusion) {
    shared.emitter.emit(Event::JobFinished {
        job: leg.job_id.clone(),
        name: leg.name.clone(),
        matrix: leg.matrix.clone().map(Json::Object),
        result,
        outputs: json!({}),
        duration_ms: 0,
    });
}

/// Whether an earlier attempt of the run recorded every leg of job `pj` as it expands now (a
/// matrix expanded at run time is known once the job starts: not here).
fn every_leg_recorded(pj: &PlannedJob, recorded: &[JobRecord]) -> bool {
    match &pj.legs {
        Legs::Single => true,
        // A whole-job record: the job was skipped (or failed before its legs were known).
        Legs::Matrix { .. } if recorded.iter().any(|r| r.matrix.is_none()) => true,
        Legs::Matrix { legs, .. } => legs.iter().all(|l| {
            let matrix = Some(Json::Object(l.matrix.clone()));
            recorded.iter().any(|r| r.matrix == matrix)
        }),
        Legs::Dynamic { .. } => false,
    }
}

/// How a job ended, from the legs an earlier attempt of the run recorded.
fn earlier_done(legs: &[JobRecord]) -> JobDone {
    let mut outputs = Map::new();
    for r in legs {
        if let Json::Object(o) = &r.outputs {
            outputs.extend(o.clone());
        }
    }
    let result = if legs.iter().any(|r| r.result == Conclusion::Failure) {
        Conclusion::Failure
    } else if legs.iter().all(|r| r.result == Conclusion::Skipped) {
        Conclusion::Skipped
    } else {
        Conclusion::Success
    };
    JobDone { result, outputs }
}

/// A leg ended so that `pipe resume` runs it again.
fn reruns(result: Conclusion) -> bool {
    matches!(result, Conclusion::Cancelled | Conclusion::Interrupted)
}

fn max_parallel(pj: &PlannedJob) -> usize {
    match &pj.legs {
        Legs::Matrix { max_parallel: Some(m), .. } => (*m).max(1),
        _ => usize::MAX,
    }
}

fn fail_fast(pj: &PlannedJob) -> bool {
    match &pj.legs {
        Legs::Matrix { fail_fast, .. } => *fail_fast,
        _ => true,
    }
}

fn emit_skipped(shared: &Shared, pj: &PlannedJob) {
    shared.emitter.emit(Event::JobFinished {
        job: pj.id.clone(),
        name: pj.name.clone(),
        matrix: None,
        result: Conclusion::Skipped,
        outputs: json!({}),
        duration_ms: 0,
    });
}

fn skipped_record(pj: &PlannedJob) -> JobRecord {
    JobRecord {
        job: pj.id.clone(),
        name: pj.name.clone(),
        matrix: None,
        result: Conclusion::Skipped,
        outputs: json!({}),
    }
}

fn emit_failed(shared: &Shared, pj: &PlannedJob, message: &str) {
    shared.emitter.emit(Event::Annotation {
        job: pj.id.clone(),
        name: pj.name.clone(),
        step: 0,
        level: "error".into(),
        message: message.to_string(),
    });
    shared.emitter.emit(Event::JobFinished {
        job: pj.id.clone(),
        name: pj.name.clone(),
        matrix: None,
        result: Conclusion::Failure,
        outputs: json!({}),
        duration_ms: 0,
    });
}
