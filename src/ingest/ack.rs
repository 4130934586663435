//! Acknowledgements: what the sender gets back for a payload.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::apply::Issue;

/// Per-item outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Accepted,
    AcceptedWithWarnings,
    Rejected,
}

/// The result of one document (or one `for_each` item of it).
#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    /// Position of the document in the payload (array element, line, row).
    pub index: usize,
    /// Position of the item within the document when a rule splits it.
    pub item: usize,
    pub status: Status,
    pub operation: Option<&'static str>,
    pub entity: Option<&'static str>,
    pub id: Option<i64>,
    pub reference: Option<String>,
    pub rule: Option<String>,
    pub warnings: Vec<Issue>,
    pub errors: Vec<Issue>,
    #[serde(skip)]
    pub created: bool,
}

/// A finished answer: status and JSON body, replayable byte for byte.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl Reply {
    /// The acknowledgement for `results` (201 created, 200 changed, 207 mixed, 422 none).
    pub fn for_results(logging_id: &str, results: Vec<ItemResult>) -> Self {
        let rejected = results
            .iter()
            .filter(|r| r.status == Status::Rejected)
            .count();
        if rejected == results.len() {
            return Self::rejected(logging_id, results);
        }
        let warned = results.iter().any(|r| r.status != Status::Accepted);
        let status = match (rejected, results.iter().any(|r| r.created)) {
            (0, true) => StatusCode::CREATED,
            (0, false) => StatusCode::OK,
            _ => StatusCode::MULTI_STATUS,
        };
        let overall = if warned {
            Status::AcceptedWithWarnings
        } else {
            Status::Accepted
        };
        Self {
            status,
            body: serde_json::json!({ "status": overall, "logging_id": logging_id, "results": results }),
        }
    }

    fn rejected(logging_id: &str, results: Vec<ItemResult>) -> Self {
        let errors: Vec<&Issue> = results.iter().flat_map(|r| r.errors.iter()).collect();
        let first = errors
            .first()
            .map(|e| e.code.as_str())
            .unwrap_or("rejected");
        let code = if errors.iter().all(|e| e.code == first) {
            first
        } else {
            "rejected"
        };
        let code = match code {
            // Field-level codes roll up into one payload-level code.
            "no_matching_rule"
            | "duplicate"
            | "not_found"
            | "order_cancelled"
            | "shipment_cancelled"
            | "malformed_document"
            | "ambiguous_reference"
            | "unknown_facility"
            | "rejected" => code,
            _ => "validation_failed",
        };
        let detail = match errors.as_slice() {
            [only] => only.detail.clone(),
            many => format!(
                "the payload was rejected: {} problems, see `errors`",
                many.len()
            ),
        };
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: serde_json::json!({
                "type": format!("urn:freightgate:problem:{code}"),
                "title": "Unprocessable Entity",
                "status": 422,
                "detail": detail,
                "code": code,
                "logging_id": logging_id,
                "errors": errors,
                "results": results,
            }),
        }
    }

    /// A request-level problem (unreadable body) recorded with its logging id.
    pub fn problem(logging_id: &str, error: &crate::Error) -> Self {
        let mut body = serde_json::to_value(error.problem()).unwrap_or_default();
        body["logging_id"] = serde_json::Value::String(logging_id.to_string());
        Self {
            status: error.status(),
            body,
        }
    }

    /// The overall outcome word stored with the payload.
    pub fn outcome(&self) -> &'static str {
        match self.status.as_u16() {
            200 | 201 if self.body["status"] == "accepted" => "accepted",
            200 | 201 => "accepted_with_warnings",
            207 => "partially_accepted",
            _ => "rejected",
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let content_type = if self.status.is_client_error() || self.status.is_server_error() {
            "application/problem+json"
        } else {
            "application/json"
        };
        let body = serde_json::to_vec(&self.body).unwrap_or_default();
        (
            self.status,
            [(axum::http::header::CONTENT_TYPE, content_type)],
            body,
        )
            .into_response()
    }
}
