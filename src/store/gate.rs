//! One queue for this process's write transactions on SQLite. SQLite has a single
//! writer; connections that find its lock taken poll for it in a busy handler that
//! sleeps between tries, so a writer that commits and begins again at once (the
//! ingest writer under load) would starve them. Through the gate they take turns,
//! first come first served. PostgreSQL locks rows, not the database: there the gate
//! is open.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

use super::outbox::Router;
use super::unit::Carried;

/// The turn-taking of one process's writers on one database, the outbound router
/// their transactions' events go through, and the bell their commits ring when they
/// wrote deliveries (the dispatcher claims them at once instead of at its next poll).
#[derive(Clone, Default)]
pub struct WriteGate {
    queue: Option<Arc<Mutex<()>>>,
    router: Option<Arc<dyn Router>>,
    deliveries: Arc<Notify>,
}

/// A turn at writing; the next writer's turn starts when it is dropped.
pub type Turn = Option<OwnedMutexGuard<()>>;

impl WriteGate {
    /// A gate for `db`: queuing on SQLite, open on PostgreSQL.
    pub fn for_db(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DbBackend::Sqlite => Self {
                queue: Some(Arc::new(Mutex::new(()))),
                ..Self::default()
            },
            _ => Self::default(),
        }
    }

    /// The same gate, whose transactions route events to outbound targets through
    /// `router`. Without one, no event reaches an outbound target.
    pub fn with_router(mut self, router: Arc<dyn Router>) -> Self {
        self.router = Some(router);
        self
    }

    /// Waits for this writer's turn.
    pub async fn turn(&self) -> Turn {
        match &self.queue {
            Some(queue) => Some(queue.clone().lock_owned().await),
            None => None,
        }
    }

    /// A write transaction begun on this writer's turn, which lasts until it ends.
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
        let turn = self.turn().await;
        let txn = super::begin_write(db).await?;
        Ok(WriteTxn {
            txn,
            router: self.router.clone(),
            wrote_deliveries: Arc::default(),
            deliveries: self.deliveries.clone(),
            carried: Carried::default(),
            _turn: turn,
        })
    }

    /// Completes once a transaction of this gate has committed new deliveries since
    /// the last time it completed (one permit: many commits ring it once).
    pub async fn deliveries_committed(&self) {
        self.deliveries.notified().await;
    }
}

/// A write transaction holding its writer's turn.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    router: Option<Arc<dyn Router>>,
    /// Set when the transaction (or a unit inside it) wrote deliveries.
    wrote_deliveries: Arc<AtomicBool>,
    deliveries: Arc<Notify>,
    /// What its committed units looked up, for the next one.
    carried: Carried,
    _turn: Turn,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        if self.wrote_deliveries.load(Ordering::Relaxed) {
            self.deliveries.notify_one();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }

    /// A savepoint inside this transaction, for a [`super::unit::Unit`], with the
    /// transaction's router.
    pub(super) async fn savepoint(&self) -> Result<Savepoint, DbErr> {
        use sea_orm::TransactionTrait;
        Ok(Savepoint {
            txn: self.txn.begin().await?,
            router: self.router.clone(),
            wrote_deliveries: self.wrote_deliveries.clone(),
            carried: self.carried.clone(),
        })
    }
}

/// A savepoint of a [`WriteTxn`] with what a unit inside it shares with it.
pub(super) struct Savepoint {
    pub txn: DatabaseTransaction,
    pub router: Option<Arc<dyn Router>>,
    /// The enclosing transaction's mark of written deliveries.
    pub wrote_deliveries: Arc<AtomicBool>,
    /// The lookups the transaction's earlier units handed on.
    pub carried: Carried,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::WriteTxn {}
    impl Sealed for crate::store::unit::Unit {}
}

/// A connection that may write: a [`WriteTxn`], begun on its turn in the write
/// queue, or a [`super::unit::Unit`] inside one. The store's write functions take
/// only this, so a write that bypasses the queue or its transaction does not
/// compile. Sealed: the store's two types are the only ones.
pub trait Write: ConnectionTrait + Sync + sealed::Sealed {
    /// What the unit remembers, and the outbox messages waiting for its end;
    /// `None` outside a unit, where each message is written as it is emitted.
    fn unit(&self) -> Option<&super::unit::Memory>;

    /// Where events find the outbound targets that want them.
    fn router(&self) -> Option<&Arc<dyn Router>>;

    /// Notes that this transaction wrote deliveries: its commit rings the
    /// dispatcher's bell.
    fn wrote_deliveries(&self);

    /// The lookups the transaction's committed units handed on.
    fn carried(&self) -> &Carried;
}

impl Write for WriteTxn {
    fn unit(&self) -> Option<&super::unit::Memory> {
        None
    }

    fn router(&self) -> Option<&Arc<dyn Router>> {
        self.router.as_ref()
    }

    fn wrote_deliveries(&self) {
        self.wrote_deliveries.store(true, Ordering::Relaxed);
    }

    fn carried(&self) -> &Carried {
        &self.carried
    }
}

/// `ConnectionTrait` for a wrapper of a `DatabaseTransaction` in field `$field`. On
/// SQLite a trailing `LIMIT ?` goes into the text as its number (see
/// [`super::stable::literal_limit`]).
macro_rules! delegate_connection {
    ($type:ty, $field:ident) => {
        #[async_trait::async_trait]
        impl sea_orm::ConnectionTrait for $type {
            fn get_database_backend(&self) -> sea_orm::DbBackend {
                self.$field.get_database_backend()
            }

            async fn execute_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
                self.$field
                    .execute_raw(crate::store::stable::literal_limit(stmt))
                    .await
            }

            async fn execute_unprepared(
                &self,
                sql: &str,
            ) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
                self.$field.execute_unprepared(sql).await
            }

            async fn query_one_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Option<sea_orm::QueryResult>, sea_orm::DbErr> {
                self.$field
                    .query_one_raw(crate::store::stable::literal_limit(stmt))
                    .await
            }

            async fn query_all_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
                self.$field
                    .query_all_raw(crate::store::stable::literal_limit(stmt))
                    .await
            }

            fn support_returning(&self) -> bool {
                self.$field.support_returning()
            }
        }
    };
}
pub(super) use delegate_connection;

delegate_connection!(WriteTxn, txn);
