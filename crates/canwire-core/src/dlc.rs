//! DLC codes and data lengths.
//!
//! Classic CAN carries 0..8 bytes; DLC codes 9..15 are legal on the wire and
//! still mean 8 bytes. CAN FD maps codes 9..15 to 12, 16, 20, 24, 32, 48, 64.

/// Data length in bytes for each FD DLC code.
pub const FD_LENGTHS: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/// Largest data length of a classic frame.
pub const CLASSIC_MAX_LEN: u8 = 8;
/// Largest data length of an FD frame.
pub const FD_MAX_LEN: u8 = 64;

/// The FD data length a DLC code stands for; `None` for codes above 15.
pub fn fd_dlc_to_len(code: u8) -> Option<u8> {
    FD_LENGTHS.get(code as usize).copied()
}

/// The classic data length a DLC code stands for (codes 9..15 mean 8).
pub fn classic_dlc_to_len(code: u8) -> Option<u8> {
    (code <= 15).then(|| code.min(CLASSIC_MAX_LEN))
}

/// The DLC code of an exact FD data length; `None` if no code encodes it.
pub fn fd_len_to_dlc(len: u8) -> Option<u8> {
    FD_LENGTHS.iter().position(|&l| l == len).map(|p| p as u8)
}

/// The smallest FD length that holds `len` bytes (the padded length on the wire).
pub fn fd_padded_len(len: u8) -> Option<u8> {
    FD_LENGTHS.iter().copied().find(|&l| l >= len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_table_round_trips_every_code() {
        for code in 0..16u8 {
            let len = fd_dlc_to_len(code).unwrap();
            assert_eq!(fd_len_to_dlc(len), Some(code));
        }
        assert_eq!(fd_dlc_to_len(16), None);
    }

    #[test]
    fn fd_lengths_without_code_are_rejected_and_padded() {
        for len in [9u8, 10, 11, 13, 25, 33, 47, 49, 63] {
            assert_eq!(fd_len_to_dlc(len), None, "len {len}");
        }
        assert_eq!(fd_padded_len(9), Some(12));
        assert_eq!(fd_padded_len(33), Some(48));
        assert_eq!(fd_padded_len(64), Some(64));
        assert_eq!(fd_padded_len(65), None);
    }

    #[test]
    fn classic_codes_above_eight_mean_eight_bytes() {
        assert_eq!(classic_dlc_to_len(0), Some(0));
        assert_eq!(classic_dlc_to_len(8), Some(8));
        assert_eq!(classic_dlc_to_len(9), Some(8));
        assert_eq!(classic_dlc_to_len(15), Some(8));
        assert_eq!(classic_dlc_to_len(16), None);
    }
}
