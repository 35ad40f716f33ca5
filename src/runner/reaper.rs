//! Teardowns off the critical path: a finished job's containers and network are removed in the
//! background while its dependents start. Each removal is known by the job key whose Docker
//! names it frees: a job that starts under the same key (a retry) waits for it first, and the
//! run waits for every one before it ends, so that no container outlives it.

use std::future::Future;
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct Reaper {
    /// Pending removals: the job key, and a token cancelled when the removal is over.
    pending: Mutex<Vec<(String, CancellationToken)>>,
}

impl Reaper {
    /// Run `removal` in the background under `key`.
    pub fn spawn(&self, key: &str, removal: impl Future<Output = ()> + Send + 'static) {
        let done = CancellationToken::new();
        if let Ok(mut pending) = self.pending.lock() {
            pending.retain(|(_, d)| !d.is_cancelled());
            pending.push((key.to_string(), done.clone()));
        }
        tokio::spawn(async move {
            // Over even when the removal panics: nobody waits forever.
            let _over = done.drop_guard();
            removal.await;
        });
    }

    /// Wait until the pending removals under `key` are over.
    pub async fn wait(&self, key: &str) {
        for done in self.tokens(Some(key)) {
            done.cancelled().await;
        }
    }

    /// Wait until every pending removal is over.
    pub async fn wait_all(&self) {
        for done in self.tokens(None) {
            done.cancelled().await;
        }
    }

    fn tokens(&self, key: Option<&str>) -> Vec<CancellationToken> {
        let Ok(pending) = self.pending.lock() else { return Vec::new() };
        pending.iter().filter(|(k, _)| key.is_none_or(|key| k == key)).map(|(_, d)| d.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn waits_for_the_removals_of_a_key_and_for_all() {
        let reaper = Reaper::default();
        let over = Arc::new(AtomicUsize::new(0));
        for (key, ms) in [("a", 50), ("b", 150)] {
            let over = over.clone();
            reaper.spawn(key, async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                over.fetch_add(1, Ordering::SeqCst);
            });
        }
        reaper.wait("a").await;
        assert_eq!(over.load(Ordering::SeqCst), 1, "`a` is over, `b` is not yet");
        reaper.wait("none").await;
        reaper.wait_all().await;
        assert_eq!(over.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_removal_that_panics_is_over() {
        let reaper = Reaper::default();
        reaper.spawn("a", async { panic!("boom") });
        tokio::time::timeout(Duration::from_secs(5), reaper.wait_all()).await.expect("waited forever");
    }
}
