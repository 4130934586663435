//! Master data from rules: parties, resources and SKUs created, changed or archived
//! (`cancel` archives).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Applied, Context, Failure, Issue};
use crate::domain::{MasterCode, MasterEntity, PartyFields, ResourceFields, SkuFields};
use crate::error::{FieldError, ProblemCode};
use crate::rules::{DuplicatePolicy, Operation, UpdateMode};
use crate::store::gate::Write;
use crate::store::master::{self, Change, How, Key, Merge};

fn merge<C: Write>(cx: &Context<'_, C>) -> Merge {
    match cx.rule.update_mode {
        UpdateMode::Patch => Merge::Patch,
        UpdateMode::Replace => Merge::Replace,
    }
}

/// The document without its identity fields, read into `T` and written back: the
/// fields as they are stored.
fn fields<C: Write, T: DeserializeOwned + serde::Serialize>(
    cx: &Context<'_, C>,
    doc: &Value,
    identity: &[&str],
    problems: impl Fn(&T) -> Vec<FieldError>,
) -> Result<(T, Map<String, Value>), Failure> {
    let mut object = doc.as_object().cloned().unwrap_or_default();
    for field in identity {
        object.remove(*field);
    }
    let typed: T = cx.read(&Value::Object(object))?;
    if let Some(problem) = problems(&typed).into_iter().next() {
        let path = format!("{}{}", cx.path, problem.path.trim_start_matches('$'));
        return Err(Failure::Rejected(Issue::new(
            ProblemCode::ValidationFailed,
            &path,
            problem.detail,
        )));
    }
    let stored = master::stored_fields(&typed)?;
    Ok((typed, stored))
}

fn code<C: Write>(cx: &Context<'_, C>, doc: &Value, field: &str) -> Result<MasterCode, Failure> {
    let raw = doc.get(field).and_then(Value::as_str).unwrap_or_default();
    MasterCode::parse(raw).map_err(|e| cx.reject(e.code, format!("{field}: {}", e.detail)))
}

async fn carry_out<C: Write>(
    cx: &Context<'_, C>,
    operation: Operation,
    key: Key,
    data: Map<String, Value>,
) -> Result<Applied, Failure> {
    let how = match operation {
        Operation::Create => How::Create(match cx.rule.on_duplicate {
            DuplicatePolicy::Reject => None,
            DuplicatePolicy::Upsert => Some(merge(cx)),
        }),
        Operation::Update => How::Update(merge(cx)),
        Operation::Cancel => {
            let saved = master::archive(cx.db, &key)
                .await
                .map_err(|e| Failure::from_error(e, &cx.path))?;
            return Ok(Applied::new(saved.record.id, saved.record.code, false));
        }
        Operation::Attach => {
            return Err(cx.reject(
                ProblemCode::UnsupportedOperation,
                format!(
                    "the rule `{}` asks to attach a {}, which freightgate does not do",
                    cx.rule.name,
                    key.entity.noun()
                ),
            ));
        }
    };
    let saved = master::save(cx.db, &key, data, how, &[])
        .await
        .map_err(|e| Failure::from_error(e, &cx.path))?;
    let created = matches!(saved.change, Change::Created | Change::Restored);
    Ok(Applied::new(saved.record.id, saved.record.code, created))
}

pub(super) async fn party<C: Write>(
    cx: &Context<'_, C>,
    operation: Operation,
    doc: &Value,
) -> Result<Applied, Failure> {
    let code = code(cx, doc, "code")?;
    let (_, data) = fields::<C, PartyFields>(cx, doc, &["code"], |f| f.problems("$"))?;
    let key = Key {
        business_id: cx.business_id,
        entity: MasterEntity::Party,
        facility_id: None,
        code: code.to_string(),
    };
    carry_out(cx, operation, key, data).await
}

pub(super) async fn resource<C: Write>(
    cx: &Context<'_, C>,
    operation: Operation,
    doc: &Value,
) -> Result<Applied, Failure> {
    let code = code(cx, doc, "code")?;
    let (typed, data) = fields::<C, ResourceFields>(cx, doc, &["code"], |f| f.problems("$"))?;
    if cx.strict.parties
        && operation != Operation::Cancel
        && let Some(owner) = typed.owner.as_deref()
        && let Some(unknown) = master::unknown_party(cx.db, cx.business_id, owner, "owner").await?
    {
        return Err(cx.refuse_unknown("", unknown));
    }
    let key = Key {
        business_id: cx.business_id,
        entity: MasterEntity::Resource,
        facility_id: None,
        code: code.to_string(),
    };
    carry_out(cx, operation, key, data).await
}

pub(super) async fn sku<C: Write>(
    cx: &Context<'_, C>,
    operation: Operation,
    doc: &Value,
) -> Result<Applied, Failure> {
    let code = code(cx, doc, "sku_id")?;
    let (_, data) = fields::<C, SkuFields>(cx, doc, &["sku_id", "facility"], |f| f.problems("$"))?;
    let named = doc.get("facility").and_then(Value::as_str);
    let facility_id = if operation == Operation::Create {
        cx.facility_for_create(named).await?.id
    } else {
        let slug = named.unwrap_or(super::DEFAULT_FACILITY);
        match cx.facility_for_lookup(Some(slug)).await? {
            Some(id) => id,
            None => return Err(cx.reject(ProblemCode::NotFound, "facility not found")),
        }
    };
    let key = Key {
        business_id: cx.business_id,
        entity: MasterEntity::Sku,
        facility_id: Some(facility_id),
        code: code.to_string(),
    };
    carry_out(cx, operation, key, data).await
}
