//! Text newtypes: identifiers that are trimmed, NFC-normalised, non-empty, bounded
//! and free of invisible characters. Identifiers are case-sensitive: `so-1` and
//! `SO-1` are two numbers; NFC and NFD spellings of one number are one.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, FieldError, ProblemCode};

/// Why a value is not an identifier, with the code the answer carries:
/// `missing_field` (empty), `too_long` or `forbidden_character`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierError {
    pub code: ProblemCode,
    pub detail: String,
}

impl IdentifierError {
    /// The error for the field at `path`: `too_long` and `forbidden_character` answer
    /// under their own code, an empty value as any missing field does
    /// (`validation_failed`).
    pub fn at(self, path: impl Into<String>) -> Error {
        let field = FieldError::new(path, self.detail);
        let code = match self.code {
            ProblemCode::MissingField => ProblemCode::ValidationFailed,
            own => own,
        };
        Error::Invalid {
            code,
            detail: format!("{}: {}", field.path, field.detail),
            errors: vec![field],
        }
    }
}

impl std::fmt::Display for IdentifierError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl From<IdentifierError> for String {
    fn from(error: IdentifierError) -> String {
        error.detail
    }
}

/// Characters no identifier may hold though they print as nothing or reorder what
/// is around them: format characters (soft hyphen, zero-width space and joiners,
/// word joiner, byte-order mark, …) and the bidirectional marks, embeddings,
/// overrides and isolates.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// Checks the rules every identifier shares; `what` names it in the message.
fn check_identifier(value: &str, what: &str, max: usize) -> Result<String, IdentifierError> {
    let refuse = |code, detail| Err(IdentifierError { code, detail });
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return refuse(
            ProblemCode::MissingField,
            format!("{what} must not be empty"),
        );
    }
    if let Some(bad) = trimmed.chars().find(|c| c.is_control() || is_invisible(*c)) {
        return refuse(
            ProblemCode::ForbiddenCharacter,
            format!(
                "{what} holds U+{:04X}, a control, invisible or text-direction character, which identifiers may not hold",
                bad as u32
            ),
        );
    }
    let normal: String = trimmed.nfc().collect();
    let length = normal.chars().count();
    if length > max {
        return refuse(
            ProblemCode::TooLong,
            format!("{what} must be at most {max} characters; it has {length}"),
        );
    }
    Ok(normal)
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates, normalises (NFC) and wraps `value`.
            pub fn parse(value: &str) -> Result<Self, IdentifierError> {
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
                Self::parse(&value).map_err(String::from)
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
identifier!(
    /// A master-data record's code: a party's or resource's, unique within the
    /// business, or a SKU's id, unique within its facility.
    MasterCode, "code", 128
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

/// What went wrong, in an exception: free text (line breaks allowed), not blank,
/// at most [`ExceptionDescription::MAX`] characters, without NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionDescription(String);

impl ExceptionDescription {
    /// The longest description taken, in characters.
    pub const MAX: usize = 4000;

    /// Trims and wraps `value`, or says why it is not a description.
    pub fn parse(value: &str) -> Result<Self, String> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err("an exception needs a description: say what went wrong".into());
        }
        if trimmed.contains('\0') {
            return Err("a description may not hold NUL (U+0000)".into());
        }
        let length = trimmed.chars().count();
        if length > Self::MAX {
            return Err(format!(
                "a description must be at most {} characters; it has {length}",
                Self::MAX
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The description as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_trimmed_never_blank_and_bounded() {
        let parsed = ExceptionDescription::parse("  two pallets\nwet  ").unwrap();
        assert_eq!(parsed.as_str(), "two pallets\nwet");
        assert!(ExceptionDescription::parse(" \n\t ").is_err());
        assert!(ExceptionDescription::parse("a\0b").is_err());
        assert!(ExceptionDescription::parse(&"x".repeat(4001)).is_err());
        assert!(ExceptionDescription::parse(&"x".repeat(4000)).is_ok());
    }

    #[test]
    fn identifiers_are_trimmed_and_bounded() {
        assert_eq!(ShipmentNumber::parse("  NW-1 ").unwrap().as_str(), "NW-1");
        assert!(ShipmentNumber::parse("   ").is_err());
        assert!(OrderNumber::parse(&"x".repeat(129)).is_err());
        assert!(OrderNumber::parse("a\u{0}b").is_err());
    }

    #[test]
    fn identifiers_are_nfc_and_refuse_invisible_characters_under_their_own_codes() {
        let composed = OrderNumber::parse("CAF\u{00C9}-1").unwrap();
        let decomposed = OrderNumber::parse("CAFE\u{0301}-1").unwrap();
        assert_eq!(composed, decomposed);
        for bad in [
            "SO\u{200B}1",
            "\u{FEFF}SO-1x",
            "SO-\u{202E}1",
            "SO\u{2066}1",
            "SO\u{00AD}1",
        ] {
            let error = OrderNumber::parse(bad).unwrap_err();
            assert_eq!(error.code, ProblemCode::ForbiddenCharacter, "{bad:?}");
        }
        assert_eq!(
            OrderNumber::parse(&"x".repeat(129)).unwrap_err().code,
            ProblemCode::TooLong
        );
        assert_eq!(
            OrderNumber::parse(" ").unwrap_err().code,
            ProblemCode::MissingField
        );
        assert_ne!(
            OrderNumber::parse("so-1").unwrap(),
            OrderNumber::parse("SO-1").unwrap()
        );
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
