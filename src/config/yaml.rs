//! Reads the YAML text of a configuration file, within limits fit for a configuration file.
//!
//! The order of the checks matters: the size is checked before anything is parsed, the text
//! must be UTF-8, and the `version` is read before the fields, so that a file written for
//! another version says so instead of listing the fields this version does not know.

use std::cell::OnceCell;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, IgnoredAny, MapAccess};
use serde_saphyr::{DuplicateKeyPolicy, Options, Spanned};

use super::diagnose;
use super::error::{quoted, ConfigError, FieldPath, Position};
use super::locate::{position, Part, PathIndex};
use super::Source;

/// The largest configuration file read, in bytes (1 MiB). Real files are a few kilobytes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// The deepest nesting of mappings and lists. The deepest real field is six levels down.
pub const MAX_DEPTH: usize = 24;
/// The most YAML aliases (`*name`) a file may use.
pub const MAX_ALIASES: usize = 1_000;
/// The most nodes (scalars, lists, mappings) a file may hold, aliases expanded.
pub const MAX_NODES: usize = 100_000;
/// The most events that replaying aliases may add to the file.
pub const MAX_REPLAYED_EVENTS: usize = 20_000;

/// The decoded text of one configuration file, with a path index built when an error needs it.
pub(crate) struct Document {
    name: String,
    text: String,
    index: OnceCell<Option<PathIndex>>,
}

impl Document {
    /// Checks the size and the encoding of `source`. A UTF-8 byte-order mark is dropped, so
    /// that columns on the first line are the ones an editor shows.
    pub(crate) fn decode(source: &Source) -> Result<Document, ConfigError> {
        let name = source.name.as_str();
        let size = source.text.len();
        if size > MAX_FILE_BYTES {
            return Err(too_large(name, u64::try_from(size).unwrap_or(u64::MAX)));
        }
        let text = std::str::from_utf8(&source.text).map_err(|e| not_utf8(name, source, e))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if is_blank(text) {
            return Err(ConfigError::in_file(name, "the file is empty").with_hint(
                "a configuration starts with `version: 1` (the README's quick start has a starter file)",
            ));
        }
        Ok(Document {
            name: name.to_owned(),
            text: text.to_owned(),
            index: OnceCell::new(),
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Reads the file as `T`, after checking that it is a mapping with `version: 1`.
    pub(crate) fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.check_version()?;
        serde_saphyr::from_str_with_options(&self.text, options(DuplicateKeyPolicy::Error))
            .map_err(|e| diagnose::yaml_error(self, &e))
    }

    /// An error about the node at `path`, placed at its key or value.
    pub(crate) fn error_at(
        &self,
        path: &FieldPath,
        part: Part,
        message: impl Into<String>,
    ) -> ConfigError {
        let position = self.index().and_then(|i| i.position_of(path, part));
        ConfigError::in_file(&self.name, message)
            .at(position)
            .at_field(path)
    }

    /// The path of the node at `position` (see [`PathIndex::path_at`]).
    pub(crate) fn path_at(&self, position: Position) -> Option<FieldPath> {
        self.index()?.path_at(position)
    }

    /// Where the value at `path` starts.
    pub(crate) fn position_of(&self, path: &FieldPath) -> Option<Position> {
        self.index()?.position_of(path, Part::Value)
    }

    /// The path of the mapping a missing-field error at `position` means.
    pub(crate) fn mapping_at(&self, position: Position) -> Option<FieldPath> {
        self.index()?.mapping_at(position)
    }

    fn index(&self) -> Option<&PathIndex> {
        // Duplicate keys are passed through so that the second of two equal keys has a path.
        let build = || PathIndex::build(&self.text, options(DuplicateKeyPolicy::PassThrough));
        self.index.get_or_init(build).as_ref()
    }

    fn check_version(&self) -> Result<(), ConfigError> {
        let root: Root =
            serde_saphyr::from_str_with_options(&self.text, options(DuplicateKeyPolicy::Error))
                .map_err(|e| diagnose::yaml_error(self, &e))?;
        let version = match root {
            Root::Mapping(Some(version)) => version,
            Root::Mapping(None) => {
                return Err(
                    ConfigError::in_file(&self.name, "the file has no `version`")
                        .at(Some(Position { line: 1, column: 1 }))
                        .with_hint("add `version: 1` as the first line"),
                );
            }
            Root::Other(found) => {
                return Err(ConfigError::in_file(
                    &self.name,
                    format!("the file holds {found}, but a configuration is a mapping of fields"),
                )
                .at(Some(Position { line: 1, column: 1 }))
                .with_hint("start the file with `version: 1`, then one `field: value` per line"));
            }
        };
        let path = FieldPath::root().key("version");
        let error = |message: String, hint: &str| {
            ConfigError::in_file(&self.name, message)
                .at(Some(position(&version.referenced)))
                .at_field(&path)
                .with_hint(hint)
        };
        match version.value {
            VersionValue::Number(1) => Ok(()),
            VersionValue::Number(n) if n > 1 => Err(error(
                format!("this file is written for version {n} of the format, and this deploylink reads version 1"),
                "upgrade deploylink, or write the file in the version 1 format",
            )),
            VersionValue::Number(n) => Err(error(
                format!("`version` is {n}; the only version is 1"),
                "write `version: 1`",
            )),
            VersionValue::Text(text) => Err(error(
                format!("`version` is the string {}, not the number 1", quoted(&text)),
                "write `version: 1` without quotes",
            )),
            VersionValue::Other(found) => Err(error(
                format!("`version` is {found}, not the number 1"),
                "write `version: 1`",
            )),
        }
    }
}

/// The parser's options: duplicate keys are errors, YAML 1.1 booleans (`yes`, `on`) are not
/// booleans, and every budget is sized for a configuration file, so that an alias bomb or an
/// absurdly nested file fails in milliseconds instead of exhausting memory.
pub(crate) fn options(duplicates: DuplicateKeyPolicy) -> Options {
    let budget = serde_saphyr::budget! {
        max_depth: MAX_DEPTH,
        flow_nesting_limit: MAX_DEPTH,
        max_events: 2 * MAX_NODES,
        max_nodes: MAX_NODES,
        max_aliases: MAX_ALIASES,
        max_anchors: MAX_ALIASES,
        max_recorded_anchor_events: MAX_REPLAYED_EVENTS,
        max_recorded_anchor_bytes: 4 * MAX_FILE_BYTES,
        max_total_scalar_bytes: 4 * MAX_FILE_BYTES,
        max_merge_keys: MAX_ALIASES,
        max_documents: 1,
    };
    let mut aliases = serde_saphyr::options::AliasLimits::default();
    aliases.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    aliases.max_replay_stack_depth = 16;
    aliases.max_alias_expansions_per_anchor = MAX_ALIASES;
    serde_saphyr::options! {
        budget: budget,
        alias_limits: aliases,
        duplicate_keys: duplicates,
        strict_booleans: true,
        with_snippet: false,
    }
}

/// The error for a file over [`MAX_FILE_BYTES`], found before it is read or parsed.
pub(crate) fn too_large(name: &str, size: u64) -> ConfigError {
    ConfigError::in_file(
        name,
        format!(
            "the file is {} ({size} bytes), larger than the {} limit for a configuration file",
            human_size(size),
            human_size(MAX_FILE_BYTES as u64)
        ),
    )
    .with_hint("a deploylink configuration is a few kilobytes; check that this is the right file")
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        // One decimal is enough to see how far over the limit a file is.
        format!("{:.1} MiB", bytes as f64 / MIB as f64).replace(".0 MiB", " MiB")
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

fn not_utf8(name: &str, source: &Source, error: std::str::Utf8Error) -> ConfigError {
    let valid = &source.text[..error.valid_up_to()];
    let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    // Columns count characters, like the parser's; the valid prefix is UTF-8.
    let column = String::from_utf8_lossy(&valid[line_start..])
        .chars()
        .count()
        + 1;
    let byte = source.text.get(error.valid_up_to()).copied().unwrap_or(0);
    let position = Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    };
    ConfigError::in_file(
        name,
        format!("the file is not valid UTF-8 (byte 0x{byte:02x})"),
    )
    .at(Some(position))
    .with_hint("save the file as UTF-8")
}

/// Whether `text` holds no YAML node: only blank lines, comments and document markers.
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// The top of a file, read only for its kind and its `version`.
enum Root {
    Mapping(Option<Spanned<VersionValue>>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Root, D::Error> {
        deserializer.deserialize_any(RootVisitor)
    }
}

struct RootVisitor;

impl<'de> de::Visitor<'de> for RootVisitor {
    type Value = Root;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Root, A::Error> {
        let mut version = None;
        while let Some(key) = map.next_key::<Option<String>>()? {
            if key.as_deref() == Some("version") {
                version = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Root::Mapping(version))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Root, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Root::Other("a list"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Root, E> {
        Ok(Root::Other("a single string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Root, E> {
        Ok(Root::Other("a single boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Root, E> {
        Ok(Root::Other("a single number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Root, E> {
        Ok(Root::Other("a single number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Root, E> {
        Ok(Root::Other("a single number"))
    }
    fn visit_unit<E>(self) -> Result<Root, E> {
        Ok(Root::Other("only `null`"))
    }
}

/// The value of `version`, in whatever type it was written.
enum VersionValue {
    Number(i128),
    Text(String),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for VersionValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<VersionValue, D::Error> {
        deserializer.deserialize_any(VersionVisitor)
    }
}

struct VersionVisitor;

impl<'de> de::Visitor<'de> for VersionVisitor {
    type Value = VersionValue;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the number 1")
    }

    fn visit_i64<E>(self, v: i64) -> Result<VersionValue, E> {
        Ok(VersionValue::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<VersionValue, E> {
        Ok(VersionValue::Number(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<VersionValue, E> {
        Ok(VersionValue::Number(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<VersionValue, E> {
        Ok(VersionValue::Number(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E>(self, _: f64) -> Result<VersionValue, E> {
        Ok(VersionValue::Other("a fractional number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<VersionValue, E> {
        Ok(VersionValue::Text(v.to_owned()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<VersionValue, E> {
        Ok(VersionValue::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<VersionValue, E> {
        Ok(VersionValue::Other("empty"))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<VersionValue, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(VersionValue::Other("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<VersionValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(VersionValue::Other("a mapping"))
    }
}
