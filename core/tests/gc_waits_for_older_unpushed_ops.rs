//! A tombstone is not collected while a client still holds an unpushed op older than it, even
//! when that client reconnects with a cursor past the delete: the Hello reports the cursor and
//! the oldest pending stamp together.

use std::collections::BTreeMap;

use driftsync_core::{
    Client, ClientConfig, CollectionSchema, FieldSchema, FieldType, MemoryStore, MergePolicy,
    MonoTime, Now, PeerId, RecordKey, ReplicaId, Schema, Server, ServerConfig, Value, WallTime,
};

const WALL_MS: u64 = 1_700_000_000_000;

fn schema() -> Schema {
    let title = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins).required();
    Schema::new(1).collection("notes", CollectionSchema::default().field("title", title))
}

fn key() -> RecordKey {
    RecordKey::new("notes", "r")
}

fn title(s: &str) -> BTreeMap<String, Value> {
    [("title".to_owned(), Value::Str(s.to_owned()))].into()
}

/// A hand-driven network: messages move only when the test says so. Each node's wall clock
/// reads what the test last set it to.
struct Wires {
    server: Server,
    clients: Vec<Client>,
    peers: Vec<PeerId>,
    server_wall: WallTime,
    client_walls: Vec<WallTime>,
}

impl Wires {
    fn server_at(&self, now: MonoTime) -> Now {
        Now::new(now, self.server_wall)
    }

    fn up(&mut self, i: usize, now: MonoTime) {
        while let Some(bytes) = self.clients[i].poll_transmit() {
            self.server.handle_message(self.server_at(now), self.peers[i], &bytes);
        }
    }

    fn down(&mut self, now: MonoTime) {
        while let Some(t) = self.server.poll_transmit() {
            if let Some(i) = self.peers.iter().position(|p| *p == t.to) {
                self.clients[i].handle_message(Now::new(now, self.client_walls[i]), &t.payload);
            }
        }
    }

    fn settle(&mut self, now: MonoTime) {
        for _ in 0..50 {
            for i in 0..self.clients.len() {
                self.up(i, now);
            }
            self.down(now);
        }
    }
}

#[test]
fn a_reconnect_past_a_delete_does_not_let_gc_drop_a_tombstone_an_unpushed_op_predates() {
    let now = MonoTime(0);
    // Windows short enough that, at the collection pass below, only A's pending put can
    // still hold the tombstone.
    let mut config = ServerConfig::new(schema());
    config.client_eviction_ms = 15_000;
    config.tombstone_retention_ms = 15_000;
    let start = Now::new(now, WallTime(WALL_MS));
    let server = Server::new(config, MemoryStore::new(), start).expect("fresh");
    let clients = (1..=2)
        .map(|r| {
            let config = ClientConfig::new(ReplicaId(r), schema());
            Client::new(config, MemoryStore::new(), r, start).expect("fresh")
        })
        .collect();
    let peers = vec![PeerId(1), PeerId(2)];
    let walls = vec![WallTime(WALL_MS); 2];
    let mut w = Wires { server, clients, peers, server_wall: start.wall, client_walls: walls };
    for i in 0..2 {
        w.server.connected(w.server_at(now), w.peers[i]);
        w.clients[i].connected(Now::new(now, w.client_walls[i]));
    }
    w.settle(now);
    w.clients[0].put(Now::new(now, w.client_walls[0]), key(), title("a")).expect("valid");
    w.settle(now);
    // Client B, ten seconds ahead, deletes; the server pokes A.
    w.client_walls[1] = WallTime(WALL_MS + 10_000);
    w.clients[1].delete(Now::new(now, w.client_walls[1]), key()).expect("valid");
    w.up(1, now);
    w.down(now);
    // A's pull request is in flight when A writes with an older stamp than the delete.
    let pull: Vec<_> = std::iter::from_fn(|| w.clients[0].poll_transmit()).collect();
    w.client_walls[0] = WallTime(WALL_MS + 1_000);
    let older = title("older than the delete");
    w.clients[0].put(Now::new(now, w.client_walls[0]), key(), older).expect("valid");
    for bytes in pull {
        w.server.handle_message(w.server_at(now), w.peers[0], &bytes);
    }
    w.down(now);
    let lost_push: Vec<_> = std::iter::from_fn(|| w.clients[0].poll_transmit()).collect();
    assert!(!lost_push.is_empty(), "A tried to push its put");
    assert!(w.clients[0].get(&key()).is_none(), "A hides its own older put");
    // B pulls past its own delete, then reports so with a second pull: only A's pending put
    // can hold the tombstone back.
    for _ in 0..2 {
        w.clients[1].sync_now(Now::new(now, w.client_walls[1]));
        w.settle(now);
    }
    // A reconnects with its cursor past the delete, the put still unpushed; then the server
    // runs a collection pass before the push lands.
    let now = MonoTime(1_000);
    w.clients[0].disconnected(Now::new(now, w.client_walls[0]));
    w.server.disconnected(w.server_at(now), w.peers[0]);
    w.peers[0] = PeerId(11);
    w.server.connected(w.server_at(now), w.peers[0]);
    w.clients[0].connected(Now::new(now, w.client_walls[0]));
    w.up(0, now);
    let later = MonoTime(31_000);
    w.server_wall = WallTime(WALL_MS + 31_000);
    w.server.handle_timeout(w.server_at(later));
    assert!(w.server.records().get(&key()).is_some(), "the tombstone must wait for A's put");
    w.settle(later);
    assert!(!w.server.view().contains_key(&key()), "the older put stays hidden");
    assert_eq!(w.server.view(), w.clients[0].view());
}
