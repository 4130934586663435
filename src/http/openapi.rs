//! The OpenAPI 3.1 document of the REST API, generated from the handlers and their
//! types, and the API reference page that shows it (Swagger UI, served from files
//! compiled into the binary: it works without internet access).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::rest::{activity, master, orders, outbound, shipments, sources};
use super::{documents, health, ingest, webhooks};
use crate::error::{FieldError, Problem};

/// The problems an operation that reads answers besides its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // schemas only
pub enum ReadProblems {
    /// A path or query parameter cannot be read.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No valid key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The key lacks the operation's scope.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such record in the key's business.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

/// The problems an operation that writes answers besides its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // schemas only
pub enum WriteProblems {
    /// The body is not JSON, or a path parameter or header cannot be read.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No valid key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The key lacks the operation's scope.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such record in the key's business (or one it names).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// `duplicate`, or the record is cancelled (`order_cancelled`, `shipment_cancelled`).
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// The record changed since the version in `If-Match`.
    #[response(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Problem),
    /// The body is not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// A field is at fault: `errors[].path` names it.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// Where the document and the reference page are served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
pub const REFERENCE_PATH: &str = "/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "freightgate",
        description = "Shipments and orders of the key's business as REST resources. Every \
            error is `application/problem+json` with a stable `code`; `errors[].path` is a \
            JSONPath into the request body. Writes accept `If-Match` with the `ETag` of a read \
            and answer `412 precondition_failed` when the record changed since."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        ingest::ingest,
        ingest::explain,
        ingest::record,
        ingest::list,
        ingest::reprocess,
        ingest::rules,
        activity::key,
        activity::activity,
        sources::list,
        sources::get,
        sources::runs,
        sources::run,
        sources::pause,
        sources::resume,
        outbound::targets,
        outbound::explain,
        documents::content,
        shipments::list,
        shipments::create,
        shipments::get,
        shipments::replace,
        shipments::patch,
        shipments::cancel,
        shipments::pallets,
        shipments::documents,
        shipments::references,
        shipments::exceptions,
        shipments::report_stop,
        orders::list,
        orders::create,
        orders::get,
        orders::replace,
        orders::patch,
        orders::cancel,
        orders::add_items,
        orders::remove_item,
        master::list_parties,
        master::get_party,
        master::put_party,
        master::patch_party,
        master::archive_party,
        master::list_resources,
        master::get_resource,
        master::put_resource,
        master::patch_resource,
        master::archive_resource,
        master::list_skus,
        master::get_sku,
        master::put_sku,
        master::patch_sku,
        master::archive_sku,
        webhooks::create,
        webhooks::list,
        webhooks::get,
        webhooks::update,
        webhooks::delete,
        webhooks::disable,
        webhooks::enable,
        webhooks::secret,
        webhooks::rotate,
        webhooks::all_deliveries,
        webhooks::event_types,
        webhooks::send_test,
        webhooks::replay_matching,
        webhooks::health,
        webhooks::deliveries,
        webhooks::attempts,
        webhooks::replay,
        webhooks::recover,
        webhooks::messages,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerKey, &SharedAnswers, &OpenRecords),
    security(("api_key" = [])),
    tags(
        (name = "ingest", description = "The unified endpoint: any sender's documents, classified and mapped by the rules"),
        (name = "operations", description = "Probes and metrics, without a key"),
        (name = "shipments", description = "Shipments, their status history, orders and attachments"),
        (name = "orders", description = "Orders and their lines"),
        (name = "master data", description = "Customers and subcontractors, drivers, vehicles and trailers, and each facility's SKUs"),
        (name = "keys", description = "The calling key"),
        (name = "sources", description = "Pull sources: partner APIs fetched on a schedule, their runs, pause and resume"),
        (name = "outbound", description = "Outbound targets: events sent to partners in their own format; what a mapping makes of an event"),
        (name = "webhooks", description = "Webhook endpoints, their deliveries and attempts, and the message pull"),
    )
)]
struct ApiDoc;

/// `Authorization: Bearer <api key>` on every operation.
struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `freightgate keys create`"))
                    .build(),
            ),
        );
    }
}

/// A master record's view flattens its fields (whose request schema refuses unknown
/// members) beside its id, code and times: inside the view's `allOf`, the fields'
/// `additionalProperties: false` would refuse the view's own members. The request
/// schemas keep it.
struct OpenRecords;

impl Modify for OpenRecords {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        fn open(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::Array(parts)) = map.get_mut("allOf") {
                        for part in parts.iter_mut() {
                            if let Some(part) = part.as_object_mut() {
                                part.remove("additionalProperties");
                            }
                        }
                    }
                    map.values_mut().for_each(open);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(open),
                _ => {}
            }
        }
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (name, schema) in components.schemas.iter_mut() {
            if !(name.starts_with("Record_") || name.starts_with("Listing_Record_")) {
                continue;
            }
            let Ok(mut value) = serde_json::to_value(&*schema) else {
                continue;
            };
            open(&mut value);
            if let Ok(opened) = serde_json::from_value(value) {
                *schema = opened;
            }
        }
    }
}

/// What any operation may answer, from the limits in front of every handler.
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let answers = [
            ("413", "The body is larger than `max_body_bytes`"),
            (
                "429",
                "The key is over its rate limit; `Retry-After` says when to retry",
            ),
            (
                "503",
                "Overloaded, past `request_timeout_ms`, or the database is unreachable; `Retry-After` is set",
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, description) in answers {
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/problem+json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert(response.into());
                }
            }
        }
    }
}

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as committed in `openapi.json`.
pub fn json() -> String {
    let mut text = document()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}

/// The reference page and the document, as routes.
pub fn routes<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    SwaggerUi::new(REFERENCE_PATH)
        .url(DOCUMENT_PATH, document())
        .into()
}
