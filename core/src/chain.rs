//! The server log's hash chain: every entry carries a link, the BLAKE3 hash of the link before
//! it, its own position and its op's canonical encoding. Altering, dropping, inserting or
//! reordering any entry changes every link from it on, so a store whose history was rewritten
//! fails [`verify`] at the first entry that changed, and a client that holds an older link
//! notices that the server's history no longer extends what it pulled.
//!
//! A schema upgrade rewrites the stored log in the new version, and so rebuilds the chain; it
//! starts a new epoch, which clients adopt instead of reporting a rewrite.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::LogPos;
use crate::op::Op;

/// One link of the chain: what an entry and everything before it hash to.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link(pub [u8; 32]);

impl Link {
    /// The link before the first entry of a log.
    pub const GENESIS: Link = Link([0; 32]);

    /// The link of the entry at `pos` holding `op`, following `self`.
    pub fn next(&self, pos: LogPos, op: &Op) -> Link {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.0);
        hasher.update(&pos.0.to_le_bytes());
        // Our own ops always encode (see `Manifest::of`), and postcard's encoding is
        // canonical, so every replica and every restart hashes the same bytes. Encoded on the
        // stack when it fits (most ops are a few hundred bytes), and hashed in one update:
        // feeding the hasher byte by byte costs several times as much.
        let mut stack = [0u8; 1024];
        match postcard::to_slice(op, &mut stack) {
            Ok(bytes) => hasher.update(bytes),
            Err(_) => hasher.update(&postcard::to_stdvec(op).expect("postcard encodes core ops")),
        };
        Link(*hasher.finalize().as_bytes())
    }
}

/// A link shows as its tag does: the first 8 bytes, which tell links apart in a log line.
impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.tag(), f)
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Link({self})")
    }
}

impl Link {
    /// The first half of the link, as pull batches carry it.
    pub fn tag(&self) -> LinkTag {
        let mut tag = [0; 16];
        tag.copy_from_slice(&self.0[..16]);
        LinkTag(tag)
    }
}

/// The first 16 bytes of a link: enough to tell one history from another (a forger would need
/// a 128-bit second preimage of BLAKE3), at half the bytes on every pull.
#[derive(Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkTag(pub [u8; 16]);

impl fmt::Display for LinkTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0[..8] {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for LinkTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinkTag({self})")
    }
}

/// Where the chain of a pulled range stands, in the server's epoch: a tag of the link at the
/// client's cursor, which the client checks against the link it holds, and the link at the
/// batch's end, which it holds next. Periodic pulls are mostly empty; they carry the tag alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSpan {
    pub epoch: u32,
    /// The tag of the link at the batch's `from`.
    pub from: LinkTag,
    /// The link at the batch's `to`; `None` for an empty batch, whose end is its start.
    pub to: Option<Link>,
}

impl ChainSpan {
    /// The span from `from` to `to`, in `epoch`.
    pub fn new(epoch: u32, from: Link, to: Link) -> ChainSpan {
        ChainSpan { epoch, from: from.tag(), to: (to != from).then_some(to) }
    }
}

/// One stored log entry and its link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub op: Op,
    pub link: Link,
}

/// The first place a stored chain does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// An entry is missing: positions must follow one another from the compaction point.
    Gap { expected: LogPos, found: LogPos },
    /// The entry's stored link is not what its predecessor, position and op hash to: this
    /// entry, or its link, was altered (or entries were reordered here).
    Altered { pos: LogPos },
    /// Entries at the end are missing: the log holds entries through `held_through` but its
    /// head is `head`.
    Truncated { held_through: LogPos, head: LogPos },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::Gap { expected, found } => {
                write!(f, "log entry {} is missing (the next one held is {})", expected.0, found.0)
            }
            ChainBreak::Altered { pos } => write!(
                f,
                "log entry {} does not match its hash chain: it or an entry before it was altered, \
                 or entries were reordered",
                pos.0
            ),
            ChainBreak::Truncated { held_through, head } => write!(
                f,
                "the log ends at entry {} but its head is {}: entries were removed",
                held_through.0, head.0
            ),
        }
    }
}

impl std::error::Error for ChainBreak {}

/// Checks that a verified log reaches `head`: its last entry is there (or, with nothing held,
/// the compaction point is).
pub fn check_head(held_through: LogPos, head: LogPos) -> Result<(), ChainBreak> {
    match held_through == head {
        true => Ok(()),
        false => Err(ChainBreak::Truncated { held_through, head }),
    }
}

/// Recomputes the chain over `entries` (in position order) from `base`, the link at
/// `compacted_through`; returns the head link, or the first entry that breaks the chain.
pub fn verify<'a>(
    compacted_through: LogPos,
    base: Link,
    entries: impl IntoIterator<Item = (LogPos, &'a LogEntry)>,
) -> Result<Link, ChainBreak> {
    let mut link = base;
    let mut expected = LogPos(compacted_through.0 + 1);
    for (pos, entry) in entries {
        if pos != expected {
            return Err(ChainBreak::Gap { expected, found: pos });
        }
        link = link.next(pos, &entry.op);
        if link != entry.link {
            return Err(ChainBreak::Altered { pos });
        }
        expected = LogPos(pos.0 + 1);
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::{Hlc, Stamp};
    use crate::ids::{OpId, RecordKey, ReplicaId, Seq};
    use crate::op::OpBody;

    fn op(seq: u64) -> Op {
        let replica = ReplicaId(2);
        Op {
            id: OpId { replica, seq: Seq(seq) },
            stamp: Stamp::new(Hlc { wall_ms: seq, logical: 0 }, replica),
            key: RecordKey::new("notes", format!("r{seq}")),
            body: OpBody::Delete,
            reason: None,
        }
    }

    fn chained(n: u64) -> Vec<(LogPos, LogEntry)> {
        let mut link = Link::GENESIS;
        (1..=n)
            .map(|pos| {
                let op = op(pos);
                link = link.next(LogPos(pos), &op);
                (LogPos(pos), LogEntry { op, link })
            })
            .collect()
    }

    fn check(entries: &[(LogPos, LogEntry)]) -> Result<Link, ChainBreak> {
        verify(LogPos(0), Link::GENESIS, entries.iter().map(|(pos, e)| (*pos, e)))
    }

    #[test]
    fn an_untouched_chain_verifies_to_its_last_link() {
        let entries = chained(5);
        assert_eq!(check(&entries), Ok(entries[4].1.link));
    }

    #[test]
    fn an_altered_op_is_named_by_its_position() {
        let mut entries = chained(5);
        entries[2].1.op.id.seq = Seq(99);
        assert_eq!(check(&entries), Err(ChainBreak::Altered { pos: LogPos(3) }));
    }

    #[test]
    fn two_swapped_entries_break_the_chain_at_the_first() {
        let mut entries = chained(5);
        let (a, b) = (entries[1].1.clone(), entries[3].1.clone());
        entries[1].1 = b;
        entries[3].1 = a;
        assert_eq!(check(&entries), Err(ChainBreak::Altered { pos: LogPos(2) }));
    }

    #[test]
    fn a_dropped_entry_is_a_gap() {
        let mut entries = chained(5);
        entries.remove(1);
        let gap = ChainBreak::Gap { expected: LogPos(2), found: LogPos(3) };
        assert_eq!(check(&entries), Err(gap));
    }

    #[test]
    fn a_rechained_rewrite_does_not_extend_the_old_links() {
        // An attacker who rewrites an entry and recomputes every link after it gets a chain
        // that verifies, but whose links no longer match the ones clients already hold.
        let entries = chained(5);
        let mut rewritten = chained(5);
        rewritten[1].1.op.id.seq = Seq(42);
        let mut link = rewritten[0].1.link;
        for (pos, entry) in rewritten.iter_mut().skip(1) {
            link = link.next(*pos, &entry.op);
            entry.link = link;
        }
        assert!(check(&rewritten).is_ok());
        assert_ne!(rewritten[3].1.link, entries[3].1.link);
    }
}
