//! One digest of a set of seeds' runs: the XOR over seeds of BLAKE3(seed, trace digest). It
//! does not depend on the order seeds ran in, the number of threads or how a sweep was
//! sharded, so the command's output, a summary and a merge of shards all agree on it.

/// The digest of the seeds added so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeedsDigest([u8; 16]);

impl SeedsDigest {
    /// Adds one seed's run.
    pub fn add(&mut self, seed: u64, trace_digest: &str) {
        let hash = blake3::Hasher::new()
            .update(&seed.to_le_bytes())
            .update(trace_digest.as_bytes())
            .finalize();
        self.xor(&hash.as_bytes()[..16]);
    }

    /// Adds the seeds of another part of the same sweep (another shard).
    pub fn merge(&mut self, other: SeedsDigest) {
        self.xor(&other.0);
    }

    fn xor(&mut self, bytes: &[u8]) {
        for (target, byte) in self.0.iter_mut().zip(bytes) {
            *target ^= byte;
        }
    }

    /// The digest as 32 hex digits, as reports store it.
    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads 32 hex digits back, or `None` if `text` is not that.
    pub fn from_hex(text: &str) -> Option<SeedsDigest> {
        if text.len() != 32 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).ok()?;
        }
        Some(SeedsDigest(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_digest_is_the_same_in_any_order_and_split_across_shards() {
        let runs = [(1, "aa"), (2, "bb"), (3, "cc")];
        let mut forward = SeedsDigest::default();
        runs.iter().for_each(|(seed, digest)| forward.add(*seed, digest));
        let mut backward = SeedsDigest::default();
        runs.iter().rev().for_each(|(seed, digest)| backward.add(*seed, digest));
        let (mut shard_a, mut shard_b) = (SeedsDigest::default(), SeedsDigest::default());
        shard_a.add(2, "bb");
        shard_b.add(3, "cc");
        shard_b.add(1, "aa");
        shard_a.merge(shard_b);
        assert_eq!(forward, backward);
        assert_eq!(forward, shard_a);
        let mut other = SeedsDigest::default();
        other.add(1, "ab");
        assert_ne!(other.to_hex(), SeedsDigest::default().to_hex(), "a seed moves it");
    }

    #[test]
    fn a_seeds_digest_round_trips_through_hex() {
        let mut digest = SeedsDigest::default();
        digest.add(7, "digest");
        assert_eq!(SeedsDigest::from_hex(&digest.to_hex()), Some(digest));
        assert_eq!(SeedsDigest::from_hex("zz"), None);
    }
}
