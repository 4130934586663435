//! One error type for the whole service, rendered as RFC 9457 problem+json with a
//! stable snake_case `code`.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

mod code;
pub use code::ProblemCode;

/// Result with freightgate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A field at fault: `path` is a JSONPath into the sender's payload when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub path: String,
    pub detail: String,
}

impl FieldError {
    /// A field error at `path`.
    pub fn new(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            detail: detail.into(),
        }
    }
}

/// Why a request was not let in: each gets its own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header (or no key in the websocket's `connection_init`).
    Missing,
    /// A header that is not `Bearer <key>`.
    Malformed,
    /// A key that no business has, or one that was revoked.
    Unknown,
}

impl AuthFailure {
    /// What to do about it.
    pub fn detail(self) -> &'static str {
        match self {
            AuthFailure::Missing => {
                "no API key was sent: send `Authorization: Bearer <key>`; `freightgate keys create --business SLUG` makes one"
            }
            AuthFailure::Malformed => {
                "the Authorization header is not `Bearer <key>`: send the word Bearer, one space and the key"
            }
            AuthFailure::Unknown => {
                "this API key is unknown or revoked: check that it was copied whole; `freightgate keys list` shows the keys that exist"
            }
        }
    }
}

impl From<crate::rules::formats::ReadError> for Error {
    fn from(e: crate::rules::formats::ReadError) -> Self {
        use crate::rules::formats::{ReadError, Unreadable};
        match e {
            ReadError::Unsupported(detail) => Error::UnsupportedMediaType(detail),
            ReadError::Unreadable(kind, detail) => Error::BadRequest {
                code: match kind {
                    Unreadable::Json => ProblemCode::MalformedJson,
                    Unreadable::Xml => ProblemCode::MalformedXml,
                    Unreadable::Edi => ProblemCode::MalformedEdi,
                    Unreadable::Encoding => ProblemCode::InvalidEncoding,
                    Unreadable::Csv => ProblemCode::MalformedCsv,
                    Unreadable::FixedWidth => ProblemCode::MalformedFixedWidth,
                    Unreadable::Empty => ProblemCode::EmptyPayload,
                },
                detail,
            },
            ReadError::TooMany { max } => Error::TooManyDocuments {
                max,
                setting: "max_documents_per_payload",
            },
        }
    }
}

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.detail())]
    Unauthorized(AuthFailure),
    /// The scopes that would do, in the order named: "`ingest` or `read`".
    #[error("this API key lacks the {} scope", .0.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" or "))]
    MissingScope(Vec<&'static str>),
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{detail}")]
    Conflict { code: ProblemCode, detail: String },
    #[error("{detail}")]
    BadRequest { code: ProblemCode, detail: String },
    #[error("{detail}")]
    Invalid {
        code: ProblemCode,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error(
        "the record changed since the version in If-Match; read it again (its version is now `{current}`) and retry"
    )]
    PreconditionFailed { current: String },
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    #[error("unsupported content type: {0}")]
    UnsupportedMediaType(String),
    #[error("the request body is larger than the server's limit (setting max_body_bytes)")]
    PayloadTooLarge,
    #[error("too many requests for this API key; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the server is at its limit of concurrent requests; retry shortly")]
    Overloaded,
    #[error(
        "too many connections are open from this address (setting max_connections_per_ip); reuse connections or retry shortly"
    )]
    TooManyConnections,
    #[error(
        "this API key has {max} requests in flight already (setting max_requests_per_key); wait for one to finish"
    )]
    KeyBusy { max: usize },
    #[error(
        "the request body arrived too slowly (setting body_min_bytes_per_sec: at least {min_bytes_per_sec} bytes per second after the first {grace_secs} s)"
    )]
    BodyTooSlow {
        min_bytes_per_sec: u64,
        grace_secs: u64,
    },
    #[error(
        "the payload holds more than {max} documents (setting {setting}); split it into smaller payloads"
    )]
    TooManyDocuments { max: usize, setting: &'static str },
    #[error(
        "the payload's events would create more than {max} webhook deliveries (setting webhooks_max_deliveries_per_payload); split it into smaller payloads"
    )]
    TooManyDeliveries { max: usize },
    #[error(
        "{max} subscriptions are open already (setting {setting}); close one before opening another"
    )]
    TooManySubscriptions { max: usize, setting: &'static str },
    #[error("the request took longer than the server's limit (setting request_timeout_ms)")]
    TimedOut,
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("internal error")]
    Database(#[source] DbErr),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// The error and its causes, for logs: the display form of a database or
    /// internal error says only "internal error", which is what clients get.
    pub fn report(&self) -> String {
        let mut report = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(e) = cause {
            report.push_str(": ");
            report.push_str(&e.to_string());
            cause = e.source();
        }
        report
    }

    /// A validation error on one field.
    pub fn invalid_field(path: impl Into<String>, detail: impl Into<String>) -> Self {
        let field = FieldError::new(path, detail);
        Self::Invalid {
            code: ProblemCode::ValidationFailed,
            detail: field.detail.clone(),
            errors: vec![field],
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::MissingScope(_) | Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RateLimited { .. }
            | Error::TooManyConnections
            | Error::KeyBusy { .. }
            | Error::TooManySubscriptions { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::BodyTooSlow { .. } => StatusCode::REQUEST_TIMEOUT,
            Error::TooManyDocuments { .. } | Error::TooManyDeliveries { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Error::Overloaded | Error::TimedOut | Error::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Database(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code clients switch on.
    pub fn code(&self) -> ProblemCode {
        match self {
            Error::Unauthorized(_) => ProblemCode::Unauthorized,
            Error::MissingScope(_) | Error::Forbidden(_) => ProblemCode::Forbidden,
            Error::NotFound { .. } => ProblemCode::NotFound,
            Error::Conflict { code, .. }
            | Error::BadRequest { code, .. }
            | Error::Invalid { code, .. } => *code,
            Error::PreconditionFailed { .. } => ProblemCode::PreconditionFailed,
            Error::MethodNotAllowed => ProblemCode::MethodNotAllowed,
            Error::UnsupportedMediaType(_) => ProblemCode::UnsupportedMediaType,
            Error::PayloadTooLarge => ProblemCode::PayloadTooLarge,
            Error::RateLimited { .. } => ProblemCode::RateLimited,
            Error::Overloaded => ProblemCode::Overloaded,
            Error::TooManyConnections => ProblemCode::TooManyConnections,
            Error::KeyBusy { .. } => ProblemCode::TooManyInFlight,
            Error::BodyTooSlow { .. } => ProblemCode::BodyTooSlow,
            Error::TooManyDocuments { .. } => ProblemCode::TooManyDocuments,
            Error::TooManySubscriptions { .. } => ProblemCode::TooManySubscriptions,
            Error::TooManyDeliveries { .. } => ProblemCode::TooManyDeliveries,
            Error::TimedOut => ProblemCode::Timeout,
            Error::Unavailable(_) => ProblemCode::Unavailable,
            Error::Database(_) | Error::Internal(_) => ProblemCode::Internal,
        }
    }

    /// Seconds a client should wait before retrying, sent as `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Error::Overloaded
            | Error::TimedOut
            | Error::Unavailable(_)
            | Error::TooManyConnections
            | Error::KeyBusy { .. } => Some(1),
            Error::Conflict {
                code: ProblemCode::IdempotencyInFlight,
                ..
            } => Some(1),
            _ => None,
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let errors = match self {
            Error::Invalid { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        Problem {
            kind: format!("urn:freightgate:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code(),
            errors,
        }
    }
}

/// RFC 9457 problem details plus freightgate's `code` and `errors` members.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:freightgate:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The stable snake_case code to switch on (see the README's problem code table).
    #[schema(value_type = String)]
    pub code: ProblemCode,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = self.problem().into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status.is_server_error() && !matches!(self, Error::Overloaded) {
            // Logged here once with its cause chain; the client only sees the code.
            tracing::error!(error = ?self, "request failed");
        }
        response
    }
}

/// The detail of a 409 `duplicate` for a shipment or order number a facility has
/// already, the same from every door.
pub fn exists_in_facility(noun: &str, number: impl std::fmt::Display, facility: &str) -> String {
    format!("{noun} `{number}` already exists in facility `{facility}`")
}

/// Maps database errors: lost connections and pool timeouts are 503, unique
/// violations 409 naming the key, anything else 500.
pub fn from_db(error: DbErr, what: &'static str, key: impl FnOnce() -> String) -> Error {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict {
            code: ProblemCode::Duplicate,
            detail: format!("{what} {} already exists", key()),
        },
        _ => Error::from_db_err(error),
    }
}

impl Error {
    /// Classifies a database error that carries no business meaning: the database
    /// being unreachable, restarting or out of pool connections is a 503 the client
    /// may retry, anything else a 500.
    pub fn from_db_err(error: DbErr) -> Error {
        if db_unavailable(&error) {
            Error::Unavailable(error)
        } else {
            Error::Database(error)
        }
    }
}

impl From<DbErr> for Error {
    fn from(error: DbErr) -> Self {
        Error::from_db_err(error)
    }
}

fn db_unavailable(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let sqlx_error = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx_error.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        // SQLSTATE class 08 (connection exception), 57P (operator intervention:
        // shutdown, crash recovery, the server starting up), and a transaction that
        // lost a deadlock (40P01) or a serialization conflict (40001) to a
        // concurrent one: the same request succeeds when sent again.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "40P01" || code == "40001"
        }),
        _ => false,
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                Error::UnsupportedMediaType("expected `Content-Type: application/json`".into())
            }
            JsonRejection::JsonSyntaxError(e) => Error::BadRequest {
                code: ProblemCode::MalformedJson,
                detail: format!("the body is not valid JSON: {}", inner(&e)),
            },
            JsonRejection::JsonDataError(e) => Error::Invalid {
                code: ProblemCode::ValidationFailed,
                detail: format!("the body does not have the expected shape: {}", inner(&e)),
                errors: Vec::new(),
            },
            JsonRejection::BytesRejection(e) => Error::from(e),
            other => Error::BadRequest {
                code: ProblemCode::BadRequest,
                detail: other.body_text(),
            },
        }
    }
}

/// An over-limit body surfaces as a 413 from the bytes extractor; keep that status.
pub fn body_error(status: StatusCode, text: String) -> Error {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge
    } else {
        Error::BadRequest {
            code: ProblemCode::UnreadableBody,
            detail: text,
        }
    }
}

fn inner(error: &dyn std::error::Error) -> String {
    let mut source = error.source();
    let mut message = error.to_string();
    while let Some(s) = source {
        message = s.to_string();
        source = s.source();
    }
    message
}

/// The error a request body that arrives too slowly ends with (see
/// `body_min_bytes_per_sec`); the body extractors answer it as `408 body_too_slow`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body arrived too slowly")]
pub struct BodyTooSlow {
    pub min_bytes_per_sec: u64,
    pub grace_secs: u64,
}

impl BodyTooSlow {
    /// The slow-body error in `error`'s chain of sources, if any.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyTooSlow> {
        let mut current = Some(error);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<BodyTooSlow>() {
                return Some(found);
            }
            current = e.source();
        }
        None
    }
}

impl From<BytesRejection> for Error {
    fn from(rejection: BytesRejection) -> Self {
        if let Some(slow) = BodyTooSlow::find(&rejection) {
            return Error::BodyTooSlow {
                min_bytes_per_sec: slow.min_bytes_per_sec,
                grace_secs: slow.grace_secs,
            };
        }
        body_error(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Error::BadRequest {
            code: ProblemCode::InvalidPathParameter,
            detail: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::BadRequest {
            code: ProblemCode::InvalidQueryParameter,
            detail: rejection.body_text(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_carries_code_and_field_paths() {
        let problem =
            Error::invalid_field("$.customer", "Missing required field: customer").problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.code, ProblemCode::ValidationFailed);
        assert_eq!(problem.errors[0].path, "$.customer");
        let json = serde_json::to_value(&problem).expect("serialises");
        assert_eq!(json["type"], "urn:freightgate:problem:validation_failed");
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let error = Error::Internal(anyhow::anyhow!("password=hunter2"));
        assert_eq!(error.problem().detail, "internal error");
    }

    #[test]
    fn a_report_for_the_log_carries_the_causes() {
        let error = Error::Database(DbErr::Custom("pool timed out".into()));
        assert_eq!(error.to_string(), "internal error");
        assert_eq!(
            error.report(),
            "internal error: Custom Error: pool timed out"
        );
    }
}
