//! Where one leg runs, decided when it starts: `runs-on` and `container:` evaluated with the
//! leg's `matrix`, `needs`, `inputs` and `vars`, then placed with `-P`/pipe.toml `[platforms]`
//! exactly as `pipe plan` places what it can evaluate.

use super::Shared;
use crate::model::Job;
use crate::plan::platform::{self, Placement};
use crate::scope::Scope;

pub fn of_leg(shared: &Shared, job: &Job, scope: &Scope) -> Result<Placement, String> {
    platform::place(job, scope, &shared.platforms, shared.executor)
        .map_err(|e| e.describe("where the job runs (`runs-on`, `container`) cannot be evaluated"))
}
