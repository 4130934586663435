//! Mappings from payload values to canonical fields.
//!
//! `compile` turns the `[rule.map]` table into a tree checked against the
//! canonical schema; `eval` walks that tree over a payload, producing the
//! canonical document and findings in one pass.

mod compile;
mod eval;
mod eval_scalar;
mod scalar;

pub(crate) use compile::{Compiler, RuleDates, compile_mapping, required_problems};
pub(crate) use eval::{EvalCtx, Status, Statuses, eval_document};
pub(crate) use scalar::{compile_formats, parse_zone};

use super::condition::Condition;
use super::datetime::DateSpec;
use super::model::Severity;
use super::path::JsonPathExpr;
use super::schema::{FieldDef, ObjectSchema};
use super::transform::Transform;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A named lookup table shared by every rule of a set.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    pub name: String,
    pub entries: HashMap<String, Value>,
}

/// The compiled mapping of one object (entity, party, item …).
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    pub schema: &'static ObjectSchema,
    pub fields: Vec<FieldMap>,
}

/// How one canonical field gets its value.
#[derive(Debug, Clone)]
pub(crate) struct FieldMap {
    pub def: &'static FieldDef,
    pub kind: FieldKind,
}

#[derive(Debug, Clone)]
pub(crate) enum FieldKind {
    Scalar(Box<ScalarMap>),
    Object(Box<Nested>),
    List(Vec<Nested>),
}

/// A nested object (or list elements) read from `path`, or from the current item without one.
#[derive(Debug, Clone)]
pub(crate) struct Nested {
    pub path: Option<JsonPathExpr>,
    pub mapping: Mapping,
}

/// Source, transforms and checks of a single-valued (or string-list) field.
#[derive(Debug, Clone)]
pub(crate) struct ScalarMap {
    pub source: Source,
    pub transforms: Vec<Transform>,
    pub lookup: Option<Arc<Lookup>>,
    pub on_unknown: Severity,
    /// Already coerced to the field type at load time.
    pub default: Option<Value>,
    pub dates: DateSpec,
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Path(JsonPathExpr),
    /// Already coerced to the field type at load time.
    Literal(Value),
    Concat {
        parts: Vec<Part>,
        separator: String,
    },
    /// Paths tried in order; the first value that survives the field's transforms wins.
    FirstOf(Vec<JsonPathExpr>),
    /// The first case whose condition holds on the current item maps the field.
    Cases(Vec<Case>),
}

/// One entry of `cases`: a condition (none: always) and how the field is read then.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub when: Option<Condition>,
    pub map: ScalarMap,
}

#[derive(Debug, Clone)]
pub(crate) enum Part {
    Path(JsonPathExpr),
    Text(String),
}

impl Mapping {
    /// The mapping of a field, if the rule maps it.
    pub fn get(&self, name: &str) -> Option<&FieldMap> {
        self.fields.iter().find(|f| f.def.name == name)
    }
}
