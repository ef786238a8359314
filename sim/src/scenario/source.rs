//! Maps between byte offsets, line numbers and dotted field paths of one TOML document.
//!
//! `toml` reports errors with a byte span but no usable field path, and validation knows the
//! field path but no position. Both are answered from the document's spanned parse tree
//! (`toml::de::DeTable`): a span is located by finding the deepest key or value that contains
//! it, and a path is located by walking the tree to the key it names.

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

/// One document's text and its spanned parse tree.
pub(crate) struct SourceMap<'i> {
    text: &'i str,
    root: &'i Spanned<DeTable<'i>>,
}

impl<'i> SourceMap<'i> {
    pub(crate) fn new(text: &'i str, root: &'i Spanned<DeTable<'i>>) -> Self {
        SourceMap { text, root }
    }

    /// The 1-based line holding the byte at `offset` (offsets past the end count as the last
    /// line, where toml places "unexpected end of input").
    pub(crate) fn line_of_offset(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        1 + self.text.as_bytes()[..end].iter().filter(|&&byte| byte == b'\n').count()
    }

    /// The dotted path of the deepest key or value containing `offset`, or an empty string when
    /// the offset lies outside every key and value (a comment, a blank line, a syntax error).
    pub(crate) fn path_at(&self, offset: usize) -> String {
        let mut segments = Vec::new();
        if find_in_table(self.root.get_ref(), offset, &mut segments) {
            join_path(&segments)
        } else {
            String::new()
        }
    }

    /// The dotted path of the table whose span is exactly `span`: empty for the document
    /// itself, `None` when no table has that span.
    pub(crate) fn path_of_table_spanning(&self, span: &std::ops::Range<usize>) -> Option<String> {
        if self.root.span() == *span {
            return Some(String::new());
        }
        let mut segments = Vec::new();
        find_table_spanning(self.root.get_ref(), span, &mut segments).then(|| join_path(&segments))
    }

    /// The line of the key a dotted path names. When the key is absent (a default applies), the
    /// line of its nearest present ancestor; `None` when not even the first segment is present.
    pub(crate) fn line_of_field(&self, field: &str) -> Option<usize> {
        let mut offset = None;
        let mut node = Node::Table(self.root.get_ref());
        for segment in parse_path(field) {
            let (start, value) = match (segment, node) {
                (Segment::Key(key), Node::Table(table)) => {
                    let Some((key, value)) = table.iter().find(|(k, _)| k.get_ref() == key) else {
                        break;
                    };
                    (key.span().start, value)
                }
                (Segment::Index(index), Node::Array(array)) => {
                    let Some(element) = array.get(index) else {
                        break;
                    };
                    (element.span().start, element)
                }
                _ => break,
            };
            offset = Some(start);
            node = Node::of(value.get_ref());
        }
        offset.map(|offset| self.line_of_offset(offset))
    }
}

#[derive(Clone, Copy)]
enum Node<'a, 'i> {
    Table(&'a DeTable<'i>),
    Array(&'a DeArray<'i>),
    Leaf,
}

impl<'a, 'i> Node<'a, 'i> {
    fn of(value: &'a DeValue<'i>) -> Self {
        match value {
            DeValue::Table(table) => Node::Table(table),
            DeValue::Array(array) => Node::Array(array),
            _ => Node::Leaf,
        }
    }
}

/// Converts a `toml` error into (line, field path, message).
pub(crate) fn locate_toml_error(
    map: &SourceMap<'_>,
    error: &toml::de::Error,
) -> (Option<usize>, String, String) {
    let message = error.message().trim_end().to_owned();
    let Some(span) = error.span() else {
        return (None, String::new(), message);
    };
    let line = map.line_of_offset(span.start);
    // serde reports a missing required key at the span of the table that lacks it; name the
    // key under that table, and give no line when the table is the whole document.
    if let Some(missing) = missing_field_name(&message) {
        return match map.path_of_table_spanning(&span) {
            Some(table) if table.is_empty() => (None, missing.to_owned(), message),
            Some(table) => (Some(line), format!("{table}.{missing}"), message),
            None => (Some(line), missing.to_owned(), message),
        };
    }
    (Some(line), map.path_at(span.start), message)
}

/// The key named by serde's "missing field `x`" message.
fn missing_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn find_table_spanning(
    table: &DeTable<'_>,
    span: &std::ops::Range<usize>,
    segments: &mut Vec<String>,
) -> bool {
    for (key, value) in table.iter() {
        if let DeValue::Table(inner) = value.get_ref() {
            segments.push(key.get_ref().to_string());
            if value.span() == *span || find_table_spanning(inner, span, segments) {
                return true;
            }
            segments.pop();
        }
    }
    false
}

fn find_in_table(table: &DeTable<'_>, offset: usize, segments: &mut Vec<String>) -> bool {
    for (key, value) in table.iter() {
        segments.push(key.get_ref().to_string());
        if contains(&key.span(), offset) || find_in_value(value, offset, segments) {
            return true;
        }
        segments.pop();
    }
    false
}

/// Children are searched before the value's own span so that the deepest match wins; tables
/// opened by a `[header]` do not span their keys, so they are searched whatever their span.
fn find_in_value(value: &Spanned<DeValue<'_>>, offset: usize, segments: &mut Vec<String>) -> bool {
    let found_inside = match value.get_ref() {
        DeValue::Table(table) => find_in_table(table, offset, segments),
        DeValue::Array(array) => find_in_array(array, offset, segments),
        _ => false,
    };
    found_inside || contains(&value.span(), offset)
}

fn find_in_array(array: &DeArray<'_>, offset: usize, segments: &mut Vec<String>) -> bool {
    for (index, element) in array.iter().enumerate() {
        segments.push(format!("[{index}]"));
        if find_in_value(element, offset, segments) {
            return true;
        }
        segments.pop();
    }
    false
}

fn contains(span: &std::ops::Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

fn join_path(segments: &[String]) -> String {
    let mut path = String::new();
    for segment in segments {
        if !path.is_empty() && !segment.starts_with('[') {
            path.push('.');
        }
        path.push_str(segment);
    }
    path
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `faults.partitions.kinds[2]` into keys and array indices.
fn parse_path(field: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    for part in field.split('.') {
        let (key, mut indices) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
        segments.push(Segment::Key(key));
        while let Some((number, rest)) = indices.split_once(']') {
            if let Ok(index) = number.parse() {
                segments.push(Segment::Index(index));
            }
            indices = rest.strip_prefix('[').unwrap_or(rest);
        }
    }
    segments
}
