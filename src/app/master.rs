//! Master-data use cases: parties (customers, subcontractors), resources (drivers,
//! vehicles, trailers) and facilities' SKUs, read, listed, created or changed, and
//! archived. REST, GraphQL and the rules (through ingest) reach the same store calls.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{App, FacilityScope, Listing, next_after};
use crate::domain::{
    MasterCode, MasterEntity, PartyFields, PublicId, ResourceFields, Scope, SkuFields, Slug,
};
use crate::error::{Error, FieldError, ProblemCode, Result};
use crate::store::entities::master_record;
use crate::store::keys::Principal;
use crate::store::listing::Page;
use crate::store::master::{self, Change, How, Key, Merge, Query};
use crate::store::tenancy;

/// The fields of one kind of master record, and what is wrong with them.
pub trait Fields: Serialize + DeserializeOwned + Default {
    const ENTITY: MasterEntity;
    /// Problems by JSONPath under `$`.
    fn problems(&self) -> Vec<FieldError>;
    /// The party code this record names (a resource's owner), if any.
    fn owner(&self) -> Option<&str> {
        None
    }
}

impl Fields for PartyFields {
    const ENTITY: MasterEntity = MasterEntity::Party;
    fn problems(&self) -> Vec<FieldError> {
        PartyFields::problems(self, "$")
    }
}

impl Fields for ResourceFields {
    const ENTITY: MasterEntity = MasterEntity::Resource;
    fn problems(&self) -> Vec<FieldError> {
        ResourceFields::problems(self, "$")
    }
    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }
}

impl Fields for SkuFields {
    const ENTITY: MasterEntity = MasterEntity::Sku;
    fn problems(&self) -> Vec<FieldError> {
        SkuFields::problems(self, "$")
    }
}

/// A master record as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Record<F> {
    pub id: PublicId,
    /// The party's or resource's code, or the SKU's id.
    pub code: String,
    /// The SKU's facility; absent for parties and resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    #[serde(flatten)]
    pub fields: F,
    /// When it was archived; an archived record is kept, and creating it again
    /// restores it.
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<F: Fields> Record<F> {
    fn of(row: master_record::Model, facility: Option<String>) -> Result<Self> {
        let fields = serde_json::from_value(row.data).map_err(|e| {
            Error::Internal(anyhow::anyhow!(
                "stored {} `{}` does not read back: {e}",
                F::ENTITY.noun(),
                row.code
            ))
        })?;
        Ok(Self {
            id: PublicId::from(row.id),
            code: row.code,
            facility,
            fields,
            archived_at: row.archived_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A saved record and whether the save created it (or restored an archived one).
#[derive(Debug, Clone)]
pub struct Saved<F> {
    pub record: Record<F>,
    pub created: bool,
    pub change: Change,
}

/// Where a record is: the facility of a SKU (none for parties and resources).
pub type Facility<'a> = Option<&'a Slug>;

fn code(code: &str) -> Result<MasterCode> {
    MasterCode::parse(code).map_err(|e| Error::BadRequest {
        code: ProblemCode::InvalidPathParameter,
        detail: format!("code: {}", e.detail),
    })
}

/// The key of `code` in the business, with its facility's id; a facility the
/// business does not have is `not_found`, unless `create` (then it is created, or
/// `unknown_facility` under `strict_facilities`).
async fn key_of<F: Fields>(
    app: &App,
    db: &impl crate::store::gate::Write,
    who: &Principal,
    facility: Facility<'_>,
    code_text: &str,
    create: bool,
) -> Result<(Key, Option<String>)> {
    let code = code(code_text)?;
    let facility = match (F::ENTITY, facility) {
        (MasterEntity::Sku, Some(slug)) => Some(if create {
            tenancy::facility(db, who.business_id, slug, app.config.strict_facilities).await?
        } else {
            tenancy::find_facility(db, who.business_id, slug)
                .await?
                .ok_or_else(|| Error::NotFound {
                    what: "facility",
                    id: slug.to_string(),
                })?
        }),
        _ => None,
    };
    Ok((
        Key {
            business_id: who.business_id,
            entity: F::ENTITY,
            facility_id: facility.as_ref().map(|f| f.id),
            code: code.to_string(),
        },
        facility.map(|f| f.slug),
    ))
}

/// One record by its code, archived or not (scope `read`).
pub async fn get<F: Fields>(
    app: &App,
    who: &Principal,
    facility: Facility<'_>,
    code_text: &str,
) -> Result<Record<F>> {
    who.require(Scope::Read)?;
    let code = code(code_text)?;
    let facility_row = match facility {
        Some(slug) => tenancy::find_facility(&app.db, who.business_id, slug).await?,
        None => None,
    };
    if F::ENTITY == MasterEntity::Sku && facility_row.is_none() {
        return Err(Error::NotFound {
            what: F::ENTITY.noun(),
            id: code.to_string(),
        });
    }
    let key = Key {
        business_id: who.business_id,
        entity: F::ENTITY,
        facility_id: facility_row.as_ref().map(|f| f.id),
        code: code.to_string(),
    };
    let row = master::find(&app.db, &key)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: F::ENTITY.noun(),
            id: code.to_string(),
        })?;
    Record::of(row, facility_row.map(|f| f.slug))
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A SKU listing's facility (an unknown one lists nothing).
    pub facility: Option<Slug>,
    /// A party's role or a resource's kind, as written (`CUSTOMER`, `DRIVER`).
    pub kind: Option<String>,
    /// Archived records too.
    pub archived: bool,
}

/// The business's records, by ascending id (scope `read`).
pub async fn list<F: Fields>(
    app: &App,
    who: &Principal,
    filter: Filter,
    page: Page,
) -> Result<Listing<Record<F>>> {
    who.require(Scope::Read)?;
    let mut query = Query {
        facility_id: None,
        kind: filter.kind,
        archived: filter.archived,
    };
    let facility_slug = filter.facility.as_ref().map(Slug::to_string);
    match FacilityScope::of(app, who.business_id, filter.facility.as_ref()).await? {
        FacilityScope::All => {}
        FacilityScope::Only(id) => query.facility_id = Some(id),
        FacilityScope::Unknown => return Ok(Listing::empty()),
    }
    let slice = master::list(&app.db, who.business_id, F::ENTITY, &query, page).await?;
    let next = next_after(&slice, |r| r.id);
    let items = slice
        .rows
        .into_iter()
        .map(|row| Record::of(row, facility_slug.clone()))
        .collect::<Result<Vec<_>>>()?;
    Ok(Listing::new(items, next))
}

/// Every field error of `fields`, as one `422`.
fn check<F: Fields>(fields: &F) -> Result<()> {
    let errors = fields.problems();
    match errors.first() {
        None => Ok(()),
        Some(first) => Err(Error::Invalid {
            code: ProblemCode::ValidationFailed,
            detail: format!("{}: {}", first.path, first.detail),
            errors,
        }),
    }
}

/// Creates or changes the record `code` (scope `write`): `Replace` makes `fields`
/// the record (a `PUT`), `Patch` changes the fields given and clears those named in
/// `clear`. An archived record is restored by a `Replace`.
pub async fn save<F: Fields>(
    app: &App,
    who: &Principal,
    facility: Facility<'_>,
    code_text: &str,
    fields: F,
    merge: Merge,
    clear: &[String],
) -> Result<Saved<F>> {
    who.require(Scope::Write)?;
    check(&fields)?;
    let txn = app.begin().await?;
    let (key, facility_slug) = key_of::<F>(app, &txn, who, facility, code_text, true).await?;
    if app.config.strict_parties
        && let Some(owner) = fields.owner()
        && let Some(unknown) = master::unknown_party(&txn, who.business_id, owner, "owner").await?
    {
        return Err(Error::Invalid {
            code: unknown.code,
            errors: vec![FieldError::new("$.owner", unknown.detail.clone())],
            detail: unknown.detail,
        });
    }
    let data = master::stored_fields(&fields)?;
    let how = match merge {
        Merge::Replace => How::Create(Some(Merge::Replace)),
        Merge::Patch => How::Update(Merge::Patch),
    };
    let saved = master::save(&txn, &key, data, how, clear).await?;
    txn.commit().await?;
    Ok(Saved {
        created: matches!(saved.change, Change::Created | Change::Restored),
        change: saved.change,
        record: Record::of(saved.record, facility_slug)?,
    })
}

/// Archives the record `code` (scope `write`); archiving twice changes nothing.
pub async fn archive<F: Fields>(
    app: &App,
    who: &Principal,
    facility: Facility<'_>,
    code_text: &str,
) -> Result<Record<F>> {
    who.require(Scope::Write)?;
    let txn = app.begin().await?;
    let (key, facility_slug) = key_of::<F>(app, &txn, who, facility, code_text, false).await?;
    let saved = master::archive(&txn, &key).await?;
    txn.commit().await?;
    Record::of(saved.record, facility_slug)
}

/// What `upsert_skus` did: Kargo's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkuCounts {
    pub added: usize,
    pub updated: usize,
}

/// Creates or changes a facility's SKUs in one transaction, each by its id with the
/// fields given (scope `write`). An id twice in one call is refused.
pub async fn upsert_skus(
    app: &App,
    who: &Principal,
    facility: &Slug,
    skus: Vec<(String, SkuFields)>,
) -> Result<SkuCounts> {
    who.require(Scope::Write)?;
    let mut seen = std::collections::HashSet::new();
    for (i, (id, fields)) in skus.iter().enumerate() {
        if !seen.insert(id.as_str()) {
            return Err(Error::invalid_field(
                format!("$.SKUs[{i}].sku_id"),
                format!("SKU `{id}` is given twice; send each SKU once"),
            ));
        }
        MasterCode::parse(id).map_err(|e| e.at(format!("$.SKUs[{i}].sku_id")))?;
        if let Some(problem) = Fields::problems(fields).into_iter().next() {
            return Err(Error::invalid_field(
                format!("$.SKUs[{i}]{}", problem.path.trim_start_matches('$')),
                problem.detail,
            ));
        }
    }
    let txn = app.begin().await?;
    let facility = tenancy::facility(
        &txn,
        who.business_id,
        facility,
        app.config.strict_facilities,
    )
    .await?;
    let mut counts = SkuCounts::default();
    for (id, fields) in skus {
        let key = Key {
            business_id: who.business_id,
            entity: MasterEntity::Sku,
            facility_id: Some(facility.id),
            code: id,
        };
        let data = master::stored_fields(&fields)?;
        let saved = master::save(&txn, &key, data, How::Create(Some(Merge::Patch)), &[]).await?;
        match saved.change {
            Change::Created | Change::Restored => counts.added += 1,
            Change::Updated | Change::Unchanged => counts.updated += 1,
            Change::Archived => {}
        }
    }
    txn.commit().await?;
    Ok(counts)
}

/// Archives a facility's SKUs by id (scope `write`); returns how many there were
/// that were not archived yet. Ids the facility does not have are left alone.
pub async fn delete_skus(
    app: &App,
    who: &Principal,
    facility: &Slug,
    ids: &[String],
) -> Result<usize> {
    who.require(Scope::Write)?;
    let txn = app.begin().await?;
    let Some(facility) = tenancy::find_facility(&txn, who.business_id, facility).await? else {
        return Ok(0);
    };
    let mut deleted = 0;
    for id in ids {
        let key = Key {
            business_id: who.business_id,
            entity: MasterEntity::Sku,
            facility_id: Some(facility.id),
            code: id.clone(),
        };
        match master::archive(&txn, &key).await {
            Ok(saved) if saved.change == Change::Archived => deleted += 1,
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    txn.commit().await?;
    Ok(deleted)
}
