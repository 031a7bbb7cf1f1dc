//! RTM_NEWLINK requests for a CAN link, written by hand with `libc`.
//!
//! The socketcan crate builds the same requests, but its setters lose the
//! kernel's answer (an NLMSG_ERROR reply comes back as "no ack", errno gone),
//! and canwire's errors depend on the errno (EPERM, EOPNOTSUPP, EINVAL) and
//! are better with the kernel's extended-ack text ("Device doesn't support
//! restart from Bus Off"). So the writes go through here; reads stay with
//! the socketcan crate. [`request`] builds the bytes (tested below);
//! [`send`] exchanges them on a NETLINK_ROUTE socket.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `IFLA_CAN_*` attribute types (linux/can/netlink.h).
pub mod attr {
    /// `struct can_bittiming`.
    pub const BITTIMING: u16 = 1;
    /// `struct can_ctrlmode`.
    pub const CTRLMODE: u16 = 5;
    /// u32 ms.
    pub const RESTART_MS: u16 = 6;
    /// u32, any value: restart now.
    pub const RESTART: u16 = 7;
    /// `struct can_bittiming` of the data phase.
    pub const DATA_BITTIMING: u16 = 9;
    /// u16 ohms.
    pub const TERMINATION: u16 = 11;
}

const NLMSG_HDRLEN: usize = 16;
const NLMSGERR_ATTR_MSG: u16 = 1;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn push_attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(align4(buf.len()), 0);
}

fn nest(kind: u16, inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + inner.len());
    push_attr(&mut out, kind, inner);
    out
}

/// The eight u32 of `struct can_bittiming`: bitrate, sample_point, tq,
/// prop_seg, phase_seg1, phase_seg2, sjw, brp.
pub fn bittiming_bytes(fields: [u32; 8]) -> Vec<u8> {
    fields.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// What to change on the link besides CAN attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFlag {
    /// Leave IFF_UP as it is.
    Keep,
    /// Set IFF_UP.
    Up,
    /// Clear IFF_UP.
    Down,
}

/// One RTM_NEWLINK request for interface `index` with sequence number `seq`:
/// `flag` on IFF_UP, and `can` (type, payload) inside
/// IFLA_LINKINFO { IFLA_INFO_KIND "can", IFLA_INFO_DATA { ... } } when not empty.
pub fn request(index: u32, seq: u32, flag: LinkFlag, can: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut buf = vec![0u8; NLMSG_HDRLEN];
    // struct ifinfomsg: family, pad, type, index, flags, change
    let (flags, change) = match flag {
        LinkFlag::Keep => (0u32, 0u32),
        LinkFlag::Up => (libc::IFF_UP as u32, libc::IFF_UP as u32),
        LinkFlag::Down => (0, libc::IFF_UP as u32),
    };
    buf.extend_from_slice(&[libc::AF_UNSPEC as u8, 0]);
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&(index as i32).to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&change.to_ne_bytes());
    if !can.is_empty() {
        let mut data = Vec::new();
        for (kind, payload) in can {
            push_attr(&mut data, *kind, payload);
        }
        let mut info = Vec::new();
        push_attr(&mut info, libc::IFLA_INFO_KIND, b"can\0");
        info.extend_from_slice(&nest(libc::IFLA_INFO_DATA, &data));
        buf.extend_from_slice(&nest(libc::IFLA_LINKINFO, &info));
    }
    let len = buf.len() as u32;
    buf[0..4].copy_from_slice(&len.to_ne_bytes());
    buf[4..6].copy_from_slice(&libc::RTM_NEWLINK.to_ne_bytes());
    let nl_flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    buf[6..8].copy_from_slice(&nl_flags.to_ne_bytes());
    buf[8..12].copy_from_slice(&seq.to_ne_bytes());
    buf
}

/// The kernel's refusal of a request: its errno and extended-ack message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The errno (positive).
    pub errno: i32,
    /// The kernel's text, when it gave one.
    pub message: Option<String>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads the answer to request `seq` out of one datagram: `Some(Ok(()))` for
/// the ack, `Some(Err(..))` for a refusal, `None` if the datagram holds neither.
pub fn parse_ack(reply: &[u8], seq: u32) -> Option<Result<(), Refusal>> {
    let mut at = 0;
    while at + NLMSG_HDRLEN <= reply.len() {
        let len = u32_at(reply, at)? as usize;
        let kind = u16_at(reply, at + 4)?;
        let flags = u16_at(reply, at + 6)?;
        if len < NLMSG_HDRLEN || at + len > reply.len() {
            return None;
        }
        if kind == libc::NLMSG_ERROR as u16 && u32_at(reply, at + 8)? == seq {
            let body = &reply[at + NLMSG_HDRLEN..at + len];
            let error = u32_at(body, 0)? as i32;
            if error == 0 {
                return Some(Ok(()));
            }
            let mut message = None;
            if flags & libc::NLM_F_ACK_TLVS as u16 != 0 {
                // after the error: the request's header, and its payload unless capped
                let orig_len = u32_at(body, 4)? as usize;
                let mut tlv = if flags & libc::NLM_F_CAPPED as u16 != 0 {
                    4 + NLMSG_HDRLEN
                } else {
                    4 + align4(orig_len)
                };
                while tlv + 4 <= body.len() {
                    let tlen = u16_at(body, tlv)? as usize;
                    let tkind = u16_at(body, tlv + 2)?;
                    if tlen < 4 || tlv + tlen > body.len() {
                        break;
                    }
                    if tkind == NLMSGERR_ATTR_MSG {
                        let text = &body[tlv + 4..tlv + tlen];
                        let text = text.split(|&c| c == 0).next().unwrap_or_default();
                        message = Some(String::from_utf8_lossy(text).trim().to_string());
                    }
                    tlv += align4(tlen);
                }
            }
            return Some(Err(Refusal {
                errno: -error,
                message: message.filter(|m| !m.is_empty()),
            }));
        }
        at += align4(len);
    }
    None
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Sends one request (built with `seq` 1) and waits for its ack.
pub fn send(request: &[u8]) -> Result<(), Refusal> {
    let refusal = |errno| Refusal {
        errno,
        message: None,
    };
    // SAFETY: plain socket(2) call; the result is checked before use.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if raw < 0 {
        return Err(refusal(last_errno()));
    }
    // SAFETY: raw is a new descriptor this function owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let one: libc::c_int = 1;
    // SAFETY: fd is open; the option value is a c_int of the given size. Failure only loses the kernel's text.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_NETLINK,
            libc::NETLINK_EXT_ACK,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    // SAFETY: sockaddr_nl is plain data; zeroed is the kernel as destination.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: request and kernel outlive the call; lengths are theirs.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(refusal(last_errno()));
    }
    let mut reply = vec![0u8; 16 * 1024];
    // a bounded number of datagrams: the kernel answers a request with one
    for _ in 0..16 {
        // SAFETY: reply is a writable buffer of the given length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), reply.as_mut_ptr().cast(), reply.len(), 0) };
        if n < 0 {
            let errno = last_errno();
            if errno == libc::EINTR {
                continue;
            }
            return Err(refusal(errno));
        }
        if let Some(answer) = parse_ack(&reply[..n as usize], 1) {
            return answer;
        }
    }
    Err(refusal(libc::EIO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_down_request_is_header_and_ifinfomsg() {
        let bytes = request(5, 1, LinkFlag::Down, &[]);
        assert_eq!(bytes.len(), 32);
        assert_eq!(u32_at(&bytes, 0), Some(32));
        assert_eq!(u16_at(&bytes, 4), Some(16)); // RTM_NEWLINK
        assert_eq!(u16_at(&bytes, 6), Some(0x5)); // REQUEST | ACK
        assert_eq!(u32_at(&bytes, 8), Some(1));
        assert_eq!(u32_at(&bytes, 20), Some(5)); // ifi_index
        assert_eq!(u32_at(&bytes, 24), Some(0)); // flags
        assert_eq!(u32_at(&bytes, 28), Some(1)); // change: IFF_UP
    }

    #[test]
    fn can_attributes_nest_in_linkinfo_data() {
        let bytes = request(
            3,
            1,
            LinkFlag::Keep,
            &[(attr::RESTART_MS, 100u32.to_ne_bytes().to_vec())],
        );
        // linkinfo(4) + kind(4+4) + data(4) + restart_ms(4+4)
        assert_eq!(bytes.len(), 32 + 24);
        let linkinfo = &bytes[32..];
        assert_eq!(u16_at(linkinfo, 0), Some(24));
        assert_eq!(u16_at(linkinfo, 2), Some(18)); // IFLA_LINKINFO
        assert_eq!(u16_at(linkinfo, 4), Some(8));
        assert_eq!(u16_at(linkinfo, 6), Some(1)); // IFLA_INFO_KIND
        assert_eq!(&linkinfo[8..12], b"can\0");
        assert_eq!(u16_at(linkinfo, 12), Some(12));
        assert_eq!(u16_at(linkinfo, 14), Some(2)); // IFLA_INFO_DATA
        assert_eq!(u16_at(linkinfo, 16), Some(8));
        assert_eq!(u16_at(linkinfo, 18), Some(6)); // IFLA_CAN_RESTART_MS
        assert_eq!(u32_at(linkinfo, 20), Some(100));
    }

    fn error_reply(seq: u32, errno: i32, text: Option<&str>) -> Vec<u8> {
        let mut body = (-errno).to_ne_bytes().to_vec();
        // the request's header (capped: payload left out)
        let mut orig = vec![0u8; 16];
        orig[0..4].copy_from_slice(&56u32.to_ne_bytes());
        body.extend_from_slice(&orig);
        let mut flags = 0u16;
        if let Some(text) = text {
            flags = (libc::NLM_F_CAPPED | libc::NLM_F_ACK_TLVS) as u16;
            let mut payload = text.as_bytes().to_vec();
            payload.push(0);
            push_attr(&mut body, NLMSGERR_ATTR_MSG, &payload);
        }
        let mut msg = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        msg.extend_from_slice(&2u16.to_ne_bytes());
        msg.extend_from_slice(&flags.to_ne_bytes());
        msg.extend_from_slice(&seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&body);
        msg
    }

    #[test]
    fn acks_and_refusals_with_the_kernel_text() {
        assert_eq!(parse_ack(&error_reply(1, 0, None), 1), Some(Ok(())));
        assert_eq!(
            parse_ack(&error_reply(1, libc::EOPNOTSUPP, None), 1),
            Some(Err(Refusal {
                errno: libc::EOPNOTSUPP,
                message: None
            }))
        );
        assert_eq!(
            parse_ack(
                &error_reply(
                    1,
                    libc::EOPNOTSUPP,
                    Some("Device doesn't support restart from Bus Off")
                ),
                1
            ),
            Some(Err(Refusal {
                errno: libc::EOPNOTSUPP,
                message: Some("Device doesn't support restart from Bus Off".into())
            }))
        );
        assert_eq!(parse_ack(&error_reply(2, 0, None), 1), None);
        assert_eq!(parse_ack(&[1, 2, 3], 1), None);
    }
}
