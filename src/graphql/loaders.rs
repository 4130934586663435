//! Data loaders: every key type below is answered for a whole batch in one
//! statement, so a query's cost in round trips does not grow with its result.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::store::Db;
use crate::store::batch::{self, DocumentMeta, PalletWithOrders};
use crate::store::entities::{
    dock, exception, facility, order, order_item, reference, shipment, shipment_status_event,
};

/// The loader behind every key type, bound to one business.
pub struct Store {
    pub db: Db,
    pub business_id: i64,
}

macro_rules! key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub i64);
    };
}

key!(
    /// A facility by id.
    FacilityId
);
key!(
    /// A shipment by id.
    ShipmentId
);
key!(
    /// A dock by id.
    DockId
);
key!(
    /// The docks of a facility.
    DocksOf
);
key!(
    /// The orders assigned to a shipment.
    OrdersOf
);
key!(
    /// The items of an order.
    ItemsOf
);
key!(
    /// The documents of a shipment.
    DocumentsOf
);
key!(
    /// The pallet events of a shipment.
    PalletsOf
);
key!(
    /// The status history of a shipment.
    HistoryOf
);
key!(
    /// The references of a shipment.
    ReferencesOf
);
key!(
    /// The exceptions of a shipment.
    ExceptionsOf
);
key!(
    /// The references of an order.
    ReferencesOfOrder
);

fn ids<K: Copy>(keys: &[K], id: impl Fn(K) -> i64) -> Vec<i64> {
    keys.iter().map(|k| id(*k)).collect()
}

fn rekey<K: std::hash::Hash + Eq, V>(
    map: HashMap<i64, V>,
    key: impl Fn(i64) -> K,
) -> HashMap<K, V> {
    map.into_iter().map(|(id, v)| (key(id), v)).collect()
}

/// Implements `Loader<$key>` with a batch function `(db, business_id, &ids)`.
macro_rules! load {
    ($key:ident => $value:ty, |$store:ident, $ids:ident| $body:expr) => {
        impl Loader<$key> for Store {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, Self::Error> {
                let $store = self;
                let $ids = ids(keys, |k| k.0);
                let found = $body.await.map_err(async_graphql::Error::from)?;
                Ok(rekey(found, $key))
            }
        }
    };
}

load!(FacilityId => facility::Model, |s, ids| batch::facilities(&s.db, s.business_id, &ids));
load!(ShipmentId => shipment::Model, |s, ids| batch::shipments(&s.db, s.business_id, &ids));
load!(DockId => dock::Model, |s, ids| batch::docks(&s.db, s.business_id, &ids));
load!(DocksOf => Vec<dock::Model>, |s, ids| batch::docks_of_facilities(&s.db, s.business_id, &ids));
load!(OrdersOf => Vec<order::Model>, |s, ids| batch::orders_of_shipments(&s.db, s.business_id, &ids));
load!(ItemsOf => Vec<order_item::Model>, |s, ids| batch::items_of_orders(&s.db, &ids));
load!(DocumentsOf => Vec<DocumentMeta>, |s, ids| batch::documents_of_shipments(&s.db, s.business_id, &ids));
load!(PalletsOf => Vec<PalletWithOrders>, |s, ids| batch::pallets_of_shipments(&s.db, s.business_id, &ids));
load!(HistoryOf => Vec<shipment_status_event::Model>, |s, ids| batch::status_events_of_shipments(&s.db, &ids));
load!(ReferencesOf => Vec<reference::Model>, |s, ids| batch::references_of_shipments(&s.db, s.business_id, &ids));
load!(ReferencesOfOrder => Vec<reference::Model>, |s, ids| batch::references_of_orders(&s.db, s.business_id, &ids));
load!(ExceptionsOf => Vec<exception::Model>, |s, ids| batch::exceptions_of_shipments(&s.db, s.business_id, &ids));
