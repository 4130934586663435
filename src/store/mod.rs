//! Persistence: connection, migrations and typed queries. No SQL outside this module.

pub mod attach;
pub mod batch;
pub mod dispatch;
pub mod entities;
pub mod events;
pub mod gate;
pub mod idempotency;
pub mod inbound;
pub mod instance;
pub mod key_cache;
pub mod keys;
pub mod listing;
pub mod master;
pub mod migration;
pub mod order_items;
pub mod orders;
pub mod outbox;
pub mod shipments;
pub mod sources;
pub mod stable;
pub mod tenancy;
pub mod trips;
pub mod unit;
pub mod webhooks;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::config::Config;

/// The process's pool of database connections. It runs statements as the pool does,
/// except that on SQLite a trailing `LIMIT ?` is written into the statement's text
/// as its number (see [`stable::literal_limit`]): the API's lookups by id and its
/// listings run outside any transaction, and each of them was otherwise parsed and
/// planned again at every execution. Everything else of the pool (transactions, its
/// backend, its gauges) is reached through `Deref`.
#[derive(Clone, Debug)]
pub struct Db {
    pool: DatabaseConnection,
}

impl Db {
    /// Closes the pool's connections (at shutdown).
    pub async fn close(self) -> Result<(), DbErr> {
        self.pool.close().await
    }
}

impl std::ops::Deref for Db {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.pool
    }
}

impl std::ops::DerefMut for Db {
    fn deref_mut(&mut self) -> &mut DatabaseConnection {
        &mut self.pool
    }
}

impl From<DatabaseConnection> for Db {
    fn from(pool: DatabaseConnection) -> Self {
        Self { pool }
    }
}

gate::delegate_connection!(Db, pool);

/// What a cancel carries besides its target: when it happened and why, as the
/// canceller said. Both are kept (the shipment's status entry, the order's reason).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cancellation {
    pub occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    pub reason: Option<String>,
}

/// The optional columns a change clears though it is a patch: the members a JSON
/// Merge Patch set to `null`, by column name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleared(std::collections::BTreeSet<&'static str>);

impl Cleared {
    pub fn new(columns: impl IntoIterator<Item = &'static str>) -> Self {
        Self(columns.into_iter().collect())
    }

    /// Whether `column` is cleared.
    pub fn has(&self, column: &str) -> bool {
        self.0.contains(column)
    }
}

/// A pooled connection idle for this long is pinged before it is handed out. sqlx
/// pings every connection as it comes back to the pool, so one used since is known
/// to be live, and a ping before each use of it would be a second round trip (on
/// SQLite, a second hand-off to the connection's thread) for every statement.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Opens the pool described by `config`. SQLite files are created when missing and
/// run in WAL mode so readers never wait for the writer.
pub async fn connect(config: &Config) -> Result<Db, DbErr> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.db_pool_size())
        .min_connections(0)
        .acquire_timeout(config.db_acquire_timeout())
        .connect_timeout(config.db_acquire_timeout())
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false);
    if config.is_sqlite() {
        // A SQLite connection holds no server's resources, only its page cache and
        // prepared statements: closing it after sqlx's default 30 minutes threw both
        // away and built them again (a drop and regrowth of RSS in the hour's soak).
        // Idle connections still close after the idle timeout.
        options.max_lifetime(None::<Duration>);
        // The shared pool's caches are the small ones: see `sqlite_read_cache_kib`.
        let cache_size = cache_size(config.sqlite_read_cache_kib);
        options.map_sqlx_sqlite_opts(move |opts| {
            opts.create_if_missing(true)
                .pragma("cache_size", cache_size.clone())
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    }
    match Database::connect(options).await {
        Ok(db) => Ok(db.into()),
        Err(e) => Err(why_not_connected(config, e).await),
    }
}

/// The pool only says that it timed out; one direct connection attempt says why
/// (refused, unknown host, authentication failed), so the operator sees the cause.
async fn why_not_connected(config: &Config, pooled: DbErr) -> DbErr {
    use sea_orm::sqlx::Connection;
    if config.is_sqlite() {
        return pooled;
    }
    let attempt = sea_orm::sqlx::postgres::PgConnection::connect(&config.database_url);
    match tokio::time::timeout(config.db_acquire_timeout(), attempt).await {
        Ok(Ok(connection)) => {
            connection.close().await.ok();
            pooled
        }
        Ok(Err(cause)) => DbErr::Custom(format!("the database cannot be reached: {cause}")),
        Err(_) => DbErr::Custom(format!(
            "the database did not answer within db_acquire_timeout_ms ({} ms)",
            config.db_acquire_timeout_ms
        )),
    }
}

/// Applies every pending migration; returns how many ran.
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let pending = migration::Migrator::get_pending_migrations(db).await?.len();
    migration::Migrator::up(db, None).await?;
    Ok(pending)
}

/// SQLite's `cache_size` pragma for a page cache of `kib` (a negative value is in
/// KiB).
fn cache_size(kib: u32) -> String {
    format!("-{kib}")
}

/// A pool of at most `max` connections of its own on `db`'s database, opened when
/// first used. For a worker whose statements should find their connection's page
/// cache and prepared statements warm instead of rotating through the shared pool,
/// where each SQLite connection's cache is invalidated by the others' writes. On
/// SQLite each connection's page cache is `sqlite_cache_kib`.
pub fn own_pool(db: &DatabaseConnection, max: u32, sqlite_cache_kib: u32) -> Db {
    pool_beside(db, max, sqlite_cache_kib, &[]).into()
}

/// A pool of at most `max` connections to `db`'s database, with `db`'s settings
/// but a page cache of `sqlite_cache_kib` on SQLite; `postgres_settings` are set on
/// each PostgreSQL connection as it opens.
fn pool_beside(
    db: &DatabaseConnection,
    max: u32,
    sqlite_cache_kib: u32,
    postgres_settings: &[(&str, &str)],
) -> DatabaseConnection {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            let options = pool.options().clone().max_connections(max);
            let connect = (*pool.connect_options())
                .clone()
                .pragma("cache_size", cache_size(sqlite_cache_kib));
            options.min_connections(0).connect_lazy_with(connect).into()
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            let options = pool.options().clone().max_connections(max);
            let connect = (*pool.connect_options())
                .clone()
                .options(postgres_settings.iter().copied());
            options.min_connections(0).connect_lazy_with(connect).into()
        }
        _ => db.clone(),
    }
}

/// The webhook dispatcher's own connections. On SQLite one: its writes queue for the
/// single writer anyway, and one connection keeps its caches warm. On PostgreSQL
/// three, so a claim need not wait while the attempt log commits, and with
/// `synchronous_commit` off: its commits (leases, attempts, renewals) do not wait
/// for the WAL flush. A crash of PostgreSQL can lose the last few of them, and
/// every such loss ends in a retry, never in a lost delivery: a lost lease lets
/// the delivery be claimed again, a lost attempt record sends it again (receivers
/// deduplicate on `webhook-id`, as Standard Webhooks asks of them). On SQLite its
/// connection's page cache is `sqlite_cache_kib`.
pub fn dispatcher_pool(db: &DatabaseConnection, sqlite_cache_kib: u32) -> Db {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            pool_beside(db, 3, sqlite_cache_kib, &[("synchronous_commit", "off")]).into()
        }
        _ => own_pool(db, 1, sqlite_cache_kib),
    }
}

/// Opens every connection `db`'s pool may hold now, so that its first statements
/// do not wait for one to open (under load a PostgreSQL connection took 90 ms to
/// open, and the dispatcher's first claim round, with its two loads side by side,
/// waited for two). A connection that cannot open is left for the first statement
/// to meet and report.
pub async fn open_connections(db: &DatabaseConnection) {
    async fn open<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) {
        let opening = (0..pool.options().get_max_connections()).map(|_| pool.acquire());
        // Held together, so each acquire opens a connection of its own.
        let opened = futures_util::future::join_all(opening).await;
        drop(opened);
    }
    match db.get_database_backend() {
        DbBackend::Sqlite => open(db.get_sqlite_connection_pool()).await,
        DbBackend::Postgres => open(db.get_postgres_connection_pool()).await,
        _ => {}
    }
}

/// Pool gauges for `/metrics`: (open connections, idle connections).
pub fn pool_stats(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

/// Starts a write transaction. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one
/// failing when it upgrades from reading to writing.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// `select` locking its rows until the transaction ends (`FOR UPDATE`) on PostgreSQL;
/// unchanged on SQLite, which has no row locks and one writer at a time.
pub fn for_update<E: sea_orm::EntityTrait>(
    select: sea_orm::Select<E>,
    db: &impl sea_orm::ConnectionTrait,
) -> sea_orm::Select<E> {
    use sea_orm::QuerySelect;
    match db.get_database_backend() {
        DbBackend::Postgres => select.lock_exclusive(),
        _ => select,
    }
}
