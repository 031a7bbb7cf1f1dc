//! The send task of a remote bus: drains the [`Outbound`](super::outbound::Outbound)
//! queue in order. A canwire exporter takes up to [`BATCH_MAX`] frames per
//! `canwire_send_batch` call; a Python exporter one `send` per frame. A
//! failed call's error is kept for the user's next send; a lost connection
//! ends the bus.

use std::sync::Arc;
use std::time::Duration;

use canwire_core::ErrorCode;
use canwire_core::Frame;
use canwire_core::error::Result;
use canwire_core::record::encode_batch;
use prost_types::Value;

use super::can_transport::CanLink;
use crate::{can_message, value};

/// Most records in one `canwire_send_batch` call (the contract's bound).
pub const BATCH_MAX: usize = 4096;
/// The batched send method of a canwire exporter.
pub const BATCH_METHOD: &str = "canwire_send_batch";
/// How long one send call may take.
const SEND_DEADLINE: Duration = Duration::from_secs(10);

/// The arguments of a `canwire_send_batch` call.
pub fn batch_args(frames: &[Frame]) -> Vec<Value> {
    let mut packed = Vec::with_capacity(frames.len() * canwire_core::record::RECORD_SIZE);
    encode_batch(frames, &mut packed);
    vec![value::bytes(&packed), value::null()]
}

/// The arguments of a Python driver `send` call, as `CanClient.send` makes them.
pub fn send_args(frame: &Frame) -> Vec<Value> {
    let mut message = *frame;
    message.timestamp_ns = 0;
    vec![can_message::to_value(&message, None), value::null()]
}

async fn send_batch(link: &CanLink, frames: &[Frame]) -> Result<()> {
    if link.driver.streaming {
        for chunk in frames.chunks(BATCH_MAX) {
            link.call(BATCH_METHOD, batch_args(chunk), SEND_DEADLINE)
                .await?;
        }
    } else {
        for frame in frames {
            link.call("send", send_args(frame), SEND_DEADLINE).await?;
        }
    }
    Ok(())
}

/// Runs until the bus closes or the connection is lost.
pub(crate) async fn run(link: Arc<CanLink>) {
    let max = if link.driver.streaming { BATCH_MAX } else { 64 };
    while let Some(frames) = link.outbound.next_batch(max).await {
        match send_batch(&link, &frames).await {
            Ok(()) => {}
            Err(e) if e.code == ErrorCode::Unreachable => {
                link.fail(e);
                return;
            }
            Err(e) => link.outbound.fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{as_object, as_str};

    #[test]
    fn a_python_send_has_the_twelve_keys_with_a_zero_timestamp_and_no_channel() {
        let mut frame = Frame::classic(0x7ff, false, &[0xaa, 0xbb]);
        frame.timestamp_ns = 123;
        let args = send_args(&frame);
        assert_eq!(args.len(), 2);
        assert!(value::is_null(&args[1]));
        let fields = as_object(&args[0], "m").unwrap();
        assert_eq!(fields.len(), 12);
        assert_eq!(as_str(&fields["data"], "d").unwrap(), "qrs=");
        assert_eq!(value::as_f64(&fields["timestamp"], "t").unwrap(), 0.0);
        assert!(value::is_null(&fields["channel"]));
    }

    #[test]
    fn a_batch_is_packed_records_and_a_null_timeout() {
        let frames = [Frame::classic(1, false, &[1]), Frame::classic(2, true, &[])];
        let args = batch_args(&frames);
        let packed = value::as_bytes(&args[0], "a").unwrap();
        assert_eq!(packed.len(), 2 * 88);
        assert_eq!(canwire_core::record::decode_batch(&packed).unwrap(), frames);
        assert!(value::is_null(&args[1]));
    }
}
