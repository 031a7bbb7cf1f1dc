//! The receive task of a remote bus: frames from the exporter into the
//! bus's readers, in order, with the exporter's timestamps.
//!
//! - Streaming (a canwire exporter): one `canwire_recv_stream` call; each
//!   response is `{records, dropped}`, packed 88-byte records and the
//!   cumulative count the exporter's queue lost (reported as `kernel_drops`).
//! - Polling (a Python exporter): `_recv_internal([POLL_S])` with exactly one
//!   call outstanding; the finite timeout keeps no exporter thread blocked
//!   for long after the client is gone.
//!
//! Either way an error that ends receiving (a lost connection, a closed
//! remote bus) fails every reader with it: no read hangs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::record::{RECORD_SIZE, decode};
use canwire_core::{CanwireError, Frame};
use prost_types::Value;

use super::can_transport::CanLink;
use super::status_map::unreachable;
use crate::can_message;
use crate::value::{self, arg, as_bytes, as_int, as_list, as_object, field};

/// The receive timeout of one `_recv_internal` poll, in seconds.
pub const POLL_S: f64 = 0.2;
/// How long a poll may take in all before the exporter counts as gone.
const POLL_DEADLINE: Duration = Duration::from_secs(15);
/// The streaming receive method of a canwire exporter.
pub const STREAM_METHOD: &str = "canwire_recv_stream";

/// Runs until the bus closes or receiving fails.
/// `stream` is the receive stream opened with the bus (streaming drivers).
pub(crate) async fn run(link: Arc<CanLink>, stream: Option<Responses>) {
    let ended = match stream {
        Some(responses) => receive_stream(&link, responses).await,
        None => poll(&link).await,
    };
    if let Err(error) = ended {
        link.fail(error);
    }
}

/// The frame of one `_recv_internal` result (`[CanMessage|null, filtered]`), if any.
pub fn frame_of_poll(result: &Value) -> Result<Option<Frame>> {
    let items = as_list(result, "_recv_internal result")?;
    let message = arg(items, 0);
    if value::is_null(message) {
        return Ok(None);
    }
    let mut frame = can_message::from_value(message, "_recv_internal result[0]")?;
    frame.channel = 0;
    Ok(Some(frame))
}

async fn poll(link: &CanLink) -> Result<()> {
    // a closing bus lets the call in flight end (see `JumpstarterTransport::close`)
    while !link.closed.load(Ordering::Acquire) {
        let result = link
            .call("_recv_internal", vec![value::number(POLL_S)], POLL_DEADLINE)
            .await?;
        match frame_of_poll(&result) {
            Ok(Some(frame)) => link.readers.deliver(&[frame]),
            Ok(None) => {}
            Err(e) => link.count_receive_error(&e),
        }
    }
    Ok(())
}

/// The frames and the cumulative drop count of one stream response.
pub fn batch_of_stream(result: &Value) -> Result<(Vec<Frame>, u64)> {
    let fields = as_object(result, "canwire_recv_stream result")?;
    let records = as_bytes(
        field(fields, "records", "canwire_recv_stream result")?,
        "canwire_recv_stream result.records",
    )?;
    let dropped = as_int(
        field(fields, "dropped", "canwire_recv_stream result")?,
        "canwire_recv_stream result.dropped",
        0,
        i64::MAX,
    )? as u64;
    if !records.len().is_multiple_of(RECORD_SIZE) {
        return Err(CanwireError::invalid_argument(format!(
            "canwire_recv_stream result.records must be a multiple of {RECORD_SIZE} bytes, got {}",
            records.len()
        )));
    }
    let frames = records
        .chunks_exact(RECORD_SIZE)
        .map(|chunk| {
            let mut frame = decode(chunk);
            frame.channel = 0;
            frame
        })
        .collect();
    Ok((frames, dropped))
}

/// The responses of a `canwire_recv_stream` call.
pub(crate) type Responses = tonic::Streaming<crate::proto::StreamingDriverCallResponse>;

/// Starts the receive stream; the exporter sees frames from this call on,
/// so the bus opens only once it is running.
pub(crate) async fn open_stream(
    session: &super::session::ExporterSession,
    uuid: &str,
) -> Result<Responses> {
    session.stream(uuid, STREAM_METHOD, vec![]).await
}

async fn receive_stream(link: &CanLink, mut responses: Responses) -> Result<()> {
    loop {
        match responses.message().await {
            Ok(Some(response)) => {
                let result = response.result.unwrap_or_else(value::null);
                match batch_of_stream(&result) {
                    Ok((frames, dropped)) => {
                        link.remote_drops.fetch_max(dropped, Ordering::Relaxed);
                        let valid: Vec<Frame> = frames
                            .into_iter()
                            .filter(|f| match f.validate() {
                                Ok(()) => true,
                                Err(e) => {
                                    link.count_receive_error(&e);
                                    false
                                }
                            })
                            .collect();
                        link.readers.deliver(&valid);
                    }
                    Err(e) => link.count_receive_error(&e),
                }
            }
            Ok(None) => {
                // no status: the exporter stopped serving (a closing bus ends it with one)
                return Err(unreachable(
                    link.session.address(),
                    &format!("it ended the receive stream of '{}'", link.driver.path),
                ));
            }
            Err(status) => {
                let error = link.session.stream_error(&status, STREAM_METHOD);
                return Err(if status.code() == tonic::Code::Cancelled {
                    unreachable(link.session.address(), status.message())
                } else {
                    error
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::record::encode_batch;

    #[test]
    fn a_poll_result_is_a_frame_or_nothing() {
        let mut frame = Frame::classic(0x123, false, &[1, 2, 3]);
        frame.timestamp_ns = 1_700_000_000_500_000_000;
        let got = value::list(vec![
            can_message::to_value(&frame, Some("js0")),
            value::boolean(false),
        ]);
        assert_eq!(frame_of_poll(&got).unwrap(), Some(frame));
        let empty = value::list(vec![value::null(), value::boolean(false)]);
        assert_eq!(frame_of_poll(&empty).unwrap(), None);
        let e = frame_of_poll(&value::null()).unwrap_err();
        assert_eq!(e.message, "_recv_internal result must be a list, got null");
    }

    #[test]
    fn a_stream_response_holds_packed_records_and_the_drop_count() {
        let frames = vec![
            Frame::classic(1, false, &[9]),
            Frame::fd(0x1abc_def0, true, &[7; 12], true),
        ];
        let mut packed = Vec::new();
        encode_batch(&frames, &mut packed);
        let result = value::object([
            ("records", value::bytes(&packed)),
            ("dropped", value::number(3.0)),
        ]);
        assert_eq!(batch_of_stream(&result).unwrap(), (frames, 3));
        let bad = value::object([
            ("records", value::bytes(&[0; 10])),
            ("dropped", value::number(0.0)),
        ]);
        assert_eq!(
            batch_of_stream(&bad).unwrap_err().message,
            "canwire_recv_stream result.records must be a multiple of 88 bytes, got 10"
        );
        let missing = value::object([("records", value::bytes(&[]))]);
        assert_eq!(
            batch_of_stream(&missing).unwrap_err().message,
            "canwire_recv_stream result.dropped: field required"
        );
    }
}
