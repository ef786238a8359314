//! A link whose round trip is longer than the response timeout still syncs: the client waits
//! longer after each timeout and learns the round trip, instead of giving up on every answer
//! just before it arrives.

use std::collections::BTreeMap;

use driftsync_core::{
    Client, ClientConfig, ClientEvent, CollectionSchema, FieldSchema, FieldType, MemoryStore,
    MergePolicy, MonoTime, Now, PeerId, RecordKey, ReplicaId, Schema, Server, ServerConfig, Value,
    WallTime,
};

const WALL_MS: u64 = 1_700_000_000_000;
/// One way: the round trip is 4 s, past the client's 3 s response timeout.
const LATENCY_MS: u64 = 2_000;
const STEP_MS: u64 = 10;

fn schema() -> Schema {
    let title = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins).required();
    Schema::new(1).collection("notes", CollectionSchema::default().field("title", title))
}

/// Messages in flight: (arrival time, towards the server?, bytes).
type Wire = Vec<(u64, bool, Vec<u8>)>;

#[test]
fn a_client_whose_round_trip_exceeds_the_response_timeout_still_syncs() {
    let start = Now::new(MonoTime(0), WallTime(WALL_MS));
    let mut server =
        Server::new(ServerConfig::new(schema()), MemoryStore::new(), start).expect("fresh");
    let config = ClientConfig::new(ReplicaId(1), schema());
    assert!(2 * LATENCY_MS > config.response_timeout_ms, "the link is slower than the timeout");
    let mut client = Client::new(config, MemoryStore::new(), 7, start).expect("fresh");
    let key = RecordKey::new("notes", "n1");
    let fields = BTreeMap::from([("title".to_owned(), Value::Str("over a slow link".into()))]);
    client.put(start, key.clone(), fields).expect("valid");
    let mut wire: Wire = Vec::new();
    let peer = PeerId(1);
    let mut now_ms = 0;
    while now_ms < 120_000 && !(client.is_idle() && server.view().contains_key(&key)) {
        now_ms += STEP_MS;
        let now = start.plus_ms(now_ms);
        let (due, later): (Wire, Wire) = wire.into_iter().partition(|(at, ..)| *at <= now_ms);
        wire = later;
        for (_, to_server, bytes) in due {
            if to_server {
                server.handle_message(now, peer, &bytes);
            } else {
                client.handle_message(now, &bytes);
            }
        }
        client.handle_timeout(now);
        server.handle_timeout(now);
        while let Some(event) = client.poll_event() {
            if event == ClientEvent::WantsConnection {
                server.connected(now, peer);
                client.connected(now);
            }
        }
        while let Some(bytes) = client.poll_transmit() {
            wire.push((now_ms + LATENCY_MS, true, bytes.to_vec()));
        }
        while let Some(transmit) = server.poll_transmit() {
            wire.push((now_ms + LATENCY_MS, false, transmit.payload.to_vec()));
        }
    }
    assert!(server.view().contains_key(&key), "the write reached the server");
    assert!(client.is_idle(), "the client synced within two minutes");
    assert_eq!(client.outbox().count(), 0, "and its write was acknowledged");
}
