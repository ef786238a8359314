//! driftsync-core: the sans-IO sync engine an offline-first app embeds in its clients and its
//! server.
//!
//! The core owns the hard parts of sync (the durable outbox, idempotent apply, merge and
//! explainable conflicts, tombstones and their safe collection, verified resumable delta sync)
//! and none of the world: it performs no I/O, reads no clock, spawns nothing and draws no
//! OS randomness. A host drives it.
//!
//! # The driving contract
//!
//! [`Client`] and [`Server`] are state machines, driven as str0m and quinn-proto are. Every
//! input and command carries [`Now`]: both of the node's clock readings at that instant, the
//! monotonic one ([`MonoTime`], for timers) and the wall one ([`WallTime`], for the hybrid
//! logical clock, free to be skewed or to jump without disturbing timers). The host loop:
//!
//! 1. feed one input: `handle_message(now, …)`, `handle_timeout(now)`, `connected(now)` /
//!    `disconnected(now)`, or a command (`put`, `update`, `delete`, `increment`,
//!    `resolve_conflict`, `sync_now`);
//! 2. drain every output until none is left: `poll_transmit()` (bytes to send) and
//!    `poll_event()` (conflicts, quarantines, state changes; for the client also
//!    [`ClientEvent::WantsConnection`], the cue to dial);
//! 3. take `poll_timeout()`, sleep until it or the next input, whichever comes first, and go
//!    on at 1; at the timeout the input is `handle_timeout`.
//!
//! Randomness (retry jitter) comes from the seed given to [`Client::new`]. Storage goes through
//! a [`Store`] whose `commit` is atomic and durable; [`MemoryStore`] keeps it in memory.
//!
//! ```
//! use std::collections::BTreeMap;
//! use driftsync_core::{
//!     Client, ClientConfig, ClientEvent, CollectionSchema, FieldSchema, FieldType, MemoryStore,
//!     MergePolicy, MonoTime, Now, PeerId, RecordKey, ReplicaId, Schema, Server, ServerConfig,
//!     Value, WallTime,
//! };
//!
//! // This host's clocks: both readings at a monotonic instant.
//! let at = |mono: MonoTime| Now::new(mono, WallTime(1_700_000_000_000 + mono.0));
//! let schema = Schema::new(1).collection(
//!     "notes",
//!     CollectionSchema::default().field(
//!         "title",
//!         FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins).required(),
//!     ),
//! );
//! let mut now = at(MonoTime(0));
//! let mut server = Server::new(ServerConfig::new(schema.clone()), MemoryStore::new(), now)?;
//! let config = ClientConfig::new(ReplicaId(1), schema);
//! let mut client = Client::new(config, MemoryStore::new(), 42, now)?;
//! let peer = PeerId(1);
//!
//! // A write commits locally before any sync: it survives a crash right here.
//! let key = RecordKey::new("notes", "n1");
//! let fields = BTreeMap::from([("title".to_owned(), Value::Str("hello".into()))]);
//! client.put(now, key.clone(), fields)?;
//!
//! // The host loop. Messages arrive at once here; a real transport feeds each one as an input
//! // when it arrives.
//! for _ in 0..1_000 {
//!     // Drain both sides' outputs, delivering every message, until neither has any left.
//!     let mut moved = true;
//!     while moved {
//!         moved = false;
//!         while let Some(event) = client.poll_event() {
//!             if event == ClientEvent::WantsConnection {
//!                 client.connected(now); // our "dial" always succeeds
//!                 server.connected(now, peer);
//!             }
//!             moved = true;
//!         }
//!         while let Some(bytes) = client.poll_transmit() {
//!             server.handle_message(now, peer, &bytes);
//!             moved = true;
//!         }
//!         while let Some(transmit) = server.poll_transmit() {
//!             client.handle_message(now, &transmit.payload);
//!             moved = true;
//!         }
//!     }
//!     if client.is_idle() && client.outbox().count() == 0 {
//!         break;
//!     }
//!     // Nothing left to send: sleep until the earlier timeout, and fire it.
//!     let client_next = client.poll_timeout().map(|(at, _timer)| at);
//!     let server_next = server.poll_timeout().map(|(at, _timer)| at);
//!     let next = client_next.into_iter().chain(server_next).min();
//!     now = at(next.expect("the server always has its collection timer"));
//!     client.handle_timeout(now);
//!     server.handle_timeout(now);
//! }
//! assert_eq!(server.view(), client.view());
//! assert_eq!(client.outbox().count(), 0, "the server acknowledged the write");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees
//!
//! - Merge is order-independent and idempotent: any permutation of a set of ops, with
//!   duplicates, yields the same state ([`Records::apply`]).
//! - A local write is durable before the call returns; the client forgets it only after the
//!   server acknowledged it, which the server does only after its own commit.
//! - A pull batch is verified against its manifest, then its ops and the new cursor are
//!   committed together: a crash resumes without reprocessing and without skipping.
//! - A delete hides every older value of its record on every replica. The server keeps a
//!   tombstone until every client it waits for has pulled past it, none holds an older unpushed
//!   op, and its retention window has passed ([`ServerConfig::tombstone_retention_ms`], at
//!   least the eviction window), so an op older than a delete, from a client evicted for
//!   silence or a fresh install that never synced, is hidden by it exactly as the merge hides
//!   it. Only an op older than a delete the server has forgotten, on a record it no longer
//!   holds or re-created since, is quarantined as stale: such an op is older than the
//!   retention window.
//! - Nothing is dropped silently: invalid or undecidable ops are quarantined, kept and
//!   reported to their writer, whose replica then rebuilds to show what the server shows.
//! - A local write is stamped after everything it replaces, however that arrived (a pull or a
//!   snapshot), so a later edit or delete always wins over what its writer saw.
//! - Clients of different schema versions share one server: ops are translated between
//!   versions on the way in and out ([`SchemaLineage`]), an older client's edit never erases a
//!   field it does not know, and a client the server has moved past keeps its writes queued
//!   until it upgrades.
//! - A failed [`Store::commit`] changes nothing and acknowledges nothing: the node reloads from
//!   its store, reports it ([`ClientEvent::StorageFailed`], [`ServerEvent::StorageFailed`]) and
//!   retries. Every message is sealed with a checksum and every batch carries a manifest, so
//!   bytes damaged on the way are refused before anything in them is applied.
//! - Each state machine states its own invariants and checks them on request:
//!   [`Client::check_invariants`] and [`Server::check_invariants`] (cheap enough for every
//!   input), and `check_all_invariants` on each, which also compares memory with the store.

// With private modules, a type in a public signature must be re-exported to be nameable.
#![warn(unnameable_types)]

// Every module is private: the re-exports below are the whole public surface, so an embedder
// never imports from a submodule and a module can move without breaking one.
pub mod audit;
pub mod auth;
mod chain;
mod client;
mod coverage;
// The store conformance suite, for the tests of every `Store`.
#[cfg(feature = "testing")]
pub mod conformance;
mod error;
mod event;
mod hlc;
mod ids;
mod invariant;
mod merge;
mod metrics;
mod op;
mod persist;
// The wire messages are public only to the `testing` feature, for fuzzers and the simulator.
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
mod protocol;
mod quarantine;
mod retry;
mod rtt;
mod schema;
mod server;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(not(feature = "testing"))]
#[allow(unreachable_pub)]
mod testing;
mod time;
mod value;
mod version;

pub use chain::{
    ChainBreak, ChainSpan, Link, LinkTag, LogEntry, check_head as check_chain_head,
    verify as verify_chain,
};
pub use client::{Client, ClientConfig, ClientTimer};
pub use coverage::Mark;
pub use error::{StartError, StorageError, WriteError};
pub use event::{ClientEvent, Eviction, Origin, QuarantineNotice, ServerEvent, SyncState};
pub use hlc::{ClockAhead, Hlc, Stamp};
pub use ids::{BatchId, LogPos, OpId, PeerId, RecordKey, ReplicaId, Seq};
pub use invariant::InvariantViolation;
pub use merge::{
    Applied, ConflictOutcome, ConflictReport, ConflictSide, Entry, FieldPolicies, FieldState,
    FieldView, MergePolicy, RecordState, RecordView, Records,
};
pub use metrics::{BatchSizes, Metrics};
pub use op::{FieldWrite, FieldWrites, Op, OpBody, REASON_BYTES_MAX};
pub use persist::{ClientMeta, Registration, ServerMeta};
pub use protocol::{Compression, DecodeError, Limits, RejectReason};
pub use quarantine::{QuarantineReason, QuarantinedOp};
pub use retry::RetryConfig;
pub use schema::{
    Access, CollectionSchema, Converter, FieldSchema, LineageError, MigratedOp, MigratedRecord,
    MigrationError, Schema, SchemaFileError, SchemaLineage, Step, VersionPolicy, Violation,
    ViolationKind,
};
pub use server::{Server, ServerConfig, ServerTimer, Transmit};
pub use store::{AuditTrail, MemoryStore, Mutation, Store, Stored};
pub use time::{MonoTime, Now, WallTime};
pub use value::{FieldType, Value};
pub use version::VersionVector;
