//! Status pull for external systems: a shipment or an order by id.

use axum::extract::State;
use axum::response::IntoResponse;

use super::extract::Path;
use super::views::{OrderView, ShipmentView};
use crate::app::App;
use crate::domain::Scope;
use crate::error::{Error, Result};
use crate::store::keys::Principal;
use crate::store::orders::OrderWithItems;
use crate::store::{orders, shipments, tenancy};

fn not_found(what: &'static str, id: i64) -> Error {
    Error::NotFound {
        what,
        id: id.to_string(),
    }
}

/// `GET /v1/shipments/{id}`: the shipment with its status history, orders and items.
#[tracing::instrument(skip_all, fields(shipment_id = id))]
pub async fn shipment(
    State(state): State<App>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse> {
    principal.require(Scope::Read)?;
    let db = &state.db;
    let shipment = shipments::find(db, principal.business_id, id)
        .await?
        .ok_or_else(|| not_found("shipment", id))?;
    let facility = facility_slug(&state, shipment.facility_id).await?;
    let dock = match shipment.dock_id {
        Some(dock_id) => tenancy::dock_by_id(db, dock_id).await?.map(|d| d.slug),
        None => None,
    };
    let history = shipments::history(db, shipment.id).await?;
    let mut order_views = Vec::new();
    for order in orders::for_shipment(db, shipment.id).await? {
        let slug = facility_slug(&state, order.order.facility_id).await?;
        order_views.push(OrderView::new(order, slug));
    }
    Ok(axum::Json(ShipmentView::new(
        shipment,
        facility,
        dock,
        history,
        order_views,
    )))
}

/// `GET /v1/orders/{id}`: the order with its items.
#[tracing::instrument(skip_all, fields(order_id = id))]
pub async fn order(
    State(state): State<App>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse> {
    principal.require(Scope::Read)?;
    let order = orders::find(&state.db, principal.business_id, id)
        .await?
        .ok_or_else(|| not_found("order", id))?;
    let items = orders::items(&state.db, order.id).await?;
    let facility = facility_slug(&state, order.facility_id).await?;
    Ok(axum::Json(OrderView::new(
        OrderWithItems { order, items },
        facility,
    )))
}

async fn facility_slug(state: &App, facility_id: i64) -> Result<String> {
    Ok(tenancy::facility_by_id(&state.db, facility_id)
        .await?
        .map(|f| f.slug)
        .unwrap_or_default())
}
