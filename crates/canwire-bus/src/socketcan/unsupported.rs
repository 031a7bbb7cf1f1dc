//! SocketCAN where the OS has none: the same names as `linux/`, every open
//! answering `ERR_UNSUPPORTED` and no interfaces listed. The types cannot be
//! built, so their methods are never reached.

use std::sync::Arc;

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame};

use super::config::SocketCanConfig;
use crate::reader_set::ReaderSet;
use crate::transport::{Protocol, Transport};

fn unsupported(what: &str) -> CanwireError {
    CanwireError::new(ErrorCode::Unsupported, what)
}

/// The SocketCAN raw backend: Linux only.
pub enum SocketCanTransport {}

impl SocketCanTransport {
    /// Fails: SocketCAN exists only on Linux.
    pub fn open(_config: SocketCanConfig, _readers: Arc<ReaderSet>) -> Result<Self> {
        Err(unsupported(
            "SocketCAN exists only on Linux; on this platform use interface: 'virtual'",
        ))
    }

    /// Never reached (no value of this type exists).
    pub fn interface(&self) -> &str {
        match *self {}
    }

    /// Never reached (no value of this type exists).
    pub fn bcm_tx(&self) -> Result<Arc<bcm::BcmTx>> {
        match *self {}
    }

    /// Never reached (no value of this type exists).
    pub fn bcm_watch(
        &self,
        _config: &canwire_core::watch::WatchConfig,
        _queue: Arc<crate::watch::queue::WatchQueue>,
    ) -> Result<Arc<bcm::BcmWatch>> {
        match *self {}
    }
}

impl Transport for SocketCanTransport {
    fn send(&self, _frames: &[Frame]) -> Result<usize> {
        match *self {}
    }
    fn protocol(&self) -> Protocol {
        match *self {}
    }
    fn channel_info(&self) -> String {
        match *self {}
    }
    fn channel_name(&self, _index: u32) -> Option<String> {
        match *self {}
    }
    fn close(&self) {
        match *self {}
    }
}

/// The broadcast manager: Linux only.
pub mod bcm {
    /// Kernel-run cyclic sends: Linux only.
    pub enum BcmTx {}

    /// One kernel-run cyclic task: Linux only.
    pub mod tx {
        use std::sync::Arc;

        use canwire_core::Frame;
        use canwire_core::cyclic::CyclicTiming;
        use canwire_core::error::Result;

        pub use super::BcmTx;
        use crate::cyclic::{CyclicBackend, CyclicTaskStats, ErrorSink, SchedulerKind};

        /// A task of [`BcmTx`]; no value of either type exists here.
        pub enum BcmTask {}

        impl BcmTask {
            /// Never reached: there is no [`BcmTx`] to add to.
            pub fn add(
                tx: Arc<BcmTx>,
                _frames: Vec<Frame>,
                _timing: CyclicTiming,
                _on_error: Option<ErrorSink>,
            ) -> Result<Self> {
                match *tx {}
            }
        }

        impl CyclicBackend for BcmTask {
            fn kind(&self) -> SchedulerKind {
                match *self {}
            }
            fn start(&self) -> Result<()> {
                match *self {}
            }
            fn stop(&self) -> Result<()> {
                match *self {}
            }
            fn modify(&self, _frames: Vec<Frame>) -> Result<()> {
                match *self {}
            }
            fn frames(&self) -> Result<Vec<Frame>> {
                match *self {}
            }
            fn stats(&self) -> Result<CyclicTaskStats> {
                match *self {}
            }
            fn remove(&self) {
                match *self {}
            }
        }
    }

    /// A kernel-run watch: Linux only.
    pub enum BcmWatch {}

    impl crate::watch::WatchBackend for BcmWatch {
        fn in_kernel(&self) -> bool {
            match *self {}
        }
        fn close(&self) {
            match *self {}
        }
    }
}

/// The kernel's ISO-TP sockets: Linux only.
pub mod isotp {
    use std::sync::Arc;

    use canwire_core::error::Result;
    use canwire_core::isotp::{IsoTpAddress, IsoTpParams, TargetAddressType, TransferId};

    use crate::isotp::{Inbox, IsoTpBackend, KernelIsoTpOptions};

    /// Kernel can-isotp sockets: Linux only.
    pub enum KernelIsoTp {}

    impl KernelIsoTp {
        /// Fails: can-isotp exists only on Linux.
        pub fn open(
            _channel: &str,
            _address: IsoTpAddress,
            _params: IsoTpParams,
            _options: KernelIsoTpOptions,
            _inbox: Arc<Inbox>,
        ) -> Result<Self> {
            Err(super::unsupported(
                "the kernel ISO-TP socket (can-isotp) exists only on Linux; use stack: 'userspace'",
            ))
        }
    }

    impl IsoTpBackend for KernelIsoTp {
        fn send(
            &self,
            _payload: Vec<u8>,
            _target: Option<TargetAddressType>,
            _track: bool,
        ) -> Result<TransferId> {
            match *self {}
        }
        fn transmitting(&self) -> bool {
            match *self {}
        }
        fn stop_sending(&self) {
            match *self {}
        }
        fn stop_receiving(&self) {
            match *self {}
        }
        fn set_address(&self, _address: IsoTpAddress) -> Result<()> {
            match *self {}
        }
        fn pause(&self) {
            match *self {}
        }
        fn resume(&self) -> Result<()> {
            match *self {}
        }
        fn is_running(&self) -> bool {
            match *self {}
        }
        fn close(&self) {
            match *self {}
        }
    }
}

/// Interface listing: no CAN interfaces here.
pub mod interfaces {
    use canwire_core::error::Result;

    use crate::socketcan::config::CanInterfaceInfo;

    /// None: SocketCAN exists only on Linux.
    pub fn list() -> Result<Vec<CanInterfaceInfo>> {
        Ok(Vec::new())
    }
}

fn no_netlink() -> CanwireError {
    unsupported(
        "configuring a CAN controller goes through Linux's CAN netlink; this platform has none",
    )
}

/// Fails: CAN netlink exists only on Linux.
pub fn configure_controller(_name: &str, _plan: super::ControllerPlan) -> Result<()> {
    Err(no_netlink())
}

/// Fails: CAN netlink exists only on Linux.
pub fn set_link_up(_name: &str, _up: bool) -> Result<()> {
    Err(no_netlink())
}

/// Fails: CAN netlink exists only on Linux.
pub fn restart_controller(_name: &str) -> Result<()> {
    Err(no_netlink())
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::isotp::{AddressConfig, IsoTpAddress, IsoTpParams};

    #[test]
    fn opening_socketcan_is_unsupported() {
        let readers = Arc::new(ReaderSet::new(false));
        let Err(error) = SocketCanTransport::open(SocketCanConfig::new("vcan0"), readers);
        assert_eq!(error.code, ErrorCode::Unsupported);
        assert_eq!(
            error.message,
            "SocketCAN exists only on Linux; on this platform use interface: 'virtual'"
        );
    }

    #[test]
    fn opening_a_kernel_isotp_socket_is_unsupported() {
        let address = IsoTpAddress::new(AddressConfig::normal(false, 0x7E0, 0x7E8)).unwrap();
        let inbox = Arc::new(crate::isotp::Inbox::new(1));
        let Err(error) = isotp::KernelIsoTp::open(
            "vcan0",
            address,
            IsoTpParams::default(),
            crate::isotp::KernelIsoTpOptions::default(),
            inbox,
        );
        assert_eq!(error.code, ErrorCode::Unsupported);
        assert_eq!(
            error.message,
            "the kernel ISO-TP socket (can-isotp) exists only on Linux; use stack: 'userspace'"
        );
    }

    #[test]
    fn configuring_a_controller_is_unsupported() {
        let plan = super::super::ControllerPlan {
            restart_ms: Some(100),
            ..Default::default()
        };
        assert_eq!(
            configure_controller("can0", plan).unwrap_err().code,
            ErrorCode::Unsupported
        );
        assert_eq!(
            set_link_up("can0", true).unwrap_err().code,
            ErrorCode::Unsupported
        );
    }

    #[test]
    fn no_interfaces_are_listed() {
        assert_eq!(interfaces::list().unwrap(), Vec::new());
    }
}
