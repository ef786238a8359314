//! Every Rust file of the workspace keeps the style `driftsync-tidy` checks.

use driftsync_tidy::{
    check_file, layer_breaches, uncalled_functions, workspace_root, workspace_sources,
};

#[test]
fn every_file_of_the_workspace_keeps_the_machine_checked_style() {
    let sources = workspace_sources(&workspace_root()).expect("the workspace is readable");
    assert!(sources.len() > 100, "found the workspace's sources ({} files)", sources.len());
    let mut offences: Vec<_> = sources.iter().flat_map(check_file).collect();
    offences.extend(uncalled_functions(&sources));
    offences.extend(layer_breaches(&sources));
    let listed: Vec<String> = offences.iter().map(ToString::to_string).collect();
    assert!(listed.is_empty(), "{} offences:\n{}", listed.len(), listed.join("\n"));
}
