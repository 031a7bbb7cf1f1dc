//! Sending the frames a pass of the scheduler found due: consecutive frames
//! on one bus go in one `Bus::send` (one channel lock, one fan-out, one
//! syscall), in deadline order, and each task gets its own outcome.

use std::sync::Arc;
use std::time::Duration;

use canwire_core::{CanwireError, Frame};

use super::hooks::{ErrorSink, ModifierLink};
use crate::bus::Bus;

/// A frame due now, with what its send needs outside the scheduler's lock.
pub(crate) struct Due {
    pub(crate) id: u64,
    pub(crate) deadline: u64,
    pub(crate) bus: Arc<Bus>,
    pub(crate) frame: Frame,
    pub(crate) slot: u64,
    pub(crate) position: usize,
    pub(crate) on_error: Option<ErrorSink>,
    pub(crate) modifier: Option<Arc<ModifierLink>>,
}

/// What the sends of one pass did, for the scheduler's accounting.
#[derive(Debug, Default)]
pub(crate) struct SendReport {
    /// Every task whose frame was handed to its bus (sent or not), once per frame.
    pub(crate) finished: Vec<u64>,
    /// `(task, message)` of every frame its bus did not take.
    pub(crate) failures: Vec<(u64, String)>,
}

/// Sends `due` (in deadline order) and empties it, writing what became of
/// each frame to `report` (cleared first: the scheduler keeps one, so a pass
/// allocates nothing once its vectors have grown). A run of consecutive
/// frames on the same bus is one send; when the bus takes only the first `n`
/// of them (a full queue: the scheduler never waits), the rest fail with
/// `ERR_TX_BUFFER_FULL`; when the send fails outright, every frame of the
/// run fails with its error. Each sent frame's modifier is asked for its next
/// content; each failure goes to its task's error sink.
pub(crate) fn send_due(due: &mut Vec<Due>, scratch: &mut Vec<Frame>, report: &mut SendReport) {
    report.finished.clear();
    report.failures.clear();
    let mut start = 0;
    while start < due.len() {
        let bus = &due[start].bus;
        let end = start
            + due[start..]
                .iter()
                .take_while(|d| Arc::ptr_eq(&d.bus, bus))
                .count();
        scratch.clear();
        scratch.extend(due[start..end].iter().map(|d| d.frame));
        let outcome = bus.send(scratch);
        for (i, d) in due[start..end].iter().enumerate() {
            report.finished.push(d.id);
            let result = match &outcome {
                Ok(n) if i < *n => Ok(()),
                Ok(n) => Err(d.bus.tx_buffer_full(Duration::ZERO, *n, false)),
                Err(e) => Err(e.clone()),
            };
            match result {
                Ok(()) => {
                    if let Some(m) = &d.modifier {
                        m.ask(d.position, &d.frame, d.slot, &d.bus, d.on_error.clone());
                    }
                }
                Err(e) => fail(d, e, report),
            }
        }
        start = end;
    }
    due.clear();
}

fn fail(d: &Due, e: CanwireError, report: &mut SendReport) {
    if let Some(sink) = &d.on_error {
        sink(&e);
    }
    report.failures.push((d.id, e.to_string()));
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use canwire_core::ErrorCode;
    use canwire_core::error::Result;

    use super::*;
    use crate::reader_set::ReaderSet;
    use crate::transport::{Protocol, Transport};

    /// The ids of each send a [`Recorder`] saw.
    type Sends = Arc<Mutex<Vec<Vec<u32>>>>;

    /// A transport that records each send and takes at most `room` frames of it.
    struct Recorder {
        room: usize,
        sends: Sends,
    }

    impl Transport for Recorder {
        fn send(&self, frames: &[Frame]) -> Result<usize> {
            let mut sends = self.sends.lock().unwrap();
            sends.push(frames.iter().map(|f| f.id).collect());
            Ok(frames.len().min(self.room))
        }
        fn protocol(&self) -> Protocol {
            Protocol::Can20
        }
        fn channel_info(&self) -> String {
            "recorder".into()
        }
        fn channel_name(&self, _index: u32) -> Option<String> {
            None
        }
        fn close(&self) {}
    }

    fn recorder(room: usize) -> (Arc<Bus>, Sends) {
        let sends = Arc::new(Mutex::new(Vec::new()));
        let transport = Recorder {
            room,
            sends: sends.clone(),
        };
        let bus = Bus::from_parts(Arc::new(ReaderSet::new(false)), Box::new(transport));
        (Arc::new(bus), sends)
    }

    fn due(id: u64, bus: &Arc<Bus>, errors: &Arc<Mutex<Vec<(u64, ErrorCode)>>>) -> Due {
        let errors = errors.clone();
        Due {
            id,
            deadline: id * 1_000,
            bus: bus.clone(),
            frame: Frame::classic(id as u32, false, &[id as u8]),
            slot: 0,
            position: 0,
            on_error: Some(Arc::new(move |e: &CanwireError| {
                errors.lock().unwrap().push((id, e.code));
            })),
            modifier: None,
        }
    }

    #[test]
    fn consecutive_frames_on_a_bus_go_in_one_send_in_deadline_order() {
        let (a, sent_a) = recorder(usize::MAX);
        let (b, sent_b) = recorder(usize::MAX);
        let errors = Arc::new(Mutex::new(Vec::new()));
        let mut list: Vec<Due> = [(1, &a), (2, &a), (3, &a), (4, &b), (5, &a)]
            .into_iter()
            .map(|(id, bus)| due(id, bus, &errors))
            .collect();
        let mut report = SendReport::default();
        send_due(&mut list, &mut Vec::new(), &mut report);
        assert!(list.is_empty());
        assert_eq!(*sent_a.lock().unwrap(), [vec![1, 2, 3], vec![5]]);
        assert_eq!(*sent_b.lock().unwrap(), [vec![4]]);
        assert_eq!(report.finished, [1, 2, 3, 4, 5]);
        assert!(report.failures.is_empty());
        assert!(errors.lock().unwrap().is_empty());
        assert_eq!(a.stats().tx_frames, 4);
    }

    #[test]
    fn frames_a_full_queue_did_not_take_fail_for_their_own_tasks() {
        let (bus, sends) = recorder(2);
        let errors = Arc::new(Mutex::new(Vec::new()));
        let mut list: Vec<Due> = (1..=4).map(|id| due(id, &bus, &errors)).collect();
        let mut report = SendReport::default();
        send_due(&mut list, &mut Vec::new(), &mut report);
        assert_eq!(*sends.lock().unwrap(), [vec![1, 2, 3, 4]]);
        assert_eq!(report.finished, [1, 2, 3, 4]);
        let failed: Vec<u64> = report.failures.iter().map(|(id, _)| *id).collect();
        assert_eq!(failed, [3, 4]);
        assert!(
            report.failures[0]
                .1
                .ends_with("the transmit queue stayed full for 0 ms; 2 frame(s) were sent"),
            "{}",
            report.failures[0].1
        );
        assert_eq!(
            *errors.lock().unwrap(),
            [(3, ErrorCode::TxBufferFull), (4, ErrorCode::TxBufferFull)]
        );
        assert_eq!(bus.stats().tx_errors, 2);
    }

    #[test]
    fn a_send_on_a_closed_bus_fails_every_frame_of_the_run() {
        let (bus, sends) = recorder(usize::MAX);
        bus.close();
        let errors = Arc::new(Mutex::new(Vec::new()));
        let mut list: Vec<Due> = (1..=3).map(|id| due(id, &bus, &errors)).collect();
        let mut report = SendReport::default();
        send_due(&mut list, &mut Vec::new(), &mut report);
        assert!(sends.lock().unwrap().is_empty());
        assert_eq!(report.finished, [1, 2, 3]);
        assert_eq!(report.failures.len(), 3);
        assert_eq!(
            *errors.lock().unwrap(),
            [1, 2, 3].map(|id| (id, ErrorCode::Closed))
        );
    }

    #[test]
    fn a_report_kept_across_passes_holds_only_the_last_pass() {
        let (bus, sends) = recorder(1);
        let errors = Arc::new(Mutex::new(Vec::new()));
        let mut report = SendReport::default();
        let mut list: Vec<Due> = (1..=3).map(|id| due(id, &bus, &errors)).collect();
        send_due(&mut list, &mut Vec::new(), &mut report);
        assert_eq!(report.finished, [1, 2, 3]);
        let failed: Vec<u64> = report.failures.iter().map(|(id, _)| *id).collect();
        assert_eq!(failed, [2, 3]);
        let mut list = vec![due(4, &bus, &errors)];
        send_due(&mut list, &mut Vec::new(), &mut report);
        assert_eq!(report.finished, [4]);
        assert!(report.failures.is_empty());
        assert_eq!(*sends.lock().unwrap(), [vec![1, 2, 3], vec![4]]);
        assert_eq!(bus.stats().tx_frames, 2);
    }
}
