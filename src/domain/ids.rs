//! Ids that say which kind of record they belong to: a [`ShipmentId`] cannot be
//! passed where an [`OrderId`] is wanted, so the application core's use cases cannot
//! mix them up. A door makes one from the [`PublicId`] it was given; the store reads
//! the row number back with [`Id::internal`].

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use super::PublicId;

/// The id of a record of kind `K`.
pub struct Id<K> {
    internal: i64,
    kind: PhantomData<fn() -> K>,
}

impl<K> Id<K> {
    /// The id of the row numbered `internal`.
    pub fn new(internal: i64) -> Self {
        Self {
            internal,
            kind: PhantomData,
        }
    }

    /// The row number, for the store.
    pub fn internal(self) -> i64 {
        self.internal
    }

    /// The id a door was given as a bare number (GraphQL's integer ids).
    pub fn from_public(public: i64) -> Self {
        Self::new(super::public_id::internal(public))
    }

    /// What the doors show.
    pub fn public(self) -> PublicId {
        PublicId::from(self.internal)
    }
}

impl<K> From<PublicId> for Id<K> {
    fn from(id: PublicId) -> Self {
        Self::new(id.internal())
    }
}

impl<K> From<Id<K>> for PublicId {
    fn from(id: Id<K>) -> Self {
        id.public()
    }
}

// Written out: derives would ask the kind markers for the same traits.
impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Id<K> {}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.internal == other.internal
    }
}

impl<K> Eq for Id<K> {}

impl<K> Hash for Id<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.internal.hash(state);
    }
}

impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.internal)
    }
}

/// Shown as the public id, as every message and answer shows it.
impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.public().fmt(f)
    }
}

/// Kinds of record, as markers for [`Id`].
pub mod kind {
    pub enum Shipment {}
    pub enum Order {}
    pub enum Endpoint {}
    pub enum Delivery {}
}

pub type ShipmentId = Id<kind::Shipment>;
pub type OrderId = Id<kind::Order>;
/// A webhook endpoint's id.
pub type EndpointId = Id<kind::Endpoint>;
/// A webhook delivery's id.
pub type DeliveryId = Id<kind::Delivery>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_keeps_its_row_and_shows_the_public_id() {
        let id = ShipmentId::new(42);
        assert_eq!(id.internal(), 42);
        assert_eq!(id.to_string(), PublicId::from(42).to_string());
        assert_eq!(ShipmentId::from(PublicId::from(42)), id);
    }
}
