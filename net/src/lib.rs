//! driftsync-net: driftsync over WebSocket.
//!
//! - [`ServerHost`]: accepts WebSocket connections and shares one core `Server`, on a
//!   [`SqliteStore`](driftsync_sqlite::SqliteStore), among them. It bounds frame size,
//!   connection count, the wait for a handshake and idle time, and closes a misbehaving peer
//!   with a reason while the others carry on.
//! - [`ClientDriver`]: what an app embeds. It owns a core `Client` on its SQLite file, dials
//!   when the core asks, redials on the core's backoff, and offers the write commands,
//!   [`ClientDriver::sync_now`], a status watch and a change stream. Writes commit locally
//!   whether or not the server is reachable.
//!
//! Both speak `ws://` and, through rustls, `wss://` ([`ServerTls`], [`ClientTls`]).
//!
//! Each frame is one binary WebSocket message holding one sealed envelope of the core's
//! protocol, exactly the bytes `poll_transmit` gives. Both hosts drive their state machine as
//! the simulator does: after every input, drain every output, then sleep until
//! `poll_timeout` or the next input. The same code runs on tokio and, built with
//! `--cfg madsim`, on madsim's simulated network and clock.

/// The `driftsync-server` and `driftsync-client` binaries; processes, signals and a real
/// runtime, so not under madsim.
#[cfg(not(madsim))]
pub mod cli;
mod client;
mod clock;
mod server;
mod tls;
pub mod ws;

pub use client::{Change, ClientDriver, DriverConfig, DriverError, Status, TokenProvider, Write};
pub use server::{BindError, HostLimits, ServerHost, Shutdown};
pub use tls::{ClientTls, ServerTls, TlsError};
