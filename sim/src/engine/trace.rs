//! The trace: every processed event feeds a rolling digest, so two runs of one seed can be
//! compared with one number; when recording, each event's own hash and a description are kept
//! so a mismatch can name the first event that differs.

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
    events: u64,
    recorded: Option<Vec<TraceEntry>>,
}

impl Trace {
    pub(crate) fn new(record: bool) -> Trace {
        Trace { rolling: blake3::Hasher::new(), events: 0, recorded: record.then(Vec::new) }
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
        self.rolling.update(&head);
        self.rolling.update(payload);
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
        self.rolling.finalize().to_hex()[..32].to_owned()
    }

    pub(crate) fn take_recorded(&mut self) -> Vec<TraceEntry> {
        self.recorded.take().unwrap_or_default()
    }
}
