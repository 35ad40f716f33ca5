//! `pipe plan --format text|json|mermaid|dot`: the plan for humans, for scripts, and as a graph.

use std::fmt::Write as _;

use super::{Legs, Plan, PlannedJob};
use crate::cli::{Mode, PlanFormat};

pub fn render(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => text(plan),
        PlanFormat::Json => json(plan),
        PlanFormat::Mermaid => mermaid(plan),
        PlanFormat::Dot => dot(plan),
    }
}

/// How a deployment job's gate behaves. One small function on purpose: the gate policy from
/// `pipe.toml` (approval, reviewers) will refine it.
pub fn gate_line(job: &PlannedJob, mode: Mode) -> String {
    let env = job.environment.as_deref().unwrap_or_default();
    if let Some(gate) = &job.gate {
        return format!("environment: {env}, {gate}");
    }
    match mode {
        Mode::Delivery => format!("environment: {env}, waits for approval ({env})"),
        Mode::Deployment => format!("environment: {env}, deploys automatically (deployment mode)"),
    }
}

pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let sha = plan.sha.get(..12).unwrap_or(&plan.sha);
    let _ = writeln!(out, "plan: {} ({})", plan.workflow_name, plan.pipeline);
    let _ =
        writeln!(out, "event: {} on {} at {sha}, mode {}", plan.event, plan.git_ref, mode_name(plan.mode));
    match &plan.not_triggered_reason {
        Some(reason) if !plan.triggered => {
            let _ = writeln!(out, "not triggered: {reason}; every job is skipped");
        }
        _ => {}
    }
    if !plan.inputs.is_empty() {
        let list: Vec<String> = plan.inputs.iter().map(|(k, v)| format!("{k}={}", scalar(v))).collect();
        let _ = writeln!(out, "inputs: {}", list.join(", "));
    }
    if !plan.not_selected.is_empty() {
        let _ = writeln!(out, "not selected (--job): {}", plan.not_selected.join(", "));
    }
    for e in &plan.excluded {
        let _ = writeln!(out, "not in this pipeline: {} ({})", e.job, e.reason);
    }
    let _ = writeln!(out, "\n{} job(s) in order:", plan.jobs.len());
    for job in &plan.jobs {
        job_text(&mut out, job, plan);
    }
    out
}

fn job_text(out: &mut String, job: &PlannedJob, plan: &Plan) {
    job_text_at(out, job, plan, "  ");
}

/// One job at `indent`; the jobs of a reusable workflow it calls follow, one level deeper.
fn job_text_at(out: &mut String, job: &PlannedJob, plan: &Plan, indent: &str) {
    let title = if job.name == job.id { job.id.clone() } else { format!("{} ({})", job.id, job.name) };
    let skipped = if plan.triggered { "" } else { "  [skipped: not triggered]" };
    let _ = writeln!(out, "\n{indent}{title}{skipped}");
    if !job.needs.is_empty() {
        let _ = writeln!(out, "{indent}  needs: {}", job.needs.join(", "));
    }
    if let Some(c) = &job.condition {
        let _ = writeln!(out, "{indent}  if: {c}");
    }
    match &job.legs {
        Legs::Single => {}
        Legs::Dynamic { expression } => {
            let _ = writeln!(out, "{indent}  matrix: from {expression} (expanded at run time)");
        }
        Legs::Matrix { legs, fail_fast, max_parallel } => {
            let mut extra = vec![if *fail_fast { "fail-fast" } else { "no fail-fast" }.to_string()];
            if let Some(n) = max_parallel {
                extra.push(format!("max-parallel {n}"));
            }
            let _ = writeln!(out, "{indent}  matrix: {} leg(s), {}", legs.len(), extra.join(", "));
            for leg in legs {
                let mut extra = Vec::new();
                if leg.image != job.image || leg.executor != job.executor {
                    extra.push(format!("runs: {}", place(leg.executor, leg.image.as_deref())));
                }
                if leg.environment.is_some() && leg.environment != job.environment {
                    let gate = leg.gate.as_ref().map(|g| format!(", {g}")).unwrap_or_default();
                    extra.push(format!(
                        "environment: {}{gate}",
                        leg.environment.as_deref().unwrap_or_default()
                    ));
                }
                let extra =
                    if extra.is_empty() { String::new() } else { format!("  [{}]", extra.join(", ")) };
                let _ = writeln!(out, "{indent}    - {}{extra}", leg.name);
            }
        }
    }
    if let Some(call) = &job.call {
        let state = match &call.remote {
            None => String::new(),
            Some(r) => format!(", {}", super::call::remote_state(r)),
        };
        let _ = writeln!(out, "{indent}  calls: {} ({} job(s){state})", call.uses, call.jobs.len());
        let deeper = format!("{indent}  ");
        for called in &call.jobs {
            job_text_at(out, called, plan, &deeper);
        }
        return;
    }
    let _ = writeln!(out, "{indent}  runs: {}", place(job.executor, job.image.as_deref()));
    if let Some(note) = &job.platform_note {
        let _ = writeln!(out, "{indent}  note: {note}");
    }
    if job.environment.is_some() {
        let _ = writeln!(out, "{indent}  {}", gate_line(job, plan.mode));
    }
    if let Some(command) = &job.manual {
        let _ = writeln!(out, "    manual: not run (run it with `{command}`)");
    }
}

fn place(executor: Option<crate::backend::Executor>, image: Option<&str>) -> String {
    let executor = executor.map_or("none", crate::backend::Executor::name);
    match image {
        Some(image) => format!("{executor} {image}"),
        None => executor.to_string(),
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Delivery => "delivery",
        Mode::Deployment => "deployment",
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn json(plan: &Plan) -> String {
    // Serialising plain data with string keys cannot fail; fall back to `null` rather than panic.
    let mut s = serde_json::to_string_pretty(plan).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}

/// The label of a job in graphs: its name, and its legs or gate.
fn graph_label(job: &PlannedJob) -> String {
    let mut label = job.name.clone();
    match &job.legs {
        Legs::Matrix { legs, .. } => label.push_str(&format!(" ×{}", legs.len())),
        Legs::Dynamic { .. } => label.push_str(" ×?"),
        Legs::Single => {}
    }
    if let Some(env) = &job.environment {
        label.push_str(&format!(" [{env}]"));
    }
    label
}

/// Mermaid `flowchart LR`. Nodes get positional ids (`j0`, `j1`, ...) so job ids such as `end`
/// cannot clash with Mermaid keywords; gated jobs are hexagons.
pub fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart LR\n");
    if let Some(reason) = plan.not_triggered_reason.as_ref().filter(|_| !plan.triggered) {
        let _ = writeln!(out, "  %% not triggered: {}", reason.replace('\n', " "));
    }
    let jobs = graph_jobs(plan);
    let ids: std::collections::HashMap<&str, usize> =
        jobs.iter().enumerate().map(|(i, j)| (j.id.as_str(), i)).collect();
    for (i, job) in jobs.iter().enumerate() {
        let label = graph_label(job).replace('"', "#quot;").replace('\n', " ");
        if job.environment.is_some() {
            let _ = writeln!(out, "  j{i}{{{{\"{label}\"}}}}");
        } else {
            let _ = writeln!(out, "  j{i}[\"{label}\"]");
        }
    }
    for (i, job) in jobs.iter().enumerate() {
        for need in graph_needs(job).iter().filter_map(|n| ids.get(n.as_str())) {
            let _ = writeln!(out, "  j{need} --> j{i}");
        }
    }
    out
}

/// The jobs drawn in graphs: every job, and after a caller the jobs it calls (as shown).
fn graph_jobs(plan: &Plan) -> Vec<&PlannedJob> {
    fn add<'a>(out: &mut Vec<&'a PlannedJob>, job: &'a PlannedJob) {
        out.push(job);
        for called in job.call.iter().flat_map(|c| &c.jobs) {
            add(out, called);
        }
    }
    let mut out = Vec::new();
    for job in &plan.jobs {
        add(&mut out, job);
    }
    out
}

/// The edges into a job in graphs: its needs; a called job that needs nothing hangs off its caller.
fn graph_needs(job: &PlannedJob) -> Vec<String> {
    match job.id.rsplit_once('/') {
        Some((caller, _)) if job.needs.is_empty() => vec![caller.to_string()],
        _ => job.needs.clone(),
    }
}

/// Graphviz `digraph`, left to right; gated jobs are hexagons.
pub fn dot(plan: &Plan) -> String {
    let mut out = format!("digraph {} {{\n  rankdir=LR;\n", quote(&plan.workflow_name));
    let jobs = graph_jobs(plan);
    for job in &jobs {
        let shape = if job.environment.is_some() { ", shape=hexagon" } else { "" };
        let _ = writeln!(out, "  {} [label={}{shape}];", quote(&job.id), quote(&graph_label(job)));
    }
    let listed: std::collections::HashSet<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    for job in &jobs {
        for need in &graph_needs(job) {
            if listed.contains(need.as_str()) {
                let _ = writeln!(out, "  {} -> {};", quote(need), quote(&job.id));
            }
        }
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanInput;
    use crate::source::Source;

    fn plan(mode: Mode) -> Plan {
        let yaml = "name: demo\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        os: [a, b]\n    steps: [{run: x}]\n  deploy:\n    needs: build\n    if: github.ref == 'refs/heads/main'\n    runs-on: macos-latest\n    environment: production\n    steps: [{run: x}]\n";
        let p = crate::load::load(&Source::new("t.yml", yaml)).pipeline.expect("pipeline");
        let input = PlanInput {
            pipeline_path: "t.yml".into(),
            event: "push".into(),
            git_ref: "refs/heads/main".into(),
            sha: "0123456789abcdef".into(),
            mode,
            ..PlanInput::default()
        };
        crate::plan::build(&p, &input).expect("plan")
    }

    #[test]
    fn text_shows_everything() {
        let t = text(&plan(Mode::Delivery));
        let expected = "plan: demo (t.yml)
event: push on refs/heads/main at 0123456789ab, mode delivery

2 job(s) in order:

  build
    matrix: 2 leg(s), fail-fast
      - build (a)
      - build (b)
    runs: docker ubuntu:24.04

  deploy
    needs: build
    if: github.ref == 'refs/heads/main'
    runs: docker
    note: no image for runs-on `macos-latest`: map it with -P macos-latest=IMAGE (or -P macos-latest=host)
    environment: production, waits for approval (production)
";
        assert_eq!(t, expected);
    }

    #[test]
    fn gate_line_follows_mode() {
        let p = plan(Mode::Deployment);
        assert_eq!(
            gate_line(&p.jobs[1], Mode::Deployment),
            "environment: production, deploys automatically (deployment mode)"
        );
        assert_eq!(
            gate_line(&p.jobs[1], Mode::Delivery),
            "environment: production, waits for approval (production)"
        );
    }

    #[test]
    fn graphs() {
        let p = plan(Mode::Delivery);
        assert_eq!(
            mermaid(&p),
            "flowchart LR\n  j0[\"build ×2\"]\n  j1{{\"deploy [production]\"}}\n  j0 --> j1\n"
        );
        assert_eq!(
            dot(&p),
            "digraph \"demo\" {\n  rankdir=LR;\n  \"build\" [label=\"build ×2\"];\n  \"deploy\" [label=\"deploy [production]\", shape=hexagon];\n  \"build\" -> \"deploy\";\n}\n"
        );
    }

    #[test]
    fn json_round_trips_the_legs() {
        let v: serde_json::Value = serde_json::from_str(&json(&plan(Mode::Delivery))).expect("json");
        assert_eq!(v["jobs"][0]["legs"]["kind"], "matrix");
        assert_eq!(v["jobs"][0]["legs"]["legs"][1]["name"], "build (b)");
        assert_eq!(v["jobs"][0]["legs"]["legs"][1]["matrix"]["os"], "b");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
