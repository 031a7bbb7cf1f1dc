//! Network interfaces as /sys/class/net shows them.

use std::ffi::CString;
use std::fs;
use std::path::Path;

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};

use super::controller::controller_info;
use super::sys::{ARPHRD_CAN, os_error};
use crate::socketcan::config::{CanInterfaceInfo, fd_capable};

fn read_trimmed(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

fn read_u32(path: &Path) -> Option<u32> {
    let text = read_trimmed(path)?;
    match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn info(name: &str) -> Option<CanInterfaceInfo> {
    let dir = Path::new("/sys/class/net").join(name);
    if read_u32(&dir.join("type"))? != ARPHRD_CAN {
        return None;
    }
    let index = read_u32(&dir.join("ifindex")).unwrap_or(0);
    let mtu = read_u32(&dir.join("mtu")).unwrap_or(0);
    Some(CanInterfaceInfo {
        name: name.to_string(),
        index,
        controller: controller_info(index),
        up: read_u32(&dir.join("flags")).is_some_and(|f| f & libc::IFF_UP as u32 != 0),
        operstate: read_trimmed(&dir.join("operstate")).unwrap_or_else(|| "unknown".into()),
        mtu,
        fd: fd_capable(mtu),
    })
}

/// Every CAN interface, sorted by name.
pub fn list() -> Result<Vec<CanInterfaceInfo>> {
    let entries = match fs::read_dir("/sys/class/net") {
        Ok(entries) => entries,
        Err(e) => {
            return Err(os_error(
                "reading /sys/class/net",
                e.raw_os_error().unwrap_or(0),
            ));
        }
    };
    let mut out: Vec<CanInterfaceInfo> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| info(&e.file_name().to_string_lossy()))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn names_hint() -> String {
    match list() {
        Ok(list) if !list.is_empty() => format!(
            "CAN interfaces here: {}",
            list.iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "this host has no CAN interface (create one with: ip link add dev vcan0 type vcan && ip link set up vcan0)".into(),
    }
}

/// A CAN interface resolved by name: its index and MTU.
pub struct ResolvedInterface {
    /// Kernel interface index.
    pub index: u32,
    /// MTU (72 means CAN FD capable).
    pub mtu: u32,
}

/// Resolves a CAN interface by name, with typed errors for a missing or non-CAN interface.
pub fn resolve(name: &str) -> Result<ResolvedInterface> {
    if name.len() >= libc::IFNAMSIZ || name.contains('/') || name.contains('\0') {
        return Err(CanwireError::new(
            ErrorCode::UnknownInterface,
            format!(
                "'{name}' is not a valid interface name (at most 15 characters, no '/'); {}",
                names_hint()
            ),
        ));
    }
    let c_name = CString::new(name).expect("checked for NUL above");
    // SAFETY: c_name is a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index == 0 {
        return Err(CanwireError::new(
            ErrorCode::UnknownInterface,
            format!("no network interface named '{name}'; {}", names_hint()),
        ));
    }
    let dir = Path::new("/sys/class/net").join(name);
    if let Some(kind) = read_u32(&dir.join("type"))
        && kind != ARPHRD_CAN
    {
        return Err(CanwireError::new(
            ErrorCode::NotCanInterface,
            format!(
                "'{name}' is not a CAN interface (link type {kind}, CAN is {ARPHRD_CAN}); {}",
                names_hint()
            ),
        ));
    }
    Ok(ResolvedInterface {
        index,
        mtu: read_u32(&dir.join("mtu")).unwrap_or(0),
    })
}

/// The name of interface `index`, if it exists.
pub fn name_of(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IFNAMSIZ];
    // SAFETY: buf holds IFNAMSIZ bytes as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into buf.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}
