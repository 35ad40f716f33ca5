//! Graphs of user-controlled size: a 100,000-job chain (and a 100,000-job cycle) is checked and
//! planned on a small stack, which proves that nothing recurses on the depth of `needs:`.

fn chain(n: usize, closed: bool) -> String {
    let mut s = String::from("on: push\njobs:\n");
    for i in 0..n {
        s.push_str(&format!("  j{i}:\n    runs-on: ubuntu-latest\n"));
        match (i, closed) {
            (0, true) => s.push_str(&format!("    needs: j{}\n", n - 1)),
            (0, false) => {}
            _ => s.push_str(&format!("    needs: j{}\n", i - 1)),
        }
        s.push_str("    steps:\n      - run: 'true'\n");
    }
    s
}

/// Run `f` on a thread with a 1 MiB stack (recursion over 100,000 jobs needs far more).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the check overflowed its stack or panicked")
}

const JOBS: usize = 100_000;

#[test]
fn a_100000_job_chain_validates_and_plans_on_a_small_stack() {
    let (errors, planned, first, last) = on_small_stack(|| {
        let checked =
            pipe::validate::check_source(pipe::source::Source::new("chain.yml", chain(JOBS, false)));
        let errors: Vec<String> = checked.diagnostics.iter().map(|d| d.message.clone()).collect();
        let pipeline = checked.pipeline.expect("a pipeline");
        let input = pipe::plan::PlanInput {
            pipeline_path: "chain.yml".into(),
            event: "push".into(),
            git_ref: "refs/heads/main".into(),
            sha: "0".repeat(40),
            ..pipe::plan::PlanInput::default()
        };
        let plan = pipe::plan::build(&pipeline, &input).expect("plan");
        let ids = |i: usize| plan.jobs[i].id.clone();
        (errors, plan.jobs.len(), ids(0), ids(plan.jobs.len() - 1))
    });
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!((planned, first.as_str(), last.as_str()), (JOBS, "j0", "j99999"));
}

#[test]
fn a_100000_job_cycle_is_one_error_on_a_small_stack() {
    let (cycles, length) = on_small_stack(|| {
        let checked = pipe::validate::check_source(pipe::source::Source::new("cycle.yml", chain(JOBS, true)));
        let cycles: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.rule == "needs-cycle")
            .map(|d| d.message.clone())
            .collect();
        let length = cycles.first().map_or(0, |m| m.matches(" -> ").count());
        (cycles.len(), length)
    });
    // j0 -> j99999 -> ... -> j1 -> j0: every job once, and back to the first.
    assert_eq!((cycles, length), (1, JOBS));
}
