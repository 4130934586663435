//! The application core: one use case per thing a user can do, the same for every
//! door. REST, GraphQL and the doors to come parse a request, call a use case here and
//! render what it answers; nothing here knows of HTTP routing or GraphQL.

pub mod access;
pub mod activity;
pub mod ingest;
pub mod master;
pub mod orders;
pub mod outbound;
pub mod pull;
pub mod rules;
pub mod shipments;
pub mod sources;
pub mod views;
pub mod webhooks;

use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::domain::{PublicId, Slug};
use crate::error::{Error, Result};
use crate::rules::live::LiveRules;
use crate::store::Db;
use crate::store::entities::{order, shipment};
use crate::store::gate::{WriteGate, WriteTxn};
use crate::store::listing::Slice;
use crate::store::unit::Unit;
use futures_util::future::BoxFuture;

/// What every use case can reach: the store, the rules, the ingest writer and the
/// settings. Cheap to clone; every door holds one.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub config: Arc<Config>,
    pub rules: Arc<LiveRules>,
    /// The group-commit writer ingested payloads are stored through.
    pub writer: crate::ingest::writer::Writer,
    /// The write queue every write transaction of the process takes its turn in.
    pub gate: WriteGate,
    /// The pull sources.
    pub sources: Arc<crate::sources::Registry>,
    /// The outbound targets.
    pub outbound: Arc<crate::outbound::Outbound>,
}

impl App {
    /// A write transaction on this writer's turn in the write queue: the one way
    /// the use cases write.
    pub async fn begin(&self) -> Result<WriteTxn> {
        Ok(self.gate.begin(&self.db).await?)
    }

    /// Runs `task` in the ingest writers' group commit, on a unit (a savepoint) of its
    /// own, and answers once its transaction committed: a create shares the commit,
    /// the write turn and the lookups (facility, slugs, endpoints) of the payloads
    /// and creates queued beside it, where a transaction of its own would pay for
    /// each. An error undoes only the task's writes. The task may run more than once
    /// (a batch is written again when another of its jobs fails on our side), so it
    /// takes what it writes by clone.
    pub async fn grouped<T, F>(&self, task: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> Fn(&'a Unit) -> BoxFuture<'a, Result<T>> + Send + Sync + 'static,
    {
        self.writer.run(task).await
    }
}

/// Which facility a listing is limited to.
pub(crate) enum FacilityScope {
    /// Every facility of the business.
    All,
    /// This one.
    Only(i64),
    /// A slug the business has no facility for: the listing is empty.
    Unknown,
}

impl FacilityScope {
    /// The scope a listing's `facility` filter asks for.
    pub(crate) async fn of(app: &App, business_id: i64, slug: Option<&Slug>) -> Result<Self> {
        let Some(slug) = slug else {
            return Ok(FacilityScope::All);
        };
        Ok(
            match crate::store::tenancy::find_facility(&app.db, business_id, slug).await? {
                Some(facility) => FacilityScope::Only(facility.id),
                None => FacilityScope::Unknown,
            },
        )
    }
}

/// The id the next page starts after, when a slice has more rows.
pub(crate) fn next_after<R>(slice: &Slice<R>, id: impl Fn(&R) -> i64) -> Option<i64> {
    slice.has_more.then(|| slice.rows.last().map(id)).flatten()
}

/// One page of a listing and the cursor of the next (`None` on the last page).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Listing<T> {
    /// A page of `items`; `next` is the id the next page starts after.
    pub fn new(items: Vec<T>, next: Option<i64>) -> Self {
        Self {
            items,
            next_cursor: next.map(|id| PublicId::from(id).to_string()),
        }
    }

    /// A listing with nothing in it.
    pub fn empty() -> Self {
        Self::new(Vec::new(), None)
    }
}

/// The row a listing's `next_cursor` stands for (it is the row's public id), or
/// `None` when `cursor` is not one this API gave out.
pub fn cursor_row(cursor: &str) -> Option<i64> {
    Some(cursor)
        .filter(|c| (1..=19).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<i64>().ok())
        .map(|c| PublicId::from_public(c).internal())
}

/// The version of a record as of its last change: what an `ETag` carries and an
/// `If-Match` is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(String);

impl Version {
    /// A shipment's version.
    pub fn of_shipment(s: &shipment::Model) -> Self {
        Self(format!(
            "s{}.{}",
            PublicId::from(s.id),
            s.updated_at.timestamp_micros()
        ))
    }

    /// An order's version.
    pub fn of_order(o: &order::Model) -> Self {
        Self(format!(
            "o{}.{}",
            PublicId::from(o.id),
            o.updated_at.timestamp_micros()
        ))
    }

    /// Whether this version satisfies `expected` (`If-Match`); a stale one is `412`.
    pub fn check(&self, expected: Option<&Expected>) -> Result<()> {
        match expected {
            None | Some(Expected::Any) => Ok(()),
            Some(Expected::OneOf(tags)) if tags.iter().any(|t| t == &self.0) => Ok(()),
            Some(Expected::OneOf(_)) => Err(Error::PreconditionFailed {
                current: self.0.clone(),
            }),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a writer expects the record's version to be (`If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// `*`: any version, as long as the record exists.
    Any,
    /// One of these versions.
    OneOf(Vec<String>),
}
