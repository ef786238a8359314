//! Public functions nothing calls: a public item is a promise, and one without a caller is a
//! promise nobody asked for.

use std::collections::BTreeMap;

use crate::scan::{Code, fn_header, tests_start};
use crate::{Offence, Rule, Source};

/// Every public function (in any form of `pub`) outside test code whose name appears nowhere
/// else in the workspace's code: not called, not referred to, not named in a derive's string.
/// Comments do not count as callers. The check is by name, so a function that shares its name
/// with another item passes it; it catches the orphans, not every dead function.
pub fn uncalled_functions(sources: &[Source]) -> Vec<Offence> {
    let codes: Vec<Code> = sources.iter().map(|source| Code::of(&source.text)).collect();
    let mut mentions: BTreeMap<&str, usize> = BTreeMap::new();
    for code in &codes {
        for line in &code.literal {
            for word in words(line) {
                *mentions.entry(word).or_default() += 1;
            }
        }
    }
    let mut offences = Vec::new();
    for (source, code) in sources.iter().zip(&codes) {
        if source.is_test_code() {
            continue;
        }
        let tests_from = tests_start(&code.bare);
        for (index, line) in code.bare.iter().enumerate().take(tests_from) {
            let Some((_, true, name)) = fn_header(line) else {
                continue;
            };
            if name != "main" && mentions.get(name) == Some(&1) {
                offences.push(Offence {
                    path: source.path.clone(),
                    line: index + 1,
                    rule: Rule::FunctionWithoutCaller,
                    detail: format!("nothing calls or names `{name}`"),
                });
            }
        }
    }
    offences
}

/// The identifiers in a line of code.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| word.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
}
