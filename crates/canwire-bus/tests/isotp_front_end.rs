//! The ISO-TP front end owns the inbox, the closed state and the waits for
//! every backend: a backend that only records calls gets the same behaviour.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canwire_bus::isotp::{Inbox, IsoTpBackend, IsoTpStack, ReceivedPayload, TransferStatus};
use canwire_bus::sync_util::lock;
use canwire_core::ErrorCode;
use canwire_core::error::Result;
use canwire_core::isotp::{IsoTpAddress, TargetAddressType, TransferId};

/// What the echo backend shares with the test.
struct EchoState {
    inbox: Arc<Inbox>,
    calls: Mutex<Vec<&'static str>>,
    next_id: AtomicU64,
}

/// Completes every payload at once, echoing it back as a received payload.
struct EchoBackend(Arc<EchoState>);

impl EchoState {
    fn record(&self, call: &'static str) {
        lock(&self.calls).push(call);
    }
}

impl IsoTpBackend for EchoBackend {
    fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId> {
        self.0.record("send");
        let id = TransferId(self.0.next_id.fetch_add(1, Ordering::Relaxed));
        if track {
            self.0.inbox.track(id);
        }
        self.0.inbox.push_payload(ReceivedPayload {
            data: payload,
            target_address_type: target.unwrap_or(TargetAddressType::Physical),
        });
        self.0.inbox.finish_transfer(id, TransferStatus::Complete);
        Ok(id)
    }
    fn transmitting(&self) -> bool {
        false
    }
    fn stop_sending(&self) {
        self.0.record("stop_sending");
    }
    fn stop_receiving(&self) {
        self.0.record("stop_receiving");
    }
    fn set_address(&self, _address: IsoTpAddress) -> Result<()> {
        self.0.record("set_address");
        Ok(())
    }
    fn pause(&self) {
        self.0.record("pause");
    }
    fn resume(&self) -> Result<()> {
        self.0.record("resume");
        Ok(())
    }
    fn is_running(&self) -> bool {
        true
    }
    fn close(&self) {
        self.0.record("close");
    }
}

fn echo_stack() -> (IsoTpStack, Arc<EchoState>) {
    let inbox = Arc::new(Inbox::new(4));
    let backend = Arc::new(EchoState {
        inbox: inbox.clone(),
        calls: Mutex::default(),
        next_id: AtomicU64::new(1),
    });
    (
        IsoTpStack::with_backend(inbox, Box::new(EchoBackend(backend.clone()))),
        backend,
    )
}

#[test]
fn the_front_end_hands_out_what_the_backend_reports() {
    let (stack, _backend) = echo_stack();
    let id = stack
        .send(
            vec![0x22, 0xF1, 0x90],
            Some(TargetAddressType::Functional),
            true,
        )
        .unwrap();
    assert_eq!(id, TransferId(1));
    assert_eq!(stack.take_status(id), Some(TransferStatus::Complete));
    assert_eq!(stack.take_status(id), None);
    assert!(stack.available());
    assert_eq!(
        stack.recv_blocking(Duration::from_secs(1)),
        Some(ReceivedPayload {
            data: vec![0x22, 0xF1, 0x90],
            target_address_type: TargetAddressType::Functional,
        })
    );
    let stats = stack.stats();
    assert_eq!((stats.rx_payloads, stats.tx_complete), (1, 1));
}

#[test]
fn a_closed_front_end_refuses_work_and_closes_its_backend_once() {
    let (stack, backend) = echo_stack();
    stack.pause();
    stack.resume().unwrap();
    stack.close();
    stack.close();
    let error = stack.send(vec![1], None, false).unwrap_err();
    assert_eq!(error.code, ErrorCode::Closed);
    assert_eq!(stack.resume().unwrap_err().code, ErrorCode::Closed);
    stack.stop_sending();
    stack.pause();
    assert!(stack.is_closed());
    assert!(!stack.is_running());
    assert_eq!(stack.recv_blocking(Duration::from_secs(5)), None);
    assert_eq!(
        *backend.calls.lock().unwrap(),
        vec!["pause", "resume", "close"]
    );
}
