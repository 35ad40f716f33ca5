//! Sweeping an engine: what runs whose pipe process is gone left in it (containers, networks,
//! volumes) is removed by `pipe prune` (every such run) and `pipe resume` (the resumed run),
//! each backend by [`Executor::sweep`](super::Executor::sweep); the commands only add up and
//! report what each one says.

use std::ops::AddAssign;

/// What a sweep removed, and what it kept because the run it belongs to is still going.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    pub containers: usize,
    pub networks: usize,
    pub volumes: usize,
    /// Containers, networks and volumes kept: their pipe process still runs.
    pub kept: usize,
}

impl Swept {
    /// Whether anything was removed.
    pub fn removed_any(&self) -> bool {
        self.containers + self.networks + self.volumes > 0
    }
}

impl AddAssign for Swept {
    fn add_assign(&mut self, other: Swept) {
        self.containers += other.containers;
        self.networks += other.networks;
        self.volumes += other.volumes;
        self.kept += other.kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_add_up() {
        let mut total = Swept::default();
        assert!(!total.removed_any());
        total += Swept { containers: 2, networks: 1, volumes: 0, kept: 3 };
        total += Swept { containers: 1, networks: 0, volumes: 4, kept: 0 };
        assert_eq!(total, Swept { containers: 3, networks: 1, volumes: 4, kept: 3 });
        assert!(total.removed_any());
        assert!(!Swept { kept: 1, ..Swept::default() }.removed_any());
    }
}
