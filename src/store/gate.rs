//! One queue for this process's write transactions on SQLite. SQLite has a single
//! writer; connections that find its lock taken poll for it in a busy handler that
//! sleeps between tries, so a writer that commits and begins again at once (the
//! ingest writer under load) would starve them. Through the gate they take turns,
//! first come first served. PostgreSQL locks rows, not the database: there the gate
//! is open.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The turn-taking of one process's writers on one database.
#[derive(Clone, Default)]
pub struct WriteGate(Option<Arc<Mutex<()>>>);

/// A turn at writing; the next writer's turn starts when it is dropped.
pub type Turn = Option<OwnedMutexGuard<()>>;

impl WriteGate {
    /// A gate for `db`: queuing on SQLite, open on PostgreSQL.
    pub fn for_db(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DbBackend::Sqlite => Self(Some(Arc::new(Mutex::new(())))),
            _ => Self(None),
        }
    }

    /// Waits for this writer's turn.
    pub async fn turn(&self) -> Turn {
        match &self.0 {
            Some(queue) => Some(queue.clone().lock_owned().await),
            None => None,
        }
    }

    /// A write transaction begun on this writer's turn, which lasts until it ends.
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
        let turn = self.turn().await;
        let txn = super::begin_write(db).await?;
        Ok(WriteTxn { txn, _turn: turn })
    }
}

/// A write transaction holding its writer's turn.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Turn,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }

    /// A savepoint inside this transaction, for a [`super::unit::Unit`].
    pub(super) async fn savepoint(&self) -> Result<DatabaseTransaction, DbErr> {
        use sea_orm::TransactionTrait;
        self.txn.begin().await
    }
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
}

impl Write for WriteTxn {
    fn unit(&self) -> Option<&super::unit::Memory> {
        None
    }
}

/// `ConnectionTrait` for a wrapper of a `DatabaseTransaction` in field `$field`.
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
                self.$field.execute_raw(stmt).await
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
                self.$field.query_one_raw(stmt).await
            }

            async fn query_all_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
                self.$field.query_all_raw(stmt).await
            }

            fn support_returning(&self) -> bool {
                self.$field.support_returning()
            }
        }
    };
}
pub(super) use delegate_connection;

delegate_connection!(WriteTxn, txn);
