//! How many cores this process may use, asked once: the standard library reads the cgroup
//! files on every call, which cost more than parsing a small workflow.

use std::sync::OnceLock;

pub fn available() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}
