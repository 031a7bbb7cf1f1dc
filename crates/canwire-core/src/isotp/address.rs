//! ISO-TP addressing: the seven modes of ISO 15765-2 (as python-can-isotp
//! names them), asymmetric tx/rx configurations, and the decisions that
//! follow from them: which incoming frames are ours, and which id, IDE flag
//! and address byte outgoing frames get.

use crate::error::{CanwireError, Result};
use crate::frame::Frame;

/// Physical (one to one) or functional (one to many) addressing of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TargetAddressType {
    /// One to one; any payload size.
    #[default]
    Physical,
    /// One to many; single frames only.
    Functional,
}

/// The seven addressing modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressingMode {
    /// 11-bit ids `txid`/`rxid`, no address byte.
    Normal11Bits,
    /// 29-bit ids `txid`/`rxid`, no address byte.
    Normal29Bits,
    /// 29-bit ids `0x18DA_TA_SA` (physical) / `0x18DB_TA_SA` (functional); rx swaps TA and SA.
    NormalFixed29Bits,
    /// 11-bit ids; byte 0 is the target address on tx and must equal the source address on rx.
    Extended11Bits,
    /// 29-bit ids; byte 0 as in [`AddressingMode::Extended11Bits`].
    Extended29Bits,
    /// 11-bit ids `txid`/`rxid`; byte 0 is the address extension both ways.
    Mixed11Bits,
    /// 29-bit ids `0x18CE_TA_SA` (physical) / `0x18CD_TA_SA` (functional); byte 0 is the address extension.
    Mixed29Bits,
}

impl AddressingMode {
    /// True for the modes that use 29-bit identifiers.
    pub const fn is_29_bits(self) -> bool {
        matches!(
            self,
            Self::Normal29Bits | Self::NormalFixed29Bits | Self::Extended29Bits | Self::Mixed29Bits
        )
    }
}

/// Default bits 28..16 of a NormalFixed physical id.
pub const NORMAL_FIXED_PHYSICAL: u32 = 0x18DA_0000;
/// Default bits 28..16 of a NormalFixed functional id.
pub const NORMAL_FIXED_FUNCTIONAL: u32 = 0x18DB_0000;
/// Default bits 28..16 of a Mixed 29-bit physical id.
pub const MIXED_29_PHYSICAL: u32 = 0x18CE_0000;
/// Default bits 28..16 of a Mixed 29-bit functional id.
pub const MIXED_29_FUNCTIONAL: u32 = 0x18CD_0000;

/// One address configuration, with python-can-isotp's `Address` fields.
/// Fields a mode does not use are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressConfig {
    /// The addressing mode.
    pub mode: AddressingMode,
    /// Id of transmitted frames (Normal, Extended, Mixed 11-bit).
    pub txid: Option<u32>,
    /// Id of received frames (Normal, Extended, Mixed 11-bit).
    pub rxid: Option<u32>,
    /// Target address TA (NormalFixed, Extended, Mixed 29-bit).
    pub target_address: Option<u8>,
    /// Source address SA (NormalFixed, Extended, Mixed 29-bit).
    pub source_address: Option<u8>,
    /// Address extension byte AE (Mixed modes).
    pub address_extension: Option<u8>,
    /// Overrides bits 28..16 of the physical id (NormalFixed, Mixed 29-bit).
    pub physical_id: Option<u32>,
    /// Overrides bits 28..16 of the functional id (NormalFixed, Mixed 29-bit).
    pub functional_id: Option<u32>,
}

impl AddressConfig {
    /// A configuration with only the mode set.
    pub const fn new(mode: AddressingMode) -> Self {
        Self {
            mode,
            txid: None,
            rxid: None,
            target_address: None,
            source_address: None,
            address_extension: None,
            physical_id: None,
            functional_id: None,
        }
    }
    /// Normal (11 or 29 bits) addressing.
    pub const fn normal(extended_ids: bool, txid: u32, rxid: u32) -> Self {
        let mode = if extended_ids {
            AddressingMode::Normal29Bits
        } else {
            AddressingMode::Normal11Bits
        };
        Self {
            txid: Some(txid),
            rxid: Some(rxid),
            ..Self::new(mode)
        }
    }
    /// NormalFixed 29-bit addressing.
    pub const fn normal_fixed(target_address: u8, source_address: u8) -> Self {
        Self {
            target_address: Some(target_address),
            source_address: Some(source_address),
            ..Self::new(AddressingMode::NormalFixed29Bits)
        }
    }
    /// Extended (11 or 29 bits) addressing.
    pub const fn extended(
        extended_ids: bool,
        txid: u32,
        rxid: u32,
        target_address: u8,
        source_address: u8,
    ) -> Self {
        let mode = if extended_ids {
            AddressingMode::Extended29Bits
        } else {
            AddressingMode::Extended11Bits
        };
        Self {
            txid: Some(txid),
            rxid: Some(rxid),
            target_address: Some(target_address),
            source_address: Some(source_address),
            ..Self::new(mode)
        }
    }
    /// Mixed 11-bit addressing.
    pub const fn mixed_11(txid: u32, rxid: u32, address_extension: u8) -> Self {
        Self {
            txid: Some(txid),
            rxid: Some(rxid),
            address_extension: Some(address_extension),
            ..Self::new(AddressingMode::Mixed11Bits)
        }
    }
    /// Mixed 29-bit addressing.
    pub const fn mixed_29(target_address: u8, source_address: u8, address_extension: u8) -> Self {
        Self {
            target_address: Some(target_address),
            source_address: Some(source_address),
            address_extension: Some(address_extension),
            ..Self::new(AddressingMode::Mixed29Bits)
        }
    }
}

/// Where one direction's frames go: ids, IDE flag and the optional address byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkAddress {
    /// Id for physical addressing.
    pub physical_id: u32,
    /// Id for functional addressing.
    pub functional_id: u32,
    /// 29-bit identifiers.
    pub extended: bool,
    /// The address byte at data\[0\] (TA, SA or AE), if the mode has one.
    pub prefix: Option<u8>,
}

impl LinkAddress {
    /// The id for `target`.
    pub const fn id(&self, target: TargetAddressType) -> u32 {
        match target {
            TargetAddressType::Physical => self.physical_id,
            TargetAddressType::Functional => self.functional_id,
        }
    }
    /// Number of address bytes before the PCI (0 or 1).
    pub const fn prefix_len(&self) -> usize {
        if self.prefix.is_some() { 1 } else { 0 }
    }
    /// Which target `frame` was sent to, if it matches this address.
    pub fn matches(&self, frame: &Frame) -> Option<TargetAddressType> {
        if frame.is_remote() || frame.is_error() || frame.is_extended() != self.extended {
            return None;
        }
        if let Some(prefix) = self.prefix
            && frame.data().first() != Some(&prefix)
        {
            return None;
        }
        if frame.id == self.physical_id {
            Some(TargetAddressType::Physical)
        } else if frame.id == self.functional_id {
            Some(TargetAddressType::Functional)
        } else {
            None
        }
    }
}

/// A complete endpoint address: the transmit side, the receive side, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IsoTpAddress {
    tx: Option<LinkAddress>,
    rx: Option<LinkAddress>,
}

impl IsoTpAddress {
    /// A symmetric address: both directions from one configuration.
    pub fn new(config: AddressConfig) -> Result<Self> {
        Ok(Self {
            tx: Some(resolve(&config, Direction::Tx)?),
            rx: Some(resolve(&config, Direction::Rx)?),
        })
    }
    /// Transmit only (python-can-isotp's `tx_only`).
    pub fn tx_only(config: AddressConfig) -> Result<Self> {
        Ok(Self {
            tx: Some(resolve(&config, Direction::Tx)?),
            rx: None,
        })
    }
    /// Receive only (python-can-isotp's `rx_only`).
    pub fn rx_only(config: AddressConfig) -> Result<Self> {
        Ok(Self {
            tx: None,
            rx: Some(resolve(&config, Direction::Rx)?),
        })
    }
    /// Different configurations per direction (python-can-isotp's `AsymmetricAddress`).
    pub fn asymmetric(tx: AddressConfig, rx: AddressConfig) -> Result<Self> {
        Ok(Self {
            tx: Some(resolve(&tx, Direction::Tx)?),
            rx: Some(resolve(&rx, Direction::Rx)?),
        })
    }
    /// The transmit side, if any.
    pub const fn tx(&self) -> Option<&LinkAddress> {
        self.tx.as_ref()
    }
    /// The receive side, if any.
    pub const fn rx(&self) -> Option<&LinkAddress> {
        self.rx.as_ref()
    }
    /// Which target an incoming frame was sent to, if it is for this endpoint.
    /// Modes whose physical and functional ids are the same (Normal, Extended,
    /// Mixed 11-bit) report [`TargetAddressType::Physical`].
    pub fn is_for_me(&self, frame: &Frame) -> Option<TargetAddressType> {
        self.rx.as_ref()?.matches(frame)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Tx,
    Rx,
}

fn need<T>(value: Option<T>, field: &str, config: &AddressConfig, dir: Direction) -> Result<T> {
    value.ok_or_else(|| {
        let what = if dir == Direction::Tx {
            "transmitting"
        } else {
            "receiving"
        };
        CanwireError::invalid_argument(format!(
            "{:?} addressing needs {field} for {what}",
            config.mode
        ))
    })
}

/// The frame id rule; an address option breaking it is `ERR_INVALID_ARGUMENT`
/// (the code ISO-TP configuration errors have always had).
fn check_id(id: u32, extended: bool, field: &str) -> Result<u32> {
    crate::frame::check_id(field, id, extended)
        .map_err(|e| CanwireError::invalid_argument(e.message))?;
    Ok(id)
}

fn fixed_base(value: Option<u32>, default: u32, field: &str) -> Result<u32> {
    let v = value.unwrap_or(default);
    check_id(v, true, field)?;
    Ok(v & 0x1FFF_0000)
}

fn resolve(config: &AddressConfig, dir: Direction) -> Result<LinkAddress> {
    use AddressingMode::*;
    let extended = config.mode.is_29_bits();
    let tx = dir == Direction::Tx;
    let plain_id = || -> Result<u32> {
        let (value, field) = if tx {
            (config.txid, "txid")
        } else {
            (config.rxid, "rxid")
        };
        check_id(need(value, field, config, dir)?, extended, field)
    };
    let (physical_id, functional_id, prefix) = match config.mode {
        Normal11Bits | Normal29Bits => {
            let id = plain_id()?;
            (id, id, None)
        }
        Extended11Bits | Extended29Bits => {
            let id = plain_id()?;
            let byte = if tx {
                need(config.target_address, "target_address", config, dir)?
            } else {
                need(config.source_address, "source_address", config, dir)?
            };
            (id, id, Some(byte))
        }
        Mixed11Bits => {
            let id = plain_id()?;
            (
                id,
                id,
                Some(need(
                    config.address_extension,
                    "address_extension",
                    config,
                    dir,
                )?),
            )
        }
        NormalFixed29Bits | Mixed29Bits => {
            let ta = need(config.target_address, "target_address", config, dir)? as u32;
            let sa = need(config.source_address, "source_address", config, dir)? as u32;
            let (p, f, prefix) = if config.mode == NormalFixed29Bits {
                (NORMAL_FIXED_PHYSICAL, NORMAL_FIXED_FUNCTIONAL, None)
            } else {
                let ae = need(config.address_extension, "address_extension", config, dir)?;
                (MIXED_29_PHYSICAL, MIXED_29_FUNCTIONAL, Some(ae))
            };
            let p = fixed_base(config.physical_id, p, "physical_id")?;
            let f = fixed_base(config.functional_id, f, "functional_id")?;
            let low = if tx { (ta << 8) | sa } else { (sa << 8) | ta };
            (p | low, f | low, prefix)
        }
    };
    Ok(LinkAddress {
        physical_id,
        functional_id,
        extended,
        prefix,
    })
}
