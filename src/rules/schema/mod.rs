//! The canonical schema: which fields each entity has, their types, and
//! which are required for which operation. Rules can only map fields listed here.

mod countries;
mod entities;

pub(crate) use countries::is_country;
pub(crate) use entities::{default_identity, entity_schema};

use super::model::Operation;

/// Type of a canonical field; decides coercion and validation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldType {
    Str,
    NonNegative,
    /// A whole number of zero or more (pallets, packages).
    Count,
    Bool,
    /// ISO 8601 with offset; naive values need a declared zone.
    DateTime,
    /// `YYYY-MM-DD`.
    Date,
    /// ISO 3166-1 alpha-2.
    Country,
    Enum(&'static [&'static str]),
    /// Loosely checked e-mail address (a bad one is a warning).
    Email,
    /// MIME type on the document allow-list.
    Mime,
    /// Base64 content under the size limit.
    Base64,
    StrList,
    /// Map of label name to list of strings.
    LabelMap,
    Object(&'static ObjectSchema),
    ObjectList(&'static ObjectSchema),
}

/// When a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Req {
    Optional,
    /// Required when the operation creates the record (create, attach).
    Create,
    /// Required for every operation.
    Always,
}

/// One canonical field.
#[derive(Debug)]
pub(crate) struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
    pub req: Req,
    /// Names a master-data record: the payload path it came from is kept.
    pub refers: bool,
}

/// Extra whole-object checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectCheck {
    None,
    /// A party: its address must be complete when any part is given.
    Address,
    /// A time window: end must not be before start.
    Window,
}

/// Fields of an entity or nested object.
#[derive(Debug)]
pub(crate) struct ObjectSchema {
    pub name: &'static str,
    pub fields: &'static [FieldDef],
    /// Groups of which at least one field must be present (e.g. document target).
    pub any_of: &'static [&'static [&'static str]],
    pub check: ObjectCheck,
}

impl ObjectSchema {
    /// Looks a field up by name.
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The known field closest to a misspelt name.
    pub fn suggest(&self, name: &str) -> Option<&'static str> {
        self.fields
            .iter()
            .map(|f| (edit_distance(name, f.name), f.name))
            .filter(|(d, n)| *d <= 2.max(n.len() / 4))
            .min()
            .map(|(_, n)| n)
    }
}

impl FieldDef {
    /// Whether the field must be present for `op`.
    pub fn required_for(&self, op: Operation) -> bool {
        match self.req {
            Req::Optional => false,
            Req::Always => true,
            Req::Create => matches!(op, Operation::Create | Operation::Attach),
        }
    }
}

impl FieldType {
    /// True for single values (usable in identity, validate and date settings).
    pub fn is_scalar(self) -> bool {
        !matches!(
            self,
            FieldType::StrList
                | FieldType::LabelMap
                | FieldType::Object(_)
                | FieldType::ObjectList(_)
        )
    }

    /// True for types parsed as dates or date-times.
    pub fn is_temporal(self) -> bool {
        matches!(self, FieldType::DateTime | FieldType::Date)
    }

    /// Short description for messages and docs.
    pub fn describe(self) -> String {
        match self {
            FieldType::Str => "string".into(),
            FieldType::NonNegative => "non-negative number".into(),
            FieldType::Count => "whole number of zero or more".into(),
            FieldType::Bool => "boolean".into(),
            FieldType::DateTime => "date-time".into(),
            FieldType::Date => "date".into(),
            FieldType::Country => "country code".into(),
            FieldType::Enum(values) => format!("one of {}", values.join(", ")),
            FieldType::Email => "e-mail address".into(),
            FieldType::Mime => "MIME type".into(),
            FieldType::Base64 => "base64 content".into(),
            FieldType::StrList => "list of strings".into(),
            FieldType::LabelMap => "map of label to list of strings".into(),
            FieldType::Object(s) => format!("{} object", s.name),
            FieldType::ObjectList(s) => format!("list of {} objects", s.name),
        }
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelt field names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let best = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            cur.push(best);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::super::model::Entity;
    use super::*;

    #[test]
    fn misspelt_fields_get_a_suggestion() {
        let order = entity_schema(Entity::Order);
        assert_eq!(order.suggest("custmer"), Some("customer"));
        assert_eq!(order.suggest("zzzzzzzz"), None);
    }

    #[test]
    fn country_list_is_real() {
        assert!(is_country("GB") && is_country("DE") && is_country("NL"));
        assert!(!is_country("ZZ") && !is_country("UK"));
    }
}

/// A canonical field as rules see it, for tools and tests that walk the whole
/// schema: its name, the kind of value it takes, and for an object or a list of
/// objects, their fields.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CanonicalField {
    pub name: &'static str,
    /// `text`, `number`, `count`, `boolean`, `date-time`, `date`, `country`, `enum`,
    /// `email`, `mime`, `base64`, `text list`, `labels`, `object` or `list`.
    pub kind: &'static str,
    /// An enum's values.
    pub values: &'static [&'static str],
    pub fields: Vec<CanonicalField>,
}

/// The canonical fields of `entity`, in schema order.
pub fn canonical_fields(entity: super::model::Entity) -> Vec<CanonicalField> {
    fields_of(entity_schema(entity))
}

fn fields_of(schema: &'static ObjectSchema) -> Vec<CanonicalField> {
    schema
        .fields
        .iter()
        .map(|def| {
            let (kind, values, fields) = match def.ty {
                FieldType::Str => ("text", &[][..], Vec::new()),
                FieldType::NonNegative => ("number", &[][..], Vec::new()),
                FieldType::Count => ("count", &[][..], Vec::new()),
                FieldType::Bool => ("boolean", &[][..], Vec::new()),
                FieldType::DateTime => ("date-time", &[][..], Vec::new()),
                FieldType::Date => ("date", &[][..], Vec::new()),
                FieldType::Country => ("country", &[][..], Vec::new()),
                FieldType::Enum(values) => ("enum", values, Vec::new()),
                FieldType::Email => ("email", &[][..], Vec::new()),
                FieldType::Mime => ("mime", &[][..], Vec::new()),
                FieldType::Base64 => ("base64", &[][..], Vec::new()),
                FieldType::StrList => ("text list", &[][..], Vec::new()),
                FieldType::LabelMap => ("labels", &[][..], Vec::new()),
                FieldType::Object(sub) => ("object", &[][..], fields_of(sub)),
                FieldType::ObjectList(sub) => ("list", &[][..], fields_of(sub)),
            };
            CanonicalField {
                name: def.name,
                kind,
                values,
                fields,
            }
        })
        .collect()
}
