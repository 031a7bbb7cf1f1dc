//! Items that moved into `time` and `socketcan/` still resolve at their old
//! paths, so code written against them keeps compiling.

use canwire_bus::clock::realtime_ns;
use canwire_bus::isotp::precise_wait::{MonotonicClock, SPIN_NS};
use canwire_bus::isotp_socket::KernelIsoTp;
use canwire_bus::socketcan_config::{SocketCanConfig, list_can_interfaces};

#[test]
fn moved_items_resolve_at_their_old_paths() {
    assert!(realtime_ns() > 0);
    assert!(MonotonicClock::default().now() < 1_000_000_000);
    assert_eq!(SPIN_NS, 150_000);
    assert_eq!(SocketCanConfig::new("vcan0").channel, "vcan0");
    // This host may have CAN interfaces or not; listing must not fail.
    assert!(list_can_interfaces().is_ok());
    let _: Option<&KernelIsoTp> = None;
}
