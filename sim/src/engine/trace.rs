//! The trace: every processed event feeds a rolling digest, so two runs of one seed can be
//! compared with one number; when recording, each event's own hash and a description are kept
//! so a mismatch can name the first event that differs.
//!
//! Events are small (a message is a few hundred bytes), and BLAKE3 hashes one small input a
//! block at a time; the bytes are gathered and hashed [`HASH_CHUNK`] at a time instead, which
//! lets it hash many chunks at once with SIMD. The digest is the same: BLAKE3 of a stream does
//! not depend on how the stream was cut into updates.

/// Bytes gathered before they are hashed: a multiple of BLAKE3's 1 KiB chunk, large enough for
/// its widest parallel path.
const HASH_CHUNK: usize = 16 * 1024;

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TraceEntry {
    pub index: u64,
    pub at_ms: u64,
    /// A hash of this event alone (not of the history).
    pub hash: u64,
    pub description: String,
}

#[derive(Debug)]
pub(crate) struct Trace {
    rolling: blake3::Hasher,
    /// Bytes fed but not yet hashed into `rolling`.
    unhashed: Vec<u8>,
    events: u64,
    recorded: Option<Vec<TraceEntry>>,
}

impl Trace {
    pub(crate) fn new(record: bool) -> Trace {
        Trace {
            rolling: blake3::Hasher::new(),
            unhashed: Vec::with_capacity(HASH_CHUNK + HASH_CHUNK / 4),
            events: 0,
            recorded: record.then(Vec::new),
        }
    }

    /// Feeds one event: its time, a kind tag, the node, and any payload bytes.
    pub(crate) fn event(
        &mut self,
        at_ms: u64,
        tag: u8,
        node: u32,
        payload: &[u8],
        describe: impl FnOnce() -> String,
    ) {
        let mut head = [0u8; 13];
        head[..8].copy_from_slice(&at_ms.to_le_bytes());
        head[8] = tag;
        head[9..].copy_from_slice(&node.to_le_bytes());
        self.unhashed.extend_from_slice(&head);
        self.unhashed.extend_from_slice(payload);
        if self.unhashed.len() >= HASH_CHUNK {
            self.rolling.update(&self.unhashed);
            self.unhashed.clear();
        }
        if let Some(recorded) = &mut self.recorded {
            let mut own = blake3::Hasher::new();
            own.update(&head);
            own.update(payload);
            let bytes = own.finalize();
            let hash = u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 of 32 bytes"));
            recorded.push(TraceEntry { index: self.events, at_ms, hash, description: describe() });
        }
        self.events += 1;
    }

    pub(crate) fn events(&self) -> u64 {
        self.events
    }

    /// The digest of everything so far, as hex.
    pub(crate) fn digest(&self) -> String {
        let mut rolling = self.rolling.clone();
        rolling.update(&self.unhashed);
        rolling.finalize().to_hex()[..32].to_owned()
    }

    pub(crate) fn take_recorded(&mut self) -> Vec<TraceEntry> {
        self.recorded.take().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `Trace::event` feeds for one event.
    fn event_bytes(at_ms: u64, tag: u8, node: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = at_ms.to_le_bytes().to_vec();
        bytes.push(tag);
        bytes.extend_from_slice(&node.to_le_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn the_digest_is_the_hash_of_every_event_fed_however_the_bytes_were_gathered() {
        let mut trace = Trace::new(false);
        let mut stream = Vec::new();
        // Payloads of several sizes, one past a whole chunk, so the digest is read both with
        // bytes still gathered and right after a flush.
        for (index, size) in [0, 300, HASH_CHUNK + 7, 5, 4_000, 12_000].into_iter().enumerate() {
            let payload = vec![index as u8; size];
            trace.event(index as u64, 3, 1, &payload, String::new);
            stream.extend(event_bytes(index as u64, 3, 1, &payload));
            let whole = blake3::hash(&stream).to_hex()[..32].to_owned();
            assert_eq!(trace.digest(), whole, "after event {index}");
        }
        assert_eq!(trace.events(), 6);
    }
}
