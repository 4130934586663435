//! The events every change publishes, built from the stored rows and written to the
//! outbox on the same connection (so inside the change's transaction).

use super::gate::Write;
use serde_json::{Value, json};

use super::entities::{document, exception, order, pallet, shipment};
use super::outbox::{self, NewEvent};
use super::{orders, tenancy, unit};
use crate::domain::EventType;
use crate::domain::PublicId;
use crate::error::Result;

/// Business and facility slugs of a row.
async fn slugs(
    db: &impl Write,
    business_id: i64,
    facility_id: Option<i64>,
) -> Result<(String, Option<String>)> {
    unit::slugs(db, (business_id, facility_id), || async {
        Ok(tenancy::slugs(db, business_id, facility_id)
            .await?
            .unwrap_or_default())
    })
    .await
}

async fn dock_slug(db: &impl Write, dock_id: Option<i64>) -> Result<Option<String>> {
    match dock_id {
        Some(id) => {
            unit::dock_slug(db, id, || async {
                Ok(tenancy::dock_by_id(db, id).await?.map(|d| d.slug))
            })
            .await
        }
        None => Ok(None),
    }
}

async fn publish(
    db: &impl Write,
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
        audience: None,
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
        "gross_weight": s.gross_weight,
        "weight_unit": s.weight_unit,
        "volume": s.volume,
        "pallet_count": s.pallet_count,
        "package_count": s.package_count,
        "updated_at": s.updated_at,
    })
}

/// `shipment.created`, `.updated`, `.status_changed` or `.cancelled`.
pub async fn shipment(db: &impl Write, event_type: EventType, s: &shipment::Model) -> Result<()> {
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
pub async fn shipment_completed(db: &impl Write, s: &shipment::Model) -> Result<()> {
    let dock = dock_slug(db, s.dock_id).await?;
    let orders: Vec<Value> = orders::for_shipment(db, s.id)
        .await?
        .into_iter()
        .map(|o| completed_order(&o.order))
        .collect();
    let pallets: Vec<Value> = super::attach::pallets_of(db, s.id)
        .await?
        .into_iter()
        .map(|p| completed_pallet(&p))
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

/// An order as `shipment.completed` lists it.
fn completed_order(o: &order::Model) -> Value {
    json!({"id": PublicId::from(o.id), "order_number": o.order_number, "status": o.status})
}

/// A pallet as `shipment.completed` lists it.
fn completed_pallet(p: &pallet::Model) -> Value {
    json!({"pallet_id": p.pallet_code, "direction": p.direction, "occurred_at": p.occurred_at, "labels": p.labels})
}

/// `order.created`, `.updated` or `.cancelled`.
pub async fn order(db: &impl Write, event_type: EventType, o: &order::Model) -> Result<()> {
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
        |b, f| order_data(o, b, f),
    )
    .await
}

fn order_data(o: &order::Model, business: String, facility: Option<String>) -> Value {
    json!({
        "business": business,
        "facility": facility,
        "id": PublicId::from(o.id),
        "order_number": o.order_number,
        "direction": o.direction,
        "status": o.status,
        "customer": o.customer,
        "shipment_id": o.shipment_id.map(PublicId::from),
        "cancel_reason": o.cancel_reason,
        "updated_at": o.updated_at,
    })
}

/// `pallet.processed`: one pallet event with its shipment, dock, orders and labels.
pub async fn pallet_processed(
    db: &impl Write,
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
        |b, f| pallet_data(p, s, dock, order_numbers, b, f),
    )
    .await
}

fn pallet_data(
    p: &pallet::Model,
    s: &shipment::Model,
    dock: Option<String>,
    order_numbers: &[String],
    business: String,
    facility: Option<String>,
) -> Value {
    json!({
        "business": business,
        "facility": facility,
        "shipment_id": PublicId::from(s.id),
        "shipment_number": s.shipment_number,
        "pallet_id": p.pallet_code,
        "direction": p.direction,
        "occurred_at": p.occurred_at,
        "dock": dock,
        "orders": order_numbers,
        "labels": p.labels,
    })
}

/// `document.attached`.
pub async fn document_attached(
    db: &impl Write,
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
        |b, f| document_data(d, b, f),
    )
    .await
}

fn document_data(d: &document::Model, business: String, facility: Option<String>) -> Value {
    json!({
        "business": business,
        "facility": facility,
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
}

/// `exception.created`.
pub async fn exception_created(
    db: &impl Write,
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
        |b, f| exception_data(e, s, pallet_code, b, f),
    )
    .await
}

fn exception_data(
    e: &exception::Model,
    s: &shipment::Model,
    pallet_code: Option<&str>,
    business: String,
    facility: Option<String>,
) -> Value {
    json!({
        "business": business,
        "facility": facility,
        "id": PublicId::from(e.id),
        "shipment_id": PublicId::from(s.id),
        "shipment_number": s.shipment_number,
        "pallet_id": pallet_code,
        "priority": e.priority,
        "description": e.description,
        "occurred_at": e.occurred_at,
        "created_at": e.created_at,
    })
}

/// The `data` of an event of `event_type`, built by the same code as real events
/// from sample records: what the event catalogue shows.
pub fn example(event_type: EventType) -> Value {
    use crate::domain::{
        DocumentType, ExceptionPriority, OrderDirection, OrderStatus, PalletDirection,
        ShipmentDirection, ShipmentStatus,
    };
    let at = chrono::DateTime::parse_from_rfc3339("2026-06-11T06:21:55Z")
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    let business = || "northwind".to_string();
    let facility = || Some("rotterdam-dc".to_string());
    let dock = Some("D07".to_string());
    let status = match event_type {
        EventType::ShipmentCancelled => ShipmentStatus::Cancelled,
        EventType::ShipmentCompleted => ShipmentStatus::Departed,
        EventType::ShipmentStatusChanged => ShipmentStatus::AtFacility,
        _ => ShipmentStatus::Scheduled,
    };
    let s = shipment::Model {
        id: 1,
        business_id: 1,
        facility_id: 1,
        shipment_number: "NW-SHP-240611-0042".into(),
        direction: ShipmentDirection::Outbound,
        status,
        dock_id: Some(1),
        expected_arrival_at: Some(at),
        arrived_at: (status != ShipmentStatus::Scheduled).then_some(at),
        loading_start_at: None,
        loading_end_at: None,
        departed_at: (status == ShipmentStatus::Departed).then_some(at),
        carrier: Some("Van Dijk Transport".into()),
        carrier_service: Some("FTL".into()),
        trailer_number: Some("TR-4471".into()),
        seal_number: Some("SEAL-99812".into()),
        gross_weight: Some(12_450.0),
        weight_unit: Some(crate::domain::WeightUnit::Kilogram),
        volume: Some(64.5),
        pallet_count: Some(26),
        package_count: None,
        driver_name: None,
        driver_phone: None,
        driver_license_plate: None,
        equipment_type: None,
        service_type: None,
        shipment_type: None,
        purchase_order: None,
        customer_shipment_identifier: None,
        additional_fields: None,
        subcontractor: None,
        created_at: at,
        updated_at: at,
    };
    let p = pallet::Model {
        id: 1,
        business_id: 1,
        facility_id: 1,
        shipment_id: 1,
        pallet_code: "PLT-0007731".into(),
        direction: PalletDirection::Loading,
        occurred_at: at,
        dock_id: Some(1),
        labels: json!({"sscc": ["387123450000077310"]}),
        created_at: at,
    };
    let o = order::Model {
        id: 1,
        business_id: 1,
        facility_id: 1,
        order_number: "SO-778120".into(),
        external_id: None,
        customer: Some("Hendriks Retail BV".into()),
        direction: OrderDirection::Outbound,
        status: if event_type == EventType::OrderCancelled {
            OrderStatus::Cancelled
        } else {
            OrderStatus::Created
        },
        order_type: None,
        purchase_order: None,
        requested_ship_date: None,
        requested_delivery_date: None,
        service_level: None,
        carrier: None,
        carrier_service: None,
        bol_number: None,
        seal_number: None,
        shipper: None,
        consignee: None,
        payer: None,
        pickup_window_start: None,
        pickup_window_end: None,
        delivery_window_start: None,
        delivery_window_end: None,
        addons: json!([]),
        notes: None,
        shipment_id: Some(1),
        expected_quantity: None,
        cancelled_at: None,
        cancel_reason: None,
        created_at: at,
        updated_at: at,
    };
    match event_type {
        EventType::ShipmentCreated
        | EventType::ShipmentUpdated
        | EventType::ShipmentStatusChanged
        | EventType::ShipmentCancelled => shipment_data(&s, business(), facility(), dock),
        EventType::TripCreated
        | EventType::TripUpdated
        | EventType::TripCancelled
        | EventType::StopUpdated => super::trips::example(event_type, &s),
        EventType::ShipmentCompleted => {
            let mut data = shipment_data(&s, business(), facility(), dock);
            data["orders"] = json!([completed_order(&o)]);
            data["pallets"] = json!([completed_pallet(&p)]);
            data
        }
        EventType::PalletProcessed => pallet_data(
            &p,
            &s,
            dock,
            &["SO-778120".to_string()],
            business(),
            facility(),
        ),
        EventType::OrderCreated | EventType::OrderUpdated | EventType::OrderCancelled => {
            order_data(&o, business(), facility())
        }
        EventType::DocumentAttached => {
            let d = document::Model {
                id: 1,
                business_id: 1,
                shipment_id: Some(1),
                order_id: None,
                document_type: DocumentType::Pod,
                external_id: None,
                file_name: "pod-0042.pdf".into(),
                mime_type: "application/pdf".into(),
                size_bytes: 48_213,
                sha256: "9f2c…".into(),
                content: Vec::new(),
                notes: None,
                uploaded_at: at,
            };
            document_data(&d, business(), facility())
        }
        EventType::ExceptionCreated => {
            let e = exception::Model {
                id: 1,
                business_id: 1,
                shipment_id: 1,
                pallet_id: Some(1),
                priority: ExceptionPriority::High,
                description: "pallet damaged at loading".into(),
                created_at: at,
                occurred_at: Some(at),
            };
            exception_data(&e, &s, Some("PLT-0007731"), business(), facility())
        }
        EventType::PartyCreated | EventType::PartyUpdated | EventType::PartyArchived => {
            master_example(
                event_type,
                "party",
                "HENDRIKS",
                json!({"role": "CUSTOMER", "name": "Hendriks Retail BV", "city": "Utrecht",
                       "country": "NL", "email": "planning@hendriks.example"}),
                at,
            )
        }
        EventType::ResourceCreated | EventType::ResourceUpdated | EventType::ResourceArchived => {
            master_example(
                event_type,
                "resource",
                "TRK-07",
                json!({"kind": "VEHICLE", "name": "DAF XF 480", "owner": "VANDIJK",
                       "license_plate": "BX-482-K",
                       "availability": [{"start": "2026-06-12T05:00:00Z", "end": "2026-06-12T17:00:00Z"}]}),
                at,
            )
        }
        EventType::SkuCreated | EventType::SkuUpdated | EventType::SkuArchived => master_example(
            event_type,
            "sku",
            "8712345000017",
            json!({"description": "Stroopwafels 12x200g", "unit_of_measure": "CASE",
                   "cases_per_pallet": 80}),
            at,
        ),
    }
}

fn master_example(
    event_type: EventType,
    entity: &str,
    code: &str,
    data: Value,
    at: chrono::DateTime<chrono::Utc>,
) -> Value {
    let archived = matches!(
        event_type,
        EventType::PartyArchived | EventType::ResourceArchived | EventType::SkuArchived
    );
    let record = super::entities::master_record::Model {
        id: 1,
        business_id: 1,
        entity: entity.into(),
        facility_scope: i64::from(entity == "sku"),
        code: code.into(),
        kind: None,
        name: None,
        data,
        archived_at: archived.then_some(at),
        created_at: at,
        updated_at: at,
    };
    let facility = (entity == "sku").then_some("rotterdam-dc");
    super::master::view(&record, "northwind", facility)
}
