//! Watches run by the socketcand server (`filtering: "server"`): one BCM
//! connection per watch carrying one job, `< subscribe SEC USEC ID >`
//! without a change mask (`"received"` events) or `< filter SEC USEC ID DLC
//! mask… >` with one (`"changed"` events), SEC USEC being the throttle.
//!
//! socketcand's jobs have no timeout (no RX_TIMEOUT), no length check
//! (RX_CHECK_DLC) and no FD frames, so `timeoutMs`, `checkDlc` and `fd`
//! are refused with `ERR_UNSUPPORTED`; the throttle counts whole
//! microseconds. A connection per watch, as the kernel's BCM uses a socket
//! per watch: socketcand keys jobs by id, so two watches of one id could
//! not share one. A lost connection ends the watch (its queue closes) and
//! counts as a receive error of the bus.

use std::sync::Arc;

use canwire_bus::watch::WatchBackend;
use canwire_bus::watch::queue::{BusWatchEvent, WatchQueue};
use canwire_core::error::Result;
use canwire_core::watch::{WatchConfig, WatchEventKind, WatchMux};
use canwire_core::{CanwireError, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use super::link::connect_mode;
use super::server_filters::{filter_command, subscribe_command};
use super::transport::ClientShared;
use crate::protocol::{ReadElement, ServerElement, format, parse_server_element};

fn unsupported(option: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        format!(
            "socketcand's server-side watches (filtering \"server\") have no {option}; open the bus without filtering \"server\" to watch in canwire"
        ),
    )
}

/// The BCM command for `config` and the kind of event its frames are.
pub fn watch_command(config: &WatchConfig) -> Result<(String, WatchEventKind)> {
    config.validate()?;
    if config.fd {
        return Err(unsupported("FD frames (fd)"));
    }
    if config.timeout_ns.is_some() {
        return Err(unsupported("timeout (timeoutMs)"));
    }
    if config.check_dlc {
        return Err(unsupported("length check (checkDlc)"));
    }
    let throttle_us = match config.throttle_ns {
        None => 0,
        Some(ns) => match (ns + 500) / 1_000 {
            0 => {
                return Err(CanwireError::invalid_argument(
                    "socketcand counts time in whole microseconds: throttleMs must be at least 0.001 ms",
                ));
            }
            us => us,
        },
    };
    let key = (config.id, config.extended);
    if let Some(mux) = &config.mux {
        return Ok((
            muxfilter_command(key, throttle_us, mux),
            WatchEventKind::Changed,
        ));
    }
    Ok(match &config.change_mask {
        None => (
            subscribe_command(key, throttle_us),
            WatchEventKind::Received,
        ),
        Some(mask) => (
            filter_command(key, throttle_us, mask),
            WatchEventKind::Changed,
        ),
    })
}

/// `< muxfilter SEC USEC ID N tuple… >`: tuple 0 the mux mask, then one per
/// value, each byte as socketcand reads it (a fixed `XX ` triplet).
pub fn muxfilter_command(key: (u32, bool), throttle_us: u64, mux: &WatchMux) -> String {
    let mut text = format!(
        "< muxfilter {} {} ",
        throttle_us / 1_000_000,
        throttle_us % 1_000_000
    );
    format::push_id(&mut text, key.0, key.1);
    text.push_str(&format!(" {}", mux.cases.len() + 1));
    for b in std::iter::once(&mux.mask).chain(&mux.cases).flatten() {
        text.push_str(&format!(" {b:02X}"));
    }
    text.push_str(" >");
    text
}

/// A watch the server runs, on a connection of its own.
pub struct ServerWatch {
    stop: watch::Sender<bool>,
    queue: Arc<WatchQueue>,
}

impl ServerWatch {
    /// Connects (handshake up to BCM mode), sends the job and starts
    /// delivering its frames to `queue` as events.
    pub async fn open(
        shared: Arc<ClientShared>,
        config: WatchConfig,
        queue: Arc<WatchQueue>,
    ) -> Result<Arc<Self>> {
        let (command, kind) = watch_command(&config)?;
        let (mut stream, mut elements) = connect_mode(&shared, false).await?;
        stream.write_all(command.as_bytes()).await.map_err(|e| {
            CanwireError::new(
                ErrorCode::Unreachable,
                format!("socketcand at {}: writing failed: {e}", shared.endpoint()),
            )
        })?;
        let (stop, mut stopped) = watch::channel(false);
        let mut shutdown = shared.shutdown.subscribe();
        let q = queue.clone();
        crate::runtime::handle().spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            let lost = loop {
                while let Some(element) = elements.next_element() {
                    let ReadElement::Element(e) = element else {
                        continue;
                    };
                    match parse_server_element(&e) {
                        ServerElement::Frame(frame) => q.push(BusWatchEvent {
                            kind,
                            frame: Some(frame),
                            timestamp_ns: frame.timestamp_ns,
                        }),
                        ServerElement::Error(message) => shared.remote_error(&message),
                        _ => {}
                    }
                }
                tokio::select! {
                    _ = stopped.changed() => break None,
                    _ = shutdown.changed() => break None,
                    read = stream.read(&mut buf) => match read {
                        Ok(0) => break Some("the server closed the connection".to_string()),
                        Ok(n) => elements.push(&buf[..n]),
                        Err(e) => break Some(format!("reading failed: {e}")),
                    },
                }
            };
            if let Some(reason) = lost {
                shared.watch_lost(config.id, &reason);
            }
            q.close();
        });
        Ok(Arc::new(Self { stop, queue }))
    }
}

impl WatchBackend for ServerWatch {
    fn in_kernel(&self) -> bool {
        false
    }

    fn close(&self) {
        // dropping the connection ends the job (socketcand deletes it)
        let _ = self.stop.send(true);
        self.queue.close();
    }
}

impl Drop for ServerWatch {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(f: impl FnOnce(&mut WatchConfig)) -> WatchConfig {
        let mut c = WatchConfig {
            id: 0x123,
            ..WatchConfig::default()
        };
        f(&mut c);
        c
    }

    #[test]
    fn watches_as_bcm_jobs() {
        assert_eq!(
            watch_command(&config(|_| {})).unwrap(),
            ("< subscribe 0 0 123 >".into(), WatchEventKind::Received)
        );
        assert_eq!(
            watch_command(&config(|c| {
                c.change_mask = Some(vec![0xFF, 0x0F]);
                c.throttle_ns = Some(1_500_000_000);
            }))
            .unwrap(),
            (
                "< filter 1 500000 123 2 FF 0F >".into(),
                WatchEventKind::Changed
            )
        );
        assert_eq!(
            watch_command(&config(|c| {
                c.id = 0x1ABC_DEF0;
                c.extended = true;
                c.throttle_ns = Some(2_000);
            }))
            .unwrap()
            .0,
            "< subscribe 0 2 1ABCDEF0 >"
        );
    }

    #[test]
    fn a_mux_watch_is_a_muxfilter() {
        let mux = WatchMux::new(
            &[0xFF],
            &[(&[0x01], &[0, 0xFF]), (&[0x02, 0xAA], &[0xFF, 0x0F])],
        )
        .unwrap();
        assert_eq!(
            watch_command(&config(|c| c.mux = Some(mux))).unwrap(),
            (
                "< muxfilter 0 0 123 3 FF 00 00 00 00 00 00 00 01 FF 00 00 00 00 00 00 02 0F 00 00 00 00 00 00 >".into(),
                WatchEventKind::Changed
            )
        );
        assert_eq!(
            WatchMux::new(&[0], &[(&[1], &[1])]).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            WatchMux::new(&[0xFF], &[]).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn what_socketcand_jobs_cannot_do() {
        for (c, what) in [
            (config(|c| c.timeout_ns = Some(1_000_000)), "timeoutMs"),
            (
                config(|c| {
                    c.change_mask = Some(vec![0xFF]);
                    c.check_dlc = true;
                }),
                "checkDlc",
            ),
            (config(|c| c.fd = true), "fd"),
        ] {
            let e = watch_command(&c).unwrap_err();
            assert_eq!(e.code, ErrorCode::Unsupported);
            assert!(e.message.contains(what), "{}", e.message);
        }
        assert_eq!(
            watch_command(&config(|c| c.throttle_ns = Some(400)))
                .unwrap_err()
                .code,
            ErrorCode::InvalidArgument
        );
    }
}
