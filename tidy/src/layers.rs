//! The core's modules depend one way: each may name only modules of lower layers, so the
//! store knows no client or server, merge knows no schema, and a change flows up, never round.

use crate::scan::{Code, tests_start};
use crate::{Offence, Rule, Source};

/// The core's layers, lowest first. A module may use any module of a lower layer, none of its
/// own layer or above. A new module must be placed here, which is the point: its place in the
/// order is a decision, not an accident.
const CORE_LAYERS: &[&[&str]] = &[
    &["ids", "time", "value", "invariant", "rtt", "coverage"],
    &["hlc", "version", "auth"],
    &["op"],
    &["merge", "chain"],
    &["schema"],
    &["error", "quarantine", "metrics", "retry", "persist", "audit"],
    &["protocol"],
    &["event", "testing"],
    &["store"],
    &["client", "conformance"],
    &["server"],
];

/// Where the core's sources are.
const CORE_SRC: &str = "core/src/";

/// Every use of a module by one at its layer or below it, outside test code.
pub fn layer_breaches(sources: &[Source]) -> Vec<Offence> {
    let mut offences = Vec::new();
    for source in sources {
        let Some(module) = core_module(&source.path) else {
            continue;
        };
        let offence = |line: usize, detail: String| Offence {
            path: source.path.clone(),
            line,
            rule: Rule::LayerBreach,
            detail,
        };
        let Some(layer) = layer_of(module) else {
            let detail = format!("module `{module}` has no place in the core's layers");
            offences.push(offence(1, detail));
            continue;
        };
        let code = Code::of(&source.text);
        let tests_from = tests_start(&code.bare);
        for (index, line) in code.bare.iter().enumerate().take(tests_from) {
            for used in uses(line).filter(|used| *used != module) {
                match layer_of(used) {
                    Some(used_layer) if used_layer < layer => {}
                    Some(_) => offences.push(offence(
                        index + 1,
                        format!("`{module}` uses `{used}`, which is not in a lower layer"),
                    )),
                    None => {}
                }
            }
        }
    }
    offences
}

/// The top-level core module a source file belongs to; the crate root belongs to none.
fn core_module(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(CORE_SRC)?;
    let first = rest.split('/').next()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    (module != "lib" && !rest.ends_with("/tests.rs")).then_some(module)
}

fn layer_of(module: &str) -> Option<usize> {
    CORE_LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The modules a line of code names as `crate::module`.
fn uses(line: &str) -> impl Iterator<Item = &str> {
    line.match_indices("crate::").map(move |(at, _)| {
        let rest = &line[at + "crate::".len()..];
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        &rest[..end]
    })
}
