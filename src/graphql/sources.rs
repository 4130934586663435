//! Pull sources over GraphQL, on the same use cases as `/v1/sources`: the business's
//! sources with their state, their runs, a run now, pause and resume.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::context::{principal, state};
use super::types::iso;
use crate::app::sources::{self as use_case, RunView, SourceView};
use crate::domain::Scope;

/// A pull source of the business.
#[derive(SimpleObject)]
pub struct PullSource {
    pub name: String,
    /// `http`, `folder` or `sftp`.
    pub kind: String,
    /// When it runs: the interval between runs (`30m`), or `cron EXPRESSION (ZONE)`.
    pub every: String,
    /// Where it pulls from: the first page's URL without its query string, the
    /// folder's path, or `sftp://user@host:port/path`.
    pub url: String,
    /// The JSONPath of a page's items (HTTP), or the pattern of the file names taken.
    pub items: String,
    /// The JSONPath of the item field the cursor is the highest value of.
    pub cursor_field: Option<String>,
    /// Its schedule is paused (a manual run still runs).
    pub paused: bool,
    /// The cursor the last stored page reached.
    pub cursor: Option<String>,
    pub last_run: Option<SourceRun>,
}

impl From<SourceView> for PullSource {
    fn from(v: SourceView) -> Self {
        PullSource {
            name: v.source.name,
            kind: v.source.kind.to_string(),
            every: v.source.every,
            url: v.source.url,
            items: v.source.items,
            cursor_field: v.source.cursor_field,
            paused: v.paused,
            cursor: v.cursor,
            last_run: v.last_run.map(SourceRun::from),
        }
    }
}

/// One run of a pull source.
#[derive(SimpleObject)]
pub struct SourceRun {
    pub id: i64,
    /// `schedule` or `manual`.
    pub trigger: String,
    /// `running`, `succeeded` or `failed`.
    pub outcome: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub pages: i32,
    pub items: i32,
    pub created: i32,
    pub updated: i32,
    pub rejected: i32,
    /// Items (or files) pulled again unchanged, and left alone.
    pub unchanged: i32,
    pub cursor_before: Option<String>,
    pub cursor_after: Option<String>,
    pub error: Option<String>,
}

impl From<RunView> for SourceRun {
    fn from(r: RunView) -> Self {
        SourceRun {
            id: r.id,
            trigger: r.trigger,
            outcome: r.outcome,
            started_at: iso(r.started_at),
            finished_at: r.finished_at.map(iso),
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

/// Pull-source queries.
#[derive(Default)]
pub struct SourceQueries;

#[Object]
impl SourceQueries {
    /// The business's pull sources (scope `read`).
    async fn pull_sources(&self, ctx: &Context<'_>) -> Result<Vec<PullSource>> {
        let who = principal(ctx, Scope::Read)?;
        Ok(use_case::list(state(ctx)?, who)
            .await?
            .into_iter()
            .map(PullSource::from)
            .collect())
    }

    /// A source's runs, newest first: `first` (1 to 200, default 50) before the run
    /// `before` (scope `read`).
    async fn pull_source_runs(
        &self,
        ctx: &Context<'_>,
        name: String,
        first: Option<i32>,
        before: Option<i64>,
    ) -> Result<Vec<SourceRun>> {
        let who = principal(ctx, Scope::Read)?;
        let first = first.unwrap_or(50);
        if !(1..=200).contains(&first) {
            return Err(crate::error::Error::invalid_field(
                "first",
                format!("`first` must be between 1 and 200, not {first}"),
            )
            .into());
        }
        Ok(
            use_case::runs(state(ctx)?, who, &name, first as u64, before)
                .await?
                .into_iter()
                .map(SourceRun::from)
                .collect(),
        )
    }
}

/// Pull-source mutations.
#[derive(Default)]
pub struct SourceMutations;

#[Object]
impl SourceMutations {
    /// Runs the source now and answers the run once it ended; `source_busy` while a
    /// run is under way (scope `ingest`).
    async fn run_pull_source(&self, ctx: &Context<'_>, name: String) -> Result<SourceRun> {
        let who = principal(ctx, Scope::Ingest)?;
        Ok(use_case::run_now(state(ctx)?, who, &name).await?.into())
    }

    /// Pauses (`paused: true`) or resumes the source's schedule (scope `ingest`).
    async fn pause_pull_source(
        &self,
        ctx: &Context<'_>,
        name: String,
        paused: bool,
    ) -> Result<PullSource> {
        let who = principal(ctx, Scope::Ingest)?;
        Ok(use_case::set_paused(state(ctx)?, who, &name, paused)
            .await?
            .into())
    }
}
