//! Which jobs are ready to be decided: in-degree counts over the `needs:` graph, so finishing a
//! job costs the number of its dependents, not a scan of every job (a run of 10,000 jobs costs
//! per job what one of 250 does).

use std::collections::{BTreeSet, HashMap};

use crate::plan::Plan;

pub struct Readiness {
    /// Positions of the jobs that need each job (once per listing).
    dependents: Vec<Vec<usize>>,
    /// Needs of each job not done yet; a need that is not a job of the plan never is.
    unmet: Vec<usize>,
    /// Jobs whose needs are all done, in plan order.
    ready: BTreeSet<usize>,
}

impl Readiness {
    pub fn new(plan: &Plan) -> Self {
        let index: HashMap<&str, usize> =
            plan.jobs.iter().enumerate().rev().map(|(i, j)| (j.id.as_str(), i)).collect();
        let mut dependents = vec![Vec::new(); plan.jobs.len()];
        let mut unmet = vec![0; plan.jobs.len()];
        for (i, job) in plan.jobs.iter().enumerate() {
            for need in &job.needs {
                unmet[i] += 1;
                if let Some(&n) = index.get(need.as_str()) {
                    dependents[n].push(i);
                }
            }
        }
        let ready = unmet.iter().enumerate().filter(|(_, u)| **u == 0).map(|(i, _)| i).collect();
        Readiness { dependents, unmet, ready }
    }

    /// Job `i` is done: its dependents may be ready now. Call once per job.
    pub fn done(&mut self, i: usize) {
        for &d in &self.dependents[i] {
            self.unmet[d] -= 1;
            if self.unmet[d] == 0 {
                self.ready.insert(d);
            }
        }
    }

    /// The jobs that need job `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    /// The first ready job in plan order, taken off the queue.
    pub fn next(&mut self) -> Option<usize> {
        self.ready.pop_first()
    }
}
