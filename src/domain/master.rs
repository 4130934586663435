//! Master data: the parties a business works for and with, the resources it plans
//! with, and the SKUs each facility expects. Each is found by its code and keeps
//! the fields below; the same field names serve rules, REST and events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::party::CountryCode;
use crate::error::FieldError;

/// Which master data a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MasterEntity {
    Party,
    Resource,
    Sku,
}

impl MasterEntity {
    /// The name stored and used in events (`party.created`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            MasterEntity::Party => "party",
            MasterEntity::Resource => "resource",
            MasterEntity::Sku => "sku",
        }
    }

    /// What messages call it.
    pub const fn noun(self) -> &'static str {
        match self {
            MasterEntity::Party => "party",
            MasterEntity::Resource => "resource",
            MasterEntity::Sku => "SKU",
        }
    }
}

/// What a party is to the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartyRole {
    /// Orders work for it; a customer key sees only its own orders.
    Customer,
    /// It carries out trips; a subcontractor key sees only the shipments assigned to it.
    Subcontractor,
}

impl PartyRole {
    /// The role as stored and written.
    pub const fn as_str(self) -> &'static str {
        match self {
            PartyRole::Customer => "CUSTOMER",
            PartyRole::Subcontractor => "SUBCONTRACTOR",
        }
    }
}

/// What a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceKind {
    Driver,
    Vehicle,
    Trailer,
}

impl ResourceKind {
    /// The kind as stored and written.
    pub const fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Driver => "DRIVER",
            ResourceKind::Vehicle => "VEHICLE",
            ResourceKind::Trailer => "TRAILER",
        }
    }
}

/// A person to talk to at a party.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: Option<String>,
    /// What they do for the party, e.g. `planning` or `invoicing`.
    pub role: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A customer or subcontractor of the business.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyFields {
    /// Required when the party is created.
    pub role: Option<PartyRole>,
    pub name: Option<String>,
    pub address_one: Option<String>,
    pub address_two: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `NL`.
    #[schema(value_type = Option<String>, min_length = 2, max_length = 2)]
    pub country: Option<CountryCode>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub vat_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<Contact>>,
    pub notes: Option<String>,
}

/// When a resource can be planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A driver, vehicle or trailer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceFields {
    /// Required when the resource is created.
    pub kind: Option<ResourceKind>,
    pub name: Option<String>,
    /// The code of the subcontractor that owns it; none when the business owns it.
    pub owner: Option<String>,
    pub license_plate: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The windows in which it can be planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Vec<Availability>>,
    pub notes: Option<String>,
}

/// A SKU a facility expects, with Kargo's SKU master fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuFields {
    pub description: Option<String>,
    pub unit_of_measure: Option<String>,
    pub unit_of_weight: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_sku_ids: Option<Vec<String>>,
    /// Free text, often JSON, kept as sent.
    pub sku_metadata: Option<String>,
    #[schema(minimum = 0, maximum = 1000000)]
    pub cases_per_pallet: Option<u32>,
    #[schema(minimum = 0, maximum = 1000000)]
    pub cases_per_layer: Option<u32>,
    #[schema(minimum = 0, maximum = 1000000)]
    pub layers_per_pallet: Option<u32>,
}

/// The largest count a SKU's pallet geometry takes.
pub const MAX_SKU_COUNT: u32 = 1_000_000;

/// The limit on each text field of a master record.
pub const MAX_TEXT: usize = 1024;

fn check_text(at: &str, value: Option<&str>, errors: &mut Vec<FieldError>) {
    if let Some(text) = value {
        let length = text.chars().count();
        if length > MAX_TEXT {
            errors.push(FieldError::new(
                at,
                format!("must be at most {MAX_TEXT} characters; it has {length}"),
            ));
        }
    }
}

impl PartyFields {
    /// What is wrong with these fields, by JSONPath under `at`.
    pub fn problems(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (name, value) in [
            ("name", &self.name),
            ("address_one", &self.address_one),
            ("address_two", &self.address_two),
            ("city", &self.city),
            ("state", &self.state),
            ("postal_code", &self.postal_code),
            ("phone", &self.phone),
            ("email", &self.email),
            ("vat_number", &self.vat_number),
            ("notes", &self.notes),
        ] {
            check_text(&format!("{at}.{name}"), value.as_deref(), &mut errors);
        }
        for (i, c) in self.contacts.iter().flatten().enumerate() {
            for (name, value) in [
                ("name", &c.name),
                ("role", &c.role),
                ("phone", &c.phone),
                ("email", &c.email),
            ] {
                check_text(
                    &format!("{at}.contacts[{i}].{name}"),
                    value.as_deref(),
                    &mut errors,
                );
            }
        }
        errors
    }
}

impl ResourceFields {
    /// What is wrong with these fields, by JSONPath under `at`.
    pub fn problems(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (name, value) in [
            ("name", &self.name),
            ("owner", &self.owner),
            ("license_plate", &self.license_plate),
            ("phone", &self.phone),
            ("email", &self.email),
            ("notes", &self.notes),
        ] {
            check_text(&format!("{at}.{name}"), value.as_deref(), &mut errors);
        }
        for (i, window) in self.availability.iter().flatten().enumerate() {
            if window.end < window.start {
                errors.push(FieldError::new(
                    format!("{at}.availability[{i}].end"),
                    "the window ends before it starts",
                ));
            }
        }
        errors
    }
}

impl SkuFields {
    /// What is wrong with these fields, by JSONPath under `at`.
    pub fn problems(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (name, value) in [
            ("description", &self.description),
            ("unit_of_measure", &self.unit_of_measure),
            ("unit_of_weight", &self.unit_of_weight),
            ("sku_metadata", &self.sku_metadata),
        ] {
            check_text(&format!("{at}.{name}"), value.as_deref(), &mut errors);
        }
        for (name, value) in [
            ("cases_per_pallet", self.cases_per_pallet),
            ("cases_per_layer", self.cases_per_layer),
            ("layers_per_pallet", self.layers_per_pallet),
        ] {
            if value.is_some_and(|n| n > MAX_SKU_COUNT) {
                errors.push(FieldError::new(
                    format!("{at}.{name}"),
                    format!("must be at most {MAX_SKU_COUNT}"),
                ));
            }
        }
        for (i, alternate) in self.alternate_sku_ids.iter().flatten().enumerate() {
            check_text(
                &format!("{at}.alternate_sku_ids[{i}]"),
                Some(alternate),
                &mut errors,
            );
        }
        errors
    }
}

/// Whom an API key acts for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KeyRole {
    /// The business itself: its keys see and change everything of the business.
    #[default]
    Tenant,
    /// One customer, by its party code: the key sees and changes only that
    /// customer's orders, and reads the shipments that carry them.
    Customer(String),
    /// One subcontractor, by its party code: the key sees only the shipments
    /// assigned to it, and reports how their stops went.
    Subcontractor(String),
}

impl KeyRole {
    /// The role's name as written in `keys create --role` and `keys list`.
    pub fn name(&self) -> &'static str {
        match self {
            KeyRole::Tenant => "tenant",
            KeyRole::Customer(_) => "customer",
            KeyRole::Subcontractor(_) => "subcontractor",
        }
    }

    /// The customer a customer key is bound to.
    pub fn customer(&self) -> Option<&str> {
        match self {
            KeyRole::Customer(code) => Some(code),
            KeyRole::Tenant | KeyRole::Subcontractor(_) => None,
        }
    }

    /// The subcontractor a subcontractor key is bound to.
    pub fn subcontractor(&self) -> Option<&str> {
        match self {
            KeyRole::Subcontractor(code) => Some(code),
            KeyRole::Tenant | KeyRole::Customer(_) => None,
        }
    }

    /// The party a role-bound key acts for.
    pub fn party(&self) -> Option<&str> {
        match self {
            KeyRole::Customer(code) | KeyRole::Subcontractor(code) => Some(code),
            KeyRole::Tenant => None,
        }
    }

    /// The role stored as `role` and `party`; an unknown stored role reads as a
    /// customer of no party, which sees nothing.
    pub fn from_stored(role: Option<&str>, party: Option<&str>) -> Self {
        match role {
            None | Some("tenant") => KeyRole::Tenant,
            Some("subcontractor") => KeyRole::Subcontractor(party.unwrap_or_default().to_string()),
            Some(_) => KeyRole::Customer(party.unwrap_or_default().to_string()),
        }
    }
}
