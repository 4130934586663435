//! Businesses, facilities and docks. Facilities and docks are created on first
//! reference unless strict mode asks for them to exist already.

use super::gate::Write;
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::{business, dock, facility};
use crate::domain::Slug;
use crate::error::{Error, ProblemCode, Result};

/// Finds the business `slug`, creating it (named after its slug) when missing.
pub async fn ensure_business(db: &impl Write, slug: &Slug) -> Result<business::Model> {
    if let Some(found) = find_business(db, slug).await? {
        return Ok(found);
    }
    // Another writer may add it at once: on PostgreSQL a failed INSERT would abort
    // the enclosing transaction, so a conflict is no error and the row is read back.
    business::Entity::insert(business::ActiveModel {
        slug: Set(slug.to_string()),
        name: Set(slug.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(business::Column::Slug)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(Error::from_db_err)?;
    find_business(db, slug).await?.ok_or_else(|| {
        Error::Internal(anyhow::anyhow!(
            "business {slug} is not there after adding it"
        ))
    })
}

/// Finds a business by slug.
pub async fn find_business(
    db: &impl ConnectionTrait,
    slug: &Slug,
) -> Result<Option<business::Model>> {
    business::Entity::find()
        .filter(business::Column::Slug.eq(slug.as_str()))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Every business's slug, in slug order.
pub async fn business_slugs(db: &impl ConnectionTrait) -> Result<Vec<String>> {
    use sea_orm::{QueryOrder, QuerySelect};
    business::Entity::find()
        .select_only()
        .column(business::Column::Slug)
        .order_by_asc(business::Column::Slug)
        .into_tuple::<String>()
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// Finds a business by id.
pub async fn business_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<business::Model>> {
    business::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// The slugs of a business and of one of its facilities, in one statement: every
/// event names both.
pub async fn slugs(
    db: &impl ConnectionTrait,
    business_id: i64,
    facility_id: Option<i64>,
) -> Result<Option<(String, Option<String>)>> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, Query};
    let facility_slug = Query::select()
        .column(facility::Column::Slug)
        .from(facility::Entity)
        .and_where(facility::Column::Id.eq(facility_id))
        .to_owned();
    business::Entity::find_by_id(business_id)
        .select_only()
        .column(business::Column::Slug)
        .expr(Expr::SubQuery(None, Box::new(facility_slug.into())))
        .into_tuple::<(String, Option<String>)>()
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Resolves `slug` within the business, creating the facility unless `strict`; once
/// per write transaction when it runs in units (facilities are never renamed).
pub async fn facility(
    db: &impl Write,
    business_id: i64,
    slug: &Slug,
    strict: bool,
) -> Result<facility::Model> {
    super::unit::facility(db, business_id, slug.as_str(), || {
        find_or_create_facility(db, business_id, slug, strict)
    })
    .await
}

async fn find_or_create_facility(
    db: &impl Write,
    business_id: i64,
    slug: &Slug,
    strict: bool,
) -> Result<facility::Model> {
    if let Some(found) = find_facility(db, business_id, slug).await? {
        return Ok(found);
    }
    if strict {
        return Err(Error::Invalid {
            code: ProblemCode::UnknownFacility,
            detail: format!("facility `{slug}` does not exist and strict facilities are enabled"),
            errors: Vec::new(),
        });
    }
    // ON CONFLICT DO NOTHING: a concurrent request creating the same facility must
    // not abort our transaction (PostgreSQL aborts it on a failed insert).
    facility::Entity::insert(facility::ActiveModel {
        business_id: Set(business_id),
        slug: Set(slug.to_string()),
        name: Set(slug.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([facility::Column::BusinessId, facility::Column::Slug])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(Error::from_db_err)?;
    find_facility(db, business_id, slug)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("facility {slug} vanished after insert")))
}

/// Finds a facility of the business by slug.
pub async fn find_facility(
    db: &impl ConnectionTrait,
    business_id: i64,
    slug: &Slug,
) -> Result<Option<facility::Model>> {
    facility::Entity::find()
        .filter(facility::Column::BusinessId.eq(business_id))
        .filter(facility::Column::Slug.eq(slug.as_str()))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Finds a facility by id.
pub async fn facility_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<facility::Model>> {
    facility::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Resolves a dock of the facility, creating it on first reference; once per
/// transaction.
pub async fn dock(db: &impl Write, facility: &facility::Model, slug: &Slug) -> Result<dock::Model> {
    super::unit::dock(db, facility.id, slug.as_str(), || {
        find_or_make_dock(db, facility, slug)
    })
    .await
}

async fn find_or_make_dock(
    db: &impl Write,
    facility: &facility::Model,
    slug: &Slug,
) -> Result<dock::Model> {
    let find = || {
        dock::Entity::find()
            .filter(dock::Column::FacilityId.eq(facility.id))
            .filter(dock::Column::Slug.eq(slug.as_str()))
            .one(db)
    };
    if let Some(found) = find().await.map_err(Error::from_db_err)? {
        return Ok(found);
    }
    dock::Entity::insert(dock::ActiveModel {
        business_id: Set(facility.business_id),
        facility_id: Set(facility.id),
        slug: Set(slug.to_string()),
        display_name: Set(slug.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([dock::Column::FacilityId, dock::Column::Slug])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(Error::from_db_err)?;
    find()
        .await
        .map_err(Error::from_db_err)?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("dock {slug} vanished after insert")))
}

/// Finds a dock by id.
pub async fn dock_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<dock::Model>> {
    dock::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}
