//! One queue for this process's write transactions on SQLite. SQLite has a single
//! writer; connections that find its lock taken poll for it in a busy handler that
//! sleeps between tries, so a writer that commits and begins again at once (the
//! ingest writer under load) would starve them. Through the gate they take turns,
//! first come first served. PostgreSQL locks rows, not the database: there the gate
//! is open.

use std::ops::Deref;
use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement,
};
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
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}
