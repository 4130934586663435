//! Batched reads for the GraphQL API's data loaders: each function answers for a
//! whole set of ids in one statement and never crosses the business boundary.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::{
    dock, document, exception, facility, order, order_item, pallet, pallet_order, reference,
    shipment, shipment_status_event,
};
use crate::domain::DocumentType;
use crate::error::{Error, Result};

/// A document without its bytes: what listings show.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DocumentMeta {
    pub id: i64,
    pub shipment_id: Option<i64>,
    pub order_id: Option<i64>,
    pub document_type: DocumentType,
    pub external_id: Option<String>,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

fn group<K, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, Vec<V>>
where
    K: std::hash::Hash + Eq,
{
    let mut grouped: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row)).or_default().push(row);
    }
    grouped
}

/// Facilities of the business by id.
pub async fn facilities(
    db: &impl ConnectionTrait,
    business_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, facility::Model>> {
    let rows = facility::Entity::find()
        .filter(facility::Column::BusinessId.eq(business_id))
        .filter(facility::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(rows.into_iter().map(|f| (f.id, f)).collect())
}

/// Shipments of the business by id.
pub async fn shipments(
    db: &impl ConnectionTrait,
    business_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, shipment::Model>> {
    let rows = shipment::Entity::find()
        .filter(shipment::Column::BusinessId.eq(business_id))
        .filter(shipment::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(rows.into_iter().map(|s| (s.id, s)).collect())
}

/// Docks of the business by id.
pub async fn docks(
    db: &impl ConnectionTrait,
    business_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, dock::Model>> {
    let rows = dock::Entity::find()
        .filter(dock::Column::BusinessId.eq(business_id))
        .filter(dock::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(rows.into_iter().map(|d| (d.id, d)).collect())
}

/// Docks grouped by facility, by slug.
pub async fn docks_of_facilities(
    db: &impl ConnectionTrait,
    business_id: i64,
    facility_ids: &[i64],
) -> Result<HashMap<i64, Vec<dock::Model>>> {
    let rows = dock::Entity::find()
        .filter(dock::Column::BusinessId.eq(business_id))
        .filter(dock::Column::FacilityId.is_in(facility_ids.iter().copied()))
        .order_by_asc(dock::Column::Slug)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(group(rows, |d| d.facility_id))
}

/// Orders grouped by the shipment they are assigned to, oldest first.
pub async fn orders_of_shipments(
    db: &impl ConnectionTrait,
    business_id: i64,
    shipment_ids: &[i64],
) -> Result<HashMap<i64, Vec<order::Model>>> {
    let rows = order::Entity::find()
        .filter(order::Column::BusinessId.eq(business_id))
        .filter(order::Column::ShipmentId.is_in(shipment_ids.iter().copied()))
        .order_by_asc(order::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(group(rows, |o| o.shipment_id.unwrap_or_default()))
}

/// Items grouped by order, in position order. Callers pass ids of orders they
/// already read within the business.
pub async fn items_of_orders(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<order_item::Model>>> {
    let rows = order_item::Entity::find()
        .filter(order_item::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_item::Column::OrderId)
        .order_by_asc(order_item::Column::Position)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(group(rows, |i| i.order_id))
}

/// Documents (without their bytes) grouped by shipment, oldest first.
pub async fn documents_of_shipments(
    db: &impl ConnectionTrait,
    business_id: i64,
    shipment_ids: &[i64],
) -> Result<HashMap<i64, Vec<DocumentMeta>>> {
    use document::Column as C;
    let rows = document::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::ShipmentId,
            C::OrderId,
            C::DocumentType,
            C::ExternalId,
            C::FileName,
            C::MimeType,
            C::SizeBytes,
            C::Sha256,
            C::UploadedAt,
        ])
        .filter(C::BusinessId.eq(business_id))
        .filter(C::ShipmentId.is_in(shipment_ids.iter().copied()))
        .order_by_asc(C::Id)
        .into_model::<DocumentMeta>()
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(group(rows, |d| d.shipment_id.unwrap_or_default()))
}

/// A pallet event with the ids of the orders on it.
#[derive(Debug, Clone)]
pub struct PalletWithOrders {
    pub pallet: pallet::Model,
    pub order_ids: Vec<i64>,
}

/// Pallet events grouped by shipment, in the order they happened.
pub async fn pallets_of_shipments(
    db: &impl ConnectionTrait,
    business_id: i64,
    shipment_ids: &[i64],
) -> Result<HashMap<i64, Vec<PalletWithOrders>>> {
    let pallets = pallet::Entity::find()
        .filter(pallet::Column::BusinessId.eq(business_id))
        .filter(pallet::Column::ShipmentId.is_in(shipment_ids.iter().copied()))
        .order_by_asc(pallet::Column::OccurredAt)
        .order_by_asc(pallet::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    let links = pallet_order::Entity::find()
        .filter(pallet_order::Column::PalletId.is_in(pallets.iter().map(|p| p.id)))
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    let mut orders = group(links, |l| l.pallet_id);
    let rows = pallets
        .into_iter()
        .map(|pallet| PalletWithOrders {
            order_ids: orders
                .remove(&pallet.id)
                .unwrap_or_default()
                .into_iter()
                .map(|l| l.order_id)
                .collect(),
            pallet,
        })
        .collect();
    Ok(group(rows, |p: &PalletWithOrders| p.pallet.shipment_id))
}

/// Status histories grouped by shipment, oldest first. Callers pass ids of
/// shipments they already read within the business.
pub async fn status_events_of_shipments(
    db: &impl ConnectionTrait,
    shipment_ids: &[i64],
) -> Result<HashMap<i64, Vec<shipment_status_event::Model>>> {
    use shipment_status_event::Column as C;
    let rows = shipment_status_event::Entity::find()
        .filter(C::ShipmentId.is_in(shipment_ids.iter().copied()))
        .order_by_asc(C::OccurredAt)
        .order_by_asc(C::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(group(rows, |e| e.shipment_id))
}

/// The references of each shipment of the business, oldest first.
pub async fn references_of_shipments(
    db: &impl ConnectionTrait,
    business_id: i64,
    shipment_ids: &[i64],
) -> Result<HashMap<i64, Vec<reference::Model>>> {
    use reference::Column as C;
    let rows = reference::Entity::find()
        .filter(C::BusinessId.eq(business_id))
        .filter(C::ShipmentId.is_in(shipment_ids.iter().copied()))
        .order_by_asc(C::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(group(rows, |r| r.shipment_id.unwrap_or_default()))
}

/// The references of each order of the business (a tracking number among them),
/// oldest first.
pub async fn references_of_orders(
    db: &impl ConnectionTrait,
    business_id: i64,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<reference::Model>>> {
    use reference::Column as C;
    let rows = reference::Entity::find()
        .filter(C::BusinessId.eq(business_id))
        .filter(C::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(C::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(group(rows, |r| r.order_id.unwrap_or_default()))
}

/// The exceptions raised on each shipment of the business (or its pallets), oldest first.
pub async fn exceptions_of_shipments(
    db: &impl ConnectionTrait,
    business_id: i64,
    shipment_ids: &[i64],
) -> Result<HashMap<i64, Vec<exception::Model>>> {
    use exception::Column as C;
    let rows = exception::Entity::find()
        .filter(C::BusinessId.eq(business_id))
        .filter(C::ShipmentId.is_in(shipment_ids.iter().copied()))
        .order_by_asc(C::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(group(rows, |e| e.shipment_id))
}
