//! Answers a client has not taken. A response waiting for its client's
//! HTTP/2 window is not polled by hyper until the window opens, so nothing
//! inside it can end it, and no status can reach a client that reads
//! nothing. What the server can do is close the connection, as nginx's
//! `send_timeout` does: each call's body says when it offered a frame and
//! when it was asked for the next, and the connection closes itself once
//! one frame has waited for the send timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// The answers of one connection's open calls.
#[derive(Debug)]
pub struct Answers {
    epoch: Instant,
    /// Per open call: when its last frame began to wait, in milliseconds
    /// after `epoch`, plus one; 0 while none waits.
    waiting: Mutex<Vec<Arc<AtomicU64>>>,
}

impl Answers {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            waiting: Mutex::new(Vec::new()),
        })
    }

    /// The answer of a new call, tracked until it drops.
    pub fn track(self: &Arc<Self>) -> Answer {
        let since = Arc::new(AtomicU64::new(0));
        self.lock().push(since.clone());
        Answer {
            answers: self.clone(),
            since,
        }
    }

    /// Since when the longest-waiting frame has waited, if one does.
    pub fn oldest_wait(&self) -> Option<Instant> {
        let oldest = self
            .lock()
            .iter()
            .map(|since| since.load(Ordering::Acquire))
            .filter(|&since| since > 0)
            .min()?;
        Some(self.epoch + std::time::Duration::from_millis(oldest - 1))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<AtomicU64>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One call's answer.
#[derive(Debug)]
pub struct Answer {
    answers: Arc<Answers>,
    since: Arc<AtomicU64>,
}

impl Answer {
    /// The server was asked for the next frame: none waits.
    pub fn asked(&self) {
        self.since.store(0, Ordering::Release);
    }

    /// A frame was handed over and waits for the client, from now.
    pub fn offered(&self) {
        let millis = self.answers.epoch.elapsed().as_millis() as u64;
        self.since.store(millis + 1, Ordering::Release);
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.answers
            .lock()
            .retain(|since| !Arc::ptr_eq(since, &self.since));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_oldest_waiting_frame_counts_and_a_taken_one_does_not() {
        let answers = Answers::new();
        let first = answers.track();
        let second = answers.track();
        assert_eq!(answers.oldest_wait(), None);
        first.offered();
        let offered = Instant::now();
        tokio::time::advance(std::time::Duration::from_secs(5)).await;
        second.offered();
        assert_eq!(answers.oldest_wait(), Some(offered));
        first.asked();
        assert!(answers.oldest_wait() > Some(offered));
        drop(second);
        assert_eq!(answers.oldest_wait(), None);
    }
}
