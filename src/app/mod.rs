//! The application core: one use case per thing a user can do, the same for every
//! door. REST, GraphQL and the doors to come parse a request, call a use case here and
//! render what it answers; nothing here knows of HTTP routing or GraphQL.

pub mod ingest;

use std::sync::Arc;

use crate::config::Config;
use crate::rules::live::LiveRules;
use crate::store::Db;
use crate::store::gate::WriteGate;

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
}
