//! Shipments and their status history.

use super::gate::Write;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Set,
};

use super::entities::{shipment, shipment_status_event};
use super::{events, tenancy};
use crate::domain::PublicId;
use crate::domain::{
    EventType, ShipmentDirection, ShipmentId, ShipmentNumber, ShipmentStatus, Slug, UpdateMode,
    WeightUnit,
};
use crate::error::{Error, ProblemCode, Result, from_db};

/// The settable fields of a shipment; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct ShipmentFields {
    pub direction: Option<ShipmentDirection>,
    pub status: Option<ShipmentStatus>,
    /// When the status change happened; defaults to now.
    pub status_occurred_at: Option<DateTime<Utc>>,
    pub expected_arrival_at: Option<DateTime<Utc>>,
    pub dock: Option<Slug>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub trailer_number: Option<String>,
    pub seal_number: Option<String>,
    pub gross_weight: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    /// Cubic metres.
    pub volume: Option<f64>,
    pub pallet_count: Option<i32>,
    pub package_count: Option<i32>,
    pub driver_name: Option<String>,
    pub driver_phone: Option<String>,
    pub driver_license_plate: Option<String>,
    pub equipment_type: Option<String>,
    pub service_type: Option<String>,
    pub shipment_type: Option<String>,
    pub purchase_order: Option<String>,
    pub customer_shipment_identifier: Option<String>,
    pub additional_fields: Option<serde_json::Value>,
    /// The subcontractor party the trip is assigned to; cleared (unassigned) when
    /// `cleared` names `subcontractor`, or on replace.
    pub subcontractor: Option<String>,
    /// Stops to save, each found by its `seq`: with `Patch` the others stay, with
    /// `Replace` they go. `None` leaves the stops as they are.
    pub stops: Option<Vec<super::trips::StopFields>>,
    /// What a patch clears besides.
    pub cleared: super::Cleared,
}

/// Sets an optional column: a given value always; an absent one clears it on
/// replace, or on a patch that names it in `cleared`.
pub(crate) fn assign<T>(
    slot: &mut ActiveValue<Option<T>>,
    value: Option<T>,
    mode: UpdateMode,
    cleared: bool,
) where
    Option<T>: Into<sea_orm::Value>,
{
    match (value, mode) {
        (Some(v), _) => *slot = Set(Some(v)),
        (None, UpdateMode::Replace) => *slot = Set(None),
        (None, UpdateMode::Patch) if cleared => *slot = Set(None),
        (None, UpdateMode::Patch) => {}
    }
}

/// `assign` of a column of `$active`, cleared when `$cleared` names it.
macro_rules! put {
    ($active:ident, $cleared:expr, $mode:expr, $column:ident, $value:expr) => {
        $crate::store::shipments::assign(
            &mut $active.$column,
            $value,
            $mode,
            $cleared.has(stringify!($column)),
        )
    };
}
pub(crate) use put;

/// Creates a shipment in `facility`; a number already used there is a 409 `duplicate`.
pub async fn create(
    db: &impl Write,
    facility: &super::entities::facility::Model,
    number: &ShipmentNumber,
    fields: ShipmentFields,
) -> Result<shipment::Model> {
    create_if_absent(db, facility, number, fields)
        .await?
        .map_err(|_| Error::Conflict {
            code: ProblemCode::Duplicate,
            detail: crate::error::exists_in_facility("shipment", number, &facility.slug),
        })
}

/// Creates a shipment unless the facility has one of that number: then nothing is
/// written and `fields` is handed back, for the caller to update the shipment it
/// finds or to refuse. One statement fewer than looking the number up first, for
/// the common case of a new shipment.
pub async fn create_if_absent(
    db: &impl Write,
    facility: &super::entities::facility::Model,
    number: &ShipmentNumber,
    mut fields: ShipmentFields,
) -> Result<std::result::Result<shipment::Model, ShipmentFields>> {
    let given = fields.clone();
    let cancelling = (fields.status == Some(ShipmentStatus::Cancelled)).then(|| {
        fields.status = None;
        super::Cancellation {
            occurred_at: fields.status_occurred_at,
            reason: None,
        }
    });
    let stops = fields.stops.take();
    let now = Utc::now();
    let status = fields.status.unwrap_or(ShipmentStatus::New);
    let occurred_at = fields.status_occurred_at.unwrap_or(now);
    let mut active = shipment::ActiveModel {
        business_id: Set(facility.business_id),
        facility_id: Set(facility.id),
        shipment_number: Set(number.to_string()),
        direction: Set(fields.direction.unwrap_or(ShipmentDirection::Unknown)),
        status: Set(status),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply_fields(db, facility, &mut active, fields, UpdateMode::Replace).await?;
    stamp_status_times(&mut active, status, occurred_at);
    let inserted = shipment::Entity::insert(active)
        .on_conflict(
            OnConflict::columns([
                shipment::Column::FacilityId,
                shipment::Column::ShipmentNumber,
            ])
            .do_nothing()
            .to_owned(),
        )
        // As a list: a conflict is an empty one on both backends (see
        // `orders::create_if_absent`).
        .exec_with_returning_many(db)
        .await
        .map_err(|e| {
            from_db(e, "shipment", || {
                format!("`{number}` in facility `{}`", facility.slug)
            })
        })?;
    let Some(created) = inserted.into_iter().next() else {
        return Ok(Err(given));
    };
    record_status(db, created.id, status, occurred_at, None).await?;
    events::shipment(db, EventType::ShipmentCreated, &created).await?;
    super::trips::changed(db, None, &created, stops, UpdateMode::Replace).await?;
    if completes(None, status) {
        events::shipment_completed(db, &created).await?;
    }
    if let Some(cancellation) = cancelling {
        return cancel(db, created, cancellation).await.map(Ok);
    }
    Ok(Ok(created))
}

/// Whether moving from `before` to `after` finishes the shipment's visit.
fn completes(before: Option<ShipmentStatus>, after: ShipmentStatus) -> bool {
    let done =
        |s: ShipmentStatus| matches!(s, ShipmentStatus::Departed | ShipmentStatus::CheckedOut);
    done(after) && !before.is_some_and(done)
}

async fn apply_fields(
    db: &impl Write,
    facility: &super::entities::facility::Model,
    active: &mut shipment::ActiveModel,
    f: ShipmentFields,
    mode: UpdateMode,
) -> Result<()> {
    let dock_id = match &f.dock {
        Some(slug) => Some(tenancy::dock(db, facility, slug).await?.id),
        None => None,
    };
    if let Some(direction) = f.direction {
        active.direction = Set(direction);
    }
    if let Some(code) = &f.subcontractor {
        let unchanged = matches!(&active.subcontractor,
            ActiveValue::Unchanged(Some(current)) if current == code);
        if !unchanged {
            super::trips::check_subcontractor(db, facility.business_id, code).await?;
        }
    }
    put!(active, f.cleared, mode, subcontractor, f.subcontractor);
    put!(active, f.cleared, mode, dock_id, dock_id);
    put!(
        active,
        f.cleared,
        mode,
        expected_arrival_at,
        f.expected_arrival_at
    );
    put!(active, f.cleared, mode, carrier, f.carrier);
    put!(active, f.cleared, mode, carrier_service, f.carrier_service);
    put!(active, f.cleared, mode, trailer_number, f.trailer_number);
    put!(active, f.cleared, mode, seal_number, f.seal_number);
    put!(active, f.cleared, mode, gross_weight, f.gross_weight);
    put!(active, f.cleared, mode, weight_unit, f.weight_unit);
    put!(active, f.cleared, mode, volume, f.volume);
    put!(active, f.cleared, mode, pallet_count, f.pallet_count);
    put!(active, f.cleared, mode, package_count, f.package_count);
    put!(active, f.cleared, mode, driver_name, f.driver_name);
    put!(active, f.cleared, mode, driver_phone, f.driver_phone);
    put!(
        active,
        f.cleared,
        mode,
        driver_license_plate,
        f.driver_license_plate
    );
    put!(active, f.cleared, mode, equipment_type, f.equipment_type);
    put!(active, f.cleared, mode, service_type, f.service_type);
    put!(active, f.cleared, mode, shipment_type, f.shipment_type);
    put!(active, f.cleared, mode, purchase_order, f.purchase_order);
    put!(
        active,
        f.cleared,
        mode,
        customer_shipment_identifier,
        f.customer_shipment_identifier
    );
    put!(
        active,
        f.cleared,
        mode,
        additional_fields,
        f.additional_fields
    );
    Ok(())
}

/// The milestone timestamps a status implies, set the first time it is reached.
fn stamp_status_times(
    active: &mut shipment::ActiveModel,
    status: ShipmentStatus,
    at: DateTime<Utc>,
) {
    use ShipmentStatus::*;
    let slot = match status {
        AtFacility | DoorAssigned => &mut active.arrived_at,
        Loading | Unloading => &mut active.loading_start_at,
        Loaded | Unloaded => &mut active.loading_end_at,
        Departed | CheckedOut => &mut active.departed_at,
        _ => return,
    };
    if matches!(slot, ActiveValue::NotSet | ActiveValue::Unchanged(None)) {
        *slot = Set(Some(at));
    }
}

async fn record_status(
    db: &impl Write,
    shipment_id: i64,
    status: ShipmentStatus,
    occurred_at: DateTime<Utc>,
    note: Option<String>,
) -> Result<()> {
    shipment_status_event::ActiveModel {
        shipment_id: Set(shipment_id),
        status: Set(status),
        occurred_at: Set(occurred_at),
        recorded_at: Set(Utc::now()),
        note: Set(note),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    Ok(())
}

/// Updates a shipment; a status change is added to its history. A cancelled
/// shipment cannot be changed (409 `shipment_cancelled`).
pub async fn update(
    db: &impl Write,
    existing: shipment::Model,
    mut fields: ShipmentFields,
    mode: UpdateMode,
) -> Result<shipment::Model> {
    // A status of CANCELLED from any door cancels the one way (`shipment.cancelled`).
    let existing = current(db, existing).await?;
    let cancelling = (fields.status == Some(ShipmentStatus::Cancelled)).then(|| {
        fields.status = None;
        super::Cancellation {
            occurred_at: fields.status_occurred_at,
            reason: None,
        }
    });
    if existing.status == ShipmentStatus::Cancelled {
        return Err(Error::Conflict {
            code: ProblemCode::ShipmentCancelled,
            detail: format!(
                "shipment `{}` is cancelled and cannot be updated",
                existing.shipment_number
            ),
        });
    }
    let facility = tenancy::facility_by_id(db, existing.facility_id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("shipment without facility")))?;
    let previous_status = existing.status;
    let previous_subcontractor = existing.subcontractor.clone();
    let stops = fields.stops.take();
    let new_status = fields.status.filter(|s| *s != previous_status);
    let occurred_at = fields.status_occurred_at.unwrap_or_else(Utc::now);
    let id = existing.id;
    let mut active = existing.into_active_model();
    apply_fields(db, &facility, &mut active, fields, mode).await?;
    if let Some(status) = new_status {
        active.status = Set(status);
        stamp_status_times(&mut active, status, occurred_at);
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(db).await.map_err(Error::from_db_err)?;
    events::shipment(db, EventType::ShipmentUpdated, &updated).await?;
    super::trips::changed(db, previous_subcontractor.as_deref(), &updated, stops, mode).await?;
    if let Some(status) = new_status {
        record_status(db, id, status, occurred_at, None).await?;
        events::shipment(db, EventType::ShipmentStatusChanged, &updated).await?;
        if completes(Some(previous_status), status) {
            events::shipment_completed(db, &updated).await?;
        }
    }
    if let Some(cancellation) = cancelling {
        return cancel(db, updated, cancellation).await;
    }
    Ok(updated)
}

/// Cancels a shipment. Cancelling a cancelled shipment changes nothing and succeeds.
pub async fn cancel(
    db: &impl Write,
    existing: shipment::Model,
    cancellation: super::Cancellation,
) -> Result<shipment::Model> {
    let existing = current(db, existing).await?;
    if existing.status == ShipmentStatus::Cancelled {
        return Ok(existing);
    }
    let id = existing.id;
    let now = Utc::now();
    let mut active = existing.into_active_model();
    active.status = Set(ShipmentStatus::Cancelled);
    active.updated_at = Set(now);
    let updated = active.update(db).await.map_err(Error::from_db_err)?;
    let occurred_at = cancellation.occurred_at.unwrap_or(now);
    record_status(
        db,
        id,
        ShipmentStatus::Cancelled,
        occurred_at,
        cancellation.reason,
    )
    .await?;
    events::shipment(db, EventType::ShipmentCancelled, &updated).await?;
    super::trips::cancelled(db, &updated).await?;
    Ok(updated)
}

/// On PostgreSQL, the shipment as it is now, its row locked until the transaction
/// ends, so a status check made on it holds until the write (see the orders' twin).
/// SQLite has one writer at a time: `existing` is current already.
async fn current(db: &impl Write, existing: shipment::Model) -> Result<shipment::Model> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(existing);
    }
    let select = shipment::Entity::find_by_id(existing.id);
    super::for_update(select, db)
        .one(db)
        .await
        .map_err(Error::from_db_err)?
        .ok_or(Error::NotFound {
            what: "shipment",
            id: PublicId::from(existing.id).to_string(),
        })
}

/// A shipment of the business by id; other businesses' shipments are not found.
pub async fn find(
    db: &impl ConnectionTrait,
    business_id: i64,
    id: ShipmentId,
) -> Result<Option<shipment::Model>> {
    shipment::Entity::find_by_id(id.internal())
        .filter(shipment::Column::BusinessId.eq(business_id))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Like [`find`], with the row locked until the transaction ends (PostgreSQL; on
/// SQLite the write gate already lets one writer in at a time): a version check or
/// a status check made on it holds until the write.
pub async fn find_locked(
    db: &impl Write,
    business_id: i64,
    id: ShipmentId,
) -> Result<Option<shipment::Model>> {
    let select = shipment::Entity::find_by_id(id.internal())
        .filter(shipment::Column::BusinessId.eq(business_id));
    super::for_update(select, db)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// A shipment by its number within a facility.
pub async fn find_by_number(
    db: &impl ConnectionTrait,
    facility_id: i64,
    number: &ShipmentNumber,
) -> Result<Option<shipment::Model>> {
    shipment::Entity::find()
        .filter(shipment::Column::FacilityId.eq(facility_id))
        .filter(shipment::Column::ShipmentNumber.eq(number.as_str()))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// A shipment's status history, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    shipment_id: i64,
) -> Result<Vec<shipment_status_event::Model>> {
    shipment_status_event::Entity::find()
        .filter(shipment_status_event::Column::ShipmentId.eq(shipment_id))
        .order_by_asc(shipment_status_event::Column::OccurredAt)
        .order_by_asc(shipment_status_event::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// Shipments of the business with `number`, optionally only in one facility. At most
/// two are returned: enough to tell "none", "this one" and "ambiguous" apart.
pub async fn find_in_business(
    db: &impl ConnectionTrait,
    business_id: i64,
    facility_id: Option<i64>,
    number: &ShipmentNumber,
) -> Result<Vec<shipment::Model>> {
    use sea_orm::QuerySelect;
    let mut query = shipment::Entity::find()
        .filter(shipment::Column::BusinessId.eq(business_id))
        .filter(shipment::Column::ShipmentNumber.eq(number.as_str()));
    if let Some(facility_id) = facility_id {
        query = query.filter(shipment::Column::FacilityId.eq(facility_id));
    }
    query.limit(2).all(db).await.map_err(Error::from_db_err)
}
