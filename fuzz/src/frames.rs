//! What a peer sends: envelopes for the decoder, and raw WebSocket bytes for a server.

use std::io::{Cursor, Read, Write};
use std::sync::{Arc, OnceLock};

use driftsync_core::testing::wire::{Limits, decode, encode, seal};
use driftsync_core::{
    MemoryStore, MonoTime, Now, PeerId, SchemaLineage, Server, ServerConfig, VersionPolicy,
    WallTime,
};
use driftsync_net::ws::{self, Frame};
use tokio_tungstenite::tungstenite::WebSocket;
use tokio_tungstenite::tungstenite::protocol::Role;

/// Frames past this are refused by the WebSocket layer, as a host configured with it does. Far
/// below the host's default, so that the fuzzer reaches the limit with inputs it can grow.
const FRAME_BYTES_MAX: usize = 64 << 10;

/// Messages one input may deliver before it stops: each runs a server step.
const MESSAGES_MAX: usize = 64;

/// The decoder answers any bytes with a message or an error; a message it accepts encodes to
/// bytes that decode to the same message.
pub fn decode_message(data: &[u8]) {
    let limits = Limits::default();
    let (sealed, rest) = super::sealed_or_raw(data);
    let envelope = if sealed { seal(rest) } else { rest.to_vec().into() };
    if let Ok(message) = decode(&envelope, &limits) {
        let again = decode(&encode(&message), &limits);
        assert_eq!(again.as_ref().ok(), Some(&message), "re-encoding changed {message:?}");
    }
}

/// Arbitrary bytes arriving on a server's socket after the handshake, read by the WebSocket
/// layer with the host's settings and handled as the host handles them: envelopes go to a core
/// server (whose answers are drained), anything else ends the connection. After each message
/// the server's invariants still hold.
pub fn ws_frames(data: &[u8]) {
    let (sealed, rest) = super::sealed_or_raw(data);
    let wire = Wire { incoming: Cursor::new(rest) };
    let mut socket =
        WebSocket::from_raw_socket(wire, Role::Server, Some(ws::config(FRAME_BYTES_MAX)));
    let now = Now::new(MonoTime(0), WallTime(1_700_000_000_000));
    let mut server = server(now);
    let peer = PeerId(1);
    server.connected(now, peer);
    for _ in 0..MESSAGES_MAX {
        let bytes = match ws::classify(Some(socket.read())) {
            Frame::Envelope(bytes) => bytes,
            Frame::Skip => continue,
            Frame::End(..) => break,
        };
        let envelope = if sealed { seal(&bytes) } else { bytes };
        server.handle_message(now, peer, &envelope);
        while server.poll_transmit().is_some() {}
        while server.poll_event().is_some() {}
        if let Err(violation) = server.check_invariants() {
            panic!("a peer's bytes broke the server: {violation}");
        }
    }
    server.disconnected(now, peer);
}

/// A fresh server of the shipped notes schema, on an empty memory store, admitting anyone (so
/// that frames reach every path a joined peer can).
fn server(now: Now) -> Server<MemoryStore> {
    static CONFIG: OnceLock<ServerConfig> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let text = include_str!("../../schemas/notes.toml");
        let lineage = SchemaLineage::from_toml("schemas/notes.toml", text).expect("shipped");
        let policy = VersionPolicy::widest(&lineage);
        ServerConfig::with_lineage(Arc::new(lineage), policy).expect("shipped schema serves")
    });
    Server::new(config.clone(), MemoryStore::new(), now).expect("an empty store starts")
}

/// A socket whose incoming bytes are the fuzzer's input and whose outgoing bytes (pongs,
/// closes) go nowhere.
struct Wire<'a> {
    incoming: Cursor<&'a [u8]>,
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.incoming.read(buf)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
