//! Compression of large messages on the wire.
//!
//! A client names the codecs it can decode in its `Hello`; the server picks the first of its
//! own that the client named and says which in its `Welcome`. From then on the server's large
//! messages to that client (pull batches and snapshot pages, in practice) travel compressed
//! when that makes them smaller. A client that names none, or only codecs this server does not
//! know, still syncs: everything it is sent is plain.
//!
//! What is compressed is the message's whole plain envelope, so everything inside it, the
//! manifests included, is exactly what a plain message carries: a manifest still covers the
//! canonical bytes, and is checked against them after decompression.

use serde::{Deserialize, Serialize};

use crate::protocol::wire::DecodeError;

/// A compression codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Compression {
    /// The LZ4 block format: it compresses faster than a network carries bytes, so it pays
    /// even on a fast link, and the ops of a batch (repeated collection names, field names and
    /// replica ids) shrink to about a third.
    Lz4,
}

impl Compression {
    /// Every codec this build speaks, in the order a server prefers them.
    pub const ALL: [Compression; 1] = [Compression::Lz4];

    /// The codec's name, as a `Hello` offers it. Offers are names, not enum tags, so that a
    /// server ignores a codec it does not know instead of refusing the whole `Hello`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Lz4 => "lz4",
        }
    }

    /// The codec of `name`, if this build speaks it.
    pub fn named(name: &str) -> Option<Compression> {
        Compression::ALL.into_iter().find(|codec| codec.name() == name)
    }

    /// The names of `codecs`, for a `Hello`.
    pub fn offer(codecs: &[Compression]) -> Vec<String> {
        codecs.iter().map(|codec| codec.name().to_owned()).collect()
    }

    /// The first of `preferred` that `offered` names.
    pub fn choose(preferred: &[Compression], offered: &[String]) -> Option<Compression> {
        preferred.iter().copied().find(|codec| offered.iter().any(|name| name == codec.name()))
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a sender encodes its messages to one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packing {
    /// The codec the peer accepted, if any.
    pub compression: Option<Compression>,
    /// Messages whose plain encoding is shorter travel plain: compressing them saves too few
    /// bytes to pay for the work on both ends.
    pub threshold_bytes: usize,
}

impl Packing {
    /// Every message plain.
    pub const PLAIN: Packing = Packing { compression: None, threshold_bytes: usize::MAX };
}

/// LZ4 expands its input at most this many times (a match of 255 bytes costs one), plus a few
/// bytes of end-of-block literals; a message that claims more is refused before anything is
/// allocated for it.
const LZ4_EXPANSION_MAX: usize = 255;

/// `plain` compressed with `codec`, or `None` when that would not make it shorter.
pub(crate) fn pack(codec: Compression, plain: &[u8]) -> Option<Vec<u8>> {
    let packed = match codec {
        Compression::Lz4 => lz4_flex::block::compress(plain),
    };
    (packed.len() < plain.len()).then_some(packed)
}

/// Decompresses `packed`, which claims to expand to exactly `plain_bytes`, refusing a claim
/// beyond `bytes_max` or beyond what the codec can produce from that much input.
pub(crate) fn unpack(
    codec: Compression,
    packed: &[u8],
    plain_bytes: u32,
    bytes_max: usize,
) -> Result<Vec<u8>, DecodeError> {
    let plain_bytes = plain_bytes as usize;
    if plain_bytes > bytes_max {
        return Err(DecodeError::TooLarge { bytes: plain_bytes, max: bytes_max });
    }
    let corrupt = |problem: String| DecodeError::BadCompression { codec, problem };
    if plain_bytes > packed.len().saturating_mul(LZ4_EXPANSION_MAX) + 16 {
        let problem = format!("{} bytes cannot expand to {plain_bytes}", packed.len());
        return Err(corrupt(problem));
    }
    let plain = match codec {
        Compression::Lz4 => lz4_flex::block::decompress(packed, plain_bytes)
            .map_err(|error| corrupt(error.to_string()))?,
    };
    if plain.len() != plain_bytes {
        let problem = format!("expanded to {} bytes, not the {plain_bytes} announced", plain.len());
        return Err(corrupt(problem));
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repetitive(bytes: usize) -> Vec<u8> {
        b"notes/r17 title body priority ".iter().copied().cycle().take(bytes).collect()
    }

    #[test]
    fn a_packed_buffer_unpacks_to_the_same_bytes() {
        let plain = repetitive(4_000);
        let packed = pack(Compression::Lz4, &plain).expect("repetitive bytes compress");
        assert!(packed.len() < plain.len() / 4, "{} of {}", packed.len(), plain.len());
        let plain_bytes = plain.len() as u32;
        assert_eq!(unpack(Compression::Lz4, &packed, plain_bytes, 1 << 20), Ok(plain));
    }

    #[test]
    fn bytes_that_do_not_shrink_are_not_packed() {
        let noise: Vec<u8> =
            (0..64u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        assert_eq!(pack(Compression::Lz4, &noise), None);
    }

    #[test]
    fn a_claimed_size_past_the_limit_is_refused_before_decompressing() {
        let packed = pack(Compression::Lz4, &repetitive(4_000)).expect("compresses");
        let error = unpack(Compression::Lz4, &packed, 4_000, 1_000).expect_err("over the limit");
        assert_eq!(error, DecodeError::TooLarge { bytes: 4_000, max: 1_000 });
    }

    #[test]
    fn a_claimed_size_no_input_that_short_could_expand_to_is_refused() {
        let error = unpack(Compression::Lz4, &[0x1f, 0], 1 << 20, 8 << 20).expect_err("a bomb");
        assert!(matches!(error, DecodeError::BadCompression { .. }), "{error:?}");
    }

    #[test]
    fn a_size_that_differs_from_the_expansion_is_refused() {
        let plain = repetitive(4_000);
        let packed = pack(Compression::Lz4, &plain).expect("compresses");
        for claimed in [3_999, 4_001] {
            let error = unpack(Compression::Lz4, &packed, claimed, 1 << 20).expect_err("a lie");
            assert!(matches!(error, DecodeError::BadCompression { .. }), "{claimed}: {error:?}");
        }
    }

    #[test]
    fn a_server_picks_its_first_codec_the_client_named_and_ignores_unknown_names() {
        let offered = vec!["zstd-from-the-future".to_owned(), "lz4".to_owned()];
        assert_eq!(Compression::choose(&Compression::ALL, &offered), Some(Compression::Lz4));
        assert_eq!(Compression::choose(&Compression::ALL, &offered[..1]), None);
        assert_eq!(Compression::choose(&[], &offered), None);
        assert_eq!(Compression::named("lz4"), Some(Compression::Lz4));
    }
}
