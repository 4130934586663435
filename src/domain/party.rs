//! Parties to an order (shipper, consignee, payer) and their addresses.

use serde::{Deserialize, Serialize};

/// An ISO 3166-1 alpha-2 country code, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);

impl CountryCode {
    /// Accepts two ASCII letters, excluding the user-assigned codes (AA, QM–QZ,
    /// XA–XZ, ZZ) that no country holds.
    pub fn parse(value: &str) -> Result<Self, String> {
        let code = value.trim().to_ascii_uppercase();
        let letters = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
        let user_assigned = code == "AA"
            || code == "ZZ"
            || code.starts_with('X')
            || (code.starts_with('Q') && code.as_bytes().get(1).is_some_and(|b| *b >= b'M'));
        if !letters || user_assigned {
            return Err(format!(
                "`{value}` is not an ISO 3166-1 alpha-2 country code"
            ));
        }
        Ok(Self(code))
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> String {
        value.0
    }
}

/// A named party with its address and contact details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Party {
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
}

impl Party {
    /// The parts a deliverable address lacks: street, postal code, city, country.
    pub fn missing_address_parts(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        if blank(&self.address_one) {
            missing.push("address_one");
        }
        if blank(&self.postal_code) {
            missing.push("postal_code");
        }
        if blank(&self.city) {
            missing.push("city");
        }
        if self.country.is_none() {
            missing.push("country");
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_normalised_and_user_assigned_codes_rejected() {
        assert_eq!(CountryCode::parse("nl").unwrap().as_str(), "NL");
        for bad in ["ZZ", "XK1", "QZ", "D", "1A", "AA"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_address_lists_what_it_lacks() {
        let party = Party {
            name: Some("somewhere near the station".into()),
            ..Party::default()
        };
        assert_eq!(
            party.missing_address_parts(),
            ["address_one", "postal_code", "city", "country"]
        );
    }
}
