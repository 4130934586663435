//! A short-lived in-process cache of authenticated API keys, so a request whose key
//! was seen a moment ago does not cost a database lookup.
//!
//! Revocation stays immediate within this process: [`keys::revoke`] moves a
//! process-wide generation on, and an entry stored under an older generation is a
//! miss. Another process (the `keys revoke` CLI, a second instance) cannot reach this
//! cache, so there an entry's time to live (`api_key_cache_ttl_ms`) bounds how long
//! a revoked key keeps working. Only found keys are cached: an unknown key is looked
//! up every time, so a newly created key works at once and guessing fills nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;

use super::keys::{self, Principal};
use crate::error::Result;

/// Moves on at every revocation in this process; entries from before are stale.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Most keys held at once; a full cache drops its expired entries, then everything.
const MAX_ENTRIES: usize = 10_000;

/// Forgets every cached key; called once a revocation is stored.
pub(crate) fn invalidate_all() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Keys authenticated recently, by the SHA-256 of the presented key.
pub struct KeyCache {
    ttl: Duration,
    generation: &'static AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    principal: Principal,
    generation: u64,
    stored: Instant,
}

impl KeyCache {
    /// A cache keeping keys for `ttl`; a zero `ttl` looks every key up.
    pub fn new(ttl: Duration) -> Self {
        Self::with_generation(ttl, &GENERATION)
    }

    fn with_generation(ttl: Duration, generation: &'static AtomicU64) -> Self {
        Self {
            ttl,
            generation,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Like [`keys::authenticate`], answering from the cache when it can.
    pub async fn authenticate(
        &self,
        db: &impl ConnectionTrait,
        presented: &str,
    ) -> Result<Option<Principal>> {
        if self.ttl.is_zero() || !keys::well_formed(presented) {
            return keys::authenticate(db, presented).await;
        }
        let hash = keys::hash(presented);
        // Read before the lookup: a revocation stored while it runs makes the entry stale.
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(principal) = self.get(&hash, generation) {
            return Ok(Some(principal));
        }
        let found = keys::authenticate_hash(db, &hash).await?;
        if let Some(principal) = &found {
            self.put(hash, principal.clone(), generation);
        }
        Ok(found)
    }

    fn get(&self, hash: &str, generation: u64) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|e| e.generation == generation && e.stored.elapsed() < self.ttl)
            .map(|e| e.principal.clone())
    }

    fn put(&self, hash: String, principal: Principal, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let current = self.generation.load(Ordering::SeqCst);
            entries.retain(|_, e| e.generation == current && e.stored.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        let entry = Entry {
            principal,
            generation,
            stored: Instant::now(),
        };
        entries.insert(hash, entry);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Slug;

    async fn db_with_key() -> (sea_orm::DatabaseConnection, keys::CreatedKey) {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        crate::store::migrate(&db).await.unwrap();
        let slug = Slug::parse("acme").unwrap();
        let txn = crate::store::gate::WriteGate::for_db(&db)
            .begin(&db)
            .await
            .unwrap();
        let created = keys::create(&txn, &slug, "test", &[crate::domain::Scope::Read])
            .await
            .unwrap();
        txn.commit().await.unwrap();
        (db, created)
    }

    async fn revoke(db: &sea_orm::DatabaseConnection, id: i64) {
        let txn = crate::store::gate::WriteGate::for_db(db)
            .begin(db)
            .await
            .unwrap();
        keys::revoke(&txn, id).await.unwrap();
        txn.commit().await.unwrap();
    }

    #[tokio::test]
    async fn a_cached_key_is_refused_once_it_is_revoked_in_this_process() {
        let (db, created) = db_with_key().await;
        let cache = KeyCache::new(Duration::from_secs(3600));
        let found = cache.authenticate(&db, &created.plaintext).await.unwrap();
        assert_eq!(found.map(|p| p.key_id), Some(created.key.id));
        assert_eq!(cache.len(), 1);
        revoke(&db, created.key.id).await;
        let after = cache.authenticate(&db, &created.plaintext).await.unwrap();
        assert!(
            after.is_none(),
            "a revoked key must not be served from the cache"
        );
    }

    #[tokio::test]
    async fn a_revocation_from_elsewhere_takes_effect_after_the_time_to_live() {
        let (db, created) = db_with_key().await;
        // Its own generation: revocations by tests running alongside must not interfere.
        static OWN: AtomicU64 = AtomicU64::new(0);
        let cache = KeyCache::with_generation(Duration::from_millis(200), &OWN);
        assert!(
            cache
                .authenticate(&db, &created.plaintext)
                .await
                .unwrap()
                .is_some()
        );
        // Another process revokes: the database changes, this process's generation does not.
        use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
        let mut active = created.key.clone().into_active_model();
        active.revoked_at = Set(Some(chrono::Utc::now()));
        active.update(&db).await.unwrap();
        assert!(
            cache
                .authenticate(&db, &created.plaintext)
                .await
                .unwrap()
                .is_some(),
            "within the time to live the cached key still works"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(
            cache
                .authenticate(&db, &created.plaintext)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn unknown_keys_are_not_cached_and_a_zero_ttl_caches_nothing() {
        let (db, created) = db_with_key().await;
        let cache = KeyCache::new(Duration::from_secs(3600));
        let unknown = format!("{}{}", keys::KEY_PREFIX, "x".repeat(43));
        assert!(cache.authenticate(&db, &unknown).await.unwrap().is_none());
        assert_eq!(cache.len(), 0);
        let off = KeyCache::new(Duration::ZERO);
        assert!(
            off.authenticate(&db, &created.plaintext)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(off.len(), 0);
    }
}
