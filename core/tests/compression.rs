//! Large messages travel compressed to clients that ask for it, and plain to those that do
//! not; either way they decode to exactly what was sent, manifests included.

mod common;

use common::{World, fields, key, text};
use driftsync_core::testing::wire::{
    Compression, DecodeError, Limits, Manifest, Message, OpsBytes, Packing, PullBatch,
    SnapshotPage, WIRE_VERSION, decode, encode, encode_packed, seal,
};
use driftsync_core::{BatchId, ClientConfig, LogPos, Metrics, ReplicaId, ServerConfig, Value};

const LZ4: Packing = Packing { compression: Some(Compression::Lz4), threshold_bytes: 1_024 };

/// A world of `notes` written by client 0, which the others then download.
fn world_with_notes(server: ServerConfig, offers: &[&[Compression]], notes: usize) -> World {
    let configs = offers
        .iter()
        .enumerate()
        .map(|(i, codecs)| {
            let mut config = ClientConfig::new(ReplicaId(i as u64 + 1), common::schema());
            config.compression = codecs.to_vec();
            config
        })
        .collect();
    let mut world = World::from_configs(server, configs);
    world.settle();
    for n in 0..notes {
        let now = world.now;
        let title = text(&format!("shopping list {n}"));
        let body = text("milk, eggs, bread, butter, coffee, and something for dinner");
        let record = fields(&[("title", title), ("body", body), ("high", Value::I64(n as i64))]);
        world.client(0).put(now, key(&format!("note-{n}")), record).expect("valid");
    }
    world.settle();
    world.assert_converged();
    world
}

fn received(world: &World, client: usize) -> (u64, u64) {
    let Metrics { bytes_received, bytes_received_plain, .. } = world.client_ref(client).metrics();
    (*bytes_received, *bytes_received_plain)
}

#[test]
fn a_client_that_offers_lz4_downloads_a_third_of_the_bytes_and_one_that_does_not_gets_them_plain() {
    let lz4: &[Compression] = &[Compression::Lz4];
    let world = world_with_notes(ServerConfig::new(common::schema()), &[lz4, lz4, &[]], 600);
    let (wire, plain) = received(&world, 1);
    assert!(wire * 3 < plain, "compressed: {wire} bytes on the wire for {plain} plain");
    let (wire, plain) = received(&world, 2);
    assert_eq!(wire, plain, "a client that offered nothing is sent everything plain");
    let server = world.server.metrics();
    assert!(server.bytes_sent < server.bytes_sent_plain, "the server counts what it saved");
}

#[test]
fn a_server_that_compresses_nothing_still_syncs_clients_that_offer_lz4() {
    let mut config = ServerConfig::new(common::schema());
    config.compression.clear();
    let lz4: &[Compression] = &[Compression::Lz4];
    let world = world_with_notes(config, &[lz4, lz4], 300);
    let (wire, plain) = received(&world, 1);
    assert_eq!(wire, plain);
    assert!(wire > 0);
}

/// Every record of a 300-note world, as one snapshot page would carry them.
fn snapshot_page() -> SnapshotPage {
    let lz4: &[Compression] = &[Compression::Lz4];
    let world = world_with_notes(ServerConfig::new(common::schema()), &[lz4], 300);
    let records: Vec<_> =
        world.server.records().iter().map(|(k, state)| (k.clone(), state.clone())).collect();
    SnapshotPage {
        batch: BatchId(9),
        at: world.server.head(),
        chain_epoch: 0,
        chain_link: world.server.head_link(),
        manifest: Manifest::of(&records),
        records,
        next: None,
        applied: Vec::new(),
        hidden: Vec::new(),
    }
}

#[test]
fn a_compressed_snapshot_page_decodes_to_the_page_sent_and_its_manifest_still_verifies() {
    let page = Message::SnapshotPage(snapshot_page());
    let encoded = encode_packed(&page, LZ4);
    assert!(encoded.bytes.len() * 2 < encoded.plain_bytes, "{encoded:?}");
    assert_eq!(encoded.plain_bytes, encode(&page).len());
    let Ok(Message::SnapshotPage(decoded)) = decode(&encoded.bytes, &Limits::default()) else {
        panic!("a compressed page decodes");
    };
    assert!(decoded.manifest.verifies(&decoded.records), "the manifest covers plain records");
    assert_eq!(Message::SnapshotPage(decoded), page);
}

#[test]
fn a_compressed_pull_batch_carries_the_same_canonical_op_bytes() {
    let lz4: &[Compression] = &[Compression::Lz4];
    let world = world_with_notes(ServerConfig::new(common::schema()), &[lz4], 100);
    let ops: Vec<_> = world.server.log().cloned().collect();
    let bytes = OpsBytes::encode(&ops);
    let batch = Message::PullBatch(PullBatch {
        batch: BatchId(4),
        from: LogPos(0),
        to: LogPos(ops.len() as u64),
        head: world.server.head(),
        manifest: bytes.manifest(),
        ops: bytes.clone(),
        withheld: 0,
        chain: driftsync_core::ChainSpan::new(
            0,
            driftsync_core::Link::GENESIS,
            world.server.head_link(),
        ),
        hidden: Vec::new(),
    });
    let encoded = encode_packed(&batch, LZ4);
    assert!(encoded.bytes.len() < encoded.plain_bytes);
    let Ok(Message::PullBatch(decoded)) = decode(&encoded.bytes, &Limits::default()) else {
        panic!("a compressed batch decodes");
    };
    assert_eq!(decoded.ops, bytes, "byte for byte what the server encoded");
    assert_eq!(decoded.ops.manifest(), decoded.manifest);
}

#[test]
fn a_message_below_the_threshold_travels_plain() {
    let poke = Message::Poke { head: LogPos(7) };
    let encoded = encode_packed(&poke, Packing { threshold_bytes: 0, ..LZ4 });
    assert_eq!(encoded.bytes, encode(&poke), "a message that does not shrink stays plain");
    let page = Message::SnapshotPage(snapshot_page());
    let encoded = encode_packed(&page, Packing { threshold_bytes: usize::MAX, ..LZ4 });
    assert_eq!(encoded.bytes, encode(&page), "below the threshold, however compressible");
}

/// A compressed body is `(version, 1, plain length, packed bytes)`; this builds one by hand.
fn lz4_envelope(plain: &[u8]) -> Vec<u8> {
    let packed = lz4_flex::block::compress(plain);
    postcard::to_stdvec(&(WIRE_VERSION, 1_u8, plain.len() as u32, packed)).expect("encodes")
}

#[test]
fn the_hand_built_compressed_envelope_is_the_one_the_encoder_makes() {
    let page = Message::SnapshotPage(snapshot_page());
    let plain = encode(&page);
    let unsealed = &plain[..plain.len() - 8];
    assert_eq!(seal(&lz4_envelope(unsealed)), encode_packed(&page, LZ4).bytes);
}

#[test]
fn a_compressed_body_inside_a_compressed_body_is_refused() {
    let page = Message::SnapshotPage(snapshot_page());
    let once = encode_packed(&page, LZ4).bytes;
    let twice = seal(&lz4_envelope(&once[..once.len() - 8]));
    let error = decode(&twice, &Limits::default()).expect_err("nested");
    assert!(matches!(error, DecodeError::BadCompression { .. }), "{error}");
}

#[test]
fn a_compressed_body_that_expands_past_the_message_limit_is_refused() {
    let page = Message::SnapshotPage(snapshot_page());
    let encoded = encode_packed(&page, LZ4);
    let limits = Limits { message_bytes_max: encoded.plain_bytes - 100, ..Limits::default() };
    assert!(encoded.bytes.len() < limits.message_bytes_max, "small enough on the wire");
    let error = decode(&encoded.bytes, &limits).expect_err("too large once expanded");
    assert!(matches!(error, DecodeError::TooLarge { .. }), "{error}");
}
