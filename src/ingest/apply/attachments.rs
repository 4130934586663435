//! Pallet events, documents, references and exceptions on existing records.

use crate::store::gate::Write;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{Applied, Context, Failure, Issue};
use crate::domain::{DocumentType, ExceptionDescription, ExceptionPriority, PalletDirection};
use crate::error::ProblemCode;
use crate::ingest::canonical::{DocumentDoc, ExceptionDoc, PalletDoc, ReferenceDoc};
use crate::store::attach::{self, NewDocument, PalletEvent, Target};

pub(super) async fn pallet<C: Write>(cx: &Context<'_, C>, doc: &Value) -> Result<Applied, Failure> {
    let p: PalletDoc = cx.read(doc)?;
    let shipment = cx
        .require_shipment(p.shipment_number.as_deref(), p.facility.as_deref())
        .await?;
    let code = p.pallet_id.clone().ok_or_else(|| {
        cx.reject(
            ProblemCode::MissingField,
            "Missing required field: pallet_id",
        )
    })?;
    let mut warnings = Vec::new();
    let mut orders = Vec::new();
    for number in &p.orders {
        match cx.find_order(number, p.facility.as_deref()).await? {
            Some(order) => orders.push((order.id, order.order_number)),
            None => warnings.push(Issue::new(
                ProblemCode::UnknownOrder,
                &cx.path,
                format!("order `{number}` on pallet `{code}` does not exist; the pallet is stored without it"),
            )),
        }
    }
    let dock = p.dock.as_deref().map(|d| cx.slug("dock", d)).transpose()?;
    let event = PalletEvent {
        pallet_code: code.clone(),
        direction: p.direction.unwrap_or(PalletDirection::Loading),
        occurred_at: p.occurred_at_utc().unwrap_or_else(chrono::Utc::now),
        dock,
        labels: p.labels,
        orders,
    };
    let stored = attach::pallet(cx.db, &shipment, event).await?;
    Ok(Applied {
        id: stored.id,
        reference: code,
        created: false,
        warnings,
    })
}

/// The order or shipment a document or reference names (order first).
async fn target<C: Write>(
    cx: &Context<'_, C>,
    order: Option<&str>,
    shipment: Option<&str>,
    facility: Option<&str>,
) -> Result<Target, Failure> {
    match (order, shipment) {
        (Some(number), _) => Ok(Target::Order(
            cx.require_order(Some(number), facility).await?.id,
        )),
        (None, Some(number)) => Ok(Target::Shipment(
            cx.require_shipment(Some(number), facility).await?.id,
        )),
        (None, None) => Err(cx.reject(
            ProblemCode::MissingField,
            "Missing required field: order_number or shipment_number",
        )),
    }
}

pub(super) async fn document<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let d: DocumentDoc = cx.read(doc)?;
    let target = target(
        cx,
        d.order_number.as_deref(),
        d.shipment_number.as_deref(),
        d.facility.as_deref(),
    )
    .await?;
    let encoded = d.content_base64.as_deref().unwrap_or_default();
    let content = STANDARD.decode(encoded.trim()).map_err(|e| {
        cx.reject(
            ProblemCode::InvalidBase64,
            format!("the document content is not valid base64: {e}"),
        )
    })?;
    let file_name = d.file_name.clone().unwrap_or_else(|| "document".into());
    let notes = match (&d.notes, &d.signed_by) {
        (Some(n), Some(s)) => Some(format!("{n} (signed by {s})")),
        (Some(n), None) => Some(n.clone()),
        (None, Some(s)) => Some(format!("signed by {s}")),
        (None, None) => None,
    };
    let new = NewDocument {
        document_type: d.kind.unwrap_or(DocumentType::Other),
        external_id: d.external_id.clone(),
        file_name: file_name.clone(),
        mime_type: d
            .mime_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into()),
        content,
        notes,
        uploaded_at: d.occurred_at_utc(),
    };
    let stored = attach::document(cx.db, cx.business_id, target, new).await?;
    Ok(Applied::new(stored.id, file_name, false))
}

pub(super) async fn reference<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let r: ReferenceDoc = cx.read(doc)?;
    let target = target(
        cx,
        r.order_number.as_deref(),
        r.shipment_number.as_deref(),
        r.facility.as_deref(),
    )
    .await?;
    let stored = attach::reference(cx.db, cx.business_id, target, &r.kind, &r.value).await?;
    Ok(Applied::new(
        stored.id,
        format!("{}={}", r.kind, r.value),
        false,
    ))
}

pub(super) async fn exception<C: Write>(
    cx: &Context<'_, C>,
    doc: &Value,
) -> Result<Applied, Failure> {
    let e: ExceptionDoc = cx.read(doc)?;
    let description = ExceptionDescription::parse(&e.description).map_err(|detail| {
        cx.reject(
            ProblemCode::ValidationFailed,
            format!("description: {detail}"),
        )
    })?;
    let shipment = cx
        .require_shipment(e.shipment_number.as_deref(), e.facility.as_deref())
        .await?;
    let pallet = match e.pallet_id.as_deref() {
        Some(code) => Some(
            attach::find_pallet(cx.db, shipment.id, code)
                .await?
                .ok_or_else(|| {
                    cx.reject(
                        ProblemCode::NotFound,
                        format!("pallet `{code}` was never seen on this shipment"),
                    )
                })?,
        ),
        None => None,
    };
    let priority = e.priority.unwrap_or(ExceptionPriority::Medium);
    let occurred_at = e.occurred_at.map(|t| t.with_timezone(&chrono::Utc));
    let stored = attach::exception(
        cx.db,
        &shipment,
        pallet.as_ref(),
        priority,
        &description,
        occurred_at,
    )
    .await?;
    Ok(Applied::new(stored.id, shipment.shipment_number, false))
}
