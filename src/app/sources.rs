//! Pull-source use cases: list a business's sources with their state, read their
//! runs, run one now, pause and resume it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::App;
use super::pull::{self, Trigger};
use crate::domain::Scope;
use crate::error::{Error, ProblemCode, Result};
use std::sync::Arc;

use crate::sources::Summary;
use crate::sources::definition::Definition;
use crate::store::entities::source_run;
use crate::store::keys::Principal;

/// A source with its state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceView {
    #[serde(flatten)]
    pub source: Summary,
    /// An operator paused it: its schedule skips it (a manual run still runs).
    pub paused: bool,
    /// The cursor the last committed page reached.
    pub cursor: Option<String>,
    /// Its latest run.
    pub last_run: Option<RunView>,
}

/// One run of a source.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub id: i64,
    /// `schedule` or `manual`.
    pub trigger: String,
    /// `running`, `succeeded` or `failed`.
    pub outcome: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Pages fetched and stored (HTTP), or files taken (folder and SFTP).
    pub pages: i32,
    /// Items the pages held, or documents the files held.
    pub items: i32,
    /// Items that created a record.
    pub created: i32,
    /// Items accepted as a change of (or no change to) a known record.
    pub updated: i32,
    /// Items the rules or the store refused, and files refused as a whole (see
    /// `GET /v1/ingest?source=pull`).
    pub rejected: i32,
    /// Items pulled again with the content they were stored with, and files taken
    /// again with the content of one stored before: left alone.
    pub unchanged: i32,
    pub cursor_before: Option<String>,
    pub cursor_after: Option<String>,
    /// Why the run failed.
    pub error: Option<String>,
}

impl From<source_run::Model> for RunView {
    fn from(r: source_run::Model) -> Self {
        RunView {
            id: r.id,
            trigger: r.trigger,
            outcome: r.outcome,
            started_at: r.started_at,
            finished_at: r.finished_at,
            pages: r.pages,
            items: r.items,
            created: r.created,
            updated: r.updated,
            rejected: r.rejected,
            unchanged: r.unchanged,
            cursor_before: r.cursor_before,
            cursor_after: r.cursor_after,
            error: r.error,
        }
    }
}

/// The business's source `name`, or `not_found` (another business's sources are
/// not there for this key).
fn own(app: &App, who: &Principal, name: &str) -> Result<Arc<Definition>> {
    app.sources
        .get(name)
        .filter(|s| s.business.as_str() == who.business_slug)
        .ok_or_else(|| Error::NotFound {
            what: "source",
            id: format!("`{}`", name.chars().take(64).collect::<String>()),
        })
}

async fn view(app: &App, source: Summary) -> Result<SourceView> {
    let state = crate::store::sources::state(&app.db, &source.name).await?;
    let last_run = crate::store::sources::runs(&app.db, &source.name, 1, None)
        .await?
        .into_iter()
        .next()
        .map(RunView::from);
    Ok(SourceView {
        paused: state.as_ref().is_some_and(|s| s.paused),
        cursor: state.and_then(|s| s.cursor),
        last_run,
        source,
    })
}

/// The business's sources (scope `read`).
pub async fn list(app: &App, who: &Principal) -> Result<Vec<SourceView>> {
    who.require(Scope::Read)?;
    let mut out = Vec::new();
    for source in app.sources.summaries() {
        if source.business == who.business_slug {
            out.push(view(app, source).await?);
        }
    }
    Ok(out)
}

/// One source (scope `read`).
pub async fn get(app: &App, who: &Principal, name: &str) -> Result<SourceView> {
    who.require(Scope::Read)?;
    view(app, Summary::of(&*own(app, who, name)?)).await
}

/// A source's runs, newest first (scope `read`): `limit` of them before run `before`.
pub async fn runs(
    app: &App,
    who: &Principal,
    name: &str,
    limit: u64,
    before: Option<i64>,
) -> Result<Vec<RunView>> {
    who.require(Scope::Read)?;
    let source = own(app, who, name)?;
    Ok(
        crate::store::sources::runs(&app.db, &source.name, limit, before)
            .await?
            .into_iter()
            .map(RunView::from)
            .collect(),
    )
}

/// Runs the source now and answers its run (scope `ingest`); `409 source_busy` when
/// a run of it is under way. The run goes on if the caller goes away.
pub async fn run_now(app: &App, who: &Principal, name: &str) -> Result<RunView> {
    who.require(Scope::Ingest)?;
    let definition = own(app, who, name)?;
    let task_app = app.clone();
    let task =
        tokio::spawn(async move { pull::run(&task_app, &definition, Trigger::Manual).await });
    let ran = task
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("the source's run stopped: {e}")))??;
    ran.map(RunView::from).ok_or_else(|| Error::Conflict {
        code: ProblemCode::SourceBusy,
        detail: format!(
            "source `{name}` is running already (here or on another instance); its runs are at /v1/sources/{name}/runs"
        ),
    })
}

/// Pauses or resumes the source's schedule (scope `ingest`).
pub async fn set_paused(
    app: &App,
    who: &Principal,
    name: &str,
    paused: bool,
) -> Result<SourceView> {
    who.require(Scope::Ingest)?;
    let source = own(app, who, name)?;
    let txn = app.begin().await?;
    let business = crate::store::tenancy::ensure_business(&txn, &source.business).await?;
    crate::store::sources::ensure(&txn, &source.name, business.id).await?;
    crate::store::sources::set_paused(&txn, &source.name, paused).await?;
    txn.commit().await?;
    if !paused {
        app.sources.wake(&source.name);
    }
    view(app, Summary::of(&source)).await
}
