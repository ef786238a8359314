//! `Range<T>`: a scenario value that is either fixed or drawn per seed (swarm testing).
//!
//! In TOML a scalar (`clients = 5`) is fixed and a two-element array (`clients = [2, 8]`) is
//! drawn per seed from the inclusive range. This is the shape of a serde untagged enum; the
//! visitor is written by hand so that a wrong value gets a message saying what is accepted,
//! where `#[serde(untagged)]` only says "did not match any variant".

use std::fmt;

use rand::RngCore;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::seed;

/// A scenario value: fixed, or drawn per seed from `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range<T> {
    /// Written as a scalar: every seed uses this value.
    Fixed(T),
    /// Written as `[lo, hi]`: each seed draws a value in `lo..=hi`.
    Drawn {
        /// The smallest value a seed may draw.
        lo: T,
        /// The largest value a seed may draw.
        hi: T,
    },
}

impl<T: Bound> Range<T> {
    /// The smallest value a seed may draw.
    pub fn lo(&self) -> T {
        match *self {
            Range::Fixed(value) => value,
            Range::Drawn { lo, .. } => lo,
        }
    }

    /// The largest value a seed may draw.
    pub fn hi(&self) -> T {
        match *self {
            Range::Fixed(value) => value,
            Range::Drawn { hi, .. } => hi,
        }
    }

    /// Draws this seed's value. Consumes exactly one `u64` whether fixed or drawn, so that
    /// turning a fixed knob into a range does not shift the draws of the knobs after it.
    pub fn draw<R: RngCore + ?Sized>(&self, rng: &mut R) -> T {
        T::draw(rng, self.lo(), self.hi())
    }
}

impl<T: Bound> fmt::Display for Range<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Range::Fixed(value) => write!(f, "{value}"),
            Range::Drawn { lo, hi } => write!(f, "[{lo}, {hi}]"),
        }
    }
}

/// A number type a [`Range`] can hold. Sealed: only `u64`, `i64` and `f64`.
pub trait Bound:
    Copy + PartialOrd + fmt::Display + fmt::Debug + Serialize + private::Sealed + 'static
{
    /// What a scenario file must write for one bound, for error messages.
    const EXPECTING: &'static str;
    /// Converts a TOML integer, or `None` when it does not fit.
    fn from_i64(value: i64) -> Option<Self>;
    /// Converts a TOML float, or `None` when floats are not accepted.
    fn from_f64(value: f64) -> Option<Self>;
    /// False for NaN and infinities, which no scenario knob accepts.
    fn is_finite(self) -> bool;
    /// Draws a value in `lo..=hi` (for floats `[lo, hi)`) from one `u64`.
    fn draw<R: RngCore + ?Sized>(rng: &mut R, lo: Self, hi: Self) -> Self;
}

mod private {
    pub trait Sealed {}
    impl Sealed for u64 {}
    impl Sealed for i64 {}
    impl Sealed for f64 {}
}

impl Bound for u64 {
    const EXPECTING: &'static str = "a non-negative integer";
    fn from_i64(value: i64) -> Option<Self> {
        u64::try_from(value).ok()
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    fn is_finite(self) -> bool {
        true
    }
    fn draw<R: RngCore + ?Sized>(rng: &mut R, lo: Self, hi: Self) -> Self {
        seed::uniform_u64(rng, lo, hi)
    }
}

impl Bound for i64 {
    const EXPECTING: &'static str = "an integer";
    fn from_i64(value: i64) -> Option<Self> {
        Some(value)
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    fn is_finite(self) -> bool {
        true
    }
    fn draw<R: RngCore + ?Sized>(rng: &mut R, lo: Self, hi: Self) -> Self {
        seed::uniform_i64(rng, lo, hi)
    }
}

/// Drawn floats are rounded to this many steps per unit: a short decimal prints exactly in the
/// run header and survives a JSON or TOML round trip bit for bit, so a repro file replays the
/// very same parameters.
const FLOAT_STEPS_PER_UNIT: f64 = 1e6;

impl Bound for f64 {
    const EXPECTING: &'static str = "a number";
    fn from_i64(value: i64) -> Option<Self> {
        Some(value as f64)
    }
    fn from_f64(value: f64) -> Option<Self> {
        Some(value)
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    fn draw<R: RngCore + ?Sized>(rng: &mut R, lo: Self, hi: Self) -> Self {
        let raw = seed::uniform_f64(rng, lo, hi);
        ((raw * FLOAT_STEPS_PER_UNIT).round() / FLOAT_STEPS_PER_UNIT).clamp(lo, hi)
    }
}

impl<T: Bound> Serialize for Range<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Range::Fixed(value) => value.serialize(serializer),
            Range::Drawn { lo, hi } => {
                let mut seq = serializer.serialize_seq(Some(2))?;
                seq.serialize_element(lo)?;
                seq.serialize_element(hi)?;
                seq.end()
            }
        }
    }
}

impl<'de, T: Bound> Deserialize<'de> for Range<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RangeVisitor::<T>(std::marker::PhantomData))
    }
}

struct RangeVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Bound> Visitor<'de> for RangeVisitor<T> {
    type Value = Range<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} or a two-element array [lo, hi]", T::EXPECTING)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        scalar_from_i64(value).map(Range::Fixed)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        let value = i64::try_from(value)
            .map_err(|_| E::custom(format!("{value} is too large, the maximum is {}", i64::MAX)))?;
        self.visit_i64(value)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        scalar_from_f64(value).map(Range::Fixed)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let too_short = || {
            de::Error::custom(format!(
                "expected {} or a two-element array [lo, hi], found a shorter array",
                T::EXPECTING
            ))
        };
        let lo = seq.next_element::<Scalar<T>>()?.ok_or_else(too_short)?.0;
        let hi = seq.next_element::<Scalar<T>>()?.ok_or_else(too_short)?.0;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!(
                "expected {} or a two-element array [lo, hi], found a longer array",
                T::EXPECTING
            )));
        }
        Ok(Range::Drawn { lo, hi })
    }
}

fn scalar_from_i64<T: Bound, E: de::Error>(value: i64) -> Result<T, E> {
    T::from_i64(value).ok_or_else(|| E::custom(format!("expected {}, found {value}", T::EXPECTING)))
}

fn scalar_from_f64<T: Bound, E: de::Error>(value: f64) -> Result<T, E> {
    T::from_f64(value).ok_or_else(|| E::custom(format!("expected {}, found {value}", T::EXPECTING)))
}

/// One bound inside `[lo, hi]`: a number only, never a nested array.
struct Scalar<T>(T);

impl<'de, T: Bound> Deserialize<'de> for Scalar<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor::<T>(std::marker::PhantomData))
    }
}

struct ScalarVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Bound> Visitor<'de> for ScalarVisitor<T> {
    type Value = Scalar<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as a bound of [lo, hi]", T::EXPECTING)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        scalar_from_i64(value).map(Scalar)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        let value = i64::try_from(value)
            .map_err(|_| E::custom(format!("{value} is too large, the maximum is {}", i64::MAX)))?;
        self.visit_i64(value)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        scalar_from_f64(value).map(Scalar)
    }
}
