//! ISO-TP mode: `isotpconf` starts canwire's userspace ISO-TP stack on the
//! connection's view of the bus, `sendpdu` sends a payload, and received
//! payloads go out as `< pdu SEC.USEC HEX >`.
//!
//! Flags mapped: LISTEN_MODE, EXTEND_ADDR (EXT is the transmit address
//! byte; RXEXT, with RX_EXT_ADDR, the receive one, else EXT), TX_PADDING
//! (TXPAD). The receive-side checks (RX_PADDING, CHK_PAD_*), HALF_DUPLEX
//! and the STmin forcing flags are the kernel's and are not applied.

use canwire_bus::isotp::IsoTpStack;
use canwire_bus::isotp::driver::IsoTpDriverOptions;
use canwire_bus::time::realtime_ns;
use canwire_core::error::Result;
use canwire_core::isotp::{AddressConfig, IsoTpAddress, IsoTpParams};

use super::output::Output;
use super::session::SessionContext;
use crate::protocol::command::{IsoTpConf, isotp_flags};
use crate::protocol::{Command, format};

/// The state of a connection in ISO-TP mode.
#[derive(Default)]
pub struct IsoTpMode {
    stack: Option<IsoTpStack>,
}

fn side(conf: &IsoTpConf, extended: bool, tx_byte: u8, rx_byte: u8) -> AddressConfig {
    if conf.flags & isotp_flags::EXTEND_ADDR != 0 {
        AddressConfig::extended(extended, conf.tx.id, conf.rx.id, tx_byte, rx_byte)
    } else {
        AddressConfig::normal(extended, conf.tx.id, conf.rx.id)
    }
}

/// The address and parameters `isotpconf` asks for.
pub fn plan(conf: &IsoTpConf) -> Result<(IsoTpAddress, IsoTpParams)> {
    let rx_byte = if conf.flags & isotp_flags::RX_EXT_ADDR != 0 {
        conf.rxext
    } else {
        conf.ext
    };
    let address = IsoTpAddress::asymmetric(
        side(conf, conf.tx.extended, conf.ext, rx_byte),
        side(conf, conf.rx.extended, conf.ext, rx_byte),
    )?;
    let params = IsoTpParams {
        stmin: conf.stmin,
        blocksize: conf.blocksize,
        wftmax: u32::from(conf.wftmax),
        tx_padding: (conf.flags & isotp_flags::TX_PADDING != 0).then_some(conf.txpad),
        listen_mode: conf.flags & isotp_flags::LISTEN_MODE != 0,
        ..IsoTpParams::default()
    };
    params.validate()?;
    Ok((address, params))
}

impl IsoTpMode {
    /// Handles `isotpconf` and `sendpdu`; false for other commands.
    pub fn handle(&mut self, ctx: &SessionContext, command: Command, out: &mut Output) -> bool {
        match command {
            Command::IsoTpConf(conf) => match plan(&conf) {
                Ok((address, params)) => {
                    if let Some(old) = self.stack.take() {
                        old.close();
                    }
                    let options = IsoTpDriverOptions {
                        rx_queue_payloads: 64,
                        rx_queue_frames: ctx.config.output_queue_frames,
                    };
                    match IsoTpStack::start_userspace(ctx.bus.clone(), address, params, options) {
                        Ok(stack) => self.stack = Some(stack),
                        Err(_) => ctx.malformed(),
                    }
                }
                Err(_) => ctx.malformed(),
            },
            Command::SendPdu(payload) => {
                if ctx.refuse_if_read_only(out) {
                    return true;
                }
                // Before isotpconf socketcand ignores it silently ("try again").
                if let Some(stack) = &self.stack
                    && stack.send(payload, None, false).is_err()
                {
                    ctx.send_failed();
                }
            }
            _ => return false,
        }
        true
    }

    /// True once `isotpconf` started a stack (before, socketcand ignores
    /// every command but mode switches, echo and isotpconf silently).
    pub fn is_configured(&self) -> bool {
        self.stack.is_some()
    }

    /// The stack, to wait on its inbox.
    pub fn stack(&self) -> Option<&IsoTpStack> {
        self.stack.as_ref()
    }

    /// Writes the payloads received.
    pub fn drain(&mut self, out: &mut Output) -> bool {
        let Some(stack) = &self.stack else {
            return false;
        };
        let mut text = String::new();
        while let Some(payload) = stack.try_recv() {
            format::pdu(&mut text, realtime_ns(), &payload.data);
        }
        let any = !text.is_empty();
        out.batch(text);
        any
    }
}

impl Drop for IsoTpMode {
    fn drop(&mut self) {
        if let Some(stack) = &self.stack {
            stack.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Command, parse_command};

    fn conf(text: &str) -> IsoTpConf {
        match parse_command(text.as_bytes()) {
            Ok(Command::IsoTpConf(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn isotpconf_becomes_an_address_and_params() {
        let (address, params) = plan(&conf("< isotpconf 7E0 7E8 0 8 0 >")).unwrap();
        assert_eq!(address.tx().unwrap().physical_id, 0x7E0);
        assert_eq!(address.rx().unwrap().physical_id, 0x7E8);
        assert!(!address.tx().unwrap().extended);
        assert_eq!(address.tx().unwrap().prefix, None);
        assert_eq!(
            (params.blocksize, params.tx_padding, params.listen_mode),
            (8, None, false)
        );
        let (address, params) = plan(&conf(
            "< isotpconf 1F998877 1F998876 206 4 A 0 AA 55 F1 F2 >",
        ))
        .unwrap();
        assert!(address.tx().unwrap().extended);
        assert_eq!(address.tx().unwrap().prefix, Some(0xF1));
        assert_eq!(address.rx().unwrap().prefix, Some(0xF2));
        assert_eq!((params.stmin, params.tx_padding), (0x0A, Some(0xAA)));
    }
}
