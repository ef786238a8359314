//! The fields a put or update writes: a map from field name to write, kept as a vector sorted
//! by name. An op names a handful of fields, and every replica decodes, clones and drops every
//! op it pulls, so a tree's nodes (allocated, searched and torn down per op) cost more than the
//! map does. It encodes exactly as a `BTreeMap<String, FieldWrite>` does, so the wire and the
//! hash chain are unchanged.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::FieldWrite;

/// Field writes by name, in name order, each name once.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FieldWrites(Vec<(String, FieldWrite)>);

impl FieldWrites {
    pub fn new() -> FieldWrites {
        FieldWrites::default()
    }

    /// Sets `name`'s write, returning the one it replaces.
    pub fn insert(&mut self, name: String, write: FieldWrite) -> Option<FieldWrite> {
        match self.find(&name) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, write)),
            Err(at) => {
                self.0.insert(at, (name, write));
                None
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<FieldWrite> {
        self.find(name).ok().map(|at| self.0.remove(at).1)
    }

    pub fn get(&self, name: &str) -> Option<&FieldWrite> {
        self.find(name).ok().map(|at| &self.0[at].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut FieldWrite> {
        self.find(name).ok().map(|at| &mut self.0[at].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Names and writes, in name order.
    pub fn iter(&self) -> Iter<'_> {
        self.0.iter().map(as_pair)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut FieldWrite> {
        self.0.iter_mut().map(|(_, write)| write)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(name, _)| name)
    }

    pub fn values(&self) -> impl Iterator<Item = &FieldWrite> {
        self.0.iter().map(|(_, write)| write)
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(held, _)| held.as_str().cmp(name))
    }
}

/// The iterator of [`FieldWrites::iter`].
pub(crate) type Iter<'a> = std::iter::Map<
    std::slice::Iter<'a, (String, FieldWrite)>,
    fn(&'a (String, FieldWrite)) -> (&'a String, &'a FieldWrite),
>;

fn as_pair((name, write): &(String, FieldWrite)) -> (&String, &FieldWrite) {
    (name, write)
}

/// As a `BTreeMap` collects: in name order, and where a name comes twice the last write wins.
impl FromIterator<(String, FieldWrite)> for FieldWrites {
    fn from_iter<I: IntoIterator<Item = (String, FieldWrite)>>(iter: I) -> FieldWrites {
        let mut writes: Vec<(String, FieldWrite)> = iter.into_iter().collect();
        if !writes.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable, so that of equal names the last one written stays last.
            writes.sort_by(|a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(String, FieldWrite)> = Vec::with_capacity(writes.len());
            for write in writes {
                match kept.last_mut() {
                    Some(last) if last.0 == write.0 => *last = write,
                    _ => kept.push(write),
                }
            }
            writes = kept;
        }
        FieldWrites(writes)
    }
}

impl<const N: usize> From<[(String, FieldWrite); N]> for FieldWrites {
    fn from(writes: [(String, FieldWrite); N]) -> FieldWrites {
        writes.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a FieldWrites {
    type Item = (&'a String, &'a FieldWrite);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for FieldWrites {
    type Item = (String, FieldWrite);
    type IntoIter = std::vec::IntoIter<(String, FieldWrite)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Shown as a map, as the `BTreeMap` it replaced was.
impl fmt::Debug for FieldWrites {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for FieldWrites {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, write) in &self.0 {
            map.serialize_entry(name, write)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FieldWrites {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FieldWrites, D::Error> {
        struct WritesVisitor;

        impl<'de> Visitor<'de> for WritesVisitor {
            type Value = FieldWrites;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of field names to writes")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldWrites, A::Error> {
                // The hint comes from the input: bounded, so a forged length reserves nothing
                // the entries do not then fill.
                let mut writes = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = map.next_entry::<String, FieldWrite>()? {
                    writes.push(entry);
                }
                Ok(writes.into_iter().collect())
            }
        }

        deserializer.deserialize_map(WritesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::value::Value;

    fn write(n: i64) -> FieldWrite {
        FieldWrite::new(Value::I64(n))
    }

    #[test]
    fn writes_collect_in_name_order_and_the_last_of_a_repeated_name_wins() {
        let pairs = [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)];
        let writes: FieldWrites = pairs.iter().map(|(n, v)| ((*n).to_owned(), write(*v))).collect();
        let tree: BTreeMap<String, FieldWrite> =
            pairs.iter().map(|(n, v)| ((*n).to_owned(), write(*v))).collect();
        assert!(writes.iter().eq(tree.iter()));
        assert_eq!(writes.get("a"), Some(&write(5)));
        assert_eq!(writes.len(), 3);
    }

    #[test]
    fn writes_encode_exactly_as_the_map_they_replace_and_decode_back() {
        let tree: BTreeMap<String, FieldWrite> =
            [("title", 1), ("body", 2), ("size", 3)].map(|(n, v)| (n.to_owned(), write(v))).into();
        let writes: FieldWrites = tree.clone().into_iter().collect();
        let bytes = postcard::to_stdvec(&writes).expect("encodes");
        assert_eq!(bytes, postcard::to_stdvec(&tree).expect("encodes"));
        assert_eq!(postcard::from_bytes::<FieldWrites>(&bytes).expect("decodes"), writes);
        let json = serde_json::to_string(&writes).expect("encodes");
        assert_eq!(json, serde_json::to_string(&tree).expect("encodes"));
    }

    #[test]
    fn an_encoding_out_of_order_or_repeating_a_name_decodes_as_a_map_would() {
        let pairs = vec![("b".to_owned(), write(1)), ("a".to_owned(), write(2))];
        let mut repeated = pairs.clone();
        repeated.push(("b".to_owned(), write(3)));
        // A sequence of pairs encodes as a map with those entries, in that order.
        for pairs in [pairs, repeated] {
            let bytes = postcard::to_stdvec(&pairs).expect("encodes");
            let writes: FieldWrites = postcard::from_bytes(&bytes).expect("decodes");
            let tree: BTreeMap<String, FieldWrite> = postcard::from_bytes(&bytes).expect("decodes");
            assert!(writes.iter().eq(tree.iter()));
        }
    }

    #[test]
    fn inserting_and_removing_keeps_names_in_order() {
        let mut writes = FieldWrites::new();
        assert_eq!(writes.insert("m".to_owned(), write(1)), None);
        assert_eq!(writes.insert("a".to_owned(), write(2)), None);
        assert_eq!(writes.insert("z".to_owned(), write(3)), None);
        assert_eq!(writes.insert("m".to_owned(), write(4)), Some(write(1)));
        assert_eq!(writes.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "m", "z"]);
        assert_eq!(writes.remove("a"), Some(write(2)));
        assert_eq!(writes.remove("a"), None);
        assert!(writes.contains_key("z") && !writes.contains_key("a"));
    }
}
