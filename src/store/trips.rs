//! Trips: the subcontractor a shipment is assigned to, the shipment's stops, and the
//! events that tell the subcontractor about them. A trip's events carry the
//! subcontractor as their audience, so its keys pull them and its endpoints receive
//! them; the business receives them as every other event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde_json::{Value, json};

use super::entities::{shipment, shipment_stop};
use super::gate::Write;
use super::outbox::{self, NewEvent};
use crate::domain::{EventType, PublicId, StopKind, StopStatus, UpdateMode};
use crate::error::{Error, FieldError, ProblemCode, Result};

/// The most stops one shipment may have.
pub const MAX_STOPS: usize = 100;

/// One stop as a door gives it, found by `seq`; `None` means "not given".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StopFields {
    pub seq: i32,
    pub kind: Option<StopKind>,
    pub location: Option<String>,
    pub address: Option<Value>,
    pub planned_from: Option<DateTime<Utc>>,
    pub planned_to: Option<DateTime<Utc>>,
    pub status: Option<StopStatus>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub departed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl StopFields {
    /// Whether the stop reports how it went (status, actual times or a note).
    fn reports(&self) -> bool {
        self.status.is_some()
            || self.arrived_at.is_some()
            || self.departed_at.is_some()
            || self.note.is_some()
    }
}

/// A shipment's stops, by `seq`.
pub async fn stops_of(
    db: &impl ConnectionTrait,
    shipment_id: i64,
) -> Result<Vec<shipment_stop::Model>> {
    shipment_stop::Entity::find()
        .filter(shipment_stop::Column::ShipmentId.eq(shipment_id))
        .order_by_asc(shipment_stop::Column::Seq)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

fn invalid(path: String, code: ProblemCode, detail: String) -> Error {
    Error::Invalid {
        code,
        errors: vec![FieldError::new(path, detail.clone())],
        detail,
    }
}

/// Refuses a list of stops that names a `seq` twice, or one out of range.
pub fn check(stops: &[StopFields]) -> Result<()> {
    if stops.len() > MAX_STOPS {
        return Err(invalid(
            "$.stops".into(),
            ProblemCode::ValidationFailed,
            format!(
                "{} stops given; a shipment has at most {MAX_STOPS}",
                stops.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, stop) in stops.iter().enumerate() {
        if !(1..=MAX_STOPS as i32).contains(&stop.seq) {
            return Err(invalid(
                format!("$.stops[{i}].seq"),
                ProblemCode::ValidationFailed,
                format!(
                    "seq {} is out of range: stops are numbered 1 to {MAX_STOPS}",
                    stop.seq
                ),
            ));
        }
        if !seen.insert(stop.seq) {
            return Err(invalid(
                format!("$.stops[{i}].seq"),
                ProblemCode::ValidationFailed,
                format!("seq {} is given twice", stop.seq),
            ));
        }
        if let (Some(from), Some(to)) = (stop.planned_from, stop.planned_to)
            && to < from
        {
            return Err(invalid(
                format!("$.stops[{i}].planned_to"),
                ProblemCode::ValidationFailed,
                "planned_to is before planned_from".into(),
            ));
        }
    }
    Ok(())
}

/// Refuses a subcontractor code that names no subcontractor party of the business
/// (or an archived one): a trip is assigned only to a party whose key can see it.
pub async fn check_subcontractor(
    db: &impl ConnectionTrait,
    business_id: i64,
    code: &str,
) -> Result<()> {
    use super::master::PartyStanding;
    let standing =
        super::master::party_standing(db, business_id, code, Some("SUBCONTRACTOR")).await?;
    let why = match standing {
        PartyStanding::Missing => "is not a party of this business",
        PartyStanding::Archived => "is archived",
        PartyStanding::OtherRole => "is a party, but not a subcontractor",
        PartyStanding::Usable => return Ok(()),
    };
    Err(invalid(
        "$.subcontractor".into(),
        ProblemCode::UnknownParty,
        format!(
            "subcontractor `{code}` {why}: a shipment is assigned to a subcontractor party (PUT /v1/parties/{{code}} with role SUBCONTRACTOR, or a party rule)"
        ),
    ))
}

/// Saves `given` on the shipment: each stop is found by its `seq` and changed in
/// the fields given, or added (a new stop needs its `kind`). With `Replace`, the
/// stops not given are removed. Answers the stops whose status, actual times or
/// note changed, as stored now.
async fn save_stops(
    db: &impl Write,
    shipment: &shipment::Model,
    given: Vec<StopFields>,
    mode: UpdateMode,
) -> Result<Vec<shipment_stop::Model>> {
    check(&given)?;
    let mut existing: HashMap<i32, shipment_stop::Model> = stops_of(db, shipment.id)
        .await?
        .into_iter()
        .map(|s| (s.seq, s))
        .collect();
    let now = Utc::now();
    let mut reported = Vec::new();
    for (i, stop) in given.into_iter().enumerate() {
        let reports = stop.reports();
        match existing.remove(&stop.seq) {
            Some(found) => {
                let before = found.clone();
                let mut active = found.into_active_model();
                if let Some(kind) = stop.kind {
                    active.kind.set_ne(kind);
                }
                set(&mut active.location, stop.location);
                set(&mut active.address, stop.address);
                set(&mut active.planned_from, stop.planned_from);
                set(&mut active.planned_to, stop.planned_to);
                set(&mut active.arrived_at, stop.arrived_at);
                set(&mut active.departed_at, stop.departed_at);
                set(&mut active.note, stop.note);
                if let Some(status) = stop.status {
                    active.status.set_ne(status);
                    stamp(&mut active, status, now);
                }
                // A stop sent again as it is writes nothing.
                if !active.is_changed() {
                    continue;
                }
                active.updated_at = Set(now);
                let stored = active.update(db).await.map_err(Error::from_db_err)?;
                if reports
                    && (
                        stored.status,
                        stored.arrived_at,
                        stored.departed_at,
                        &stored.note,
                    ) != (
                        before.status,
                        before.arrived_at,
                        before.departed_at,
                        &before.note,
                    )
                {
                    reported.push(stored);
                }
            }
            None => {
                let Some(kind) = stop.kind else {
                    return Err(invalid(
                        format!("$.stops[{i}].kind"),
                        ProblemCode::NotFound,
                        format!(
                            "shipment `{}` has no stop {}; a new stop needs its kind (PICKUP, DELIVERY or OTHER)",
                            shipment.shipment_number, stop.seq
                        ),
                    ));
                };
                let status = stop.status.unwrap_or(StopStatus::Planned);
                let mut active = shipment_stop::ActiveModel {
                    shipment_id: Set(shipment.id),
                    seq: Set(stop.seq),
                    kind: Set(kind),
                    location: Set(stop.location),
                    address: Set(stop.address),
                    planned_from: Set(stop.planned_from),
                    planned_to: Set(stop.planned_to),
                    status: Set(status),
                    arrived_at: Set(stop.arrived_at),
                    departed_at: Set(stop.departed_at),
                    note: Set(stop.note),
                    updated_at: Set(now),
                    ..Default::default()
                };
                stamp(&mut active, status, now);
                let stored = active.insert(db).await.map_err(Error::from_db_err)?;
                if status != StopStatus::Planned {
                    reported.push(stored);
                }
            }
        }
    }
    if mode == UpdateMode::Replace && !existing.is_empty() {
        let gone: Vec<i64> = existing.values().map(|s| s.id).collect();
        shipment_stop::Entity::delete_many()
            .filter(shipment_stop::Column::Id.is_in(gone))
            .exec(db)
            .await
            .map_err(Error::from_db_err)?;
    }
    Ok(reported)
}

/// Sets a column to a given value that differs from the stored one; an absent one
/// leaves it.
fn set<T>(slot: &mut sea_orm::ActiveValue<Option<T>>, value: Option<T>)
where
    Option<T>: Into<sea_orm::Value> + PartialEq,
{
    if value.is_some() {
        slot.set_ne(value);
    }
}

/// The actual time a status implies, set when the sender did not give it.
fn stamp(active: &mut shipment_stop::ActiveModel, status: StopStatus, at: DateTime<Utc>) {
    let slot = match status {
        StopStatus::Arrived => &mut active.arrived_at,
        StopStatus::Completed | StopStatus::Failed => &mut active.departed_at,
        _ => return,
    };
    let empty = match slot {
        sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => v.is_none(),
        sea_orm::ActiveValue::NotSet => true,
    };
    if empty {
        *slot = Set(Some(at));
    }
}

/// A stop as events and views show it.
pub fn stop_data(s: &shipment_stop::Model) -> Value {
    json!({
        "seq": s.seq,
        "kind": s.kind,
        "location": s.location,
        "address": s.address,
        "planned_from": s.planned_from,
        "planned_to": s.planned_to,
        "status": s.status,
        "arrived_at": s.arrived_at,
        "departed_at": s.departed_at,
        "note": s.note,
    })
}

/// A trip's event body: the shipment, its subcontractor and its stops.
fn trip_body(
    s: &shipment::Model,
    business: &str,
    facility: Option<&str>,
    stops: &[shipment_stop::Model],
) -> Value {
    json!({
        "business": business,
        "facility": facility,
        "id": PublicId::from(s.id),
        "shipment_number": s.shipment_number,
        "subcontractor": s.subcontractor,
        "direction": s.direction,
        "status": s.status,
        "expected_arrival_at": s.expected_arrival_at,
        "carrier": s.carrier,
        "trailer_number": s.trailer_number,
        "driver_license_plate": s.driver_license_plate,
        "equipment_type": s.equipment_type,
        "gross_weight": s.gross_weight,
        "weight_unit": s.weight_unit,
        "pallet_count": s.pallet_count,
        "stops": stops.iter().map(stop_data).collect::<Vec<_>>(),
        "updated_at": s.updated_at,
    })
}

/// A stop's report as `stop.updated` carries it.
fn stop_body(
    s: &shipment::Model,
    business: &str,
    facility: Option<&str>,
    stop: &shipment_stop::Model,
) -> Value {
    json!({
        "business": business,
        "facility": facility,
        "id": PublicId::from(s.id),
        "shipment_number": s.shipment_number,
        "subcontractor": s.subcontractor,
        "stop": stop_data(stop),
    })
}

async fn publish(
    db: &impl Write,
    event_type: EventType,
    s: &shipment::Model,
    audience: Option<&str>,
    data: Value,
) -> Result<()> {
    let facility = data["facility"].as_str().map(str::to_owned);
    outbox::emit(
        db,
        NewEvent {
            business_id: s.business_id,
            facility_id: Some(s.facility_id),
            facility_slug: facility,
            event_type,
            ordering_key: Some(format!("shipment:{}", s.id)),
            data,
            audience: audience.map(str::to_owned),
        },
    )
    .await
    .map(|_| ())
}

/// Saves the shipment's `stops` when given (see [`save_stops`]), then publishes what
/// the change means for its subcontractors (see [`announce`]). `before` is the
/// subcontractor before the change (`None` for a new shipment).
pub async fn changed(
    db: &impl Write,
    before: Option<&str>,
    s: &shipment::Model,
    stops: Option<Vec<StopFields>>,
    mode: UpdateMode,
) -> Result<()> {
    let reported = match stops {
        Some(stops) => save_stops(db, s, stops, mode).await?,
        None => Vec::new(),
    };
    announce(db, before, s.subcontractor.as_deref(), s, &reported).await
}

/// `trip.cancelled` for a cancelled shipment that was assigned.
pub async fn cancelled(db: &impl Write, s: &shipment::Model) -> Result<()> {
    announce(db, s.subcontractor.as_deref(), None, s, &[]).await
}

/// Publishes a stop's report (`stop.updated`), and the trip assigned to `after`
/// (`trip.created`), changed while assigned (`trip.updated`), or taken away from
/// `before` (`trip.cancelled`).
async fn announce(
    db: &impl Write,
    before: Option<&str>,
    after: Option<&str>,
    s: &shipment::Model,
    reported: &[shipment_stop::Model],
) -> Result<()> {
    if before.is_none() && after.is_none() && reported.is_empty() {
        return Ok(());
    }
    let (business, facility) = super::tenancy::slugs(db, s.business_id, Some(s.facility_id))
        .await?
        .unwrap_or_default();
    for stop in reported {
        let data = stop_body(s, &business, facility.as_deref(), stop);
        publish(db, EventType::StopUpdated, s, after, data).await?;
    }
    if before.is_none() && after.is_none() {
        return Ok(());
    }
    let stops = stops_of(db, s.id).await?;
    let data = trip_body(s, &business, facility.as_deref(), &stops);
    match (before, after) {
        (Some(a), Some(b)) if a == b => {
            publish(db, EventType::TripUpdated, s, after, data).await?;
        }
        (before, after) => {
            if before.is_some() {
                publish(db, EventType::TripCancelled, s, before, data.clone()).await?;
            }
            if after.is_some() {
                publish(db, EventType::TripCreated, s, after, data).await?;
            }
        }
    }
    Ok(())
}

/// An example of a trip event's body, for the event catalogue.
pub fn example(event_type: EventType, s: &shipment::Model) -> Value {
    let at = s.expected_arrival_at;
    let stops = [
        shipment_stop::Model {
            id: 1,
            shipment_id: s.id,
            seq: 1,
            kind: StopKind::Pickup,
            location: Some("Rotterdam DC".into()),
            address: Some(json!({"city": "Rotterdam", "country": "NL"})),
            planned_from: at,
            planned_to: at,
            status: StopStatus::Completed,
            arrived_at: at,
            departed_at: at,
            note: None,
            updated_at: s.updated_at,
        },
        shipment_stop::Model {
            id: 2,
            shipment_id: s.id,
            seq: 2,
            kind: StopKind::Delivery,
            location: Some("Hendriks Utrecht".into()),
            address: Some(json!({"city": "Utrecht", "country": "NL"})),
            planned_from: at,
            planned_to: at,
            status: if event_type == EventType::StopUpdated {
                StopStatus::Arrived
            } else {
                StopStatus::Planned
            },
            arrived_at: (event_type == EventType::StopUpdated)
                .then_some(at)
                .flatten(),
            departed_at: None,
            note: None,
            updated_at: s.updated_at,
        },
    ];
    let mut s = s.clone();
    s.subcontractor = Some("VANDIJK".into());
    if event_type == EventType::StopUpdated {
        return stop_body(&s, "northwind", Some("rotterdam-dc"), &stops[1]);
    }
    trip_body(&s, "northwind", Some("rotterdam-dc"), &stops)
}
