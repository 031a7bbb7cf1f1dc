//! The streaming extension of a canwire `Can` export (advertised by the
//! report label `canwire.dev/streaming: "1"`, unused by Python clients):
//!
//! - `StreamingDriverCall canwire_recv_stream []`: a server stream of
//!   `{"records": base64 of packed 88-byte records, "dropped": n}`, at most
//!   1024 records each, sent as soon as frames are there. Each stream has
//!   its own reader (65536 frames); `dropped` is how many frames that
//!   reader lost because this client read too slowly, so a slow client
//!   never stalls the bus or other clients. The stream ends when the client
//!   cancels it, or with UNKNOWN "Cannot operate on a closed bus".
//! - `DriverCall canwire_send_batch [records, timeout|null]`: sends every
//!   frame (at most 4096) and answers how many.

use std::time::Duration;

use canwire_core::record::{self, RECORD_SIZE};
use prost_types::Value;
use tokio::sync::mpsc;
use tonic::Status;

use crate::value::{self, as_bytes};

use super::call_args::{at_most, path, seconds};
use super::call_status::{closed_bus, invalid, status_of};
use super::can_export::CanExport;
use super::ready_wait::wait_ready;
use super::shared_receiver::SHARED_QUEUE_FRAMES;

/// Most records in one stream response.
pub const RECORDS_PER_RESPONSE: usize = 1024;
/// Most records in one `canwire_send_batch` call.
pub const MAX_SEND_BATCH: usize = 4096;
/// Responses a stream may have in flight before its producer waits (its
/// reader keeps queuing meanwhile).
const RESPONSES_IN_FLIGHT: usize = 4;
/// Longest wait before a stream looks at the closing flag again.
const WAIT_SLICE: Duration = Duration::from_secs(1);

/// The results a receive stream yields.
pub type RecordStream = mpsc::Receiver<Result<Value, Status>>;

impl CanExport {
    /// Starts a `canwire_recv_stream` on the current tokio runtime.
    pub fn recv_stream(&self, method: &str, args: &[Value]) -> Result<RecordStream, Status> {
        at_most(args, 0, method)?;
        self.check_alive()?;
        let slot = self.context.receive_streams.take().ok_or_else(|| {
            Status::resource_exhausted(format!(
                "this exporter serves at most {} receive streams at once",
                self.context.receive_streams.max()
            ))
        })?;
        let reader = self
            .bus
            .add_reader(SHARED_QUEUE_FRAMES)
            .map_err(|_| closed_bus())?;
        let (tx, rx) = mpsc::channel(RESPONSES_IN_FLIGHT);
        let bus = self.bus.clone();
        let context = self.context.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut frames = Vec::with_capacity(RECORDS_PER_RESPONSE);
            let mut packed = Vec::with_capacity(RECORDS_PER_RESPONSE * RECORD_SIZE);
            loop {
                frames.clear();
                if reader.pop_into(RECORDS_PER_RESPONSE, &mut frames) > 0 {
                    packed.clear();
                    record::encode_batch(&frames, &mut packed);
                    let result = value::object([
                        ("records", value::bytes(&packed)),
                        ("dropped", value::number(reader.stats().overflow as f64)),
                    ]);
                    if tx.send(Ok(result)).await.is_err() {
                        break;
                    }
                    continue;
                }
                if reader.is_closed() {
                    let _ = tx.send(Err(closed_bus())).await;
                    break;
                }
                if context.is_closing() {
                    break;
                }
                tokio::select! {
                    _ = wait_ready(
                        |k, h| reader.notify_once(k, h),
                        |k| reader.cancel_notify(k),
                        WAIT_SLICE,
                    ) => {}
                    () = tx.closed() => break,
                }
            }
            bus.remove_reader(&reader);
        });
        Ok(rx)
    }

    /// `canwire_send_batch`.
    pub(super) async fn send_batch(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 2, "canwire_send_batch")?;
        self.check_writable("canwire_send_batch")?;
        let packed = as_bytes(value::arg(args, 0), &path(0)).map_err(|e| status_of(&e))?;
        let count = packed.len() / RECORD_SIZE;
        if count > MAX_SEND_BATCH {
            return Err(invalid(format!(
                "args[0] holds {count} records; canwire_send_batch takes at most {MAX_SEND_BATCH}"
            )));
        }
        let frames = record::decode_batch(&packed).map_err(|e| status_of(&e))?;
        let frames: Vec<_> = frames.into_iter().map(CanExport::outgoing).collect();
        let timeout = seconds(args, 1)?;
        self.check_alive()?;
        self.bus
            .check_sendable(&frames)
            .map_err(|e| status_of(&e))?;
        let sent = self.transmit(&frames, timeout).await?;
        Ok(value::number(sent as f64))
    }
}
