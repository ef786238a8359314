//! Sharding a sweep across machines without a coordinator.
//!
//! Shard `k` of `n` (1-based `k`, as `--shard k/n`) takes every seed whose position `i` in the
//! sweep's seed range (0-based: `i = seed - start`) satisfies `i % n == k - 1`. The `n` shards of
//! one sweep therefore partition its seeds exactly, and each shard's seeds are spread over the
//! whole range, so a shard's run time does not depend on where the slow seeds cluster.
//!
//! Without `--shard`, the shard is read from the environment, first match wins:
//!
//! 1. `CI_NODE_TOTAL` set: `CI_NODE_INDEX` is the 1-based shard number (GitLab CI's `parallel:`
//!    sets both this way). `CI_NODE_INDEX` alone, without `CI_NODE_TOTAL`, is ignored.
//! 2. `JOB_COMPLETION_INDEX` set (a Kubernetes Indexed Job, 0-based): shard
//!    `JOB_COMPLETION_INDEX + 1` of `JOB_COMPLETION_TOTAL`. Kubernetes does not export the
//!    completion count, so the Job's pod template must set `JOB_COMPLETION_TOTAL` to the same
//!    number as `.spec.completions`; without it the sweep refuses to start rather than have
//!    every pod run every seed.
//! 3. Otherwise the sweep is not sharded (shard 1 of 1).
//!
//! CircleCI's `CIRCLE_NODE_INDEX` and Buildkite's `BUILDKITE_PARALLEL_JOB` are 0-based and are
//! not read; pass them explicitly, e.g.
//! `--shard $((CIRCLE_NODE_INDEX + 1))/$CIRCLE_NODE_TOTAL`. Empty variables count as unset.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// The most shards a sweep may be split into; far beyond any CI matrix or batch cluster.
pub const SHARDS_MAX: u64 = 1_000_000;

/// One shard of a sweep: number `number` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    number: u64,
    count: u64,
}

/// Where a shard came from, for the sweep's header line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSource {
    /// The `--shard` flag.
    Flag,
    /// `CI_NODE_INDEX` / `CI_NODE_TOTAL`.
    CiNode,
    /// `JOB_COMPLETION_INDEX` / `JOB_COMPLETION_TOTAL`.
    KubernetesJob,
    /// Nothing asked for sharding.
    Unsharded,
}

impl ShardSource {
    /// The flag or variables the shard was read from, as the sweep's output names them.
    pub fn origin(self) -> &'static str {
        match self {
            ShardSource::Flag => "--shard",
            ShardSource::CiNode => "CI_NODE_INDEX/CI_NODE_TOTAL",
            ShardSource::KubernetesJob => "JOB_COMPLETION_INDEX/JOB_COMPLETION_TOTAL",
            ShardSource::Unsharded => "not sharded",
        }
    }
}

/// A shard that cannot exist, from the flag or from the environment. Blame: the caller (or the
/// CI configuration); recovery: fix the named value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardError {
    /// The flag or variables the value came from.
    pub origin: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

impl std::error::Error for ShardError {}

impl Shard {
    /// The whole sweep as one shard.
    pub const ALL: Shard = Shard { number: 1, count: 1 };

    /// Shard `number` (1-based) of `count`.
    pub fn new(number: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || count > SHARDS_MAX {
            return Err(format!("the shard count must be within 1..={SHARDS_MAX}, found {count}"));
        }
        if number == 0 || number > count {
            return Err(format!("the shard number must be within 1..={count}, found {number}"));
        }
        Ok(Shard { number, count })
    }

    /// The 1-based shard number.
    pub fn number(self) -> u64 {
        self.number
    }

    /// How many shards the sweep is split into.
    pub fn count(self) -> u64 {
        self.count
    }

    /// Whether this shard runs the seed at 0-based `position` within the sweep's seed range.
    pub fn takes(self, position: u64) -> bool {
        position % self.count == self.number - 1
    }
}

/// The seeds one shard runs out of a sweep's range, in increasing order. Computed rather than
/// listed, so a shard of a billion seeds takes no memory per seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelectedSeeds {
    first: u64,
    step: u64,
    count: u64,
}

impl SelectedSeeds {
    /// The seeds of `seeds` that `shard` takes.
    pub fn new(seeds: Range<u64>, shard: Shard) -> SelectedSeeds {
        let offset = shard.number - 1;
        let range_count = seeds.end.saturating_sub(seeds.start);
        let count = range_count.saturating_sub(offset).div_ceil(shard.count);
        // When `count` is 0 `first` may lie past the range; it is then never read.
        SelectedSeeds { first: seeds.start.saturating_add(offset), step: shard.count, count }
    }

    /// How many seeds the shard runs.
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `index`-th seed (0-based) of the shard.
    pub fn seed(&self, index: u64) -> u64 {
        assert!(index < self.count, "seed index {index} beyond the shard's {} seeds", self.count);
        self.first + index * self.step
    }

    /// Every seed of the shard, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.count).map(|index| self.seed(index))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `k/n`, e.g. `2/8`.
    fn from_str(text: &str) -> Result<Shard, String> {
        let (number, count) = text
            .split_once('/')
            .ok_or_else(|| format!("expected k/n such as 2/8, found {text:?}"))?;
        let parse = |part: &str, what: &str| {
            part.trim().parse::<u64>().map_err(|_| format!("{what} {part:?} is not a number"))
        };
        Shard::new(parse(number, "the shard number")?, parse(count, "the shard count")?)
    }
}

/// The shard selected by the flag or, without it, by the environment (see the module docs).
/// `variable` looks up an environment variable; it is a parameter so tests need not touch the
/// process environment.
pub fn select(
    flag: Option<Shard>,
    variable: impl Fn(&str) -> Option<String>,
) -> Result<(Shard, ShardSource), ShardError> {
    if let Some(shard) = flag {
        return Ok((shard, ShardSource::Flag));
    }
    let set = |name: &str| variable(name).filter(|value| !value.trim().is_empty());
    if let Some(total) = set("CI_NODE_TOTAL") {
        let origin = "CI_NODE_INDEX/CI_NODE_TOTAL";
        let error = |message: String| ShardError { origin, message };
        let index = set("CI_NODE_INDEX")
            .ok_or_else(|| error("CI_NODE_TOTAL is set but CI_NODE_INDEX is not".to_owned()))?;
        let number = parse_variable("CI_NODE_INDEX", &index).map_err(error)?;
        let count = parse_variable("CI_NODE_TOTAL", &total).map_err(error)?;
        let shard = Shard::new(number, count)
            .map_err(|message| error(format!("{message} (CI_NODE_INDEX is 1-based)")))?;
        return Ok((shard, ShardSource::CiNode));
    }
    if let Some(index) = set("JOB_COMPLETION_INDEX") {
        let origin = "JOB_COMPLETION_INDEX/JOB_COMPLETION_TOTAL";
        let error = |message: String| ShardError { origin, message };
        let total = set("JOB_COMPLETION_TOTAL").ok_or_else(|| {
            error(
                "JOB_COMPLETION_INDEX is set but JOB_COMPLETION_TOTAL is not; set it to the \
                 Job's .spec.completions, or pass --shard"
                    .to_owned(),
            )
        })?;
        let index = parse_variable("JOB_COMPLETION_INDEX", &index).map_err(error)?;
        let count = parse_variable("JOB_COMPLETION_TOTAL", &total).map_err(error)?;
        let shard = Shard::new(index.saturating_add(1), count).map_err(|message| {
            error(format!(
                "{message} (JOB_COMPLETION_INDEX is 0-based; the shard number is it + 1)"
            ))
        })?;
        return Ok((shard, ShardSource::KubernetesJob));
    }
    Ok((Shard::ALL, ShardSource::Unsharded))
}

fn parse_variable(name: &str, value: &str) -> Result<u64, String> {
    value.trim().parse().map_err(|_| format!("{name}={value:?} is not a non-negative integer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        move |name| pairs.iter().find(|(n, _)| n == name).map(|(_, value)| value.clone())
    }

    fn from_env(pairs: &[(&str, &str)]) -> Result<(Shard, ShardSource), ShardError> {
        select(None, environment(pairs))
    }

    /// Goal: every seed runs on exactly one shard, whatever the shard count.
    #[test]
    fn shards_partition_the_seeds() {
        for count in 1..=7u64 {
            let shards: Vec<Shard> =
                (1..=count).map(|number| Shard::new(number, count).expect("valid")).collect();
            for position in 0..100u64 {
                let owners = shards.iter().filter(|shard| shard.takes(position)).count();
                assert_eq!(owners, 1, "position {position} of {count} shards");
            }
        }
        let second_of_three: Vec<u64> =
            (0..10).filter(|&i| Shard::new(2, 3).expect("valid").takes(i)).collect();
        assert_eq!(second_of_three, [1, 4, 7]);
    }

    /// Goal: the computed seed list is exactly the seeds whose position the shard takes.
    #[test]
    fn selected_seeds_match_the_positions_the_shard_takes() {
        for count in 1..=5u64 {
            for number in 1..=count {
                let shard = Shard::new(number, count).expect("valid");
                for length in 0..12u64 {
                    let range = 100..100 + length;
                    let listed: Vec<u64> =
                        range.clone().filter(|seed| shard.takes(seed - 100)).collect();
                    let computed: Vec<u64> = SelectedSeeds::new(range, shard).iter().collect();
                    assert_eq!(computed, listed, "shard {shard}, {length} seeds");
                }
            }
        }
        let last = SelectedSeeds::new(u64::MAX - 3..u64::MAX, Shard::new(3, 3).expect("valid"));
        assert_eq!(last.iter().collect::<Vec<_>>(), [u64::MAX - 1]);
    }

    /// Goal: `--shard k/n` accepts exactly the shards that exist.
    #[test]
    fn the_shard_flag_parses_k_of_n_and_rejects_impossible_shards() {
        assert_eq!("2/8".parse::<Shard>(), Ok(Shard { number: 2, count: 8 }));
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard::ALL));
        for bad in ["0/4", "5/4", "1/0", "2", "a/b", "-1/4", "1/4/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad:?} was accepted");
        }
    }

    /// Goal: the flag overrides whatever the CI system exports.
    #[test]
    fn the_flag_wins_over_the_environment() {
        let flag = Some(Shard::new(1, 2).expect("valid"));
        let env = environment(&[("CI_NODE_INDEX", "3"), ("CI_NODE_TOTAL", "4")]);
        assert_eq!(select(flag, env), Ok((Shard::new(1, 2).expect("valid"), ShardSource::Flag)));
    }

    /// Goal: GitLab's 1-based CI_NODE_INDEX maps to the shard of the same number.
    #[test]
    fn ci_node_index_is_one_based_when_ci_node_total_is_set() {
        let selected = from_env(&[("CI_NODE_INDEX", "3"), ("CI_NODE_TOTAL", "4")]);
        assert_eq!(selected, Ok((Shard::new(3, 4).expect("valid"), ShardSource::CiNode)));
        let zero = from_env(&[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "4")]);
        assert!(zero.expect_err("0 is not a 1-based index").message.contains("1-based"));
        assert!(from_env(&[("CI_NODE_TOTAL", "4")]).is_err());
        assert!(from_env(&[("CI_NODE_INDEX", "x"), ("CI_NODE_TOTAL", "4")]).is_err());
    }

    /// Goal: a lone CI_NODE_INDEX, or CircleCI's own variables, never shard a sweep.
    #[test]
    fn unrelated_or_incomplete_variables_leave_the_sweep_unsharded() {
        for env in [
            &[("CI_NODE_INDEX", "2")][..],
            &[("CIRCLE_NODE_INDEX", "0"), ("CIRCLE_NODE_TOTAL", "4")],
            &[("CI_NODE_TOTAL", ""), ("CI_NODE_INDEX", "")],
            &[],
        ] {
            assert_eq!(from_env(env), Ok((Shard::ALL, ShardSource::Unsharded)), "{env:?}");
        }
    }

    /// Goal: a Kubernetes Indexed Job's 0-based index maps to shard index + 1.
    #[test]
    fn job_completion_index_is_zero_based_and_needs_a_total() {
        let selected = from_env(&[("JOB_COMPLETION_INDEX", "0"), ("JOB_COMPLETION_TOTAL", "5")]);
        assert_eq!(selected, Ok((Shard::new(1, 5).expect("valid"), ShardSource::KubernetesJob)));
        let last = from_env(&[("JOB_COMPLETION_INDEX", "4"), ("JOB_COMPLETION_TOTAL", "5")]);
        assert_eq!(last, Ok((Shard::new(5, 5).expect("valid"), ShardSource::KubernetesJob)));
        let beyond = from_env(&[("JOB_COMPLETION_INDEX", "5"), ("JOB_COMPLETION_TOTAL", "5")]);
        assert!(beyond.is_err());
        let alone = from_env(&[("JOB_COMPLETION_INDEX", "1")]).expect_err("no total");
        assert!(alone.message.contains("JOB_COMPLETION_TOTAL"), "{alone}");
    }

    /// Goal: when both CI conventions are present, the CI one decides, as documented.
    #[test]
    fn ci_node_variables_take_precedence_over_kubernetes() {
        let selected = from_env(&[
            ("CI_NODE_INDEX", "2"),
            ("CI_NODE_TOTAL", "2"),
            ("JOB_COMPLETION_INDEX", "0"),
            ("JOB_COMPLETION_TOTAL", "3"),
        ]);
        assert_eq!(selected, Ok((Shard::new(2, 2).expect("valid"), ShardSource::CiNode)));
    }
}
