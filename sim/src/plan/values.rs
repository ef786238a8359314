//! Write actions and field values, valid for the simulated schema (see [`super::fields`]).

use std::collections::BTreeMap;

use rand::RngCore;

use driftsync_core::Value;

use super::{WriteAction, fields};
use crate::scenario::Mix;
use crate::seed;

/// How often an `Update` also changes the title.
const UPDATE_TITLE_PROBABILITY: f64 = 0.1;
/// How often a write that sets the body clears it instead.
const BODY_NULL_PROBABILITY: f64 = 0.1;
/// Largest `Increment` delta in either direction.
const INCREMENT_DELTA_ABS_MAX: i64 = 10;
/// Title lengths in characters.
const TITLE_CHARS_MIN: u64 = 1;
const TITLE_CHARS_MAX: u64 = 16;
/// Body lengths in characters.
const BODY_CHARS_MAX: u64 = 64;
/// Blob lengths in bytes.
const BLOB_BYTES_MAX: u64 = 32;
/// Range of the max- and min-merged integers.
const INTEGER_ABS_MAX: i64 = 1_000_000;
/// Weights are quarter steps in this range, so every value is exact in binary and in decimal.
const WEIGHT_QUARTERS_ABS_MAX: i64 = 4_000;

/// Characters of generated text; the multi-byte ones keep encoders honest about UTF-8.
const TEXT_CHARS: [char; 31] = [
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's',
    't', 'u', 'v', 'w', 'x', 'y', 'z', ' ', 'é', 'ß', '中', '🙂',
];

/// The multi-value field draws from a few words, so concurrent writers often disagree and
/// sometimes agree.
const TAG_WORDS: [&str; 6] = ["red", "green", "blue", "urgent", "later", "home"];

/// Draws one field's value.
type Generator = fn(&mut dyn RngCore) -> Value;

/// The generator of each optional non-counter field, in the order of the selection mask bits.
const OPTIONAL_FIELDS: [(&str, Generator); 7] = [
    (fields::BODY, body),
    (fields::DONE, done),
    (fields::WEIGHT, weight),
    (fields::BLOB, blob),
    (fields::HIGH, integer),
    (fields::LOW, integer),
    (fields::TAGS, tag),
];

/// Draws an action by the mix weights, with its field values.
pub(super) fn action(rng: &mut dyn RngCore, mix: &Mix) -> WriteAction {
    match pick(rng, mix) {
        Kind::Put => {
            let mut fields = optional_fields(rng);
            fields.insert(fields::TITLE.to_owned(), title(rng));
            WriteAction::Put { fields }
        }
        Kind::Update => {
            let mut fields = optional_fields(rng);
            if seed::chance(rng, UPDATE_TITLE_PROBABILITY) {
                fields.insert(fields::TITLE.to_owned(), title(rng));
            }
            WriteAction::Update { fields }
        }
        Kind::Delete => WriteAction::Delete,
        Kind::Increment => {
            // Draw from the 20 non-zero deltas and skip over zero.
            let draw =
                seed::uniform_i64(rng, -INCREMENT_DELTA_ABS_MAX, INCREMENT_DELTA_ABS_MAX - 1);
            let delta = if draw >= 0 { draw + 1 } else { draw };
            WriteAction::Increment { field: fields::COUNT.to_owned(), delta }
        }
        Kind::Resolve => WriteAction::Resolve { field: fields::TAGS.to_owned() },
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Put,
    Update,
    Delete,
    Increment,
    Resolve,
}

/// Weighted choice; an action with weight 0 is never chosen.
pub(super) fn pick(rng: &mut dyn RngCore, mix: &Mix) -> Kind {
    let weights = [
        (Kind::Put, mix.put),
        (Kind::Update, mix.update),
        (Kind::Delete, mix.delete),
        (Kind::Increment, mix.increment),
        (Kind::Resolve, mix.resolve),
    ];
    let total: f64 = weights.iter().map(|(_, weight)| weight).sum();
    let mut remaining = seed::unit_f64(rng) * total;
    for (kind, weight) in weights {
        if remaining < weight {
            return kind;
        }
        remaining -= weight;
    }
    // Rounding can leave `remaining` a hair above the last weight: take the last possible kind.
    weights
        .iter()
        .rev()
        .find(|(_, weight)| *weight > 0.0)
        .map(|(kind, _)| *kind)
        .expect("validated: the mix weights sum to more than 0")
}

/// A non-empty set of the optional non-counter fields, chosen by one mask draw.
fn optional_fields(rng: &mut dyn RngCore) -> BTreeMap<String, Value> {
    let mask = seed::uniform_u64(rng, 1, (1 << OPTIONAL_FIELDS.len()) - 1);
    let mut fields = BTreeMap::new();
    for (bit, (name, generate)) in OPTIONAL_FIELDS.iter().enumerate() {
        if mask & (1 << bit) != 0 {
            fields.insert((*name).to_owned(), generate(rng));
        }
    }
    fields
}

fn title(rng: &mut dyn RngCore) -> Value {
    Value::Str(text(rng, TITLE_CHARS_MIN, TITLE_CHARS_MAX))
}

fn body(rng: &mut dyn RngCore) -> Value {
    if seed::chance(rng, BODY_NULL_PROBABILITY) {
        Value::Null
    } else {
        Value::Str(text(rng, 0, BODY_CHARS_MAX))
    }
}

fn done(rng: &mut dyn RngCore) -> Value {
    Value::Bool(seed::chance(rng, 0.5))
}

pub(super) fn weight(rng: &mut dyn RngCore) -> Value {
    let quarters = seed::uniform_i64(rng, -WEIGHT_QUARTERS_ABS_MAX, WEIGHT_QUARTERS_ABS_MAX);
    Value::F64(quarters as f64 / 4.0)
}

fn blob(rng: &mut dyn RngCore) -> Value {
    let len = seed::uniform_u64(rng, 0, BLOB_BYTES_MAX);
    Value::Bytes((0..len).map(|_| seed::uniform_u64(rng, 0, 255) as u8).collect())
}

pub(super) fn integer(rng: &mut dyn RngCore) -> Value {
    Value::I64(seed::uniform_i64(rng, -INTEGER_ABS_MAX, INTEGER_ABS_MAX))
}

pub(super) fn tag(rng: &mut dyn RngCore) -> Value {
    Value::Str(TAG_WORDS[seed::index(rng, TAG_WORDS.len())].to_owned())
}

pub(super) fn text(rng: &mut dyn RngCore, chars_min: u64, chars_max: u64) -> String {
    let len = seed::uniform_u64(rng, chars_min, chars_max);
    (0..len).map(|_| TEXT_CHARS[seed::index(rng, TEXT_CHARS.len())]).collect()
}
