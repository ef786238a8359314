//! A client that writes faster than its round trips always has a push to send; it still pulls
//! between its pushes, so it sees the others' writes while it keeps writing instead of only
//! once it stops.

mod common;

use common::{STEP_MS, WALL_EPOCH_MS, fields, key, schema, text};
use driftsync_core::{
    Client, ClientConfig, ClientEvent, MemoryStore, MonoTime, Now, PeerId, ReplicaId, Server,
    ServerConfig, WallTime,
};

/// One way, so that the common world's bus (which delivers at once) would not do: a round
/// trip takes 400 ms, four of the busy client's writes.
const LATENCY_MS: u64 = 200;
const WRITE_EVERY_MS: u64 = 100;
/// How long the busy client writes, and the bound on when it must see the other's write.
const WRITING_MS: u64 = 30_000;
const SEEN_WITHIN_MS: u64 = 5_000;

/// A message in flight: when it arrives, which client it comes from or goes to, whether it
/// goes to the server, and its bytes.
struct Flight {
    at_ms: u64,
    client: usize,
    to_server: bool,
    bytes: Vec<u8>,
}

/// Two clients and a server over a link with fixed latency.
struct World {
    server: Server,
    clients: Vec<Client>,
    wire: Vec<Flight>,
    start: Now,
}

impl World {
    fn new() -> World {
        let start = Now::new(MonoTime(0), WallTime(WALL_EPOCH_MS));
        let server =
            Server::new(ServerConfig::new(schema()), MemoryStore::new(), start).expect("fresh");
        let clients = (1..=2)
            .map(|replica| {
                let config = ClientConfig::new(ReplicaId(replica), schema());
                Client::new(config, MemoryStore::new(), replica, start).expect("fresh")
            })
            .collect();
        World { server, clients, wire: Vec::new(), start }
    }

    /// Delivers what is due at `now_ms`, runs timers, and sends what every node has to send.
    fn step(&mut self, now_ms: u64) {
        let now = self.start.plus_ms(now_ms);
        let (due, later) =
            std::mem::take(&mut self.wire).into_iter().partition(|f| f.at_ms <= now_ms);
        self.wire = later;
        for flight in due {
            let peer = PeerId(flight.client as u64 + 1);
            match flight.to_server {
                true => self.server.handle_message(now, peer, &flight.bytes),
                false => self.clients[flight.client].handle_message(now, &flight.bytes),
            }
        }
        self.server.handle_timeout(now);
        for (index, client) in self.clients.iter_mut().enumerate() {
            client.handle_timeout(now);
            while let Some(event) = client.poll_event() {
                if event == ClientEvent::WantsConnection {
                    self.server.connected(now, PeerId(index as u64 + 1));
                    client.connected(now);
                }
            }
            while let Some(bytes) = client.poll_transmit() {
                let at_ms = now_ms + LATENCY_MS;
                self.wire.push(Flight {
                    at_ms,
                    client: index,
                    to_server: true,
                    bytes: bytes.to_vec(),
                });
            }
        }
        while let Some(transmit) = self.server.poll_transmit() {
            let client = transmit.to.0 as usize - 1;
            let bytes = transmit.payload.to_vec();
            self.wire.push(Flight { at_ms: now_ms + LATENCY_MS, client, to_server: false, bytes });
        }
    }
}

#[test]
fn a_client_that_keeps_writing_still_sees_the_others_writes() {
    let mut world = World::new();
    let quiet = key("from-the-quiet-one");
    let title = |s: &str| fields(&[("title", text(s))]);
    world.clients[0].put(world.start, quiet.clone(), title("hello")).expect("valid");
    let mut seen_at_ms = None;
    let mut now_ms = 0;
    while now_ms < WRITING_MS {
        now_ms += STEP_MS;
        if now_ms % WRITE_EVERY_MS == 0 {
            let now = world.start.plus_ms(now_ms);
            world.clients[1]
                .put(now, key(&format!("busy-{now_ms}")), title("busy"))
                .expect("valid");
        }
        world.step(now_ms);
        if seen_at_ms.is_none() && world.clients[1].get(&quiet).is_some() {
            seen_at_ms = Some(now_ms);
        }
    }
    let busy_pushed = world.server.view().keys().filter(|k| k.record.starts_with("busy-")).count();
    assert!(busy_pushed > 200, "the busy client's writes reached the server ({busy_pushed})");
    let seen_at_ms = seen_at_ms.expect("the busy client saw the quiet one's write while writing");
    assert!(seen_at_ms <= SEEN_WITHIN_MS, "seen only after {seen_at_ms} ms of writing");
}
