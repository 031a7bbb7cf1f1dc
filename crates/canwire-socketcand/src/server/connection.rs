//! One client connection: the socket loop that drives a [`Session`].
//!
//! It waits for whichever comes first: bytes from the client, frames for
//! the client (a one-shot hook on the session's queue wakes a
//! [`Notify`]), a session timer, the handshake or idle deadline, or the
//! server closing. Replies go out in the session's order, one write per
//! chunk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, watch};

use super::counters::ServerCounters;
use super::output::Output;
use super::session::{Readable, Session};
use crate::protocol::{ElementReader, format};

/// The key of the session's readiness hook (one per connection, so any).
const HOOK_KEY: u64 = 0x50c4e7;

/// Drains in a row before the loop looks at the client's bytes again.
const DRAINS_PER_TURN: usize = 8;

/// Limits the connection loop applies.
pub struct ConnectionLimits {
    /// From connect to a successful open.
    pub handshake_timeout: Duration,
    /// Without an element from the client.
    pub idle_timeout: Option<Duration>,
}

async fn write_out<W: AsyncWrite + Unpin>(
    writer: &mut W,
    out: &mut Output,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    for chunk in out.chunks.drain(..) {
        let written = tokio::select! {
            r = writer.write_all(&chunk) => r.is_ok(),
            _ = shutdown.changed() => false,
        };
        if !written {
            return false;
        }
    }
    !out.close
}

/// Serves one client until it leaves, breaks a rule, or the server closes.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    mut session: Session,
    limits: ConnectionLimits,
    counters: Arc<ServerCounters>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut out = Output::default();
    out.separate(format::HI);
    if !write_out(&mut writer, &mut out, &mut shutdown).await {
        return;
    }
    let notify = Arc::new(Notify::new());
    let mut elements = ElementReader::new();
    let mut buf = vec![0u8; 16 * 1024];
    let handshake_deadline = Instant::now() + limits.handshake_timeout;
    let mut idle_deadline = limits.idle_timeout.map(|t| Instant::now() + t);
    loop {
        let mut drained = 0;
        while drained < DRAINS_PER_TURN && session.drain(&mut out) {
            drained += 1;
            if !write_out(&mut writer, &mut out, &mut shutdown).await {
                return;
            }
        }
        let hook_notify = notify.clone();
        let readable =
            session.notify_when_readable(HOOK_KEY, Box::new(move || hook_notify.notify_one()));
        let ready_now = readable == Readable::Ready;
        if ready_now && drained == 0 && session.bus_closed() {
            return;
        }
        let mut deadline = session.poll_timeout();
        if !session.is_open() {
            deadline = Some(deadline.map_or(handshake_deadline, |d| d.min(handshake_deadline)));
        }
        if let Some(idle) = idle_deadline {
            deadline = Some(deadline.map_or(idle, |d| d.min(idle)));
        }
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            read = reader.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                elements.push(&buf[..n]);
                let now = Instant::now();
                let mut any = false;
                while let Some(element) = elements.next_element() {
                    any = true;
                    session.handle(element, now, &mut out);
                    if out.close {
                        break;
                    }
                }
                if any && let Some(t) = limits.idle_timeout {
                    idle_deadline = Some(now + t);
                }
                if !write_out(&mut writer, &mut out, &mut shutdown).await {
                    return;
                }
            }
            _ = notify.notified() => {}
            _ = std::future::ready(()), if ready_now => {
                if drained == 0 {
                    // Readable but nothing formatted (only skipped frames): let the others run.
                    tokio::task::yield_now().await;
                }
            }
            _ = sleep => {
                let now = Instant::now();
                if (!session.is_open() && now >= handshake_deadline)
                    || idle_deadline.is_some_and(|d| now >= d)
                {
                    ServerCounters::bump(&counters.timed_out);
                    return;
                }
                session.handle_timeout(now, &mut out);
                if !write_out(&mut writer, &mut out, &mut shutdown).await {
                    return;
                }
            }
        }
    }
}
