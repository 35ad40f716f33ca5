//! `needs:` references between jobs: unknown, self, repeated, and cycles (named in full).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::graph::Graph;
use crate::model::Pipeline;

/// Up to this many needs, a job's are checked for repeats by scanning them.
const SCAN_NEEDS: usize = 16;

pub fn check(p: &Pipeline, out: &mut Vec<Diagnostic>) {
    let index: HashMap<&str, usize> = p.jobs.iter().enumerate().map(|(i, j)| (j.id.as_str(), i)).collect();
    let mut graph = Graph::new(p.jobs.len());
    for (i, job) in p.jobs.iter().enumerate() {
        // A job needs a few jobs: scanning those costs less than a set per job (of 100,000);
        // a long list gets a set, so that no job is quadratic in its needs.
        let mut seen = (job.needs.len() > SCAN_NEEDS).then(|| HashSet::with_capacity(job.needs.len()));
        for (k, need) in job.needs.iter().enumerate() {
            let repeated = match &mut seen {
                Some(set) => !set.insert(need.as_str()),
                None => job.needs[..k].iter().any(|n| n.value == need.value),
            };
            if repeated {
                out.push(Diagnostic::warning(
                    "needs-duplicate",
                    need.span,
                    format!("`{}` is listed twice in `needs`", need.value),
                ));
                continue;
            }
            if need.value == job.id.value {
                out.push(Diagnostic::error(
                    "needs-self",
                    need.span,
                    format!("job `{}` needs itself", job.id.value),
                ));
                continue;
            }
            match index.get(need.as_str()) {
                Some(&j) => graph.add_edge(i, j),
                None => {
                    let mut d = Diagnostic::error(
                        "needs-unknown",
                        need.span,
                        format!(
                            "job `{}` needs `{}`, which is not a job of this workflow",
                            job.id.value, need.value
                        ),
                    );
                    let ids = p.jobs.iter().map(|j| j.id.as_str()).filter(|id| *id != job.id.value);
                    if let Some(m) = did_you_mean(&need.value, ids) {
                        d = d.with_help(format!("did you mean `{m}`?"));
                    }
                    out.push(d);
                }
            }
        }
    }
    for scc in graph.cycles() {
        // The shortest cycle through the SCC's first job in file order, so the message is short
        // and reads as the file does.
        let start = *scc.iter().min().unwrap_or(&scc[0]);
        let path = shortest_cycle(&graph, start, &scc);
        let mut names: Vec<&str> = path.iter().map(|&i| p.jobs[i].id.as_str()).collect();
        names.push(p.jobs[start].id.as_str());
        let job = &p.jobs[start];
        let span = job
            .needs
            .iter()
            .find(|n| path.get(1).is_some_and(|&s| p.jobs[s].id.value == n.value))
            .map_or(job.id.span, |n| n.span);
        out.push(
            Diagnostic::error("needs-cycle", span, format!("dependency cycle: {}", names.join(" -> ")))
                .with_help("remove one of these `needs` so the jobs can run in an order"),
        );
    }
}

/// Jobs on a shortest cycle from `start` back to `start`, staying inside `scc`.
fn shortest_cycle(graph: &Graph, start: usize, scc: &[usize]) -> Vec<usize> {
    let inside: HashSet<usize> = scc.iter().copied().collect();
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in graph.neighbors(node).iter().filter(|n| inside.contains(n)) {
            if next == start {
                let mut path = vec![node];
                let mut at = node;
                while at != start {
                    at = previous[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = previous.entry(next) {
                e.insert(node);
                queue.push_back(next);
            }
        }
    }
    vec![start]
}
