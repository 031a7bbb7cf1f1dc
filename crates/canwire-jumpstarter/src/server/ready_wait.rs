//! Waiting on canwire's readiness hooks from async code: a handler leaves a
//! one-shot hook (a reader queue, an ISO-TP inbox, a transmit queue) that
//! completes a oneshot channel, so no thread is blocked while a client waits,
//! and a call the client abandons just drops its future, which disarms the hook.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use canwire_bus::readiness::ReadyHook;
use tokio::sync::oneshot;

/// Hook keys of the server, tagged so they never equal the small tokens the
/// JS side arms on the same queues.
const KEY_TAG: u64 = 0x5E_0000_0000_0000;
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

fn next_key() -> u64 {
    KEY_TAG | NEXT_KEY.fetch_add(1, Ordering::Relaxed)
}

/// Disarms a hook when the wait ends or its future is dropped.
struct Disarm<F: FnMut(u64)> {
    key: u64,
    disarm: F,
}

impl<F: FnMut(u64)> Drop for Disarm<F> {
    fn drop(&mut self) {
        (self.disarm)(self.key);
    }
}

/// Arms a hook with `arm` (which returns false, dropping the hook, when the
/// thing is ready already) and waits for it at most `timeout`. True when it
/// ran or was not needed; false on timeout.
pub async fn wait_ready(
    arm: impl FnOnce(u64, ReadyHook) -> bool,
    disarm: impl FnMut(u64),
    timeout: Duration,
) -> bool {
    let key = next_key();
    let (tx, rx) = oneshot::channel::<()>();
    let hook: ReadyHook = Box::new(move || {
        let _ = tx.send(());
    });
    if !arm(key, hook) {
        return true;
    }
    let _disarm = Disarm { key, disarm };
    matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(())))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use canwire_bus::FrameQueue;
    use canwire_core::Frame;

    use super::*;

    #[tokio::test]
    async fn a_push_wakes_the_waiter_and_a_timeout_disarms_the_hook() {
        let queue = Arc::new(FrameQueue::new(8));
        let q = queue.clone();
        let pusher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            q.push([&Frame::classic(1, false, &[])]);
        });
        let woke = wait_ready(
            |k, h| queue.notify_once(k, h),
            |k| queue.cancel_notify(k),
            Duration::from_secs(5),
        )
        .await;
        assert!(woke);
        pusher.await.unwrap();
        let mut out = Vec::new();
        queue.pop_into(8, &mut out);
        let woke = wait_ready(
            |k, h| queue.notify_once(k, h),
            |k| queue.cancel_notify(k),
            Duration::from_millis(10),
        )
        .await;
        assert!(!woke);
        assert_eq!(queue.armed(), 0);
    }
}
