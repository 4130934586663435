//! Master data: parties, resources and SKUs, each found by its code, created,
//! changed and archived with the event it publishes, in the caller's transaction.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::{Map, Value, json};

use super::entities::master_record;
use super::gate::Write;
use super::listing::{Page, Slice};
use super::outbox::{self, NewEvent};
use super::tenancy;
use crate::domain::{EventType, MasterEntity, PublicId};
use crate::error::{Error, FieldError, ProblemCode, Result};

/// Where a record is found: its business, entity, facility (SKUs) and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub business_id: i64,
    pub entity: MasterEntity,
    /// The SKU's facility; `None` for parties and resources.
    pub facility_id: Option<i64>,
    pub code: String,
}

impl Key {
    fn scope(&self) -> i64 {
        self.facility_id.unwrap_or(0)
    }
}

/// How fields given for an existing record combine with its stored ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Fields given replace the stored ones; the others stay.
    Patch,
    /// The fields given are the record; the others are cleared.
    Replace,
}

/// What a save may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Create the record; an existing one is refused (`None`) or changed. An archived
    /// one is restored with the fields given.
    Create(Option<Merge>),
    /// Change an existing record (archived ones too); a missing one is `not_found`.
    Update(Merge),
}

/// What a save or archive did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    /// An archived record created again.
    Restored,
    Updated,
    Archived,
    /// Nothing changed: no event.
    Unchanged,
}

/// A record as saved, and what the save did.
#[derive(Debug, Clone)]
pub struct Saved {
    pub record: master_record::Model,
    pub change: Change,
}

/// The field of each entity's document that is its `kind` column, and whether a new
/// record must have it.
fn kind_field(entity: MasterEntity) -> Option<&'static str> {
    match entity {
        MasterEntity::Party => Some("role"),
        MasterEntity::Resource => Some("kind"),
        MasterEntity::Sku => None,
    }
}

/// The field the code is written as in views and events.
pub fn code_field(entity: MasterEntity) -> &'static str {
    match entity {
        MasterEntity::Sku => "sku_id",
        _ => "code",
    }
}

fn event_type(entity: MasterEntity, change: Change) -> Option<EventType> {
    use EventType::*;
    Some(match (entity, change) {
        (_, Change::Unchanged) => return None,
        (MasterEntity::Party, Change::Created | Change::Restored) => PartyCreated,
        (MasterEntity::Party, Change::Updated) => PartyUpdated,
        (MasterEntity::Party, Change::Archived) => PartyArchived,
        (MasterEntity::Resource, Change::Created | Change::Restored) => ResourceCreated,
        (MasterEntity::Resource, Change::Updated) => ResourceUpdated,
        (MasterEntity::Resource, Change::Archived) => ResourceArchived,
        (MasterEntity::Sku, Change::Created | Change::Restored) => SkuCreated,
        (MasterEntity::Sku, Change::Updated) => SkuUpdated,
        (MasterEntity::Sku, Change::Archived) => SkuArchived,
    })
}

fn select(key: &Key) -> sea_orm::Select<master_record::Entity> {
    master_record::Entity::find()
        .filter(master_record::Column::BusinessId.eq(key.business_id))
        .filter(master_record::Column::Entity.eq(key.entity.as_str()))
        .filter(master_record::Column::FacilityScope.eq(key.scope()))
        .filter(master_record::Column::Code.eq(key.code.as_str()))
}

/// The record under `key`, archived or not.
pub async fn find(db: &impl ConnectionTrait, key: &Key) -> Result<Option<master_record::Model>> {
    select(key).one(db).await.map_err(Error::from_db_err)
}

async fn find_locked(db: &impl Write, key: &Key) -> Result<Option<master_record::Model>> {
    super::for_update(select(key), db)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Whether a record under `key` exists and is not archived.
pub async fn is_active(db: &impl ConnectionTrait, key: &Key) -> Result<bool> {
    Ok(find(db, key)
        .await?
        .is_some_and(|r| r.archived_at.is_none()))
}

/// The fields of `data` that hold a value: absent and null are one.
fn compact(data: Map<String, Value>) -> Map<String, Value> {
    data.into_iter().filter(|(_, v)| !v.is_null()).collect()
}

fn text_of(data: &Map<String, Value>, field: &str) -> Option<String> {
    data.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// Creates or changes the record under `key` with `data` (the record's fields
/// without its code), publishing `*.created`, `*.updated` or nothing when nothing
/// changed. A patch also removes the fields named in `clear`.
pub async fn save(
    db: &impl Write,
    key: &Key,
    data: Map<String, Value>,
    how: How,
    clear: &[String],
) -> Result<Saved> {
    let data = compact(data);
    let mut existing = find_locked(db, key).await?;
    if existing.is_none() {
        match how {
            How::Update(_) => {
                return Err(Error::NotFound {
                    what: key.entity.noun(),
                    id: key.code.clone(),
                });
            }
            How::Create(_) => {
                if let Some(created) = insert(db, key, &data).await? {
                    publish(db, &created, Change::Created).await?;
                    return Ok(Saved {
                        record: created,
                        change: Change::Created,
                    });
                }
                // Created by a concurrent writer since we looked: change that one.
                existing = find_locked(db, key).await?;
            }
        }
    }
    let Some(stored) = existing else {
        return Err(Error::NotFound {
            what: key.entity.noun(),
            id: key.code.clone(),
        });
    };
    let archived = stored.archived_at.is_some();
    let (merge, change) = match how {
        How::Create(_) if archived => (Merge::Replace, Change::Restored),
        How::Create(None) => {
            return Err(Error::Conflict {
                code: ProblemCode::Duplicate,
                detail: format!("{} `{}` already exists", key.entity.noun(), key.code),
            });
        }
        How::Create(Some(merge)) | How::Update(merge) => (merge, Change::Updated),
    };
    let merged = match merge {
        Merge::Replace => data,
        Merge::Patch => {
            let mut merged = stored.data.as_object().cloned().unwrap_or_default();
            merged.extend(data);
            for field in clear {
                merged.remove(field);
            }
            merged
        }
    };
    required_kind(key.entity, &merged)?;
    if change == Change::Updated && stored.data.as_object() == Some(&merged) {
        return Ok(Saved {
            record: stored,
            change: Change::Unchanged,
        });
    }
    let mut active = stored.into_active_model();
    active.kind = Set(kind_field(key.entity).and_then(|f| text_of(&merged, f)));
    active.name = Set(text_of(&merged, "name"));
    active.data = Set(Value::Object(merged));
    active.updated_at = Set(Utc::now());
    if change == Change::Restored {
        active.archived_at = Set(None);
    }
    let record = active.update(db).await.map_err(Error::from_db_err)?;
    publish(db, &record, change).await?;
    Ok(Saved { record, change })
}

/// A party needs its role and a resource its kind.
fn required_kind(entity: MasterEntity, data: &Map<String, Value>) -> Result<()> {
    match kind_field(entity) {
        Some(field) if text_of(data, field).is_none() => {
            let error = FieldError::new(
                format!("$.{field}"),
                format!(
                    "Missing required field: {field} (a new {} needs it)",
                    entity.noun()
                ),
            );
            Err(Error::Invalid {
                code: ProblemCode::ValidationFailed,
                detail: error.detail.clone(),
                errors: vec![error],
            })
        }
        _ => Ok(()),
    }
}

/// Inserts a new record; `None` when a concurrent writer inserted it first.
async fn insert(
    db: &impl Write,
    key: &Key,
    data: &Map<String, Value>,
) -> Result<Option<master_record::Model>> {
    required_kind(key.entity, data)?;
    let now = Utc::now();
    let row = master_record::ActiveModel {
        business_id: Set(key.business_id),
        entity: Set(key.entity.as_str().to_string()),
        facility_scope: Set(key.scope()),
        code: Set(key.code.clone()),
        kind: Set(kind_field(key.entity).and_then(|f| text_of(data, f))),
        name: Set(text_of(data, "name")),
        data: Set(Value::Object(data.clone())),
        archived_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let inserted = master_record::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                master_record::Column::BusinessId,
                master_record::Column::Entity,
                master_record::Column::FacilityScope,
                master_record::Column::Code,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(Error::from_db_err)?;
    if inserted == 0 {
        return Ok(None);
    }
    find(db, key).await
}

/// Archives the record under `key`, publishing `*.archived`; archiving an archived
/// record changes nothing. An archived party's keys are revoked. `not_found` when
/// there is none.
pub async fn archive(db: &impl Write, key: &Key) -> Result<Saved> {
    let stored = find_locked(db, key).await?.ok_or_else(|| Error::NotFound {
        what: key.entity.noun(),
        id: key.code.clone(),
    })?;
    if stored.archived_at.is_some() {
        return Ok(Saved {
            record: stored,
            change: Change::Unchanged,
        });
    }
    let now = Utc::now();
    let mut active = stored.into_active_model();
    active.archived_at = Set(Some(now));
    active.updated_at = Set(now);
    let record = active.update(db).await.map_err(Error::from_db_err)?;
    if key.entity == MasterEntity::Party {
        // A customer that is no longer one has no keys acting for it.
        super::keys::revoke_for_party(db, key.business_id, &key.code).await?;
    }
    publish(db, &record, Change::Archived).await?;
    Ok(Saved {
        record,
        change: Change::Archived,
    })
}

/// Which records a listing returns.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only this facility's (SKUs).
    pub facility_id: Option<i64>,
    /// Only this role or kind.
    pub kind: Option<String>,
    /// Archived ones too.
    pub archived: bool,
}

/// A page of the business's records of `entity`, by ascending id.
pub async fn list(
    db: &impl ConnectionTrait,
    business_id: i64,
    entity: MasterEntity,
    query: &Query,
    page: Page,
) -> Result<Slice<master_record::Model>> {
    let mut select = master_record::Entity::find()
        .filter(master_record::Column::BusinessId.eq(business_id))
        .filter(master_record::Column::Entity.eq(entity.as_str()));
    if let Some(facility_id) = query.facility_id {
        select = select.filter(master_record::Column::FacilityScope.eq(facility_id));
    }
    if let Some(kind) = &query.kind {
        select = select.filter(master_record::Column::Kind.eq(kind.as_str()));
    }
    if !query.archived {
        select = select.filter(master_record::Column::ArchivedAt.is_null());
    }
    if let Some(after) = page.after {
        select = select.filter(master_record::Column::Id.gt(after));
    }
    let mut rows = select
        .order_by_asc(master_record::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    let has_more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    Ok(Slice { rows, has_more })
}

/// The entity a stored record is.
fn entity_of(record: &master_record::Model) -> MasterEntity {
    match record.entity.as_str() {
        "sku" => MasterEntity::Sku,
        "resource" => MasterEntity::Resource,
        _ => MasterEntity::Party,
    }
}

/// A record as views and events show it: its id, code, business and facility, its
/// fields, and when it was created, changed and archived.
pub fn view(record: &master_record::Model, business: &str, facility: Option<&str>) -> Value {
    let entity = entity_of(record);
    let mut out = Map::new();
    out.insert("id".into(), json!(PublicId::from(record.id)));
    out.insert(code_field(entity).into(), json!(record.code));
    out.insert("business".into(), json!(business));
    if entity == MasterEntity::Sku {
        out.insert("facility".into(), json!(facility));
    }
    if let Some(fields) = record.data.as_object() {
        for (k, v) in fields {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert("archived_at".into(), json!(record.archived_at));
    out.insert("created_at".into(), json!(record.created_at));
    out.insert("updated_at".into(), json!(record.updated_at));
    Value::Object(out)
}

async fn publish(db: &impl Write, record: &master_record::Model, change: Change) -> Result<()> {
    let entity = entity_of(record);
    let Some(event_type) = event_type(entity, change) else {
        return Ok(());
    };
    let facility_id = (record.facility_scope != 0).then_some(record.facility_scope);
    let (business, facility) = tenancy::slugs(db, record.business_id, facility_id)
        .await?
        .unwrap_or_default();
    let event = NewEvent {
        business_id: record.business_id,
        facility_id,
        facility_slug: facility.clone(),
        event_type,
        ordering_key: Some(format!("{}:{}", record.entity, record.id)),
        data: view(record, &business, facility.as_deref()),
        audience: None,
    };
    outbox::emit(db, event).await.map(|_| ())
}

/// A reference to master data that names no record: the canonical field it is in
/// (`customer`, `items[2].sku`, `owner`), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub field: String,
    pub code: ProblemCode,
    pub detail: String,
}

/// The first of an order's references the strict settings refuse: its customer
/// (`parties`: a customer party of the business) and its lines' SKUs (`skus`: SKUs
/// of the order's facility). Archived records are unknown.
pub async fn unknown_in_order(
    db: &impl ConnectionTrait,
    business_id: i64,
    facility_id: i64,
    fields: &super::orders::OrderFields,
    parties: bool,
    skus: bool,
) -> Result<Option<Unknown>> {
    if parties
        && let Some(customer) = fields.customer.as_deref()
        && let Some(unknown) = unknown_party(db, business_id, customer, "customer").await?
    {
        return Ok(Some(unknown));
    }
    if !skus {
        return Ok(None);
    }
    let named: Vec<(usize, &str)> = fields
        .items
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, item)| item.sku.as_deref().map(|sku| (i, sku)))
        .collect();
    if named.is_empty() {
        return Ok(None);
    }
    let codes: Vec<&str> = named.iter().map(|(_, sku)| *sku).collect();
    let known: std::collections::HashSet<String> = master_record::Entity::find()
        .select_only()
        .column(master_record::Column::Code)
        .filter(master_record::Column::BusinessId.eq(business_id))
        .filter(master_record::Column::Entity.eq(MasterEntity::Sku.as_str()))
        .filter(master_record::Column::FacilityScope.eq(facility_id))
        .filter(master_record::Column::Code.is_in(codes))
        .filter(master_record::Column::ArchivedAt.is_null())
        .into_tuple::<String>()
        .all(db)
        .await
        .map_err(Error::from_db_err)?
        .into_iter()
        .collect();
    Ok(named
        .into_iter()
        .find(|(_, sku)| !known.contains(*sku))
        .map(|(i, sku)| Unknown {
            field: format!("items[{i}].sku"),
            code: ProblemCode::UnknownSku,
            detail: format!(
                "SKU `{sku}` is not a SKU of this facility and strict SKUs are on: create it first (upsertSKUs, PUT /v1/facilities/{{facility}}/skus/{{sku_id}} or a sku rule)"
            ),
        }))
}

/// What stands between a party code and a usable party of the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyStanding {
    /// A party of the business, not archived, with the role asked for.
    Usable,
    Missing,
    Archived,
    /// A party, but not of the role asked for.
    OtherRole,
}

/// Whether `code` names a party of the business that is not archived and, when
/// `role` is given (`CUSTOMER`, `SUBCONTRACTOR`), has that role.
pub async fn party_standing(
    db: &impl ConnectionTrait,
    business_id: i64,
    code: &str,
    role: Option<&str>,
) -> Result<PartyStanding> {
    let key = Key {
        business_id,
        entity: MasterEntity::Party,
        facility_id: None,
        code: code.to_string(),
    };
    Ok(match find(db, &key).await? {
        None => PartyStanding::Missing,
        Some(p) if p.archived_at.is_some() => PartyStanding::Archived,
        Some(p) if role.is_some_and(|r| p.kind.as_deref() != Some(r)) => PartyStanding::OtherRole,
        Some(_) => PartyStanding::Usable,
    })
}

/// `None` when `code` names a party of the business that is not archived and, for
/// `field = "customer"`, is a customer.
pub async fn unknown_party(
    db: &impl ConnectionTrait,
    business_id: i64,
    code: &str,
    field: &str,
) -> Result<Option<Unknown>> {
    let customer = field == "customer";
    let code_name = if customer {
        ProblemCode::UnknownCustomer
    } else {
        ProblemCode::UnknownParty
    };
    let role = customer.then_some("CUSTOMER");
    let why = match party_standing(db, business_id, code, role).await? {
        PartyStanding::Missing => "is not a party of this business",
        PartyStanding::Archived => "is archived",
        PartyStanding::OtherRole => "is a party, but not a customer",
        PartyStanding::Usable => return Ok(None),
    };
    Ok(Some(Unknown {
        field: field.to_string(),
        code: code_name,
        detail: format!(
            "{field} `{code}` {why}, and strict parties are on: create the party first (PUT /v1/parties/{{code}} or a party rule)"
        ),
    }))
}

/// Typed fields as a record stores them: their JSON object without nulls.
pub fn stored_fields<T: serde::Serialize>(fields: &T) -> Result<Map<String, Value>> {
    match serde_json::to_value(fields) {
        Ok(Value::Object(map)) => Ok(compact(map)),
        Ok(_) => Ok(Map::new()),
        Err(e) => Err(Error::Internal(anyhow::anyhow!(
            "master-data fields do not serialise: {e}"
        ))),
    }
}
