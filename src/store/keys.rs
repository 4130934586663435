//! API keys: 256 random bits, shown once, stored as a SHA-256 hash and found by it.

use super::gate::Write;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use super::entities::{api_key, business};
use super::tenancy;
use crate::domain::{KeyRole, Scope, Slug};
use crate::error::{Error, Result};

/// Every key starts with this, so leaked keys are easy to recognise in scanners.
pub const KEY_PREFIX: &str = "fgk_";

/// A key as `keys create` returns it: the stored row and the plaintext, shown once.
#[derive(Debug)]
pub struct CreatedKey {
    pub key: api_key::Model,
    pub business: business::Model,
    pub plaintext: String,
}

/// Who a presented key belongs to and what it may do.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: i64,
    pub business_id: i64,
    pub business_slug: String,
    pub scopes: Vec<Scope>,
    /// The key's own requests-per-second limit, overriding the configured default.
    pub rate_limit_per_sec: Option<u32>,
    /// Whom the key acts for: the tenant, or one of its customers.
    pub role: KeyRole,
}

impl Principal {
    /// The gateway itself ingesting for a business (a pulled page, a partner's
    /// reply): no key, scope `ingest` only.
    pub fn ingesting_for(business_id: i64, business_slug: String) -> Self {
        Self {
            key_id: 0,
            business_id,
            business_slug,
            scopes: vec![Scope::Ingest],
            rate_limit_per_sec: None,
            role: KeyRole::Tenant,
        }
    }

    /// Fails with 403 unless the key carries `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin) {
            Ok(())
        } else {
            Err(Error::MissingScope(vec![scope.name()]))
        }
    }

    /// Fails with 403 unless the key carries `first` or `second` (or `admin`); the
    /// refusal names both.
    pub fn require_either(&self, first: Scope, second: Scope) -> Result<()> {
        self.require(first)
            .or_else(|_| self.require(second))
            .map_err(|_| Error::MissingScope(vec![first.name(), second.name()]))
    }
}

/// Hex SHA-256 of a key: keys carry 256 bits of entropy, so a fast hash is safe and
/// lets the lookup be a single indexed equality match.
pub fn hash(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates a key for `business` (creating the business if missing).
pub async fn create(
    db: &impl Write,
    business: &Slug,
    name: &str,
    scopes: &[Scope],
) -> Result<CreatedKey> {
    create_with_rate_limit(db, business, name, scopes, None).await
}

/// Creates a key with its own requests-per-second limit (`None`: the default).
pub async fn create_with_rate_limit(
    db: &impl Write,
    business: &Slug,
    name: &str,
    scopes: &[Scope],
    rate_limit_per_sec: Option<u32>,
) -> Result<CreatedKey> {
    create_with_role(
        db,
        business,
        name,
        scopes,
        rate_limit_per_sec,
        &KeyRole::Tenant,
    )
    .await
}

/// Creates a key acting for `role`. A role-bound key's party must be a party of the
/// business with that role (a customer or a subcontractor) that is not archived.
pub async fn create_with_role(
    db: &impl Write,
    business: &Slug,
    name: &str,
    scopes: &[Scope],
    rate_limit_per_sec: Option<u32>,
    role: &KeyRole,
) -> Result<CreatedKey> {
    let business = tenancy::ensure_business(db, business).await?;
    if let Some(code) = role.party() {
        use super::master::PartyStanding;
        let wanted = role.name().to_ascii_uppercase();
        let standing =
            super::master::party_standing(db, business.id, code, Some(wanted.as_str())).await?;
        let why = match standing {
            PartyStanding::Missing => Some("is not a party of the business".to_string()),
            PartyStanding::Archived => Some("is archived".to_string()),
            PartyStanding::OtherRole => Some(format!("is not a {}", role.name())),
            PartyStanding::Usable => None,
        };
        if let Some(why) = why {
            return Err(Error::invalid_field(
                "party",
                format!(
                    "party `{code}` {why}; a {role} key needs a {role} party of business `{}`",
                    business.slug,
                    role = role.name(),
                ),
            ));
        }
    }
    let plaintext = generate();
    let key = api_key::ActiveModel {
        business_id: Set(business.id),
        key_hash: Set(hash(&plaintext)),
        prefix: Set(plaintext[..12].to_string()),
        name: Set(name.to_string()),
        scopes: Set(Scope::join(scopes)),
        created_at: Set(Utc::now()),
        rate_limit_per_sec: Set(rate_limit_per_sec.map(clamp_i32)),
        role: Set(role.party().map(|_| role.name().to_string())),
        party: Set(role.party().map(str::to_owned)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    Ok(CreatedKey {
        key,
        business,
        plaintext,
    })
}

fn clamp_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// All keys with their business, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<(api_key::Model, String)>> {
    let keys = api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    let businesses = business::Entity::find()
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(keys
        .into_iter()
        .map(|key| {
            let slug = businesses
                .iter()
                .find(|b| b.id == key.business_id)
                .map(|b| b.slug.clone())
                .unwrap_or_default();
            (key, slug)
        })
        .collect())
}

/// The names of the business's keys among `ids`, by id.
pub async fn names(
    db: &impl ConnectionTrait,
    business_id: i64,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(api_key::Entity::find()
        .filter(api_key::Column::BusinessId.eq(business_id))
        .filter(api_key::Column::Id.is_in(ids))
        .all(db)
        .await
        .map_err(Error::from_db_err)?
        .into_iter()
        .map(|k| (k.id, k.name))
        .collect())
}

/// The ids of the business's keys named `name` (revoked ones too: they sent what
/// they sent).
pub async fn ids_named(
    db: &impl ConnectionTrait,
    business_id: i64,
    name: &str,
) -> Result<Vec<i64>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::BusinessId.eq(business_id))
        .filter(api_key::Column::Name.eq(name))
        .all(db)
        .await
        .map_err(Error::from_db_err)?
        .into_iter()
        .map(|k| k.id)
        .collect())
}

/// Revokes key `id`; revoking twice is harmless. `NotFound` when no such key.
pub async fn revoke(db: &impl Write, id: i64) -> Result<api_key::Model> {
    let key = api_key::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(Error::from_db_err)?
        .ok_or(Error::NotFound {
            what: "API key",
            id: id.to_string(),
        })?;
    if key.revoked_at.is_some() {
        // Revoked elsewhere (another process) may still be cached here.
        super::key_cache::invalidate_all();
        return Ok(key);
    }
    let mut active = key.into_active_model();
    active.revoked_at = Set(Some(Utc::now()));
    let revoked = active.update(db).await.map_err(Error::from_db_err)?;
    super::key_cache::invalidate_all();
    Ok(revoked)
}

/// Revokes the keys acting for party `code` of the business (its customer keys):
/// an archived party's keys stop working. Returns how many were revoked.
pub async fn revoke_for_party(db: &impl Write, business_id: i64, code: &str) -> Result<u64> {
    use sea_orm::sea_query::Expr;
    let revoked = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_key::Column::BusinessId.eq(business_id))
        .filter(api_key::Column::Party.eq(code))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(Error::from_db_err)?
        .rows_affected;
    if revoked > 0 {
        super::key_cache::invalidate_all();
    }
    Ok(revoked)
}

/// Whether `presented` could be a key at all (prefix and length), before any lookup.
pub fn well_formed(presented: &str) -> bool {
    presented.starts_with(KEY_PREFIX) && presented.len() <= 128
}

/// The principal for a presented key, or `None` when unknown or revoked.
pub async fn authenticate(db: &impl ConnectionTrait, presented: &str) -> Result<Option<Principal>> {
    if !well_formed(presented) {
        return Ok(None);
    }
    authenticate_hash(db, &hash(presented)).await
}

/// The principal for a key by its [`hash`], or `None` when unknown or revoked.
pub async fn authenticate_hash(db: &impl ConnectionTrait, hash: &str) -> Result<Option<Principal>> {
    let found = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash))
        .filter(api_key::Column::RevokedAt.is_null())
        .find_also_related(business::Entity)
        .one(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(found.and_then(|(key, business)| {
        let business = business?;
        Some(Principal {
            key_id: key.id,
            business_id: business.id,
            business_slug: business.slug,
            scopes: Scope::parse_list(&key.scopes).unwrap_or_default(),
            rate_limit_per_sec: key.rate_limit_per_sec.and_then(|n| u32::try_from(n).ok()),
            role: KeyRole::from_stored(key.role.as_deref(), key.party.as_deref()),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_prefixed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX));
        // 32 bytes of base64 without padding is 43 characters.
        assert_eq!(a.len(), KEY_PREFIX.len() + 43);
        assert_eq!(hash(&a).len(), 64);
    }
}
