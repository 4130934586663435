//! The body formats of the unified endpoint: the readers are the rules engine's
//! (`rules::formats`, shared with the fixture runner); here their refusals become
//! problems.

pub use crate::rules::formats::{CsvDialect, Document, Format, strict_json};

use crate::error::Error;

/// The format a Content-Type names for a body `business` sent, by the rules'
/// readers and the built-in formats; anything else is a `415`.
pub fn format(
    rules: &crate::rules::RuleSet,
    business: &str,
    content_type: Option<&str>,
) -> Result<Format, Error> {
    rules.format(business, content_type).map_err(Error::from)
}

/// Splits `body` into documents (see [`crate::rules::formats::documents`]).
pub fn documents(format: Format, body: &[u8]) -> Result<Vec<Document>, Error> {
    crate::rules::formats::documents(format, body).map_err(Error::from)
}

/// [`documents`], refusing a body of more than `max` documents with
/// `413 too_many_documents` before any of them is parsed.
pub fn documents_at_most(format: Format, body: &[u8], max: usize) -> Result<Vec<Document>, Error> {
    crate::rules::formats::documents_at_most(format, body, max).map_err(Error::from)
}
