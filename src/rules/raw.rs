//! The rules file format as written, before compilation.
//!
//! Every struct denies unknown keys so a typo is a load error, not a silently
//! ignored setting. Operation/entity and similar enums stay strings here so the
//! compiler can report all of a rule's problems at once with friendly wording.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// One rules file: rules and shared lookup tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub rule: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    pub lookup: BTreeMap<String, Spanned<BTreeMap<String, toml::Value>>>,
    #[serde(default)]
    pub reader: Vec<Spanned<RawReader>>,
}

/// One `[[reader]]` table: how a business's bodies of one media type are read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReader {
    pub name: String,
    #[serde(default)]
    pub business: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub charset: Option<String>,
    #[serde(default)]
    pub csv: Option<RawCsv>,
    #[serde(default)]
    pub fixed_width: Option<RawFixedWidth>,
}

/// A reader's CSV dialect.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCsv {
    pub delimiter: Option<String>,
    pub quote: Option<String>,
    pub header: Option<bool>,
}

/// A reader's fixed-width layout; columns are `[start, width]`, `start` from 1.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFixedWidth {
    pub record_type: Option<Vec<i64>>,
    pub record: Vec<RawRecord>,
}

/// One kind of line of a fixed-width file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRecord {
    #[serde(rename = "type")]
    pub code: Option<String>,
    pub under: Option<String>,
    #[serde(default)]
    pub ignore: bool,
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<i64>>,
}

/// One `[[rule]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub business: Option<String>,
    #[serde(default)]
    pub priority: i64,
    pub operation: String,
    pub entity: String,
    #[serde(rename = "match")]
    pub condition: RawCondition,
    #[serde(default)]
    pub for_each: Option<String>,
    #[serde(default)]
    pub identity: Option<Vec<String>>,
    #[serde(default)]
    pub on_duplicate: Option<String>,
    #[serde(default)]
    pub update_mode: Option<String>,
    #[serde(default)]
    pub items_mode: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub date_formats: Option<Vec<String>>,
    #[serde(default)]
    pub map: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub validate: Vec<RawValidate>,
}

/// A match condition: a leaf (`path` + one operator) or a combinator.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    pub path: Option<String>,
    pub exists: Option<bool>,
    pub absent: Option<bool>,
    pub equals: Option<toml::Value>,
    pub one_of: Option<Vec<toml::Value>>,
    pub regex: Option<String>,
    pub gt: Option<toml::Value>,
    pub gte: Option<toml::Value>,
    pub lt: Option<toml::Value>,
    pub lte: Option<toml::Value>,
    pub all: Option<Vec<RawCondition>>,
    pub any: Option<Vec<RawCondition>>,
    pub not: Option<Box<RawCondition>>,
}

/// The table form of a mapping entry.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawField {
    pub path: Option<String>,
    pub value: Option<toml::Value>,
    pub concat: Option<Vec<String>>,
    /// JSONPaths tried in order: the first that yields a value is read.
    pub first_of: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Names (`"trim"`) or one-key tables with parameters (`{ replace = [",", "."] }`).
    #[serde(default)]
    pub transform: Vec<toml::Value>,
    pub lookup: Option<String>,
    pub on_unknown: Option<String>,
    pub default: Option<toml::Value>,
    pub timezone: Option<String>,
    pub formats: Option<Vec<String>>,
    pub map: Option<BTreeMap<String, toml::Value>>,
    /// Entries tried in order: the first whose `when` holds (or that has none) maps
    /// the field.
    pub cases: Option<Vec<RawField>>,
    /// In a `cases` entry: the condition on the current item for the entry to apply.
    pub when: Option<RawCondition>,
}

/// One `[[rule.validate]]` check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawValidate {
    pub field: String,
    pub regex: Option<String>,
    pub one_of: Option<Vec<String>>,
    pub starts_with_field: Option<String>,
    pub starts_with_path: Option<String>,
    pub required: Option<bool>,
    pub message: Option<String>,
    pub code: Option<String>,
    pub severity: Option<String>,
}
