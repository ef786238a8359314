//! How each field merges: the policies, and the lookup a schema provides for them.

use serde::{Deserialize, Serialize};

/// How concurrent writes to one field combine.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum MergePolicy {
    /// The write with the greatest stamp wins; ties cannot happen (stamps are unique).
    #[default]
    LastWriterWins,
    /// The field is the sum of every increment; each op is counted exactly once.
    Counter,
    /// The greatest value written wins.
    Max,
    /// The smallest value written wins.
    Min,
    /// Concurrent values are all kept until a person resolves them.
    MultiValue,
}

impl MergePolicy {
    /// Every policy, for finding one by name.
    pub(crate) const ALL: [MergePolicy; 5] = [
        MergePolicy::LastWriterWins,
        MergePolicy::Counter,
        MergePolicy::Max,
        MergePolicy::Min,
        MergePolicy::MultiValue,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MergePolicy::LastWriterWins => "last-writer-wins",
            MergePolicy::Counter => "counter",
            MergePolicy::Max => "max",
            MergePolicy::Min => "min",
            MergePolicy::MultiValue => "multi-value",
        }
    }
}

/// Where merge finds each field's policy. A schema provides it; merge knows nothing else of
/// schemas, so the two stay one-way.
pub trait FieldPolicies {
    /// The policy of each field of `collection`, looked up once per op. A field with no
    /// declaration merges as last-writer-wins, so a replica can still hold data it has no
    /// declaration for.
    fn policies(&self, collection: &str) -> impl Fn(&str) -> MergePolicy + '_;
}
