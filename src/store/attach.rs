//! Things attached to existing shipments and orders: pallet events, documents,
//! references and exceptions. Each publishes its event on the same connection.

use super::gate::Write;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sha2::{Digest, Sha256};

use super::entities::{document, exception, order, pallet, pallet_order, reference, shipment};
use super::{events, tenancy};
use crate::domain::{DocumentType, ExceptionDescription, ExceptionPriority, PalletDirection, Slug};
use crate::error::{Error, Result};

/// A pallet seen at a dock.
#[derive(Debug, Clone)]
pub struct PalletEvent {
    pub pallet_code: String,
    pub direction: PalletDirection,
    pub occurred_at: DateTime<Utc>,
    pub dock: Option<Slug>,
    /// Label fields, each a list of values (e.g. `LPN → [..]`).
    pub labels: BTreeMap<String, Vec<String>>,
    /// The orders on the pallet: id and number.
    pub orders: Vec<(i64, String)>,
}

/// Records a pallet event on `shipment`.
pub async fn pallet(
    db: &impl Write,
    shipment: &shipment::Model,
    event: PalletEvent,
) -> Result<pallet::Model> {
    let dock_id = match &event.dock {
        Some(slug) => {
            let facility = tenancy::facility_by_id(db, shipment.facility_id)
                .await?
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("shipment without facility")))?;
            Some(tenancy::dock(db, &facility, slug).await?.id)
        }
        None => shipment.dock_id,
    };
    let created = pallet::ActiveModel {
        business_id: Set(shipment.business_id),
        facility_id: Set(shipment.facility_id),
        shipment_id: Set(shipment.id),
        pallet_code: Set(event.pallet_code),
        direction: Set(event.direction),
        occurred_at: Set(event.occurred_at),
        dock_id: Set(dock_id),
        labels: Set(serde_json::json!(event.labels)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    if !event.orders.is_empty() {
        let links = event
            .orders
            .iter()
            .map(|(order_id, _)| pallet_order::ActiveModel {
                pallet_id: Set(created.id),
                order_id: Set(*order_id),
            });
        pallet_order::Entity::insert_many(links)
            .exec(db)
            .await
            .map_err(Error::from_db_err)?;
    }
    let numbers: Vec<String> = event.orders.into_iter().map(|(_, number)| number).collect();
    events::pallet_processed(db, &created, shipment, &numbers).await?;
    Ok(created)
}

/// What a document or reference is attached to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Shipment(i64),
    Order(i64),
}

impl Target {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            Target::Shipment(id) => (Some(id), None),
            Target::Order(id) => (None, Some(id)),
        }
    }

    /// The facility of the shipment or order.
    async fn facility_id(self, db: &impl Write) -> Result<Option<i64>> {
        let found = match self {
            Target::Shipment(id) => shipment::Entity::find_by_id(id)
                .one(db)
                .await
                .map(|s| s.map(|s| s.facility_id)),
            Target::Order(id) => order::Entity::find_by_id(id)
                .one(db)
                .await
                .map(|o| o.map(|o| o.facility_id)),
        };
        found.map_err(Error::from_db_err)
    }
}

/// A file to attach; its size and SHA-256 are computed here.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub document_type: DocumentType,
    pub external_id: Option<String>,
    pub file_name: String,
    pub mime_type: String,
    pub content: Vec<u8>,
    pub notes: Option<String>,
    pub uploaded_at: Option<DateTime<Utc>>,
}

/// Stores a document for `target` in `business_id`.
pub async fn document(
    db: &impl Write,
    business_id: i64,
    target: Target,
    doc: NewDocument,
) -> Result<document::Model> {
    let (shipment_id, order_id) = target.ids();
    let stored = document::ActiveModel {
        business_id: Set(business_id),
        shipment_id: Set(shipment_id),
        order_id: Set(order_id),
        document_type: Set(doc.document_type),
        external_id: Set(doc.external_id),
        file_name: Set(doc.file_name),
        mime_type: Set(doc.mime_type),
        size_bytes: Set(doc.content.len() as i64),
        sha256: Set(hex::encode(Sha256::digest(&doc.content))),
        content: Set(doc.content),
        notes: Set(doc.notes),
        uploaded_at: Set(doc.uploaded_at.unwrap_or_else(Utc::now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    events::document_attached(db, &stored, target.facility_id(db).await?).await?;
    Ok(stored)
}

/// Stores a `kind = value` reference for `target`.
pub async fn reference(
    db: &impl Write,
    business_id: i64,
    target: Target,
    kind: &str,
    value: &str,
) -> Result<reference::Model> {
    let (shipment_id, order_id) = target.ids();
    reference::ActiveModel {
        business_id: Set(business_id),
        shipment_id: Set(shipment_id),
        order_id: Set(order_id),
        kind: Set(kind.to_string()),
        value: Set(value.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)
}

/// Records an exception on a shipment (optionally one of its pallets).
pub async fn exception(
    db: &impl Write,
    shipment: &shipment::Model,
    pallet: Option<&pallet::Model>,
    priority: ExceptionPriority,
    description: &ExceptionDescription,
    occurred_at: Option<DateTime<Utc>>,
) -> Result<exception::Model> {
    let created = exception::ActiveModel {
        business_id: Set(shipment.business_id),
        shipment_id: Set(shipment.id),
        pallet_id: Set(pallet.map(|p| p.id)),
        priority: Set(priority),
        description: Set(description.as_str().to_owned()),
        created_at: Set(Utc::now()),
        occurred_at: Set(occurred_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    let code = pallet.map(|p| p.pallet_code.as_str());
    events::exception_created(db, &created, shipment, code).await?;
    Ok(created)
}

/// The latest event of pallet `code` on a shipment.
pub async fn find_pallet(
    db: &impl ConnectionTrait,
    shipment_id: i64,
    code: &str,
) -> Result<Option<pallet::Model>> {
    pallet::Entity::find()
        .filter(pallet::Column::ShipmentId.eq(shipment_id))
        .filter(pallet::Column::PalletCode.eq(code))
        .order_by_desc(pallet::Column::Id)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Every pallet event of a shipment, oldest first.
pub async fn pallets_of(db: &impl ConnectionTrait, shipment_id: i64) -> Result<Vec<pallet::Model>> {
    pallet::Entity::find()
        .filter(pallet::Column::ShipmentId.eq(shipment_id))
        .order_by_asc(pallet::Column::OccurredAt)
        .order_by_asc(pallet::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// A document of the business with its bytes; other businesses' documents are not found.
pub async fn find_document(
    db: &impl ConnectionTrait,
    business_id: i64,
    id: i64,
) -> Result<Option<document::Model>> {
    document::Entity::find_by_id(id)
        .filter(document::Column::BusinessId.eq(business_id))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// A stored document without its bytes.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
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
    pub notes: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

/// The documents attached to a shipment or to one of its orders, oldest first,
/// without their bytes.
pub async fn documents_of(
    db: &impl ConnectionTrait,
    shipment_id: i64,
) -> Result<Vec<DocumentMeta>> {
    use document::Column as C;
    document::Entity::find()
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
            C::Notes,
            C::UploadedAt,
        ])
        .filter(
            sea_orm::Condition::any()
                .add(C::ShipmentId.eq(shipment_id))
                .add(
                    C::OrderId.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(order::Column::Id)
                            .from(order::Entity)
                            .and_where(order::Column::ShipmentId.eq(shipment_id))
                            .to_owned(),
                    ),
                ),
        )
        .order_by_asc(C::Id)
        .into_model::<DocumentMeta>()
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// The references of a shipment, oldest first.
pub async fn references_of(
    db: &impl ConnectionTrait,
    shipment_id: i64,
) -> Result<Vec<reference::Model>> {
    reference::Entity::find()
        .filter(reference::Column::ShipmentId.eq(shipment_id))
        .order_by_asc(reference::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// The exceptions raised on a shipment or its pallets, oldest first.
pub async fn exceptions_of(
    db: &impl ConnectionTrait,
    shipment_id: i64,
) -> Result<Vec<exception::Model>> {
    exception::Entity::find()
        .filter(exception::Column::ShipmentId.eq(shipment_id))
        .order_by_asc(exception::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}
