//! `/v1/shipments…`: list, create, read, replace, patch and cancel shipments, and
//! read what is attached to one.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::body::{Body, PatchBody, invalid};
use super::{PageParams, Reader, Writer, if_match, time_param, with_etag};
use crate::app::shipments::{self, ShipmentFilter};
use crate::app::views::{
    DocumentView, ExceptionView, PalletView, ReferenceView, ShipmentSummary, ShipmentView,
};
use crate::app::{App, Listing};
use crate::domain::{
    MasterCode, Measure, ShipmentDirection, ShipmentNumber, ShipmentStatus, Slug, StopKind,
    StopStatus, UpdateMode, WeightUnit,
};
use crate::domain::{PublicId, ShipmentId};
use crate::error::Result;
use crate::http::extract::{Path, Query};
use crate::http::openapi::{ReadProblems, WriteProblems};
use crate::store::keys::Principal;
use crate::store::listing::ShipmentQuery;
use crate::store::shipments::ShipmentFields;
use crate::store::trips::StopFields;

/// Declares a shipment body: the fields every shipment body has, plus `$own`.
macro_rules! shipment_body {
    ($(#[$meta:meta])* $name:ident { $($own:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($own)*
            pub direction: Option<ShipmentDirection>,
            /// A change is added to the status history; `CANCELLED` cancels as `POST …/cancel` does.
            pub status: Option<ShipmentStatus>,
            /// When the status change happened; defaults to now.
            #[serde(default, deserialize_with = "super::body::timestamp")]
            pub status_occurred_at: Option<DateTime<Utc>>,
            #[serde(default, deserialize_with = "super::body::timestamp")]
            pub expected_arrival_at: Option<DateTime<Utc>>,
            /// The dock's slug.
            #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
            pub dock: Option<String>,
            #[schema(max_length = 1024)]
            pub carrier: Option<String>,
            #[schema(max_length = 1024)]
            pub carrier_service: Option<String>,
            #[schema(max_length = 1024)]
            pub trailer_number: Option<String>,
            #[schema(max_length = 1024)]
            pub seal_number: Option<String>,
            /// The shipment's gross weight, in `weight_unit`.
            #[schema(value_type = Option<f64>, minimum = 0)]
            pub gross_weight: Option<Measure>,
            pub weight_unit: Option<WeightUnit>,
            /// Cubic metres.
            #[schema(value_type = Option<f64>, minimum = 0)]
            pub volume: Option<Measure>,
            #[schema(minimum = 0, maximum = 2147483647)]
            pub pallet_count: Option<u32>,
            #[schema(minimum = 0, maximum = 2147483647)]
            pub package_count: Option<u32>,
            #[serde(default, deserialize_with = "super::body::object")]
            pub driver: Option<DriverBody>,
            #[schema(max_length = 1024)]
            pub equipment_type: Option<String>,
            #[schema(max_length = 1024)]
            pub service_type: Option<String>,
            #[schema(max_length = 1024)]
            pub shipment_type: Option<String>,
            #[schema(max_length = 1024)]
            pub purchase_order: Option<String>,
            #[schema(max_length = 1024)]
            pub customer_shipment_identifier: Option<String>,
            /// Free fields kept as given.
            #[schema(value_type = Option<Object>)]
            pub additional_fields: Option<serde_json::Map<String, serde_json::Value>>,
            /// The code of the subcontractor party the trip is assigned to; `null`
            /// unassigns it (a patch).
            #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
            pub subcontractor: Option<String>,
            /// The trip's stops, each found by `seq`: a patch changes the stops
            /// given and keeps the others; a replace keeps only those given.
            #[schema(max_items = 100)]
            pub stops: Option<Vec<StopBody>>,
        }

        impl $name {
            /// The fields to store; `nulls` are the members a patch clears.
            fn fields(self, nulls: &[String]) -> Result<ShipmentFields> {
                let dock = self.dock.as_deref().map(|d| slug("$.dock", d)).transpose()?;
                let driver = self.driver.unwrap_or_default();
                Ok(ShipmentFields {
                    direction: self.direction,
                    status: self.status,
                    status_occurred_at: self.status_occurred_at,
                    expected_arrival_at: self.expected_arrival_at,
                    dock,
                    carrier: self.carrier,
                    carrier_service: self.carrier_service,
                    trailer_number: self.trailer_number,
                    seal_number: self.seal_number,
                    gross_weight: self.gross_weight.map(Measure::get),
                    weight_unit: self.weight_unit,
                    volume: self.volume.map(Measure::get),
                    pallet_count: count("$.pallet_count", self.pallet_count)?,
                    package_count: count("$.package_count", self.package_count)?,
                    driver_name: driver.name,
                    driver_phone: driver.phone,
                    driver_license_plate: driver.license_plate,
                    equipment_type: self.equipment_type,
                    service_type: self.service_type,
                    shipment_type: self.shipment_type,
                    purchase_order: self.purchase_order,
                    customer_shipment_identifier: self.customer_shipment_identifier,
                    additional_fields: self.additional_fields.map(serde_json::Value::Object),
                    subcontractor: self
                        .subcontractor
                        .map(|code| {
                            MasterCode::parse(&code)
                                .map(|c| c.to_string())
                                .map_err(|e| e.at("$.subcontractor"))
                        })
                        .transpose()?,
                    stops: self
                        .stops
                        .map(|stops| {
                            stops
                                .into_iter()
                                .enumerate()
                                .map(|(i, stop)| stop.fields(&format!("$.stops[{i}]")))
                                .collect::<Result<Vec<_>>>()
                                .and_then(|stops| {
                                    // Numbering and windows, before any version check.
                                    crate::store::trips::check(&stops)?;
                                    Ok(stops)
                                })
                        })
                        .transpose()?,
                    cleared: super::cleared(nulls, CLEARABLE)?,
                })
            }
        }
    };
}

/// What a patch may clear with `null`, by member, and the columns it clears.
const CLEARABLE: &[(&str, &[&str])] = &[
    ("expected_arrival_at", &["expected_arrival_at"]),
    ("dock", &["dock_id"]),
    ("carrier", &["carrier"]),
    ("carrier_service", &["carrier_service"]),
    ("trailer_number", &["trailer_number"]),
    ("seal_number", &["seal_number"]),
    ("gross_weight", &["gross_weight"]),
    ("weight_unit", &["weight_unit"]),
    ("volume", &["volume"]),
    ("pallet_count", &["pallet_count"]),
    ("package_count", &["package_count"]),
    (
        "driver",
        &["driver_name", "driver_phone", "driver_license_plate"],
    ),
    ("driver.name", &["driver_name"]),
    ("driver.phone", &["driver_phone"]),
    ("driver.license_plate", &["driver_license_plate"]),
    ("equipment_type", &["equipment_type"]),
    ("service_type", &["service_type"]),
    ("shipment_type", &["shipment_type"]),
    ("purchase_order", &["purchase_order"]),
    (
        "customer_shipment_identifier",
        &["customer_shipment_identifier"],
    ),
    ("additional_fields", &["additional_fields"]),
    ("additional_fields.*", &[]),
    ("subcontractor", &["subcontractor"]),
];

/// The longest stop location, in characters.
const MAX_LOCATION_CHARS: usize = 256;
/// The longest stop note, in characters.
const MAX_NOTE_CHARS: usize = 1024;

fn bounded(path: String, value: Option<String>, max: usize) -> Result<Option<String>> {
    match value {
        Some(v) if v.chars().count() > max => Err(invalid(
            path,
            format!("{} characters; at most {max}", v.chars().count()),
        )),
        other => Ok(other),
    }
}

/// One stop of a trip.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopBody {
    /// The stop's place in the trip, 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub seq: u32,
    /// Needed for a new stop.
    pub kind: Option<StopKind>,
    /// A name for the place (a customer's site, a depot).
    #[schema(max_length = 256)]
    pub location: Option<String>,
    /// The address, as the sender writes it.
    #[serde(default, deserialize_with = "super::body::object")]
    #[schema(value_type = Option<Object>)]
    pub address: Option<serde_json::Map<String, serde_json::Value>>,
    /// The planned window's start.
    #[serde(default, deserialize_with = "super::body::timestamp")]
    pub planned_from: Option<DateTime<Utc>>,
    /// The planned window's end.
    #[serde(default, deserialize_with = "super::body::timestamp")]
    pub planned_to: Option<DateTime<Utc>>,
    pub status: Option<StopStatus>,
    #[serde(default, deserialize_with = "super::body::timestamp")]
    pub arrived_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::body::timestamp")]
    pub departed_at: Option<DateTime<Utc>>,
    #[schema(max_length = 1024)]
    pub note: Option<String>,
}

/// How a stop went: its status, actual times and a note. `ARRIVED` sets
/// `arrived_at`, and `COMPLETED` or `FAILED` set `departed_at`, to now when not given.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopReport {
    pub status: Option<StopStatus>,
    #[serde(default, deserialize_with = "super::body::timestamp")]
    pub arrived_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::body::timestamp")]
    pub departed_at: Option<DateTime<Utc>>,
    /// Why a stop failed or was skipped, or what the driver noted.
    #[schema(max_length = 1024)]
    pub note: Option<String>,
}

impl StopBody {
    fn fields(self, at: &str) -> Result<StopFields> {
        let seq = i32::try_from(self.seq).unwrap_or(i32::MAX);
        let report = StopReport {
            status: self.status,
            arrived_at: self.arrived_at,
            departed_at: self.departed_at,
            note: self.note,
        };
        let mut fields = report.fields(at, seq)?;
        fields.kind = self.kind;
        fields.location = bounded(format!("{at}.location"), self.location, MAX_LOCATION_CHARS)?;
        fields.address = self.address.map(serde_json::Value::Object);
        fields.planned_from = self.planned_from;
        fields.planned_to = self.planned_to;
        Ok(fields)
    }
}

impl StopReport {
    fn fields(self, at: &str, seq: i32) -> Result<StopFields> {
        Ok(StopFields {
            seq,
            status: self.status,
            arrived_at: self.arrived_at,
            departed_at: self.departed_at,
            note: bounded(format!("{at}.note"), self.note, MAX_NOTE_CHARS)?,
            ..StopFields::default()
        })
    }
}

shipment_body!(
    /// A new shipment. `facility` defaults to `default`.
    NewShipment {
        #[schema(min_length = 1, max_length = 128, pattern = "\\S")]
        pub shipment_number: String,
        /// The facility's slug; created on first use unless `strict_facilities` is on.
        #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
        pub facility: Option<String>,
    }
);

shipment_body!(
    /// A change to a shipment; its number and facility stay as they are.
    ShipmentChange {}
);

/// The driver of the shipment's vehicle.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverBody {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub license_plate: Option<String>,
}

/// A count as stored (the column holds up to `i32::MAX`); more is refused, not cut.
fn count(path: &str, value: Option<u32>) -> Result<Option<i32>> {
    value
        .map(|n| {
            i32::try_from(n)
                .map_err(|_| invalid(path.into(), format!("{n} is more than {}", i32::MAX)))
        })
        .transpose()
}

fn slug(path: &str, value: &str) -> Result<Slug> {
    Slug::parse(value).map_err(|e| invalid(path.into(), e))
}

/// Filters of `GET /v1/shipments`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShipmentListParams {
    /// Only this facility's (its slug).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub facility: Option<String>,
    pub status: Option<ShipmentStatus>,
    pub direction: Option<ShipmentDirection>,
    /// Changed at or after (RFC 3339).
    pub updated_since: Option<String>,
    /// Changed before (RFC 3339).
    pub updated_before: Option<String>,
    /// Substring of the number, purchase order, trailer or customer identifier.
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// Lists the business's shipments, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/shipments", operation_id = "listShipments", tag = "shipments",
    params(ShipmentListParams),
    responses(
        (status = 200, description = "A page of shipments", body = Listing<ShipmentSummary>),
        ReadProblems,
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(app): State<App>,
    Reader(who): Reader,
    Query(params): Query<ShipmentListParams>,
) -> Result<Response> {
    let page = PageParams {
        after: params.after.clone(),
        limit: params.limit,
    }
    .page()?;
    let facility = params
        .facility
        .as_deref()
        .map(|f| Slug::parse(f).map_err(|e| super::bad_query(format!("facility: {e}"))))
        .transpose()?;
    let filter = ShipmentFilter {
        facility,
        query: ShipmentQuery {
            since: time_param("updated_since", params.updated_since.as_deref())?,
            before: time_param("updated_before", params.updated_before.as_deref())?,
            text: super::text_param("q", params.q)?,
            direction: params.direction,
            status: params.status,
            ..ShipmentQuery::default()
        },
    };
    let listing = shipments::list(&app, &who, filter, page).await?;
    Ok(axum::Json(listing).into_response())
}

/// Creates a shipment.
#[utoipa::path(post, path = "/v1/shipments", operation_id = "createShipment", tag = "shipments",
    request_body = NewShipment,
    responses(
        (status = 201, description = "Created", body = ShipmentView,
            headers(("ETag" = String, description = "The shipment's version"), ("Location" = String, description = "The shipment's URL")),
            links(
                ("GetShipment" = (operation_id = "getShipment", parameters(("id" = "$response.body#/id")))),
                ("ReplaceShipment" = (operation_id = "replaceShipment", parameters(("id" = "$response.body#/id")))),
                ("PatchShipment" = (operation_id = "patchShipment", parameters(("id" = "$response.body#/id")))),
                ("CancelShipment" = (operation_id = "cancelShipment", parameters(("id" = "$response.body#/id")))),
                ("ShipmentPallets" = (operation_id = "listShipmentPallets", parameters(("id" = "$response.body#/id")))),
                ("ShipmentDocuments" = (operation_id = "listShipmentDocuments", parameters(("id" = "$response.body#/id")))),
                ("ShipmentReferences" = (operation_id = "listShipmentReferences", parameters(("id" = "$response.body#/id")))),
                ("ShipmentExceptions" = (operation_id = "listShipmentExceptions", parameters(("id" = "$response.body#/id")))),
            )),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(app): State<App>,
    Writer(who): Writer,
    Body(body): Body<NewShipment>,
) -> Result<Response> {
    let number =
        ShipmentNumber::parse(&body.shipment_number).map_err(|e| e.at("$.shipment_number"))?;
    let facility = slug(
        "$.facility",
        body.facility
            .as_deref()
            .unwrap_or(crate::ingest::apply::DEFAULT_FACILITY),
    )?;
    let fields = body.fields(&[])?;
    let created = shipments::create(&app, &who, facility, number, fields).await?;
    let location = format!("/v1/shipments/{}", created.shipment.id);
    Ok(with_etag(
        StatusCode::CREATED,
        &created.shipment.version,
        Some(location),
        &created,
    ))
}

/// A shipment with its status history, orders and their lines.
#[utoipa::path(get, path = "/v1/shipments/{id}", operation_id = "getShipment", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id")),
    responses(
        (status = 200, description = "The shipment", body = ShipmentView,
            headers(("ETag" = String, description = "The shipment's version"))),
        ReadProblems,
    ))]
#[tracing::instrument(skip_all, fields(shipment_id = %id))]
pub async fn get(
    State(app): State<App>,
    Reader(who): Reader,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    let found = shipments::get(&app, &who, id.into()).await?;
    Ok(with_etag(
        StatusCode::OK,
        &found.shipment.version,
        None,
        &found,
    ))
}

async fn change(
    app: App,
    who: Principal,
    id: ShipmentId,
    headers: HeaderMap,
    body: ShipmentChange,
    nulls: &[String],
    mode: UpdateMode,
) -> Result<Response> {
    let expected = if_match(&headers)?;
    let fields = body.fields(nulls)?;
    let changed = shipments::update(&app, &who, id, fields, mode, expected.as_ref()).await?;
    Ok(with_etag(
        StatusCode::OK,
        &changed.shipment.version,
        None,
        &changed,
    ))
}

/// Replaces a shipment's fields: what the body leaves out is cleared.
#[utoipa::path(put, path = "/v1/shipments/{id}", operation_id = "replaceShipment", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id"),
        ("If-Match" = Option<String>, Header, description = "The version (`ETag`) the change is based on")),
    request_body = ShipmentChange,
    responses(
        (status = 200, description = "The changed shipment", body = ShipmentView,
            headers(("ETag" = String, description = "The shipment's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(shipment_id = %id))]
pub async fn replace(
    State(app): State<App>,
    Writer(who): Writer,
    Path(id): Path<PublicId>,
    headers: HeaderMap,
    Body(body): Body<ShipmentChange>,
) -> Result<Response> {
    change(app, who, id.into(), headers, body, &[], UpdateMode::Replace).await
}

/// Changes the fields the body gives and keeps the others.
#[utoipa::path(patch, path = "/v1/shipments/{id}", operation_id = "patchShipment", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id"),
        ("If-Match" = Option<String>, Header, description = "The version (`ETag`) the change is based on")),
    request_body = ShipmentChange,
    responses(
        (status = 200, description = "The changed shipment", body = ShipmentView,
            headers(("ETag" = String, description = "The shipment's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(shipment_id = %id))]
pub async fn patch(
    State(app): State<App>,
    Writer(who): Writer,
    Path(id): Path<PublicId>,
    headers: HeaderMap,
    patch: PatchBody<ShipmentChange>,
) -> Result<Response> {
    let (body, nulls) = (patch.change, patch.nulls);
    change(
        app,
        who,
        id.into(),
        headers,
        body,
        &nulls,
        UpdateMode::Patch,
    )
    .await
}

/// Cancels a shipment; cancelling again changes nothing.
#[utoipa::path(post, path = "/v1/shipments/{id}/cancel", operation_id = "cancelShipment", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id"),
        ("If-Match" = Option<String>, Header, description = "The version (`ETag`) the change is based on")),
    responses(
        (status = 200, description = "The cancelled shipment", body = ShipmentView,
            headers(("ETag" = String, description = "The shipment's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(shipment_id = %id))]
pub async fn cancel(
    State(app): State<App>,
    Writer(who): Writer,
    Path(id): Path<PublicId>,
    headers: HeaderMap,
) -> Result<Response> {
    let expected = if_match(&headers)?;
    let cancelled = shipments::cancel(&app, &who, id.into(), expected.as_ref()).await?;
    Ok(with_etag(
        StatusCode::OK,
        &cancelled.shipment.version,
        None,
        &cancelled,
    ))
}

/// The pallet events of a shipment, oldest first.
#[utoipa::path(get, path = "/v1/shipments/{id}/pallets", operation_id = "listShipmentPallets", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id")),
    responses(
        (status = 200, description = "Its pallet events", body = Vec<PalletView>),
        ReadProblems,
    ))]
pub async fn pallets(
    State(app): State<App>,
    Reader(who): Reader,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    Ok(axum::Json(shipments::pallets(&app, &who, id.into()).await?).into_response())
}

/// The documents of a shipment and of its orders, without their bytes.
#[utoipa::path(get, path = "/v1/shipments/{id}/documents", operation_id = "listShipmentDocuments", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id")),
    responses(
        (status = 200, description = "Its documents", body = Vec<DocumentView>),
        ReadProblems,
    ))]
pub async fn documents(
    State(app): State<App>,
    Reader(who): Reader,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    Ok(axum::Json(shipments::documents(&app, &who, id.into()).await?).into_response())
}

/// The references of a shipment.
#[utoipa::path(get, path = "/v1/shipments/{id}/references", operation_id = "listShipmentReferences", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id")),
    responses(
        (status = 200, description = "Its references", body = Vec<ReferenceView>),
        ReadProblems,
    ))]
pub async fn references(
    State(app): State<App>,
    Reader(who): Reader,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    Ok(axum::Json(shipments::references(&app, &who, id.into()).await?).into_response())
}

/// The exceptions raised on a shipment or its pallets.
#[utoipa::path(get, path = "/v1/shipments/{id}/exceptions", operation_id = "listShipmentExceptions", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id")),
    responses(
        (status = 200, description = "Its exceptions", body = Vec<ExceptionView>),
        ReadProblems,
    ))]
pub async fn exceptions(
    State(app): State<App>,
    Reader(who): Reader,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    Ok(axum::Json(shipments::exceptions(&app, &who, id.into()).await?).into_response())
}

/// Reports how one stop of the shipment's trip went: its status, actual times or a
/// note. The one way for a subcontractor's key to report over REST; a tenant key may
/// use it too. Publishes `stop.updated`, and `trip.updated` when the shipment is
/// assigned.
#[utoipa::path(patch, path = "/v1/shipments/{id}/stops/{seq}", operation_id = "reportStop", tag = "shipments",
    params(("id" = i64, Path, description = "The shipment's id"),
        ("seq" = u32, Path, minimum = 1, maximum = 100, description = "The stop's place in the trip")),
    request_body = StopReport,
    responses(
        (status = 200, description = "The shipment with its stops", body = ShipmentView,
            headers(("ETag" = String, description = "The shipment's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(shipment_id = %id, seq))]
pub async fn report_stop(
    State(app): State<App>,
    Writer(who): Writer,
    Path((id, seq)): Path<(PublicId, u32)>,
    Body(body): Body<StopReport>,
) -> Result<Response> {
    let seq = i32::try_from(seq)
        .ok()
        .filter(|s| (1..=crate::store::trips::MAX_STOPS as i32).contains(s))
        .ok_or_else(|| {
            super::bad_path(format!(
                "seq: {seq} is not a stop number (1 to {})",
                crate::store::trips::MAX_STOPS
            ))
        })?;
    let stop = body.fields("$", seq)?;
    let changed = shipments::report_stop(&app, &who, id.into(), stop).await?;
    Ok(with_etag(
        StatusCode::OK,
        &changed.shipment.version,
        None,
        &changed,
    ))
}
