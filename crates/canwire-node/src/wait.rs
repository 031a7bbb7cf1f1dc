//! Awaiting a readiness future with an optional timeout in milliseconds.

use std::future::Future;
use std::time::Duration;

/// Resolves true when `ready` completes, false if `timeout_ms` passes first
/// (no timeout, or a non-finite one: wait as long as it takes).
pub async fn ready_within(ready: impl Future<Output = ()>, timeout_ms: Option<f64>) -> bool {
    match timeout_ms {
        Some(ms) if ms.is_finite() => {
            let limit = Duration::from_secs_f64(ms.max(0.0) / 1000.0);
            tokio::time::timeout(limit, ready).await.is_ok()
        }
        _ => {
            ready.await;
            true
        }
    }
}
