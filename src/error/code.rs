//! The stable problem codes clients switch on: one enum, so a code cannot be
//! misspelled in one place and the documented table can be checked against it.

use serde::{Serialize, Serializer};

macro_rules! problem_codes {
    ($($variant:ident => $text:literal,)+) => {
        /// A stable snake_case problem code (`code` in problem+json, in `errors[]` of an
        /// acknowledgement, and `extensions.code` in GraphQL).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemCode {
            $($variant,)+
        }

        impl ProblemCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)+];

            /// The code as clients see it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $text,)+
                }
            }

            /// The code named `text`, if it is one of ours (rules may define their own).
            pub fn parse(text: &str) -> Option<ProblemCode> {
                match text {
                    $($text => Some(ProblemCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

problem_codes! {
    // The request cannot be read.
    MalformedJson => "malformed_json",
    MalformedXml => "malformed_xml",
    MalformedEdi => "malformed_edi",
    InvalidEncoding => "invalid_encoding",
    MalformedCsv => "malformed_csv",
    MalformedFixedWidth => "malformed_fixed_width",
    EmptyPayload => "empty_payload",
    UnreadableBody => "unreadable_body",
    InvalidIdempotencyKey => "invalid_idempotency_key",
    InvalidPathParameter => "invalid_path_parameter",
    InvalidQueryParameter => "invalid_query_parameter",
    BadRequest => "bad_request",
    // Who may do what.
    Unauthorized => "unauthorized",
    Forbidden => "forbidden",
    // Routing and transport.
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    NotAcceptable => "not_acceptable",
    PreconditionFailed => "precondition_failed",
    PayloadTooLarge => "payload_too_large",
    UnsupportedMediaType => "unsupported_media_type",
    RateLimited => "rate_limited",
    TooManyConnections => "too_many_connections",
    TooManyInFlight => "too_many_in_flight",
    BodyTooSlow => "body_too_slow",
    TooManyDocuments => "too_many_documents",
    TooManySubscriptions => "too_many_subscriptions",
    TooManyDeliveries => "too_many_deliveries",
    // The content is understood but not acceptable.
    ValidationFailed => "validation_failed",
    NoMatchingRule => "no_matching_rule",
    Duplicate => "duplicate",
    OrderCancelled => "order_cancelled",
    ShipmentCancelled => "shipment_cancelled",
    AmbiguousReference => "ambiguous_reference",
    UnknownFacility => "unknown_facility",
    UnknownCustomer => "unknown_customer",
    UnknownParty => "unknown_party",
    UnknownSku => "unknown_sku",
    MalformedDocument => "malformed_document",
    Rejected => "rejected",
    UnsupportedOperation => "unsupported_operation",
    IdempotencyKeyReused => "idempotency_key_reused",
    IdempotencyInFlight => "idempotency_in_flight",
    TooManyEndpoints => "too_many_endpoints",
    SourceBusy => "source_busy",
    // Field findings inside `errors[]`.
    MissingField => "missing_field",
    TooLong => "too_long",
    ForbiddenCharacter => "forbidden_character",
    InvalidValue => "invalid_value",
    InvalidBase64 => "invalid_base64",
    UnknownOrder => "unknown_order",
    // GraphQL stages.
    GraphqlValidationFailed => "graphql_validation_failed",
    QueryTooDeep => "query_too_deep",
    QueryTooComplex => "query_too_complex",
    // Ours.
    Overloaded => "overloaded",
    Timeout => "timeout",
    Unavailable => "unavailable",
    Internal => "internal",
}

impl ProblemCode {
    /// Whether an acknowledgement whose items all failed with this code answers with
    /// it; any other item code rolls up into `validation_failed`.
    pub fn is_payload_level(self) -> bool {
        matches!(
            self,
            ProblemCode::NoMatchingRule
                | ProblemCode::Duplicate
                | ProblemCode::NotFound
                | ProblemCode::OrderCancelled
                | ProblemCode::ShipmentCancelled
                | ProblemCode::MalformedDocument
                | ProblemCode::AmbiguousReference
                | ProblemCode::UnknownFacility
                | ProblemCode::UnknownCustomer
                | ProblemCode::UnknownParty
                | ProblemCode::UnknownSku
                | ProblemCode::Forbidden
                | ProblemCode::Rejected
        )
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for ProblemCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for ProblemCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ProblemCode;

    #[test]
    fn every_code_parses_back_to_itself_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ProblemCode::ALL {
            assert_eq!(ProblemCode::parse(code.as_str()), Some(*code));
            assert!(seen.insert(code.as_str()), "{code} listed twice");
        }
        assert_eq!(ProblemCode::parse("pattern_mismatch"), None);
    }
}
