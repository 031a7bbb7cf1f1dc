//! The client's connection task: connect and handshake (`< hi >`, `< open
//! CHANNEL >`, `< rawmode >`), then move frames both ways until the
//! connection breaks; then reconnect with backoff, reporting the gap.

use std::sync::Arc;
use std::time::Instant;

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::server_filters::{self, IdKey};
use super::transport::ClientShared;
use crate::protocol::{ElementReader, ReadElement, ServerElement, format, parse_server_element};

fn unreachable(shared: &ClientShared, why: impl std::fmt::Display) -> CanwireError {
    CanwireError::new(
        ErrorCode::Unreachable,
        format!("socketcand at {}: {why}", shared.endpoint()),
    )
}

/// Reads until the next element from the server.
async fn next_element(
    stream: &mut TcpStream,
    elements: &mut ElementReader,
    shared: &ClientShared,
) -> Result<ServerElement> {
    let mut buf = [0u8; 4096];
    loop {
        match elements.next_element() {
            Some(ReadElement::Element(e)) => return Ok(parse_server_element(&e)),
            Some(ReadElement::Oversize) => continue,
            None => {}
        }
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| unreachable(shared, format!("reading the handshake failed: {e}")))?;
        if n == 0 {
            return Err(unreachable(
                shared,
                "the server closed the connection during the handshake",
            ));
        }
        elements.push(&buf[..n]);
    }
}

async fn expect_ok(
    stream: &mut TcpStream,
    elements: &mut ElementReader,
    shared: &ClientShared,
    after: &str,
) -> Result<()> {
    match next_element(stream, elements, shared).await? {
        ServerElement::Ok => Ok(()),
        ServerElement::Error(text) if after.starts_with("< open") => Err(CanwireError::new(
            ErrorCode::UnknownInterface,
            format!(
                "socketcand at {} cannot open bus '{}': it answered '{text}'",
                shared.endpoint(),
                shared.config.channel
            ),
        )),
        other => Err(unreachable(
            shared,
            format!("expected '< ok >' after '{after}', got {other:?}"),
        )),
    }
}

/// Connects and runs the handshake up to raw mode (`raw`) or BCM mode (the mode after open).
pub(crate) async fn connect_mode(
    shared: &ClientShared,
    raw: bool,
) -> Result<(TcpStream, ElementReader)> {
    let attempt = async {
        let mut stream = TcpStream::connect((shared.config.host.as_str(), shared.config.port))
            .await
            .map_err(|e| unreachable(shared, format!("connecting failed: {e}")))?;
        let _ = stream.set_nodelay(true);
        let mut elements = ElementReader::new();
        match next_element(&mut stream, &mut elements, shared).await? {
            ServerElement::Hi => {}
            other => {
                return Err(unreachable(
                    shared,
                    format!("expected '< hi >', got {other:?}"),
                ));
            }
        }
        let open = format!("< open {} >", shared.config.channel);
        let commands = if raw {
            vec![open, "< rawmode >".to_string()]
        } else {
            vec![open]
        };
        for command in commands {
            stream
                .write_all(command.as_bytes())
                .await
                .map_err(|e| unreachable(shared, format!("writing the handshake failed: {e}")))?;
            expect_ok(&mut stream, &mut elements, shared, &command).await?;
        }
        Ok((stream, elements))
    };
    tokio::time::timeout(shared.config.connect_timeout, attempt)
        .await
        .map_err(|_| {
            unreachable(
                shared,
                format!(
                    "no handshake within {} ms",
                    shared.config.connect_timeout.as_millis()
                ),
            )
        })?
}

/// Moves frames until the connection breaks (the reason) or shutdown (None).
/// `applied`: the server-side subscriptions the connection has (`None`: raw
/// mode); it follows the bus's filters as they change.
async fn pump(
    shared: &ClientShared,
    stream: TcpStream,
    mut elements: ElementReader,
    mut applied: Option<Vec<IdKey>>,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<String> {
    let (mut reader, mut writer) = stream.into_split();
    let mut buf = vec![0u8; 64 * 1024];
    let mut received: Vec<Frame> = Vec::with_capacity(256);
    let mut outgoing: Vec<Frame> = Vec::with_capacity(256);
    let mut text = String::new();
    loop {
        received.clear();
        while let Some(element) = elements.next_element() {
            let ReadElement::Element(e) = element else {
                continue;
            };
            match parse_server_element(&e) {
                ServerElement::Frame(f) | ServerElement::ErrorFrame(f) => received.push(f),
                ServerElement::Error(message) => shared.remote_error(&message),
                _ => {}
            }
        }
        if !received.is_empty() {
            shared.readers.deliver(&received);
        }
        tokio::select! {
            biased;
            _ = shutdown.changed() => return None,
            read = reader.read(&mut buf) => match read {
                Ok(0) => return Some("the server closed the connection".into()),
                Ok(n) => elements.push(&buf[..n]),
                Err(e) => return Some(format!("reading failed: {e}")),
            },
            _ = shared.wake_link.notified() => {
                let wanted = shared.server_filters();
                if wanted != applied {
                    let commands = server_filters::transition(applied.as_deref(), wanted.as_deref());
                    if let Err(e) = writer.write_all(commands.as_bytes()).await {
                        return Some(format!("writing failed: {e}"));
                    }
                    applied = wanted;
                }
                outgoing.clear();
                shared.take_outgoing(&mut outgoing);
                if outgoing.is_empty() {
                    continue;
                }
                text.clear();
                for f in &outgoing {
                    format::send(&mut text, f);
                }
                if let Err(e) = writer.write_all(text.as_bytes()).await {
                    shared.count_tx_lost(outgoing.len());
                    return Some(format!("writing failed: {e}"));
                }
            }
        }
    }
}

/// Runs the connection until shutdown; `first` gets the first attempt's result
/// (a failed first attempt ends the task).
pub async fn run(shared: Arc<ClientShared>, first: std::sync::mpsc::Sender<Result<()>>) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut first = Some(first);
    let mut attempt = 0u32;
    let mut down_since: Option<(Instant, String)> = None;
    loop {
        // with server-side filters the connection starts in raw mode too; the
        // pump's first turn switches it to BCM mode and subscribes
        let connected = tokio::select! {
            c = connect_mode(&shared, true) => c,
            _ = shutdown.changed() => return,
        };
        match connected {
            Ok((stream, elements)) => {
                shared.wake_link.notify_one();
                attempt = 0;
                if let Some((since, reason)) = down_since.take() {
                    shared.gap_ended(since.elapsed(), &reason);
                }
                shared.set_connected(true);
                if let Some(first) = first.take() {
                    let _ = first.send(Ok(()));
                }
                let lost = pump(&shared, stream, elements, None, &mut shutdown).await;
                shared.set_connected(false);
                let Some(reason) = lost else { return };
                shared.gap_began(&reason);
                down_since = Some((Instant::now(), reason));
            }
            Err(e) => {
                if let Some(first) = first.take() {
                    let _ = first.send(Err(e));
                    return;
                }
            }
        }
        attempt += 1;
        tokio::select! {
            _ = tokio::time::sleep(shared.config.backoff.delay(attempt)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
