//! Text newtypes: identifiers that are trimmed, non-empty, bounded and printable.

use serde::{Deserialize, Serialize};

/// Checks the rules every identifier shares; `what` names it in the message.
fn check_identifier(value: &str, what: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(format!("{what} must be at most {max} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("{what} must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `value`.
            pub fn parse(value: &str) -> Result<Self, String> {
                check_identifier(value, $what, $max).map(Self)
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// A shipment's number, unique within its facility.
    ShipmentNumber, "shipment number", 128
);
identifier!(
    /// An order's number, unique within its facility.
    OrderNumber, "order number", 128
);

/// A URL-safe name for a business, facility or dock: letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Validates and wraps `value`.
    pub fn parse(value: &str) -> Result<Self, String> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if value.is_empty() || value.len() > 64 {
            return Err(format!("slug `{value}` must be 1 to 64 characters"));
        }
        if !value.chars().all(ok_char) || !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "slug `{value}` may only hold letters, digits, `.`, `_` and `-`, starting with a letter or digit"
            ));
        }
        Ok(Self(value.to_string()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> String {
        value.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_trimmed_and_bounded() {
        assert_eq!(ShipmentNumber::parse("  NW-1 ").unwrap().as_str(), "NW-1");
        assert!(ShipmentNumber::parse("   ").is_err());
        assert!(OrderNumber::parse(&"x".repeat(129)).is_err());
        assert!(OrderNumber::parse("a\u{0}b").is_err());
    }

    #[test]
    fn slugs_reject_spaces_and_leading_punctuation() {
        assert!(Slug::parse("rotterdam-dc").is_ok());
        assert!(Slug::parse("D07").is_ok());
        assert!(Slug::parse("-x").is_err());
        assert!(Slug::parse("a b").is_err());
        assert!(Slug::parse("").is_err());
    }
}
