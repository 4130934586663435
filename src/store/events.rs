//! The events every change publishes, built from the stored rows and written to the
//! outbox on the same connection (so inside the change's transaction).

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::entities::{document, exception, order, pallet, shipment};
use super::outbox::{self, NewEvent};
use super::{orders, tenancy, unit};
use crate::domain::EventType;
use crate::domain::PublicId;
use crate::error::Result;

/// Business and facility slugs of a row.
async fn slugs(
    db: &impl ConnectionTrait,
    business_id: i64,
    facility_id: Option<i64>,
) -> Result<(String, Option<String>)> {
    unit::slugs((business_id, facility_id), || async {
        Ok(tenancy::slugs(db, business_id, facility_id)
            .await?
            .unwrap_or_default())
    })
    .await
}

async fn dock_slug(db: &impl ConnectionTrait, dock_id: Option<i64>) -> Result<Option<String>> {
    match dock_id {
        Some(id) => {
            unit::dock_slug(id, || async {
                Ok(tenancy::dock_by_id(db, id).await?.map(|d| d.slug))
            })
            .await
        }
        None => Ok(None),
    }
}

async fn publish(
    db: &impl ConnectionTrait,
    event_type: EventType,
    business_id: i64,
    facility_id: Option<i64>,
    ordering_key: String,
    data: impl FnOnce(String, Option<String>) -> Value,
) -> Result<()> {
    let (business, facility) = slugs(db, business_id, facility_id).await?;
    let event = NewEvent {
        business_id,
        facility_id,
        facility_slug: facility.clone(),
        event_type,
        ordering_key: Some(ordering_key),
        data: data(business, facility),
    };
    outbox::emit(db, event).await.map(|_| ())
}

fn shipment_data(
    s: &shipment::Model,
    business: String,
    facility: Option<String>,
    dock: Option<String>,
) -> Value {
    json!({
        "business": business,
        "facility": facility,
        "id": PublicId::from(s.id),
        "shipment_number": s.shipment_number,
        "direction": s.direction,
        "status": s.status,
        "dock": dock,
        "expected_arrival_at": s.expected_arrival_at,
        "arrived_at": s.arrived_at,
        "departed_at": s.departed_at,
        "carrier": s.carrier,
        "carrier_service": s.carrier_service,
        "trailer_number": s.trailer_number,
        "seal_number": s.seal_number,
        "updated_at": s.updated_at,
    })
}

/// `shipment.created`, `.updated`, `.status_changed` or `.cancelled`.
pub async fn shipment(
    db: &impl ConnectionTrait,
    event_type: EventType,
    s: &shipment::Model,
) -> Result<()> {
    let dock = dock_slug(db, s.dock_id).await?;
    publish(
        db,
        event_type,
        s.business_id,
        Some(s.facility_id),
        format!("shipment:{}", s.id),
        |b, f| shipment_data(s, b, f, dock),
    )
    .await
}

/// `shipment.completed`: the shipment with its orders, dock and pallets.
pub async fn shipment_completed(db: &impl ConnectionTrait, s: &shipment::Model) -> Result<()> {
    let dock = dock_slug(db, s.dock_id).await?;
    let orders: Vec<Value> = orders::for_shipment(db, s.id)
        .await?
        .into_iter()
        .map(|o| json!({"id": PublicId::from(o.order.id), "order_number": o.order.order_number, "status": o.order.status}))
        .collect();
    let pallets: Vec<Value> = super::attach::pallets_of(db, s.id)
        .await?
        .into_iter()
        .map(|p| json!({"pallet_id": p.pallet_code, "direction": p.direction, "occurred_at": p.occurred_at, "labels": p.labels}))
        .collect();
    publish(
        db,
        EventType::ShipmentCompleted,
        s.business_id,
        Some(s.facility_id),
        format!("shipment:{}", s.id),
        |b, f| {
            let mut data = shipment_data(s, b, f, dock);
            data["orders"] = Value::Array(orders);
            data["pallets"] = Value::Array(pallets);
            data
        },
    )
    .await
}

/// `order.created`, `.updated` or `.cancelled`.
pub async fn order(
    db: &impl ConnectionTrait,
    event_type: EventType,
    o: &order::Model,
) -> Result<()> {
    let key = match o.shipment_id {
        Some(shipment_id) => format!("shipment:{shipment_id}"),
        None => format!("order:{}", o.id),
    };
    publish(
        db,
        event_type,
        o.business_id,
        Some(o.facility_id),
        key,
        |b, f| {
            json!({
                "business": b,
                "facility": f,
                "id": PublicId::from(o.id),
                "order_number": o.order_number,
                "direction": o.direction,
                "status": o.status,
                "customer": o.customer,
                "shipment_id": o.shipment_id.map(PublicId::from),
                "updated_at": o.updated_at,
            })
        },
    )
    .await
}

/// `pallet.processed`: one pallet event with its shipment, dock, orders and labels.
pub async fn pallet_processed(
    db: &impl ConnectionTrait,
    p: &pallet::Model,
    s: &shipment::Model,
    order_numbers: &[String],
) -> Result<()> {
    let dock = dock_slug(db, p.dock_id).await?;
    publish(
        db,
        EventType::PalletProcessed,
        p.business_id,
        Some(p.facility_id),
        format!("shipment:{}", s.id),
        |b, f| {
            json!({
                "business": b,
                "facility": f,
                "shipment_id": PublicId::from(s.id),
                "shipment_number": s.shipment_number,
                "pallet_id": p.pallet_code,
                "direction": p.direction,
                "occurred_at": p.occurred_at,
                "dock": dock,
                "orders": order_numbers,
                "labels": p.labels,
            })
        },
    )
    .await
}

/// `document.attached`.
pub async fn document_attached(
    db: &impl ConnectionTrait,
    d: &document::Model,
    facility_id: Option<i64>,
) -> Result<()> {
    let key = match (d.shipment_id, d.order_id) {
        (Some(id), _) => format!("shipment:{id}"),
        (None, Some(id)) => format!("order:{id}"),
        (None, None) => format!("document:{}", d.id),
    };
    publish(
        db,
        EventType::DocumentAttached,
        d.business_id,
        facility_id,
        key,
        |b, f| {
            json!({
                "business": b,
                "facility": f,
                "id": PublicId::from(d.id),
                "type": d.document_type,
                "file_name": d.file_name,
                "mime_type": d.mime_type,
                "size_bytes": d.size_bytes,
                "sha256": d.sha256,
                "shipment_id": d.shipment_id.map(PublicId::from),
                "order_id": d.order_id.map(PublicId::from),
                "uploaded_at": d.uploaded_at,
            })
        },
    )
    .await
}

/// `exception.created`.
pub async fn exception_created(
    db: &impl ConnectionTrait,
    e: &exception::Model,
    s: &shipment::Model,
    pallet_code: Option<&str>,
) -> Result<()> {
    publish(
        db,
        EventType::ExceptionCreated,
        e.business_id,
        Some(s.facility_id),
        format!("shipment:{}", s.id),
        |b, f| {
            json!({
                "business": b,
                "facility": f,
                "id": PublicId::from(e.id),
                "shipment_id": PublicId::from(s.id),
                "shipment_number": s.shipment_number,
                "pallet_id": pallet_code,
                "priority": e.priority,
                "description": e.description,
                "created_at": e.created_at,
            })
        },
    )
    .await
}
