//! What a user hands us: scenario files, schema files and repro files.

use std::path::Path;
use std::sync::Arc;

use driftsync_core::{
    MemoryStore, MonoTime, Now, SchemaLineage, Server, ServerConfig, VersionPolicy, WallTime,
};
use driftsync_sim::scenario::ScenarioSpec;
use driftsync_sim::seed::Seed;

/// A scenario file is parsed and validated or refused; a scenario it accepts draws its
/// parameters for a seed.
pub fn scenario_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(spec) = ScenarioSpec::from_toml_str(Path::new("fuzz.toml"), text) {
        spec.draw(Seed(0));
    }
}

/// A schema file is read or refused with an error; a lineage it accepts passes its own check
/// and starts a server serving every version it can.
pub fn schema_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(lineage) = SchemaLineage::from_toml("fuzz.toml", text) else { return };
    if let Err(error) = lineage.latest_schema().check() {
        panic!("a schema file was read into a schema that fails its check: {error}");
    }
    let policy = VersionPolicy::widest(&lineage);
    let config = match ServerConfig::with_lineage(Arc::new(lineage), policy) {
        Ok(config) => config,
        Err(error) => panic!("the widest policy of a schema file it read is refused: {error}"),
    };
    let now = Now::new(MonoTime(0), WallTime(1_700_000_000_000));
    if let Err(error) = Server::new(config, MemoryStore::new(), now) {
        panic!("a server of a schema file it read does not start: {error}");
    }
}

/// A repro file is read or refused; a repro it accepts writes back to a file it reads as the
/// same repro.
pub fn repro_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz.repro.json");
    let Ok(repro) = driftsync_sim::repro::parse(path, text) else { return };
    let written = match serde_json::to_string(&repro) {
        Ok(written) => written,
        Err(error) => panic!("a repro it read does not write back: {error}"),
    };
    match driftsync_sim::repro::parse(path, &written) {
        Ok(again) => assert_eq!(again, repro, "a repro changed in its round trip"),
        Err(error) => panic!("a repro it wrote is refused: {error}"),
    }
}
