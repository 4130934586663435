//! Shipments and orders: create (with the duplicate policy), update, cancel.

use std::collections::HashMap;

use crate::store::gate::Write;
use serde_json::Value;

use super::{Applied, Context, Failure};
use crate::domain::{ItemsMode, OrderNumber, ShipmentNumber, UpdateMode};
use crate::error::ProblemCode;
use crate::ingest::canonical::{OrderDoc, Reference, ShipmentDoc};
use crate::rules::{self, DuplicatePolicy};
use crate::store::attach::{self, Target};
use crate::store::entities::{facility, order};
use crate::store::orders::OrderFields;
use crate::store::{orders, shipments};

fn update_mode(rule: &rules::RuleSummary) -> UpdateMode {
    match rule.update_mode {
        rules::UpdateMode::Patch => UpdateMode::Patch,
        rules::UpdateMode::Replace => UpdateMode::Replace,
    }
}

fn items_mode(rule: &rules::RuleSummary) -> ItemsMode {
    match rule.items_mode {
        rules::ItemsMode::Overwrite => ItemsMode::Overwrite,
        rules::ItemsMode::Merge => ItemsMode::Merge,
        rules::ItemsMode::Append => ItemsMode::Append,
        rules::ItemsMode::Delete => ItemsMode::Delete,
    }
}

async fn add_references<C: Write>(
    cx: &Context<'_, C>,
    target: Target,
    refs: &[Reference],
) -> Result<(), Failure> {
    for r in refs
        .iter()
        .filter(|r| !r.kind.is_empty() && !r.value.is_empty())
    {
        attach::reference(cx.db, cx.business_id, target, &r.kind, &r.value).await?;
    }
    Ok(())
}

/// A record whose number an insert met, then not found by that number.
fn vanished(what: &str, number: &impl std::fmt::Display) -> Failure {
    Failure::Fatal(crate::Error::Internal(anyhow::anyhow!(
        "{what} `{number}` was there to refuse a second one, then was not found"
    )))
}

pub(super) async fn create_shipment<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let s: ShipmentDoc = cx.read(doc)?;
    let raw = s.shipment_number.as_deref().unwrap_or_default();
    let number = ShipmentNumber::parse(raw).map_err(|e| cx.reject(e.code, e.detail))?;
    let facility = cx.facility_for_create(s.facility.as_deref()).await?;
    let dock = s.dock.as_deref().map(|d| cx.slug("dock", d)).transpose()?;
    cx.check_subcontractor(s.subcontractor.as_deref()).await?;
    // Written as new first, as orders are: the number is looked up only when the
    // facility has it already.
    let (shipment, created) =
        match shipments::create_if_absent(cx.db, &facility, &number, s.fields(dock)).await? {
            Ok(created) => (created, true),
            Err(_) if cx.rule.on_duplicate == DuplicatePolicy::Reject => {
                return Err(cx.reject(
                    ProblemCode::Duplicate,
                    crate::error::exists_in_facility("shipment", &number, &facility.slug),
                ));
            }
            Err(fields) => {
                let found = shipments::find_by_number(cx.db, facility.id, &number)
                    .await?
                    .ok_or_else(|| vanished("shipment", &number))?;
                let mode = update_mode(cx.rule);
                (shipments::update(cx.db, found, fields, mode).await?, false)
            }
        };
    add_references(cx, Target::Shipment(shipment.id), &s.references).await?;
    upsert_orders(cx, &facility, &s.orders, shipment.id).await?;
    Ok(Applied::new(shipment.id, shipment.shipment_number, created))
}

pub(super) async fn update_shipment<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let s: ShipmentDoc = cx.read(doc)?;
    let found = cx
        .require_shipment(s.shipment_number.as_deref(), s.facility.as_deref())
        .await?;
    let dock = s.dock.as_deref().map(|d| cx.slug("dock", d)).transpose()?;
    cx.check_subcontractor(s.subcontractor.as_deref()).await?;
    if cx.subcontractor.is_some() {
        // A subcontractor reports on the planned stops; it does not add any.
        let planned = crate::store::trips::stops_of(cx.db, found.id).await?;
        for stop in s.stops.iter().flatten() {
            if !planned.iter().any(|p| i64::from(p.seq) == stop.seq) {
                return Err(cx.reject(
                    ProblemCode::NotFound,
                    format!(
                        "shipment `{}` has no stop {}",
                        found.shipment_number, stop.seq
                    ),
                ));
            }
        }
    }
    // A subcontractor reports on its stops: the rest of the shipment stays.
    let mode = match cx.subcontractor {
        Some(_) => UpdateMode::Patch,
        None => update_mode(cx.rule),
    };
    let shipment = shipments::update(cx.db, found, s.fields(dock), mode)
        .await
        .map_err(|e| Failure::from_error(e, &cx.path))?;
    add_references(cx, Target::Shipment(shipment.id), &s.references).await?;
    if !s.orders.is_empty() {
        let facility = crate::store::tenancy::facility_by_id(cx.db, shipment.facility_id)
            .await?
            .ok_or_else(|| {
                Failure::Fatal(crate::Error::Internal(anyhow::anyhow!(
                    "shipment without facility"
                )))
            })?;
        upsert_orders(cx, &facility, &s.orders, shipment.id).await?;
    }
    Ok(Applied::new(shipment.id, shipment.shipment_number, false))
}

pub(super) async fn cancel_shipment<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let s: ShipmentDoc = cx.read(doc)?;
    let found = cx
        .require_shipment(s.shipment_number.as_deref(), s.facility.as_deref())
        .await?;
    // A cancel keeps its time and reason (the rules allow nothing else on a cancel).
    let cancellation = crate::store::Cancellation {
        occurred_at: s.status_occurred_at.map(|t| t.with_timezone(&chrono::Utc)),
        reason: s.notes,
    };
    let shipment = shipments::cancel(cx.db, found, cancellation).await?;
    Ok(Applied::new(shipment.id, shipment.shipment_number, false))
}

/// The orders carried by a shipment document: each created when the facility does
/// not have it, else updated, with their events in document order.
///
/// The documents are read and checked in turn up to the first that fails; the orders
/// before it are written before that failure is answered, as if written in turn.
async fn upsert_orders<C: Write>(
    cx: &Context<'_, C>,
    facility: &facility::Model,
    docs: &[Value],
    shipment_id: i64,
) -> Result<(), Failure> {
    let mut ready = Vec::with_capacity(docs.len());
    let mut failed = None;
    for (index, doc) in docs.iter().enumerate() {
        match carried_order(cx, facility, doc, index, shipment_id).await {
            Ok(order) => ready.push(order),
            Err(failure) => {
                failed = Some(failure);
                break;
            }
        }
    }
    write_orders(cx, facility, ready).await?;
    failed.map_or(Ok(()), Err)
}

/// A carried order read and checked, not stored yet, with its references.
type Carried = (OrderNumber, OrderFields, Vec<Reference>);

async fn carried_order<C: Write>(
    cx: &Context<'_, C>,
    facility: &facility::Model,
    doc: &Value,
    index: usize,
    shipment_id: i64,
) -> Result<Carried, Failure> {
    let (number, o) = read_order(cx, doc)?;
    let (mut fields, references) = o.into_fields();
    fields.shipment_id = Some(shipment_id);
    cx.check_order_references(&format!("orders[{index}]."), facility.id, &fields)
        .await?;
    Ok((number, fields, references))
}

/// Writes the carried orders. The first mention of each number is written as new,
/// all together in statements that skip the numbers the facility has; those are
/// then looked up together. Then, in document order, each new order's event is
/// emitted, and each existing order, or a number mentioned again, is updated.
async fn write_orders<C: Write>(
    cx: &Context<'_, C>,
    facility: &facility::Model,
    carried: Vec<Carried>,
) -> Result<(), Failure> {
    if carried.is_empty() {
        return Ok(());
    }
    // Each turn is the document's next order: `None` for a first mention, whose
    // answer comes from the insert in turn, else the number mentioned again.
    let mut first = Vec::with_capacity(carried.len());
    let mut turns = Vec::with_capacity(carried.len());
    let mut seen = std::collections::HashSet::with_capacity(carried.len());
    for (number, fields, references) in carried {
        if seen.insert(number.to_string()) {
            first.push((number, fields));
            turns.push((None, references));
        } else {
            turns.push((Some((number, fields)), references));
        }
    }
    let mut inserted = orders::insert_many_if_absent(cx.db, facility, first)
        .await?
        .into_iter();
    let existing: Vec<&str> = inserted
        .as_slice()
        .iter()
        .filter_map(|answer| answer.as_ref().err().map(|(number, _)| number.as_str()))
        .collect();
    let mut known = if existing.is_empty() {
        HashMap::new()
    } else {
        orders::by_numbers(cx.db, facility.id, &existing).await?
    };
    for (again, references) in turns {
        let (number, fields) = match again {
            Some(again) => again,
            None => match inserted.next() {
                Some(Ok(created)) => {
                    let order = created.announce(cx.db).await?;
                    add_references(cx, Target::Order(order.id), &references).await?;
                    known.insert(order.order_number.clone(), order);
                    continue;
                }
                Some(Err(handed_back)) => handed_back,
                None => {
                    return Err(Failure::Fatal(crate::Error::Internal(anyhow::anyhow!(
                        "fewer orders answered than were written"
                    ))));
                }
            },
        };
        let found = known
            .remove(number.as_str())
            .ok_or_else(|| vanished("order", &number))?;
        let order = update_by_rule(cx, found, fields, &references).await?;
        known.insert(order.order_number.clone(), order);
    }
    Ok(())
}

/// Updates `found` with `fields` as the rule's update and items modes say, and adds
/// the document's references to it.
async fn update_by_rule<C: Write>(
    cx: &Context<'_, C>,
    found: order::Model,
    fields: OrderFields,
    references: &[Reference],
) -> Result<order::Model, Failure> {
    let order = orders::update(
        cx.db,
        found,
        fields,
        update_mode(cx.rule),
        items_mode(cx.rule),
    )
    .await
    .map_err(|e| Failure::from_error(e, &cx.path))?;
    add_references(cx, Target::Order(order.id), references).await?;
    Ok(order)
}

fn read_order<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<(OrderNumber, OrderDoc), Failure> {
    let o: OrderDoc = cx.read(doc)?;
    let number = OrderNumber::parse(o.order_number.as_deref().unwrap_or_default())
        .map_err(|e| cx.reject(e.code, e.detail))?;
    Ok((number, o))
}

/// The shipment an order document names, if any.
async fn linked_shipment<C: Write>(
    cx: &Context<'_, C>,
    o: &OrderDoc,
) -> Result<Option<i64>, Failure> {
    match o.shipment_number.as_deref() {
        Some(number) => Ok(Some(
            cx.require_shipment(Some(number), o.facility.as_deref())
                .await?
                .id,
        )),
        None => Ok(None),
    }
}

pub(super) async fn create_order<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let o: OrderDoc = cx.read(doc)?;
    let number = OrderNumber::parse(o.order_number.as_deref().unwrap_or_default())
        .map_err(|e| cx.reject(e.code, e.detail))?;
    let facility = cx.facility_for_create(o.facility.as_deref()).await?;
    let shipment_id = linked_shipment(cx, &o).await?;
    let (mut fields, references) = o.into_fields();
    fields.shipment_id = shipment_id;
    cx.for_own_customer("", &mut fields)?;
    cx.check_order_references("", facility.id, &fields).await?;
    // Written as new first: most orders are, and the number is looked up only when
    // the facility has it already.
    let fields = match orders::create_if_absent(cx.db, &facility, &number, fields).await? {
        Ok(order) => {
            add_references(cx, Target::Order(order.id), &references).await?;
            return Ok(Applied::new(order.id, order.order_number, true));
        }
        Err(fields) => fields,
    };
    let found = orders::find_by_number(cx.db, facility.id, &number)
        .await?
        .ok_or_else(|| vanished("order", &number))?;
    if !cx.owns(&found) || cx.rule.on_duplicate == DuplicatePolicy::Reject {
        return Err(cx.reject(
            ProblemCode::Duplicate,
            crate::error::exists_in_facility("order", &number, &facility.slug),
        ));
    }
    let order = update_by_rule(cx, found, fields, &references).await?;
    Ok(Applied::new(order.id, order.order_number, false))
}

pub(super) async fn update_order<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let o: OrderDoc = cx.read(doc)?;
    let found = cx
        .require_order(o.order_number.as_deref(), o.facility.as_deref())
        .await?;
    let shipment_id = linked_shipment(cx, &o).await?;
    let (mut fields, references) = o.into_fields();
    fields.shipment_id = shipment_id;
    if cx.customer.is_some() && fields.customer.is_none() {
        // An update that leaves the customer out keeps it: it is the key's own.
        fields.customer = found.customer.clone();
    }
    cx.for_own_customer("", &mut fields)?;
    if cx.customer.is_some() {
        // The business plans its shipments: a customer's update keeps the order's.
        fields.shipment_id = found.shipment_id;
    }
    cx.check_order_references("", found.facility_id, &fields)
        .await?;
    let order = update_by_rule(cx, found, fields, &references).await?;
    Ok(Applied::new(order.id, order.order_number, false))
}

pub(super) async fn cancel_order<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let o: OrderDoc = cx.read(doc)?;
    let found = cx
        .require_order(o.order_number.as_deref(), o.facility.as_deref())
        .await?;
    let cancellation = crate::store::Cancellation {
        occurred_at: None,
        reason: o.notes,
    };
    let order = orders::cancel(cx.db, found, cancellation).await?;
    Ok(Applied::new(order.id, order.order_number, false))
}
