//! Identifiers: ULIDs (time-ordered, 26 characters of Crockford base32).

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID (26 characters, Crockford base32) from a millisecond timestamp and 80 random bits.
pub fn ulid(millis: u64, random: [u8; 10]) -> String {
    let mut value: u128 = u128::from(millis & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (8 * (9 - i));
    }
    (0..26)
        .rev()
        .map(|i| CROCKFORD[((value >> (5 * i)) & 0x1F) as usize] as char)
        .collect()
}

/// A new ULID for now, with fresh random bits.
pub fn new_ulid() -> Result<String, aws_lc_rs::error::Unspecified> {
    use aws_lc_rs::rand::SecureRandom;
    let mut random = [0u8; 10];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut random)?;
    Ok(ulid(crate::db::now_millis().max(0) as u64, random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_are_26_crockford_characters_ordered_by_time() {
        let a = ulid(1_700_000_000_000, [0; 10]);
        let b = ulid(1_700_000_000_001, [0xFF; 10]);
        assert_eq!(a.len(), 26);
        assert!(a < b);
        assert!(a.bytes().all(|c| CROCKFORD.contains(&c)));
        assert_eq!(ulid(0, [0; 10]), "0".repeat(26));
    }

    #[test]
    fn new_ulids_differ() {
        assert_ne!(new_ulid().unwrap(), new_ulid().unwrap());
    }
}
