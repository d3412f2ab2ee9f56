//! Maps field paths to lines and columns, and back.
//!
//! serde-saphyr reports a line and column for its own errors, but not the field path; the errors
//! found after deserializing (a bad regex, a bad glob) know their field path but not their line.
//! Both are answered by one index of every node of the file, built by a second, generic pass
//! over the same text with the same limits. The index is built only when an error needs it, so
//! a valid file is parsed once.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::error::{FieldPath, Position, Segment};

/// Every node of a file: its path, where its key is (for a mapping value) and where it starts.
#[derive(Debug, Default)]
pub(crate) struct PathIndex {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    path: Vec<Segment>,
    key: Option<Position>,
    value: Position,
    is_mapping: bool,
}

/// Which part of a mapping entry a position should point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// The key, for errors about the key itself (unknown, duplicate).
    Key,
    /// The value, for errors about what the value says.
    Value,
}

impl PathIndex {
    /// Indexes `text`, or `None` when it is not YAML that the limits accept.
    pub(crate) fn build(text: &str, options: serde_saphyr::Options) -> Option<PathIndex> {
        let root: Spanned<Node> = serde_saphyr::from_str_with_options(text, options).ok()?;
        let mut index = PathIndex::default();
        let mut pending = vec![(Vec::new(), None, root)];
        // An explicit stack, not recursion: the depth is bounded by the budget anyway, but this
        // keeps the flattening itself independent of it.
        while let Some((path, key, node)) = pending.pop() {
            let value = position(&node.referenced);
            let is_mapping = matches!(node.value, Node::Mapping(_));
            let children = node.value.children(&path);
            index.entries.push(Entry {
                path,
                key,
                value,
                is_mapping,
            });
            pending.extend(children.into_iter().rev());
        }
        Some(index)
    }

    /// Where the node at `path` is written; for a path that is not in the file (a default, or
    /// a value that came through a YAML merge), the nearest enclosing node that is.
    pub(crate) fn position_of(&self, path: &FieldPath, part: Part) -> Option<Position> {
        let segments = path.segments();
        (0..=segments.len()).rev().find_map(|len| {
            let entry = self.entries.iter().find(|e| e.path == segments[..len])?;
            match part {
                Part::Key if len == segments.len() => entry.key.or(Some(entry.value)),
                _ => Some(entry.value),
            }
        })
    }

    /// The path of the node at `position`: the key or value that starts there, else the last
    /// node that starts before it, which is the innermost one.
    pub(crate) fn path_at(&self, position: Position) -> Option<FieldPath> {
        let entry = self.entry_at(position)?;
        Some(FieldPath::from_segments(entry.path.clone()))
    }

    /// The path of the mapping that serde means by `position` when it reports a missing field:
    /// serde-saphyr places that error on a key of the mapping (its first or its last), or on
    /// the mapping itself when it is empty.
    pub(crate) fn mapping_at(&self, position: Position) -> Option<FieldPath> {
        let entry = self.entry_at(position)?;
        let is_key = entry.key.is_some() && (entry.key == Some(position) || !entry.is_mapping);
        let path = if is_key {
            &entry.path[..entry.path.len().saturating_sub(1)]
        } else {
            &entry.path[..]
        };
        Some(FieldPath::from_segments(path.to_vec()))
    }

    fn entry_at(&self, position: Position) -> Option<&Entry> {
        let exact = self
            .entries
            .iter()
            .rev()
            .find(|e| e.key == Some(position) || e.value == position);
        exact.or_else(|| {
            self.entries
                .iter()
                .filter(|e| e.key.unwrap_or(e.value) <= position)
                .max_by_key(|e| e.key.unwrap_or(e.value))
        })
    }
}

pub(crate) fn position(location: &serde_saphyr::Location) -> Position {
    Position {
        line: u32::try_from(location.line()).unwrap_or(u32::MAX),
        column: u32::try_from(location.column()).unwrap_or(u32::MAX),
    }
}

/// A YAML node with the positions of its children; scalars keep nothing.
enum Node {
    Scalar,
    Sequence(Vec<Spanned<Node>>),
    Mapping(Vec<(Spanned<KeyText>, Spanned<Node>)>),
}

type Pending = (Vec<Segment>, Option<Position>, Spanned<Node>);

impl Node {
    fn children(self, path: &[Segment]) -> Vec<Pending> {
        let child = |segment: Segment| {
            let mut child = path.to_vec();
            child.push(segment);
            child
        };
        match self {
            Node::Scalar => Vec::new(),
            Node::Sequence(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| (child(Segment::Index(i)), None, item))
                .collect(),
            Node::Mapping(entries) => entries
                .into_iter()
                .map(|(key, value)| {
                    let at = position(&key.referenced);
                    (child(Segment::Key(key.value.0)), Some(at), value)
                })
                .collect(),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i128<E>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u128<E>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Mapping(entries))
    }
}

/// A mapping key as text: a scalar as written, a complex key (a list or mapping used as a key)
/// as `?`.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyText, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = KeyText;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_bool<E>(self, v: bool) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<KeyText, E> {
        Ok(KeyText(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<KeyText, E> {
        Ok(KeyText("null".to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyText, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(KeyText("?".to_owned()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyText, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(KeyText("?".to_owned()))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<KeyText, E> {
        Ok(KeyText("?".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(text: &str) -> PathIndex {
        let options = serde_saphyr::options! { with_snippet: false };
        PathIndex::build(text, options).unwrap()
    }

    fn at(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    const TEXT: &str = "version: 1\nprojects:\n  web:\n    refs: [a, 'b']\n    type: x\n";

    #[test]
    fn finds_positions_of_paths() {
        let index = index(TEXT);
        let refs1 = FieldPath::root()
            .key("projects")
            .key("web")
            .key("refs")
            .index(1);
        assert_eq!(index.position_of(&refs1, Part::Value), Some(at(4, 15)));
        let kind = FieldPath::root().key("projects").key("web").key("type");
        assert_eq!(index.position_of(&kind, Part::Key), Some(at(5, 5)));
        assert_eq!(index.position_of(&kind, Part::Value), Some(at(5, 11)));
        // A field that is not written falls back to its mapping.
        let missing = FieldPath::root().key("projects").key("web").key("paths");
        assert_eq!(index.position_of(&missing, Part::Key), Some(at(4, 5)));
    }

    #[test]
    fn finds_paths_at_positions() {
        let index = index(TEXT);
        let path = |p: Option<FieldPath>| p.map(|p| p.to_string());
        assert_eq!(
            path(index.path_at(at(4, 15))).as_deref(),
            Some("projects.web.refs[1]")
        );
        assert_eq!(
            path(index.path_at(at(5, 5))).as_deref(),
            Some("projects.web.type")
        );
        // A missing field is reported on the first or the last key of its mapping.
        assert_eq!(
            path(index.mapping_at(at(4, 5))).as_deref(),
            Some("projects.web")
        );
        assert_eq!(
            path(index.mapping_at(at(5, 5))).as_deref(),
            Some("projects.web")
        );
    }
}
