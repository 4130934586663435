//! Public value types shared by loading, processing and explaining.

use serde::Serialize;
use std::fmt;

/// What a payload asks freightgate to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Create a new record.
    Create,
    /// Change an existing record.
    Update,
    /// Cancel an existing record.
    Cancel,
    /// Attach a child record (pallet event, document, reference) to an existing parent.
    Attach,
}

/// The kind of canonical record a payload is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A trailer visit with its orders.
    Shipment,
    /// A customer order with parties, windows and items.
    Order,
    /// A pallet movement observed at a dock.
    Pallet,
    /// A file such as a POD or CMR.
    Document,
    /// A reference number attached to an order or shipment.
    Reference,
    /// An operational exception on a shipment or pallet.
    Exception,
    /// A customer or subcontractor (master data; cancel archives it).
    Party,
    /// A driver, vehicle or trailer (master data; cancel archives it).
    Resource,
    /// A facility's SKU (master data; cancel archives it).
    Sku,
}

/// What to do when a create finds an existing record with the same identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DuplicatePolicy {
    /// Refuse the payload (409 upstream).
    #[default]
    Reject,
    /// Treat the create as an update of the existing record.
    Upsert,
}

/// How an update applies the mapped fields to the stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMode {
    /// Only fields present in the document change.
    #[default]
    Patch,
    /// The document replaces the record; absent fields are cleared.
    Replace,
}

/// How nested items in an update (or upserting create) combine with stored items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ItemsMode {
    /// The payload's items replace all stored items.
    Overwrite,
    /// Items matching a stored item (identifier, LPN or SKU) are updated, others added.
    #[default]
    Merge,
    /// Every payload item is added.
    Append,
    /// Stored items matching a payload item are removed.
    Delete,
}

/// How serious a finding is: errors reject the item, warnings are reported only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The item cannot be accepted.
    Error,
    /// The item is accepted; the sender should fix this.
    Warning,
}

/// One validation result, pointing into the sender's payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Stable snake_case code, e.g. `missing_field`, `invalid_country`.
    pub code: String,
    /// JSONPath into the sender's payload (or the path the mapping would have read).
    pub path: String,
    /// Canonical field the finding is about, e.g. `shipper.country` (empty when none).
    pub field: String,
    /// Message a TMS operator understands.
    pub detail: String,
}

impl Finding {
    /// Builds an error finding.
    pub fn error(code: &str, path: &str, field: &str, detail: String) -> Self {
        Self::new(Severity::Error, code, path, field, detail)
    }

    /// Builds a finding of the given severity.
    pub fn new(severity: Severity, code: &str, path: &str, field: &str, detail: String) -> Self {
        Finding {
            severity,
            code: code.to_string(),
            path: path.to_string(),
            field: field.to_string(),
            detail,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev} {} at {}: {}", self.code, self.path, self.detail)
    }
}

/// The parts of a rule later pipeline stages need to store the result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSummary {
    /// Unique rule name.
    pub name: String,
    /// Operation the payload becomes.
    pub operation: Operation,
    /// Entity the payload is about.
    pub entity: Entity,
    /// Canonical fields that find an existing record.
    pub identity: Vec<String>,
    /// Create behaviour when the identity already exists.
    pub on_duplicate: DuplicatePolicy,
    /// Update behaviour.
    pub update_mode: UpdateMode,
    /// How nested items combine with stored ones.
    pub items_mode: ItemsMode,
}

/// One canonical document produced from a payload (one per `for_each` item).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappedItem {
    /// Position of the item in the batch (0 without `for_each`).
    pub index: usize,
    /// JSONPath of the item in the payload, e.g. `$` or `$.orders[2]`.
    pub source_path: String,
    /// Canonical fields.
    pub document: serde_json::Value,
    /// Validation findings for this item.
    pub findings: Vec<Finding>,
    /// Where each field naming a master-data record (an order's `customer`, an
    /// item's `sku`, a resource's `owner`) was read, by canonical path
    /// (`items[2].sku`) to payload path.
    #[serde(skip)]
    pub references: std::collections::BTreeMap<String, String>,
}

impl MappedItem {
    /// True when no finding is an error.
    pub fn is_accepted(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Error)
    }
}

/// Result of classifying, mapping and validating one payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The rule that matched, if any.
    pub rule: Option<RuleSummary>,
    /// Mapped documents, one per `for_each` item.
    pub items: Vec<MappedItem>,
}

impl Operation {
    /// Name as written in rules files.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Cancel => "cancel",
            Operation::Attach => "attach",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        [Self::Create, Self::Update, Self::Cancel, Self::Attach]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

impl Entity {
    /// Name as written in rules files.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Shipment => "shipment",
            Entity::Order => "order",
            Entity::Pallet => "pallet",
            Entity::Document => "document",
            Entity::Reference => "reference",
            Entity::Exception => "exception",
            Entity::Party => "party",
            Entity::Resource => "resource",
            Entity::Sku => "sku",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        use Entity::*;
        [
            Shipment, Order, Pallet, Document, Reference, Exception, Party, Resource, Sku,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }

    /// Operations that make sense for this entity.
    pub fn operations(self) -> &'static [Operation] {
        use Operation::*;
        match self {
            Entity::Shipment | Entity::Order | Entity::Party | Entity::Resource | Entity::Sku => {
                &[Create, Update, Cancel]
            }
            Entity::Pallet | Entity::Document | Entity::Reference => &[Attach],
            Entity::Exception => &[Create, Attach],
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Severity {
    /// Parses `error` / `warning`.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            _ => None,
        }
    }
}
