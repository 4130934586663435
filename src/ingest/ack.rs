//! Acknowledgements: what the sender gets back for a payload, typed; each door
//! renders it (HTTP as a status and a JSON body, GraphQL as fields).

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use super::apply::Issue;
use crate::error::{Error, ProblemCode};

/// Per-item outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Accepted,
    AcceptedWithWarnings,
    Rejected,
}

/// What became of a payload as a whole: one name each in the answer's `status`, the
/// stored payload record's `outcome` and GraphQL's `processPayload.message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every item accepted without warnings.
    Accepted,
    /// Every item accepted, some with warnings.
    AcceptedWithWarnings,
    /// Some items accepted, others rejected (the rejected ones wrote nothing).
    PartiallyAccepted,
    /// Nothing accepted: every item rejected, or the body could not be read.
    Rejected,
}

impl Outcome {
    /// The outcome as stored and answered.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::AcceptedWithWarnings => "accepted_with_warnings",
            Outcome::PartiallyAccepted => "partially_accepted",
            Outcome::Rejected => "rejected",
        }
    }
}

/// The result of one document (or one `for_each` item of it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemResult {
    /// Position of the document in the payload (array element, line, row).
    pub index: usize,
    /// Position of the item within the document when a rule splits it.
    pub item: usize,
    pub status: Status,
    /// `create`, `update`, `cancel` or `attach`.
    #[schema(value_type = Option<String>)]
    pub operation: Option<&'static str>,
    /// `shipment`, `order`, `pallet`, `document`, `reference` or `exception`.
    #[schema(value_type = Option<String>)]
    pub entity: Option<&'static str>,
    pub id: Option<crate::domain::PublicId>,
    pub reference: Option<String>,
    pub rule: Option<String>,
    pub warnings: Vec<Issue>,
    pub errors: Vec<Issue>,
    #[serde(skip)]
    pub created: bool,
}

/// Why a payload was refused as a whole.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: ProblemCode,
    pub detail: String,
    /// The body of a request-level problem, as the error renders it.
    pub problem: Option<Value>,
}

/// The acknowledgement of one payload.
#[derive(Debug, Clone)]
pub struct Ack {
    pub logging_id: String,
    pub outcome: Outcome,
    pub results: Vec<ItemResult>,
    /// Set when nothing was accepted.
    pub refusal: Option<Refusal>,
}

/// Largest answer stored with a payload record in full; a larger one is stored as
/// a summary with the rejected items.
pub const STORED_ANSWER_MAX_BYTES: usize = 256 * 1024;

/// An answer of at most this many items is stored without measuring it.
const SMALL_ANSWER_ITEMS: usize = 64;

impl Ack {
    /// The acknowledgement for `results` (every item's outcome).
    pub fn for_results(logging_id: &str, results: Vec<ItemResult>) -> Self {
        let rejected = results
            .iter()
            .filter(|r| r.status == Status::Rejected)
            .count();
        if rejected == results.len() {
            return Self::all_rejected(logging_id, results);
        }
        let outcome = if rejected > 0 {
            Outcome::PartiallyAccepted
        } else if results.iter().any(|r| r.status != Status::Accepted) {
            Outcome::AcceptedWithWarnings
        } else {
            Outcome::Accepted
        };
        Self {
            logging_id: logging_id.to_string(),
            outcome,
            results,
            refusal: None,
        }
    }

    fn all_rejected(logging_id: &str, results: Vec<ItemResult>) -> Self {
        let errors: Vec<&Issue> = results.iter().flat_map(|r| r.errors.iter()).collect();
        let first = errors.first().map(|e| e.code.as_str());
        let shared = first.filter(|first| errors.iter().all(|e| e.code == *first));
        // Field-level codes roll up into one payload-level code.
        let code = match shared.and_then(ProblemCode::parse) {
            Some(code) if code.is_payload_level() => code,
            _ if shared.is_some() => ProblemCode::ValidationFailed,
            // No finding, or findings of different kinds.
            _ => ProblemCode::Rejected,
        };
        let detail = match errors.as_slice() {
            [only] => only.detail.clone(),
            many => format!(
                "the payload was rejected: {} problems, see `errors`",
                many.len()
            ),
        };
        Self {
            logging_id: logging_id.to_string(),
            outcome: Outcome::Rejected,
            results,
            refusal: Some(Refusal {
                // Every item refused for the key's role: the key may not do this.
                status: if code == ProblemCode::Forbidden {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                code,
                detail,
                problem: None,
            }),
        }
    }

    /// A request-level problem (unreadable body) recorded with its logging id.
    pub fn problem(logging_id: &str, error: &Error) -> Self {
        let problem = serde_json::to_value(error.problem()).unwrap_or_default();
        Self {
            logging_id: logging_id.to_string(),
            outcome: Outcome::Rejected,
            results: Vec::new(),
            refusal: Some(Refusal {
                status: error.status(),
                code: error.code(),
                detail: error.to_string(),
                problem: Some(problem),
            }),
        }
    }

    /// The status the acknowledgement answers with: 201 when every item was accepted
    /// and one created a record, 200 for every item accepted otherwise, 207 mixed,
    /// the problem's status when nothing was accepted.
    pub fn status(&self) -> StatusCode {
        match (&self.refusal, self.outcome) {
            (Some(refusal), _) => refusal.status,
            (None, Outcome::PartiallyAccepted) => StatusCode::MULTI_STATUS,
            (None, _) if self.results.iter().any(|r| r.created) => StatusCode::CREATED,
            (None, _) => StatusCode::OK,
        }
    }

    /// The problem codes of the refusal and of every item's errors, each once and
    /// between spaces, as the payload record keeps them for searching.
    pub fn problem_codes(&self) -> Option<String> {
        let mut codes: Vec<&str> = self
            .refusal
            .iter()
            .map(|r| r.code.as_str())
            .chain(
                self.results
                    .iter()
                    .flat_map(|r| r.errors.iter().map(|e| e.code.as_str())),
            )
            .collect();
        codes.sort_unstable();
        codes.dedup();
        (!codes.is_empty()).then(|| format!(" {} ", codes.join(" ")))
    }

    /// The references the items name, one per line, each once.
    pub fn references(&self) -> Option<String> {
        let mut refs: Vec<&str> = self
            .results
            .iter()
            .filter_map(|r| r.reference.as_deref())
            .collect();
        refs.sort_unstable();
        refs.dedup();
        (!refs.is_empty()).then(|| refs.join("\n"))
    }

    /// The answer as stored with the payload (and replayed for a repeated
    /// Idempotency-Key): the answer itself while it is under
    /// [`STORED_ANSWER_MAX_BYTES`]; past that, the answer with only its rejected
    /// items' results (and `errors`) as far as they fit, and a `stored_summary`
    /// saying what was left out.
    pub fn stored_body(&self) -> Value {
        let mut body = self.body();
        if self.results.len() <= SMALL_ANSWER_ITEMS {
            return body;
        }
        let size = serde_json::to_vec(&body)
            .map(|b| b.len())
            .unwrap_or(usize::MAX);
        if size <= STORED_ANSWER_MAX_BYTES {
            return body;
        }
        let accepted = self
            .results
            .iter()
            .filter(|r| r.status != Status::Rejected)
            .count();
        let mut budget = STORED_ANSWER_MAX_BYTES / 2;
        let mut kept = Vec::new();
        for result in self.results.iter().filter(|r| r.status == Status::Rejected) {
            let value = serde_json::to_value(result).unwrap_or_default();
            let cost = serde_json::to_vec(&value)
                .map(|b| b.len())
                .unwrap_or(usize::MAX);
            if cost > budget {
                break;
            }
            budget -= cost;
            kept.push(value);
        }
        let rejected = self.results.len() - accepted;
        let errors_kept: Vec<Value> = kept
            .iter()
            .flat_map(|r| r["errors"].as_array().cloned().unwrap_or_default())
            .collect();
        if let Some(object) = body.as_object_mut() {
            if object.contains_key("errors") {
                object.insert("errors".into(), Value::Array(errors_kept));
            }
            let results_kept = kept.len();
            object.insert("results".into(), Value::Array(kept));
            object.insert(
                "stored_summary".into(),
                json!({
                    "items": self.results.len(),
                    "accepted": accepted,
                    "rejected": rejected,
                    "results_kept": results_kept,
                    "answer_bytes": size,
                    "note": format!(
                        "the answer was larger than {STORED_ANSWER_MAX_BYTES} bytes: the results of accepted items{} are not stored",
                        if results_kept < rejected { " and of rejected items past the first ones" } else { "" }
                    ),
                }),
            );
        }
        body
    }

    /// The answer's JSON body, as sent.
    pub fn body(&self) -> Value {
        let Some(refusal) = &self.refusal else {
            return json!({
                "status": self.outcome,
                "logging_id": self.logging_id,
                "results": self.results,
            });
        };
        if let Some(problem) = &refusal.problem {
            let mut body = problem.clone();
            body["logging_id"] = Value::String(self.logging_id.clone());
            return body;
        }
        let errors: Vec<&Issue> = self.results.iter().flat_map(|r| r.errors.iter()).collect();
        json!({
            "type": format!("urn:freightgate:problem:{}", refusal.code),
            "title": refusal.status.canonical_reason().unwrap_or("Error"),
            "status": refusal.status.as_u16(),
            "detail": refusal.detail,
            "code": refusal.code,
            "logging_id": self.logging_id,
            "errors": errors,
            "results": self.results,
        })
    }
}
