//! Public ids: what every door shows in place of a row's internal id.
//!
//! Rows are numbered by the database, one sequence per table for all businesses, so
//! an internal id tells how many rows every tenant has written before it. Doors show
//! a keyed permutation of it instead: still an integer (the legacy GraphQL API types
//! ids as `Int`), unique, stable across restarts and instances that share a key, and
//! unrelated to the order rows were written in without the key.
//!
//! The permutation is a Feistel network whose round function is SipHash-2-4 (a
//! keyed pseudo-random function made for short inputs) under a key derived from the
//! instance's key, with cycle walking to stay inside a range:
//! - internal ids 1 to 2^31 - 1 map onto that same range (they fit GraphQL's `Int`);
//! - internal ids 2^31 to 2^62 - 1 map onto that range (REST only; GraphQL cannot
//!   carry them);
//! - everything else (0, negative numbers, 2^62 and above) is left as it is: no row
//!   has such an id, so a lookup by one finds nothing.

use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use siphasher::sip::SipHasher24;
use std::hash::Hasher;

/// Feistel rounds; ten is what format-preserving encryption uses for small domains.
const ROUNDS: u8 = 10;
/// The end (exclusive) of the ids that fit a GraphQL `Int`.
const SMALL_END: i64 = 1 << 31;
/// The end (exclusive) of the ids the wide permutation covers.
const WIDE_END: i64 = 1 << 62;

/// The key public ids are derived with: 32 bytes, written as 64 hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct IdKey([u8; 32]);

impl IdKey {
    /// A new random key.
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// Reads 64 hex digits.
    pub fn parse(hex_digits: &str) -> Result<Self, String> {
        let bytes = hex::decode(hex_digits.trim())
            .map_err(|e| format!("a public id key is 64 hex digits: {e}"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "a public id key is 64 hex digits (32 bytes), not {} bytes",
                b.len()
            )
        })?;
        Ok(Self(bytes))
    }

    /// The key as 64 hex digits, as stored.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for IdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdKey(…)")
    }
}

/// The permutation between internal and public ids under one key.
#[derive(Clone)]
pub struct IdCipher {
    /// The round function's 128-bit key, derived from the instance's key.
    round_key: [u8; 16],
    key: IdKey,
}

impl IdCipher {
    pub fn new(key: IdKey) -> Self {
        let mut derive = Sha256::new();
        derive.update(b"freightgate public id\0");
        derive.update(key.0);
        let digest = derive.finalize();
        let mut round_key = [0u8; 16];
        round_key.copy_from_slice(&digest[..16]);
        Self { round_key, key }
    }

    /// The public id of an internal id.
    pub fn encode(&self, internal: i64) -> i64 {
        if (1..SMALL_END).contains(&internal) {
            self.walk(16, internal, 1..SMALL_END, Self::forward)
        } else if (SMALL_END..WIDE_END).contains(&internal) {
            self.walk(32, internal, SMALL_END..WIDE_END, Self::forward)
        } else {
            internal
        }
    }

    /// The internal id a public id stands for.
    pub fn decode(&self, public: i64) -> i64 {
        if (1..SMALL_END).contains(&public) {
            self.walk(16, public, 1..SMALL_END, Self::backward)
        } else if (SMALL_END..WIDE_END).contains(&public) {
            self.walk(32, public, SMALL_END..WIDE_END, Self::backward)
        } else {
            public
        }
    }

    /// Applies `step` until the value lands in `range` again (cycle walking): the
    /// permutation of the whole `2 * half`-bit space restricted to `range` is a
    /// permutation of `range`.
    fn walk(
        &self,
        half: u32,
        value: i64,
        range: std::ops::Range<i64>,
        step: fn(&Self, u32, u64) -> u64,
    ) -> i64 {
        let mut v = value as u64;
        loop {
            v = step(self, half, v);
            // `v` has at most 64 bits and the wide ranges end below 2^63.
            let as_signed = v as i64;
            if range.contains(&as_signed) {
                return as_signed;
            }
        }
    }

    fn round(&self, half: u32, round: u8, x: u64) -> u64 {
        let mut h = SipHasher24::new_with_key(&self.round_key);
        h.write_u64(x | u64::from(round) << 56 | u64::from(half) << 48);
        h.finish() & mask(half)
    }

    fn forward(&self, half: u32, v: u64) -> u64 {
        let (mut l, mut r) = (v >> half & mask(half), v & mask(half));
        for i in 0..ROUNDS {
            (l, r) = (r, l ^ self.round(half, i, r));
        }
        l << half | r
    }

    fn backward(&self, half: u32, v: u64) -> u64 {
        let (mut l, mut r) = (v >> half & mask(half), v & mask(half));
        for i in (0..ROUNDS).rev() {
            (l, r) = (r ^ self.round(half, i, l), l);
        }
        l << half | r
    }
}

fn mask(half: u32) -> u64 {
    (1u64 << half) - 1
}

static CIPHER: OnceLock<IdCipher> = OnceLock::new();

/// A process serves one database, so one key: a second, different key is refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "this process already serves public ids under another key; every instance on one \
     database needs the same `public_id_key` (or none, to use the database's)"
)]
pub struct KeyConflict;

/// Sets the key public ids are derived with, for the life of the process.
pub fn install(key: IdKey) -> Result<(), KeyConflict> {
    let installed = CIPHER.get_or_init(|| IdCipher::new(key.clone()));
    if installed.key == key {
        Ok(())
    } else {
        Err(KeyConflict)
    }
}

/// The installed permutation; a process that has not installed one (a CLI command
/// that prints no ids, a unit test) gets a random key of its own.
fn cipher() -> &'static IdCipher {
    CIPHER.get_or_init(|| IdCipher::new(IdKey::random()))
}

/// The public id of an internal id, under the installed key.
pub fn public(internal: i64) -> i64 {
    cipher().encode(internal)
}

/// The internal id a public id stands for, under the installed key.
pub fn internal(public: i64) -> i64 {
    cipher().decode(public)
}

/// A row's id as the doors show it: holds the internal id, reads and writes the
/// public one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicId(i64);

impl PublicId {
    /// The row id this stands for.
    pub fn internal(self) -> i64 {
        self.0
    }

    /// What a door shows.
    pub fn public(self) -> i64 {
        public(self.0)
    }

    /// The id a door was given.
    pub fn from_public(public_id: i64) -> Self {
        Self(internal(public_id))
    }
}

impl From<i64> for PublicId {
    fn from(internal: i64) -> Self {
        Self(internal)
    }
}

impl std::fmt::Display for PublicId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.public())
    }
}

impl Serialize for PublicId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.public())
    }
}

impl<'de> Deserialize<'de> for PublicId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(Self::from_public)
    }
}

impl utoipa::PartialSchema for PublicId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .description(Some(
                "An opaque id: unique per kind of record, stable, and unrelated to \
                 when the record was written.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for PublicId {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> IdCipher {
        IdCipher::new(IdKey::parse(&"ab".repeat(32)).unwrap())
    }

    #[test]
    fn small_ids_round_trip_inside_the_graphql_int_range() {
        let c = cipher();
        let mut seen = std::collections::HashSet::new();
        for id in (1..5_000).chain([SMALL_END - 2, SMALL_END - 1]) {
            let p = c.encode(id);
            assert!((1..SMALL_END).contains(&p), "{id} -> {p}");
            assert_eq!(c.decode(p), id);
            assert!(seen.insert(p), "{p} twice");
        }
    }

    #[test]
    fn consecutive_ids_are_not_consecutive_in_public() {
        let c = cipher();
        let publics: Vec<i64> = (1..=20).map(|id| c.encode(id)).collect();
        let increasing = publics.windows(2).filter(|w| w[1] > w[0]).count();
        // Twenty random values rise about half the time; a counter rises every time.
        assert!(increasing < 17, "{publics:?}");
        assert!(publics.iter().all(|p| *p > 1_000), "{publics:?}");
    }

    #[test]
    fn wide_ids_round_trip_inside_their_range() {
        let c = cipher();
        for id in [SMALL_END, SMALL_END + 1, 1 << 40, WIDE_END - 1] {
            let p = c.encode(id);
            assert!((SMALL_END..WIDE_END).contains(&p), "{id} -> {p}");
            assert_eq!(c.decode(p), id);
        }
    }

    #[test]
    fn ids_no_row_has_are_left_alone() {
        let c = cipher();
        for id in [0, -1, i64::MIN, WIDE_END, i64::MAX] {
            assert_eq!(c.encode(id), id);
            assert_eq!(c.decode(id), id);
        }
    }

    #[test]
    fn another_key_gives_other_ids() {
        let a = cipher();
        let b = IdCipher::new(IdKey::parse(&"cd".repeat(32)).unwrap());
        let same = (1..100).filter(|id| a.encode(*id) == b.encode(*id)).count();
        assert!(same < 3, "{same} of 99 equal");
    }

    #[test]
    fn keys_are_64_hex_digits() {
        assert!(IdKey::parse("abc").is_err());
        assert!(IdKey::parse(&"zz".repeat(32)).is_err());
        let key = IdKey::random();
        assert_eq!(IdKey::parse(&key.to_hex()).unwrap(), key);
    }
}
