//! Timed replay onto the virtual bus.

use std::sync::Arc;
use std::time::{Duration, Instant};

use canwire_bus::playback::Playback;
use canwire_bus::virtual_bus::VirtualConfig;
use canwire_bus::{Bus, BusConfig};
use canwire_core::Frame;

const MS: u64 = 1_000_000;

#[test]
fn input_that_arrives_late_shifts_the_schedule_instead_of_squeezing_the_first_gap() {
    let open = || {
        Arc::new(
            Bus::open(BusConfig::Virtual(VirtualConfig {
                channel: "playback-late-input".into(),
                ..VirtualConfig::default()
            }))
            .unwrap(),
        )
    };
    let (tx, rx) = (open(), open());
    let reader = rx.add_reader(16).unwrap();
    let playback = Playback::start(tx, 16).unwrap();
    // the producer is 40 ms late with frames at offsets 0 and 30 ms
    std::thread::sleep(Duration::from_millis(40));
    let frames = [
        (0, Frame::classic(1, false, &[1])),
        (30 * MS, Frame::classic(2, false, &[2])),
    ];
    assert_eq!(playback.push(&frames).unwrap(), 2);
    playback.end_input();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.len() < 2 && Instant::now() < deadline {
        reader.wait_blocking(Duration::from_millis(50));
        reader.pop_into(2 - got.len(), &mut got);
    }
    assert_eq!(got.iter().map(|f| f.id).collect::<Vec<_>>(), [1, 2]);
    let gap = got[1].timestamp_ns - got[0].timestamp_ns;
    // without the shift both would go at once (gap ~0); a little send jitter is allowed
    assert!(gap >= 29 * MS, "gap {gap} ns: the first gap was squeezed");
}
