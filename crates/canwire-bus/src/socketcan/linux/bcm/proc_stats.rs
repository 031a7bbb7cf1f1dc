//! Frames sent by each TX job, from the kernel's `/proc/net/can-bcm/<inode>`.
//!
//! The broadcast manager does not report individual sends, but its procfs
//! file (one per connected socket, named after the socket's inode) lists every
//! TX job as `tx_op: <key in hex> <interface> [nframes] t1=.. t2=.. # sent <n>`
//! (`(nframes)` for FD jobs), `n` being the frames the job has sent (since
//! Linux 6.x only those the device took; older kernels count every attempt).

use std::collections::HashMap;

/// The `# sent` counter of every TX job in a can-bcm procfs file, by key.
pub fn parse_tx_sent(text: &str) -> HashMap<u32, u64> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("tx_op: ")?;
            let key = u32::from_str_radix(rest.split_whitespace().next()?, 16).ok()?;
            let (_, sent) = rest.rsplit_once("# sent ")?;
            Some((key, sent.trim().parse().ok()?))
        })
        .collect()
}

/// Reads the TX counters of the BCM socket with this inode; `None` where
/// procfs does not show them (no /proc, another network namespace).
pub fn read_tx_sent(inode: u64) -> Option<HashMap<u32, u64>> {
    let text = std::fs::read_to_string(format!("/proc/net/can-bcm/{inode}")).ok()?;
    Some(parse_tx_sent(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_tx_job_counter() {
        let text = ">>> socket 00000000a279818b / sk 000000002a6f0f0e / bo 000000002a6f0f0e / dropped 0 / bound vcan0 <<<\n\
                    rx_op: 123 vcan0 [1]  timeo=100000 # recv 5 (5) => reduction: 0%\n\
                    tx_op: 008 vcan0 [1] t1=10000 t2=50000 # sent 22\n\
                    tx_op: 1A2B vcan1 (3) t2=1000 # sent 4000000000\n\
                    tx_op: 007 vcan0 [1] t1=20000 # sent 3\n\
                    tx_op: zz vcan0 [1] # sent 1\n\n";
        let sent = parse_tx_sent(text);
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[&0x8], 22);
        assert_eq!(sent[&0x1A2B], 4_000_000_000);
        assert_eq!(sent[&0x7], 3);
    }
}
