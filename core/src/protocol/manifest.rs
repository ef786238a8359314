//! Batch manifests: what a receiver checks before it applies a batch.

use serde::{Deserialize, Serialize};

/// The item count and a BLAKE3 digest of the batch's canonical (postcard) encoding. Ops travel
/// encoded ([`crate::protocol::OpsBytes`]), so their digest is taken over the very bytes that
/// arrived; snapshot records are re-encoded, which postcard's determinism makes exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub count: u32,
    pub digest: [u8; 32],
}

impl Manifest {
    /// The manifest of `items`.
    pub fn of<T: Serialize>(items: &[T]) -> Manifest {
        let mut hasher = blake3::Hasher::new();
        let mut buffer = Vec::new();
        for item in items {
            buffer.clear();
            // Serializing our own in-memory types into a Vec cannot fail: they contain no maps
            // with non-string keys or other constructs postcard rejects.
            buffer = postcard::to_extend(item, buffer).expect("postcard encodes core types");
            hasher.update(&buffer);
        }
        let count = u32::try_from(items.len()).unwrap_or(u32::MAX);
        Manifest { count, digest: *hasher.finalize().as_bytes() }
    }

    /// Whether `items` match this manifest.
    pub fn verifies<T: Serialize>(&self, items: &[T]) -> bool {
        *self == Manifest::of(items)
    }
}
