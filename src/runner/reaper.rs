//! Teardowns off the critical path: a finished job's containers and network are removed in the
//! background while its dependents start. Each removal is known by the job key whose Docker
//! names it frees: a job that starts under the same key (a retry) waits for it first, and the
//! run waits for every one before it ends, so that no container outlives it.
//!
//! A removal also waits (a little) for the starts it would slow down: the engine tears a
//! container's network down as it stops, and a dependent started at that moment waits for it
//! (about a third of a start, measured). So a finished job's removal first lets the dispatcher
//! launch the legs its end made ready, then waits until each launched leg's environment has
//! started, at most [`MAX_DEFER`] and never once the run is stopping.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The longest a removal waits for starts (an image pull is not worth waiting for).
const MAX_DEFER: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Reaper {
    /// Pending removals: the job key, and a token cancelled when the removal is over.
    pending: Mutex<Vec<(String, CancellationToken)>>,
    starts: watch::Sender<Starts>,
}

/// Legs launched whose job environment is not started yet (by key), and a count of the
/// dispatcher's launches after a leg ended.
#[derive(Default)]
struct Starts {
    starting: BTreeSet<String>,
    launches: u64,
}

impl Reaper {
    /// The dispatcher launched the leg `key`: its start is coming.
    pub fn starting(&self, key: &str) {
        self.starts.send_modify(|s| {
            s.starting.insert(key.to_string());
        });
    }

    /// The leg `key`'s environment started (or will not start).
    pub fn started(&self, key: &str) {
        self.starts.send_if_modified(|s| s.starting.remove(key));
    }

    /// The dispatcher launched what a leg's end made ready.
    pub fn launched(&self) {
        self.starts.send_modify(|s| s.launches += 1);
    }

    /// Run `removal` in the background under `key`, once the starts launched after this call
    /// are over (see the module's comment); at once when `stopping` fires.
    pub fn spawn_after_starts(
        &self,
        key: &str,
        stopping: CancellationToken,
        removal: impl Future<Output = ()> + Send + 'static,
    ) {
        let mut starts = self.starts.subscribe();
        let launches = starts.borrow().launches;
        let own = key.to_string();
        self.spawn(key, async move {
            let quiet = async {
                let _ = starts.wait_for(|s| s.launches != launches).await;
                // A leg of the same key (a retry) waits for this removal instead.
                let _ = starts.wait_for(|s| s.starting.iter().all(|k| *k == own)).await;
            };
            tokio::select! {
                _ = tokio::time::timeout(MAX_DEFER, quiet) => {}
                () = stopping.cancelled() => {}
            }
            removal.await;
        });
    }

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

    #[tokio::test(start_paused = true)]
    async fn a_removal_waits_for_the_starts_launched_after_it() {
        let reaper = Arc::new(Reaper::default());
        let removed = Arc::new(AtomicUsize::new(0));
        let count = |removed: &Arc<AtomicUsize>| {
            let removed = removed.clone();
            async move {
                removed.fetch_add(1, Ordering::SeqCst);
            }
        };
        reaper.spawn_after_starts("need", CancellationToken::new(), count(&removed));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(removed.load(Ordering::SeqCst), 0, "the dispatcher has not launched yet");
        reaper.starting("dependent");
        reaper.starting("need"); // its retry, which waits for the removal instead
        reaper.launched();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(removed.load(Ordering::SeqCst), 0, "the dependent is starting");
        reaper.started("dependent");
        reaper.wait("need").await;
        assert_eq!(removed.load(Ordering::SeqCst), 1);

        // A start that never ends holds a removal back for MAX_DEFER at most, and a stopping
        // run not at all.
        reaper.starting("stuck");
        reaper.spawn_after_starts("a", CancellationToken::new(), count(&removed));
        reaper.launched();
        let t = tokio::time::Instant::now();
        reaper.wait("a").await;
        assert_eq!(t.elapsed(), MAX_DEFER);
        let stopping = CancellationToken::new();
        reaper.spawn_after_starts("b", stopping.clone(), count(&removed));
        stopping.cancel();
        let t = tokio::time::Instant::now();
        reaper.wait("b").await;
        assert!(t.elapsed() < Duration::from_millis(10));
        assert_eq!(removed.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_removal_that_panics_is_over() {
        let reaper = Reaper::default();
        reaper.spawn("a", async { panic!("boom") });
        tokio::time::timeout(Duration::from_secs(5), reaper.wait_all()).await.expect("waited forever");
    }
}
