//! `/v1/orders…`: list, create, read, replace, patch and cancel orders, and add or
//! remove their lines.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::body::{Body, PatchBody, invalid};
use super::{PageParams, Reader, Writer, if_match, time_param, with_etag};
use crate::app::orders::{self, OrderFilter};
use crate::app::views::{OrderSummary, OrderView};
use crate::app::{App, Listing};
use crate::domain::{
    CountryCode, DimensionUnit, OrderDirection, OrderNumber, OrderStatus, Party, Quantity,
    QuantityUnit, Slug, UpdateMode, WeightUnit,
};
use crate::domain::{OrderId, PublicId};
use crate::error::Result;
use crate::http::extract::{Path, Query};
use crate::http::openapi::{ReadProblems, WriteProblems};
use crate::store::keys::Principal;
use crate::store::listing::OrderQuery;
use crate::store::orders::{ItemFields, OrderFields};

/// Declares an order body: the fields every order body has, plus `$own`.
macro_rules! order_body {
    ($(#[$meta:meta])* $name:ident { $($own:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($own)*
            #[schema(max_length = 1024)]
            pub external_id: Option<String>,
            #[schema(max_length = 1024)]
            pub customer: Option<String>,
            pub direction: Option<OrderDirection>,
            /// `CANCELLED` cancels as `POST …/cancel` does.
            pub status: Option<OrderStatus>,
            #[schema(max_length = 1024)]
            pub order_type: Option<String>,
            #[schema(max_length = 1024)]
            pub purchase_order: Option<String>,
            #[serde(default, deserialize_with = "super::body::timestamp")]
            pub requested_ship_date: Option<DateTime<Utc>>,
            #[serde(default, deserialize_with = "super::body::timestamp")]
            pub requested_delivery_date: Option<DateTime<Utc>>,
            #[schema(max_length = 1024)]
            pub service_level: Option<String>,
            #[schema(max_length = 1024)]
            pub carrier: Option<String>,
            #[schema(max_length = 1024)]
            pub carrier_service: Option<String>,
            #[schema(max_length = 1024)]
            pub bol_number: Option<String>,
            #[schema(max_length = 1024)]
            pub seal_number: Option<String>,
            #[serde(default, deserialize_with = "super::body::object")]
            pub shipper: Option<PartyBody>,
            #[serde(default, deserialize_with = "super::body::object")]
            pub consignee: Option<PartyBody>,
            #[serde(default, deserialize_with = "super::body::object")]
            pub payer: Option<PartyBody>,
            #[serde(default, deserialize_with = "super::body::object")]
            pub pickup_window: Option<WindowBody>,
            #[serde(default, deserialize_with = "super::body::object")]
            pub delivery_window: Option<WindowBody>,
            pub addons: Option<Vec<String>>,
            #[schema(max_length = 1024)]
            pub notes: Option<String>,
            /// The shipment the order travels on (an id of the same business).
            pub shipment_id: Option<PublicId>,
            /// How many units the sender expects in total.
            pub expected_quantity: Option<f64>,
            /// The order's lines; on replace or patch, given lines replace the lines.
            pub items: Option<Vec<ItemBody>>,
        }

        impl $name {
            /// The fields to store; `nulls` are the members a patch clears.
            fn fields(self, nulls: &[String]) -> Result<OrderFields> {
                let pickup = self.pickup_window.unwrap_or_default();
                let delivery = self.delivery_window.unwrap_or_default();
                Ok(OrderFields {
                    external_id: self.external_id,
                    customer: self.customer,
                    direction: self.direction,
                    status: self.status,
                    order_type: self.order_type,
                    purchase_order: self.purchase_order,
                    requested_ship_date: self.requested_ship_date,
                    requested_delivery_date: self.requested_delivery_date,
                    service_level: self.service_level,
                    carrier: self.carrier,
                    carrier_service: self.carrier_service,
                    bol_number: self.bol_number,
                    seal_number: self.seal_number,
                    shipper: self.shipper.map(Into::into),
                    consignee: self.consignee.map(Into::into),
                    payer: self.payer.map(Into::into),
                    pickup_window_start: pickup.start,
                    pickup_window_end: pickup.end,
                    delivery_window_start: delivery.start,
                    delivery_window_end: delivery.end,
                    addons: self.addons,
                    notes: self.notes,
                    shipment_id: self.shipment_id.map(PublicId::internal),
                    expected_quantity: self.expected_quantity,
                    items: self
                        .items
                        .map(|items| items.into_iter().map(Into::into).collect()),
                    cleared: super::cleared(nulls, CLEARABLE)?,
                })
            }
        }
    };
}

/// What a patch may clear with `null`, by member, and the columns it clears.
const CLEARABLE: &[(&str, &[&str])] = &[
    ("external_id", &["external_id"]),
    ("customer", &["customer"]),
    ("order_type", &["order_type"]),
    ("purchase_order", &["purchase_order"]),
    ("requested_ship_date", &["requested_ship_date"]),
    ("requested_delivery_date", &["requested_delivery_date"]),
    ("service_level", &["service_level"]),
    ("carrier", &["carrier"]),
    ("carrier_service", &["carrier_service"]),
    ("bol_number", &["bol_number"]),
    ("seal_number", &["seal_number"]),
    ("shipper", &["shipper"]),
    ("shipper.*", &[]),
    ("consignee", &["consignee"]),
    ("consignee.*", &[]),
    ("payer", &["payer"]),
    ("payer.*", &[]),
    (
        "pickup_window",
        &["pickup_window_start", "pickup_window_end"],
    ),
    ("pickup_window.start", &["pickup_window_start"]),
    ("pickup_window.end", &["pickup_window_end"]),
    (
        "delivery_window",
        &["delivery_window_start", "delivery_window_end"],
    ),
    ("delivery_window.start", &["delivery_window_start"]),
    ("delivery_window.end", &["delivery_window_end"]),
    ("addons", &["addons"]),
    ("notes", &["notes"]),
    ("shipment_id", &["shipment_id"]),
    ("expected_quantity", &["expected_quantity"]),
];

order_body!(
    /// A new order with its lines. `facility` defaults to `default`.
    NewOrder {
        #[schema(min_length = 1, max_length = 128, pattern = "\\S")]
        pub order_number: String,
        /// The facility's slug; created on first use unless `strict_facilities` is on.
        #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
        pub facility: Option<String>,
    }
);

order_body!(
    /// A change to an order; its number and facility stay as they are.
    OrderChange {}
);

/// A party with its address.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    pub name: Option<String>,
    pub address_one: Option<String>,
    pub address_two: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `NL`.
    #[schema(value_type = Option<String>, pattern = "^\\s*[A-Za-z]{2}\\s*$")]
    pub country: Option<CountryCode>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<PartyBody> for Party {
    fn from(p: PartyBody) -> Party {
        Party {
            name: p.name,
            address_one: p.address_one,
            address_two: p.address_two,
            city: p.city,
            state: p.state,
            postal_code: p.postal_code,
            country: p.country,
            phone: p.phone,
            email: p.email,
        }
    }
}

/// A time window; either end may be open.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowBody {
    #[serde(default, deserialize_with = "super::body::timestamp")]
    pub start: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::body::timestamp")]
    pub end: Option<DateTime<Utc>>,
}

/// One order line. It is told from the others by `identifier`, else `lpn`, else `sku`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    pub identifier: Option<String>,
    pub lpn: Option<String>,
    pub sku: Option<String>,
    pub description: Option<String>,
    pub upc: Option<String>,
    /// Zero or more.
    #[schema(value_type = f64, minimum = 0)]
    pub quantity: Quantity,
    /// Defaults to `UNIT`.
    pub quantity_unit: Option<QuantityUnit>,
    pub purchase_order: Option<String>,
    pub weight_per_unit: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    pub length: Option<f64>,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub dimension_unit: Option<DimensionUnit>,
    pub is_dangerous_good: Option<bool>,
    pub lot: Option<String>,
    #[serde(default, deserialize_with = "super::body::date")]
    pub expiration_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "super::body::date")]
    pub manufacturing_date: Option<NaiveDate>,
    /// Free fields kept as given.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

impl From<ItemBody> for ItemFields {
    fn from(i: ItemBody) -> ItemFields {
        let mut fields = ItemFields::new(i.quantity, i.quantity_unit.unwrap_or(QuantityUnit::Unit));
        fields.identifier = i.identifier;
        fields.lpn = i.lpn;
        fields.sku = i.sku;
        fields.description = i.description;
        fields.upc = i.upc;
        fields.purchase_order = i.purchase_order;
        fields.weight_per_unit = i.weight_per_unit;
        fields.weight_unit = i.weight_unit;
        fields.length = i.length;
        fields.width = i.width;
        fields.height = i.height;
        fields.dimension_unit = i.dimension_unit;
        fields.is_dangerous_good = i.is_dangerous_good.unwrap_or(false);
        fields.lot = i.lot;
        fields.expiration_date = i.expiration_date;
        fields.manufacturing_date = i.manufacturing_date;
        fields.metadata = i.metadata.map(serde_json::Value::Object);
        fields
    }
}

/// Lines to add to an order.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemsBody {
    #[schema(min_items = 1)]
    pub items: Vec<ItemBody>,
}

/// Filters of `GET /v1/orders`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderListParams {
    /// Only this facility's (its slug).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub facility: Option<String>,
    pub status: Option<OrderStatus>,
    pub direction: Option<OrderDirection>,
    /// The requested date (ship date outbound, delivery date inbound) is at or after
    /// (RFC 3339); an order without one is matched by its creation time.
    pub requested_from: Option<String>,
    /// The requested date (or, without one, the creation time) is before (RFC 3339).
    pub requested_to: Option<String>,
    /// Changed at or after (RFC 3339).
    pub updated_since: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// Lists the business's orders, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/orders", operation_id = "listOrders", tag = "orders",
    params(OrderListParams),
    responses(
        (status = 200, description = "A page of orders", body = Listing<OrderSummary>),
        ReadProblems,
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(app): State<App>,
    Reader(who): Reader,
    Query(params): Query<OrderListParams>,
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
    let filter = OrderFilter {
        facility,
        query: OrderQuery {
            direction: params.direction,
            status: params.status,
            start: time_param("requested_from", params.requested_from.as_deref())?,
            end: time_param("requested_to", params.requested_to.as_deref())?,
            since: time_param("updated_since", params.updated_since.as_deref())?,
            ..OrderQuery::default()
        },
    };
    let listing = orders::list(&app, &who, filter, page).await?;
    Ok(axum::Json(listing).into_response())
}

/// Creates an order with its lines.
#[utoipa::path(post, path = "/v1/orders", operation_id = "createOrder", tag = "orders",
    request_body = NewOrder,
    responses(
        (status = 201, description = "Created", body = OrderView,
            headers(("ETag" = String, description = "The order's version"), ("Location" = String, description = "The order's URL")),
            links(
                ("GetOrder" = (operation_id = "getOrder", parameters(("id" = "$response.body#/id")))),
                ("ReplaceOrder" = (operation_id = "replaceOrder", parameters(("id" = "$response.body#/id")))),
                ("PatchOrder" = (operation_id = "patchOrder", parameters(("id" = "$response.body#/id")))),
                ("CancelOrder" = (operation_id = "cancelOrder", parameters(("id" = "$response.body#/id")))),
                ("AddOrderItems" = (operation_id = "addOrderItems", parameters(("id" = "$response.body#/id")))),
                ("RemoveOrderItem" = (operation_id = "removeOrderItem", parameters(("id" = "$response.body#/id"), ("key" = "$response.body#/items/0/sku")))),
            )),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(app): State<App>,
    Writer(who): Writer,
    Body(body): Body<NewOrder>,
) -> Result<Response> {
    let number = OrderNumber::parse(&body.order_number).map_err(|e| e.at("$.order_number"))?;
    let facility_slug = body
        .facility
        .as_deref()
        .unwrap_or(crate::ingest::apply::DEFAULT_FACILITY);
    let facility = Slug::parse(facility_slug).map_err(|e| invalid("$.facility".into(), e))?;
    let fields = body.fields(&[])?;
    let created = orders::create(&app, &who, facility, number, fields).await?;
    let location = format!("/v1/orders/{}", created.order.id);
    Ok(with_etag(
        StatusCode::CREATED,
        &created.order.version,
        Some(location),
        &created,
    ))
}

/// An order with its lines.
#[utoipa::path(get, path = "/v1/orders/{id}", operation_id = "getOrder", tag = "orders",
    params(("id" = i64, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = OrderView,
            headers(("ETag" = String, description = "The order's version"))),
        ReadProblems,
    ))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn get(
    State(app): State<App>,
    Reader(who): Reader,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    let found = orders::get(&app, &who, id.into()).await?;
    Ok(with_etag(
        StatusCode::OK,
        &found.order.version,
        None,
        &found,
    ))
}

async fn change(
    app: App,
    who: Principal,
    id: OrderId,
    headers: HeaderMap,
    body: OrderChange,
    nulls: &[String],
    mode: UpdateMode,
) -> Result<Response> {
    let expected = if_match(&headers)?;
    let fields = body.fields(nulls)?;
    let changed = orders::update(&app, &who, id, fields, mode, expected.as_ref()).await?;
    Ok(with_etag(
        StatusCode::OK,
        &changed.order.version,
        None,
        &changed,
    ))
}

/// Replaces an order's fields and lines: what the body leaves out is cleared.
#[utoipa::path(put, path = "/v1/orders/{id}", operation_id = "replaceOrder", tag = "orders",
    params(("id" = i64, Path, description = "The order's id"),
        ("If-Match" = Option<String>, Header, description = "The version (`ETag`) the change is based on")),
    request_body = OrderChange,
    responses(
        (status = 200, description = "The changed order", body = OrderView,
            headers(("ETag" = String, description = "The order's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn replace(
    State(app): State<App>,
    Writer(who): Writer,
    Path(id): Path<PublicId>,
    headers: HeaderMap,
    Body(body): Body<OrderChange>,
) -> Result<Response> {
    change(app, who, id.into(), headers, body, &[], UpdateMode::Replace).await
}

/// Changes the fields the body gives and keeps the others; given lines replace the lines.
#[utoipa::path(patch, path = "/v1/orders/{id}", operation_id = "patchOrder", tag = "orders",
    params(("id" = i64, Path, description = "The order's id"),
        ("If-Match" = Option<String>, Header, description = "The version (`ETag`) the change is based on")),
    request_body = OrderChange,
    responses(
        (status = 200, description = "The changed order", body = OrderView,
            headers(("ETag" = String, description = "The order's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn patch(
    State(app): State<App>,
    Writer(who): Writer,
    Path(id): Path<PublicId>,
    headers: HeaderMap,
    patch: PatchBody<OrderChange>,
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

/// Cancels an order; cancelling again changes nothing.
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", operation_id = "cancelOrder", tag = "orders",
    params(("id" = i64, Path, description = "The order's id"),
        ("If-Match" = Option<String>, Header, description = "The version (`ETag`) the change is based on")),
    responses(
        (status = 200, description = "The cancelled order", body = OrderView,
            headers(("ETag" = String, description = "The order's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn cancel(
    State(app): State<App>,
    Writer(who): Writer,
    Path(id): Path<PublicId>,
    headers: HeaderMap,
) -> Result<Response> {
    let expected = if_match(&headers)?;
    let cancelled = orders::cancel(&app, &who, id.into(), expected.as_ref()).await?;
    Ok(with_etag(
        StatusCode::OK,
        &cancelled.order.version,
        None,
        &cancelled,
    ))
}

/// Appends lines to an order.
#[utoipa::path(post, path = "/v1/orders/{id}/items", operation_id = "addOrderItems", tag = "orders",
    params(("id" = i64, Path, description = "The order's id"),
        ("If-Match" = Option<String>, Header, description = "The version (`ETag`) the change is based on")),
    request_body = ItemsBody,
    responses(
        (status = 200, description = "The order with its lines", body = OrderView,
            headers(("ETag" = String, description = "The order's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn add_items(
    State(app): State<App>,
    Writer(who): Writer,
    Path(id): Path<PublicId>,
    headers: HeaderMap,
    Body(body): Body<ItemsBody>,
) -> Result<Response> {
    let expected = if_match(&headers)?;
    if body.items.is_empty() {
        return Err(invalid("$.items".into(), "give at least one line".into()));
    }
    let items = body.items.into_iter().map(Into::into).collect();
    let changed = orders::add_items(&app, &who, id.into(), items, expected.as_ref()).await?;
    Ok(with_etag(
        StatusCode::OK,
        &changed.order.version,
        None,
        &changed,
    ))
}

/// Removes one line, by identifier (else LPN, else SKU). Removing the last line
/// cancels the order, which is kept for its history.
#[utoipa::path(delete, path = "/v1/orders/{id}/items/{key}", operation_id = "removeOrderItem", tag = "orders",
    params(("id" = i64, Path, description = "The order's id"),
        ("key" = String, Path, description = "The line's identifier, else LPN, else SKU"),
        ("If-Match" = Option<String>, Header, description = "The version (`ETag`) the change is based on")),
    responses(
        (status = 200, description = "The order with its remaining lines", body = OrderView,
            headers(("ETag" = String, description = "The order's new version"))),
        WriteProblems,
    ))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn remove_item(
    State(app): State<App>,
    Writer(who): Writer,
    Path((id, key)): Path<(PublicId, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let expected = if_match(&headers)?;
    let changed = orders::remove_item(&app, &who, id.into(), key, expected.as_ref()).await?;
    Ok(with_etag(
        StatusCode::OK,
        &changed.order.version,
        None,
        &changed,
    ))
}
