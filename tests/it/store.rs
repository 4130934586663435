//! The store layer against the real database (SQLite or PostgreSQL).

use crate::support::written;
use freightgate::Error;
use freightgate::domain::{
    ItemsMode, OrderNumber, OrderStatus, Quantity, QuantityUnit, ShipmentNumber, ShipmentStatus,
    Slug, UpdateMode,
};
use freightgate::error::ProblemCode;
use freightgate::store::entities::{facility, order_item};
use freightgate::store::orders::{ItemFields, OrderFields};
use freightgate::store::shipments::ShipmentFields;
use freightgate::store::{Db, orders, shipments, tenancy};
use sea_orm::{ActiveModelTrait, Set};

use crate::support::{TestDb, config_for};

async fn facility(db: &Db, business: &str, slug: &str) -> facility::Model {
    let business = written(db, async |t| {
        tenancy::ensure_business(t, &Slug::parse(business).unwrap()).await
    })
    .await
    .unwrap();
    written(db, async |t| {
        tenancy::facility(t, business.id, &Slug::parse(slug).unwrap(), false).await
    })
    .await
    .unwrap()
}

fn item(key: &str, quantity: f64) -> ItemFields {
    let mut item = ItemFields::new(Quantity::new(quantity).unwrap(), QuantityUnit::Case);
    item.sku = Some(key.into());
    item
}

fn order_number(n: &str) -> OrderNumber {
    OrderNumber::parse(n).unwrap()
}

#[tokio::test]
async fn shipment_numbers_are_unique_per_facility() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let rotterdam = facility(&db, "northwind", "rotterdam-dc").await;
    let venlo = facility(&db, "northwind", "venlo-dc").await;
    let number = ShipmentNumber::parse("S-1").unwrap();
    written(&db, async |t| {
        shipments::create(t, &rotterdam, &number, ShipmentFields::default()).await
    })
    .await
    .unwrap();
    let duplicate = written(&db, async |t| {
        shipments::create(t, &rotterdam, &number, ShipmentFields::default()).await
    })
    .await;
    match duplicate {
        Err(Error::Conflict { code, detail }) => {
            assert_eq!(code, ProblemCode::Duplicate);
            assert!(
                detail.contains("S-1") && detail.contains("rotterdam-dc"),
                "{detail}"
            );
        }
        other => panic!("expected a duplicate conflict, got {other:?}"),
    }
    written(&db, async |t| {
        shipments::create(t, &venlo, &number, ShipmentFields::default()).await
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn order_numbers_are_unique_per_facility() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let rotterdam = facility(&db, "northwind", "rotterdam-dc").await;
    written(&db, async |t| {
        orders::create(t, &rotterdam, &order_number("SO-1"), OrderFields::default()).await
    })
    .await
    .unwrap();
    let duplicate = written(&db, async |t| {
        orders::create(t, &rotterdam, &order_number("SO-1"), OrderFields::default()).await
    })
    .await;
    assert!(
        matches!(
            duplicate,
            Err(Error::Conflict {
                code: ProblemCode::Duplicate,
                ..
            })
        ),
        "{duplicate:?}"
    );
}

#[tokio::test]
async fn foreign_keys_are_enforced_by_the_database() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let orphan = order_item::ActiveModel {
        order_id: Set(424242),
        position: Set(0),
        quantity: Set(1.0),
        quantity_unit: Set(QuantityUnit::Unit),
        is_dangerous_good: Set(false),
        ..Default::default()
    };
    assert!(
        orphan.insert(&db).await.is_err(),
        "an item of a missing order was stored"
    );
}

#[tokio::test]
async fn facilities_are_created_on_first_reference_unless_strict() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let business = written(&db, async |t| {
        tenancy::ensure_business(t, &Slug::parse("northwind").unwrap()).await
    })
    .await
    .unwrap();
    let slug = Slug::parse("venlo-dc").unwrap();
    let strict = written(&db, async |t| {
        tenancy::facility(t, business.id, &slug, true).await
    })
    .await;
    assert!(
        matches!(
            strict,
            Err(Error::Invalid {
                code: ProblemCode::UnknownFacility,
                ..
            })
        ),
        "{strict:?}"
    );
    let created = written(&db, async |t| {
        tenancy::facility(t, business.id, &slug, false).await
    })
    .await
    .unwrap();
    let found = written(&db, async |t| {
        tenancy::facility(t, business.id, &slug, true).await
    })
    .await
    .unwrap();
    assert_eq!(created.id, found.id);
}

#[tokio::test]
async fn status_changes_are_recorded_with_their_milestones() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let site = facility(&db, "northwind", "rotterdam-dc").await;
    let number = ShipmentNumber::parse("S-2").unwrap();
    let created = written(&db, async |t| {
        shipments::create(t, &site, &number, ShipmentFields::default()).await
    })
    .await
    .unwrap();
    assert_eq!(created.status, ShipmentStatus::New);
    let mut current = created;
    for status in [
        ShipmentStatus::AtFacility,
        ShipmentStatus::AtFacility,
        ShipmentStatus::Departed,
    ] {
        let fields = ShipmentFields {
            status: Some(status),
            ..Default::default()
        };
        current = written(&db, async |t| {
            shipments::update(t, current, fields, UpdateMode::Patch).await
        })
        .await
        .unwrap();
    }
    assert!(current.arrived_at.is_some() && current.departed_at.is_some());
    let history: Vec<ShipmentStatus> = shipments::history(&db, current.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.status)
        .collect();
    // Repeating the current status is not a change.
    assert_eq!(
        history,
        [
            ShipmentStatus::New,
            ShipmentStatus::AtFacility,
            ShipmentStatus::Departed
        ]
    );
}

#[tokio::test]
async fn patch_keeps_unsent_fields_and_replace_clears_them() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let site = facility(&db, "northwind", "rotterdam-dc").await;
    let fields = ShipmentFields {
        carrier: Some("Van Dijk".into()),
        seal_number: Some("SL1".into()),
        ..Default::default()
    };
    let shipment = written(&db, async |t| {
        shipments::create(t, &site, &ShipmentNumber::parse("S-3").unwrap(), fields).await
    })
    .await
    .unwrap();
    let seal = ShipmentFields {
        seal_number: Some("SL2".into()),
        ..Default::default()
    };
    let patched = written(&db, async |t| {
        shipments::update(t, shipment, seal.clone(), UpdateMode::Patch).await
    })
    .await
    .unwrap();
    assert_eq!(patched.carrier.as_deref(), Some("Van Dijk"));
    assert_eq!(patched.seal_number.as_deref(), Some("SL2"));
    let replaced = written(&db, async |t| {
        shipments::update(t, patched, seal, UpdateMode::Replace).await
    })
    .await
    .unwrap();
    assert_eq!(replaced.carrier, None);
    assert_eq!(replaced.seal_number.as_deref(), Some("SL2"));
}

#[tokio::test]
async fn cancel_is_idempotent_and_a_cancelled_order_cannot_be_revived() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let site = facility(&db, "acme", "derby").await;
    let order = written(&db, async |t| {
        orders::create(t, &site, &order_number("TMS-1"), OrderFields::default()).await
    })
    .await
    .unwrap();
    let cancelled = written(&db, async |t| {
        orders::cancel(t, order, Default::default()).await
    })
    .await
    .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let again = written(&db, async |t| {
        orders::cancel(t, cancelled.clone(), Default::default()).await
    })
    .await
    .unwrap();
    assert_eq!(again.cancelled_at, cancelled.cancelled_at);
    let revive = OrderFields {
        status: Some(OrderStatus::Created),
        ..Default::default()
    };
    let result = written(&db, async |t| {
        orders::update(t, again, revive, UpdateMode::Patch, ItemsMode::Overwrite).await
    })
    .await;
    match result {
        Err(Error::Conflict { code, detail }) => {
            assert_eq!(code, ProblemCode::OrderCancelled);
            assert!(detail.contains("TMS-1"), "{detail}");
        }
        other => panic!("expected order_cancelled, got {other:?}"),
    }
}

/// Orders written together, as a schedule's are, announce themselves when the caller
/// says: one sent as CANCELLED is then cancelled the one way, as a single create
/// does (`cancelled_at`, and `order.cancelled` after `order.created`).
#[tokio::test]
async fn an_order_written_together_as_cancelled_is_cancelled_when_announced() {
    use freightgate::store::entities::message;
    use sea_orm::{EntityTrait, QueryOrder};
    let database = TestDb::new().await;
    let db = database.connect().await;
    let site = facility(&db, "acme", "derby").await;
    let sent = |status| OrderFields {
        status: Some(status),
        ..Default::default()
    };
    let orders = vec![
        (order_number("SO-1"), sent(OrderStatus::Cancelled)),
        (order_number("SO-2"), sent(OrderStatus::Scheduled)),
    ];
    let written_orders = written(&db, async |t| {
        let mut announced = Vec::new();
        for answer in orders::insert_many_if_absent(t, &site, orders).await? {
            let created = answer.expect("a new number is written");
            announced.push(created.announce(t).await?);
        }
        Ok::<_, Error>(announced)
    })
    .await
    .unwrap();
    let summary: Vec<_> = written_orders
        .iter()
        .map(|o| (o.order_number.as_str(), o.status, o.cancelled_at.is_some()))
        .collect();
    let expected = [
        ("SO-1", OrderStatus::Cancelled, true),
        ("SO-2", OrderStatus::Scheduled, false),
    ];
    assert_eq!(summary, expected);
    let events: Vec<String> = message::Entity::find()
        .order_by_asc(message::Column::Id)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.event_type)
        .collect();
    let expected = ["order.created", "order.cancelled", "order.created"];
    assert_eq!(events, expected);
}

async fn skus_after(db: &Db, mode: ItemsMode, sent: Vec<ItemFields>) -> Vec<(String, f64)> {
    let site = facility(db, "acme", "derby").await;
    let number = order_number(&format!("TMS-{mode:?}"));
    let start = OrderFields {
        items: Some(vec![item("A", 1.0), item("B", 2.0)]),
        ..Default::default()
    };
    let order = written(db, async |t| orders::create(t, &site, &number, start).await)
        .await
        .unwrap();
    let fields = OrderFields {
        items: Some(sent),
        ..Default::default()
    };
    let order = written(db, async |t| {
        orders::update(t, order, fields, UpdateMode::Patch, mode).await
    })
    .await
    .unwrap();
    orders::items(db, order.id)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.sku.unwrap(), i.quantity))
        .collect()
}

#[tokio::test]
async fn item_modes_overwrite_merge_append_and_delete() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let s = |v: &[(&str, f64)]| {
        v.iter()
            .map(|(k, q)| (k.to_string(), *q))
            .collect::<Vec<_>>()
    };
    let sent = || vec![item("B", 5.0), item("C", 3.0)];
    assert_eq!(
        skus_after(&db, ItemsMode::Overwrite, sent()).await,
        s(&[("B", 5.0), ("C", 3.0)])
    );
    assert_eq!(
        skus_after(&db, ItemsMode::Merge, sent()).await,
        s(&[("A", 1.0), ("B", 5.0), ("C", 3.0)])
    );
    assert_eq!(
        skus_after(&db, ItemsMode::Append, sent()).await,
        s(&[("A", 1.0), ("B", 2.0), ("B", 5.0), ("C", 3.0)])
    );
    assert_eq!(
        skus_after(&db, ItemsMode::Delete, sent()).await,
        s(&[("A", 1.0)])
    );
}

#[tokio::test]
async fn an_update_without_items_leaves_items_alone() {
    let database = TestDb::new().await;
    let db = database.connect().await;
    let site = facility(&db, "acme", "derby").await;
    let start = OrderFields {
        items: Some(vec![item("A", 1.0)]),
        ..Default::default()
    };
    let order = written(&db, async |t| {
        orders::create(t, &site, &order_number("TMS-9"), start).await
    })
    .await
    .unwrap();
    let fields = OrderFields {
        notes: Some("call ahead".into()),
        ..Default::default()
    };
    let order = written(&db, async |t| {
        orders::update(t, order, fields, UpdateMode::Patch, ItemsMode::Overwrite).await
    })
    .await
    .unwrap();
    assert_eq!(orders::items(&db, order.id).await.unwrap().len(), 1);
    assert_eq!(order.notes.as_deref(), Some("call ahead"));
}

#[tokio::test]
async fn sqlite_databases_run_in_wal_mode() {
    let database = TestDb::new().await;
    if database.is_postgres() {
        return;
    }
    let db = database.connect().await;
    assert_eq!(
        setting::<String>(&db, "PRAGMA journal_mode", "journal_mode").await,
        "wal"
    );
}

/// The shared pool's SQLite connections keep small page caches (another
/// connection's write empties them); the ingest writers' and the dispatcher's own
/// connections keep `sqlite_cache_kib`.
#[tokio::test]
async fn sqlite_workers_keep_larger_page_caches_than_the_shared_pool() {
    use freightgate::store::{dispatcher_pool, own_pool};
    let database = TestDb::new().await;
    if database.is_postgres() {
        return;
    }
    let db = database.connect().await;
    let defaults = config_for(&database.url);
    // A negative cache_size is in KiB.
    let cache = async |db: &Db| -setting::<i64>(db, "PRAGMA cache_size", "cache_size").await;
    assert_eq!(cache(&db).await, i64::from(defaults.sqlite_read_cache_kib));
    assert_eq!(cache(&dispatcher_pool(&db, 3_000)).await, 3_000);
    assert_eq!(cache(&own_pool(&db, 1, 1_500)).await, 1_500);
    assert!(defaults.sqlite_read_cache_kib < defaults.sqlite_cache_kib);
}

/// The one value `sql` answers, in column `column`.
async fn setting<T: sea_orm::TryGetable>(db: &Db, sql: &str, column: &str) -> T {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", column).unwrap()
}

/// The dispatcher's connections on PostgreSQL commit without waiting for the WAL
/// flush; every other pool keeps the server's default.
#[tokio::test]
async fn only_the_dispatchers_postgres_connections_commit_asynchronously() {
    let database = TestDb::new().await;
    if !database.is_postgres() {
        return;
    }
    let db = database.connect().await;
    let commit = async |db: &Db| {
        setting::<String>(db, "SHOW synchronous_commit", "synchronous_commit").await
    };
    assert_eq!(
        commit(&freightgate::store::dispatcher_pool(&db, 2_048)).await,
        "off"
    );
    assert_eq!(
        commit(&freightgate::store::own_pool(&db, 1, 2_048)).await,
        "on"
    );
    assert_eq!(commit(&db).await, "on");
}

/// Every pool's PostgreSQL connections send without Nagle's algorithm. With it on
/// (sqlx 0.9.0 left it on), a statement longer than what the socket sends at once,
/// such as a pulled page's stored body, waited for the server's delayed
/// acknowledgement: 40 ms on Linux, twice per page of 100 pulled orders.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test]
async fn postgres_connections_send_without_nagles_algorithm() {
    use sea_orm::{ConnectionTrait, Statement};
    let database = TestDb::new().await;
    if !database.is_postgres() {
        return;
    }
    let server_port: u16 = database
        .url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|host| host.rsplit(':').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or(5432);
    let db = database.connect().await;
    for (pool, db) in [
        ("shared", db.clone()),
        (
            "dispatcher",
            freightgate::store::dispatcher_pool(&db, 2_048),
        ),
        ("own", freightgate::store::own_pool(&db, 1, 2_048)),
    ] {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT inet_client_port() AS port",
            ))
            .await
            .unwrap()
            .expect("a row");
        let port: i32 = row.try_get("", "port").unwrap();
        let port = u16::try_from(port).expect("a TCP connection has a client port");
        assert_eq!(
            tcp_nodelay(port, server_port),
            Some(true),
            "the {pool} pool's connection from port {port}"
        );
    }
}

/// TCP_NODELAY of this process's socket from local `port` to remote `peer_port`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tcp_nodelay(port: u16, peer_port: u16) -> Option<bool> {
    fn port_of(addr: &libc::sockaddr_storage) -> Option<u16> {
        // SAFETY: the family says which of the two layouts the storage holds, and
        // sockaddr_storage is large and aligned enough for either.
        match i32::from(addr.ss_family) {
            libc::AF_INET => Some(u16::from_be(unsafe {
                (*std::ptr::from_ref(addr).cast::<libc::sockaddr_in>()).sin_port
            })),
            libc::AF_INET6 => Some(u16::from_be(unsafe {
                (*std::ptr::from_ref(addr).cast::<libc::sockaddr_in6>()).sin6_port
            })),
            _ => None,
        }
    }
    let address = |fd: i32, peer: bool| {
        // SAFETY: an all-zero sockaddr_storage is a valid value.
        let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let out = std::ptr::from_mut(&mut addr).cast::<libc::sockaddr>();
        // SAFETY: `out` and `len` describe writable storage of `len` bytes; a
        // descriptor that is not a socket (or was closed meanwhile) only fails.
        let done = unsafe {
            if peer {
                libc::getpeername(fd, out, &mut len)
            } else {
                libc::getsockname(fd, out, &mut len)
            }
        };
        (done == 0).then(|| port_of(&addr)).flatten()
    };
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if address(fd, false) != Some(port) || address(fd, true) != Some(peer_port) {
            continue;
        }
        let mut on: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `on` and `len` describe a writable c_int.
        let done = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                std::ptr::from_mut(&mut on).cast(),
                &mut len,
            )
        };
        return (done == 0).then_some(on != 0);
    }
    None
}

/// A value of a built statement as a SQL literal, for `EXECUTE`.
fn literal(value: &sea_orm::Value) -> String {
    match value {
        sea_orm::Value::BigInt(Some(n)) => n.to_string(),
        sea_orm::Value::String(Some(s)) => format!("'{}'", s.replace('\'', "''")),
        sea_orm::Value::Json(Some(j)) => format!("'{}'::jsonb", j.to_string().replace('\'', "''")),
        other => panic!("unexpected value in the lookup: {other:?}"),
    }
}

/// PostgreSQL's generic plan of `statement`, the plan a long-lived connection
/// caches once a statement has run a few times.
async fn generic_plan(db: &freightgate::store::Db, statement: &sea_orm::Statement) -> String {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

    let values = statement.values.as_ref().unwrap();
    let args: Vec<String> = values.0.iter().map(literal).collect();
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
        .await
        .unwrap();
    txn.execute_unprepared(&format!("PREPARE probed AS {}", statement.sql))
        .await
        .unwrap();
    let explain = format!("EXPLAIN EXECUTE probed({})", args.join(", "));
    let plan: Vec<String> = txn
        .query_all_raw(Statement::from_string(DbBackend::Postgres, explain))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    txn.execute_unprepared("DEALLOCATE probed").await.unwrap();
    txn.rollback().await.unwrap();
    plan.join("\n")
}

/// On PostgreSQL the lookup of a facility's orders by number seeks the unique
/// (facility, number) index for every number even under a generic plan, the plan a
/// long-lived connection caches: no part of it filters the facility's orders.
#[tokio::test]
async fn order_lookup_by_number_seeks_the_index_for_each_number_under_a_generic_plan() {
    use sea_orm::DbBackend;

    let database = TestDb::new().await;
    if !database.is_postgres() {
        return; // SQLite has no generic plans.
    }
    let db = database.connect().await;
    let dc = facility(&db, "acme", "dc-1").await;
    let statement =
        orders::by_numbers_statement(DbBackend::Postgres, dc.id, &["SO-1", "SO-2", "SO-3"])
            .unwrap();
    let plan = generic_plan(&db, &statement).await;
    let seeks = plan
        .lines()
        .filter(|l| l.contains("Index Cond") && l.contains("order_number"))
        .count();
    assert_eq!(seeks, 3, "one seek by facility and number each:\n{plan}");
    assert!(!plan.contains("Filter"), "nothing filtered:\n{plan}");
}

/// On PostgreSQL a pulled page's stored digests are read by one seek of the
/// (source, item key) key per item, under a generic plan and on a table without
/// statistics: no part of it filters the source's items.
#[tokio::test]
async fn pulled_digests_seek_the_key_for_each_item_under_a_generic_plan() {
    use sea_orm::DbBackend;

    let database = TestDb::new().await;
    if !database.is_postgres() {
        return; // SQLite has no generic plans.
    }
    let db = database.connect().await;
    let statement = freightgate::store::sources::digests_statement(
        DbBackend::Postgres,
        "partner-orders",
        &["A-1", "A-2", "A-3"],
    )
    .expect("three keys");
    let plan = generic_plan(&db, &statement).await;
    let seeks = plan
        .lines()
        .filter(|l| l.contains("Index Cond") && l.contains("item_key") && l.contains("source"))
        .count();
    assert_eq!(
        seeks, 3,
        "a seek by source and item key for each key:\n{plan}"
    );
    assert!(!plan.contains("Filter"), "nothing filtered:\n{plan}");
}

#[tokio::test]
async fn a_write_that_loses_a_deadlock_is_unavailable_for_a_retry_not_an_internal_error() {
    use sea_orm::{ConnectionTrait, TransactionTrait};

    let database = TestDb::new().await;
    if !database.is_postgres() {
        return; // SQLite has one writer: no deadlocks between transactions.
    }
    let db = database.connect().await;
    db.execute_unprepared(
        "CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int); \
         INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)",
    )
    .await
    .unwrap();
    let first = db.begin().await.unwrap();
    let second = db.begin().await.unwrap();
    let touch = |id: i32| format!("UPDATE deadlock_probe SET n = n + 1 WHERE id = {id}");
    first.execute_unprepared(&touch(1)).await.unwrap();
    second.execute_unprepared(&touch(2)).await.unwrap();
    // Each now waits for the row the other holds: PostgreSQL breaks the cycle by
    // failing one of them (after `deadlock_timeout`).
    let (two, one) = (touch(2), touch(1));
    let (a, b) = tokio::join!(
        first.execute_unprepared(&two),
        second.execute_unprepared(&one)
    );
    let lost = match (a, b) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("one of the two should lose the deadlock: {other:?}"),
    };
    assert!(
        matches!(Error::from_db_err(lost), Error::Unavailable(_)),
        "a deadlock's loser is told to retry (503)"
    );
}

#[tokio::test]
async fn the_dispatcher_opens_its_connections_before_its_first_claim() {
    use freightgate::store::{dispatcher_pool, open_connections, pool_stats};
    let database = TestDb::new().await;
    let db = database.connect().await;
    let pool = dispatcher_pool(&db, 2_048);
    assert_eq!(pool_stats(&pool).0, 0, "opened lazily");
    open_connections(&pool).await;
    let expected = if database.is_postgres() { 3 } else { 1 };
    assert_eq!(pool_stats(&pool).0, expected, "every connection open");
    // They go back to the pool once sqlx has checked them, on a task of its own.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while pool_stats(&pool).1 < expected as usize && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        pool_stats(&pool),
        (expected, expected as usize),
        "and idle again"
    );
}

#[tokio::test]
async fn sqlite_connections_are_kept_for_the_life_of_the_process() {
    use freightgate::store::dispatcher_pool;
    let database = TestDb::new().await;
    let db = database.connect().await;
    let lifetimes = |db: &sea_orm::DatabaseConnection| {
        if database.is_postgres() {
            db.get_postgres_connection_pool()
                .options()
                .get_max_lifetime()
        } else {
            db.get_sqlite_connection_pool().options().get_max_lifetime()
        }
    };
    for pool in [db.clone(), dispatcher_pool(&db, 2_048)] {
        if database.is_postgres() {
            // A PostgreSQL connection's server process is replaced now and then.
            assert!(lifetimes(&pool).is_some());
        } else {
            // Closing one would only throw its page cache away.
            assert_eq!(lifetimes(&pool), None);
        }
    }
}

/// Reads outside a transaction go through the pool's own `ConnectionTrait`: on
/// SQLite their limit is a number in the statement's text, so a cached statement is
/// not prepared again at every execution; on PostgreSQL it stays bound.
#[tokio::test]
async fn reads_through_the_pool_carry_their_limit_as_a_number_on_sqlite() {
    use freightgate::store::entities::business;
    use sea_orm::EntityTrait;
    use std::sync::{Arc, Mutex};
    let database = TestDb::new().await;
    let mut db = database.connect().await;
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    db.set_metric_callback(move |info| log.lock().unwrap().push(info.statement.sql.clone()));
    business::Entity::find().one(&db).await.unwrap();
    let statements = seen.lock().unwrap().clone();
    let read = statements
        .iter()
        .find(|sql| sql.contains("businesses"))
        .expect("the read's statement");
    if database.is_postgres() {
        assert!(read.ends_with("LIMIT $1"), "{read}");
    } else {
        assert!(read.ends_with("LIMIT 1"), "{read}");
    }
}
