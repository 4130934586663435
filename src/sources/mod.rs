//! Pull sources: partner APIs freightgate fetches on a schedule (or when an operator
//! asks), whose items take the same path as a payload posted to `/v1/ingest`.
//!
//! Sources are declared in `*.toml` files of the sources directory (see the README's
//! *Pull sources*). This module reads them and fetches pages; running them (the lease,
//! storing pages and their cursor in one transaction, the schedule) is
//! `app::pull`'s.

pub(crate) mod definition;
pub(crate) mod fetch;
pub(crate) mod files;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use crate::rules::live::snapshot;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

pub use definition::Problem;
use definition::{Definition, Definitions};

/// The sources this process knows, and what it needs to run them. The sources are
/// read again when their files change (see [`watch`]); a run under way keeps the
/// definition it started with.
pub struct Registry {
    loaded: ArcSwap<Loaded>,
    /// The directory read (none for sources given as text).
    dir: Option<PathBuf>,
    /// The files as last read, to notice a change.
    seen: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
    /// Counts successful reloads; the schedule restarts on a change.
    generation: watch::Sender<u64>,
    /// This process's name in the sources' leases.
    pub(crate) owner: String,
    pub(crate) client: reqwest::Client,
    /// OAuth 2.0 access tokens, per source.
    tokens: fetch::Tokens,
    /// Wakes a source's schedule (after a resume).
    wake: Mutex<HashMap<String, Arc<Notify>>>,
}

/// The sources of one reading of the directory.
struct Loaded {
    sources: Vec<Arc<Definition>>,
    files: Vec<String>,
}

impl Loaded {
    fn of(defs: Definitions) -> Self {
        Loaded {
            sources: defs.sources.into_iter().map(Arc::new).collect(),
            files: defs.files,
        }
    }
}

impl Registry {
    /// Reads the sources directory (no sources when it does not exist).
    pub fn load(dir: &Path) -> std::result::Result<Self, Vec<Problem>> {
        let seen = snapshot(dir);
        let mut registry = definition::load_dir(dir).map(Self::new)?;
        registry.dir = Some(dir.to_path_buf());
        registry.seen = Mutex::new(seen);
        Ok(registry)
    }

    /// Reads source files given as (name, text).
    pub fn from_texts(files: &[(String, String)]) -> std::result::Result<Self, Vec<Problem>> {
        definition::load_sources(files).map(Self::new)
    }

    fn new(defs: Definitions) -> Self {
        let client = reqwest::Client::builder()
            .user_agent(concat!("freightgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Registry {
            loaded: ArcSwap::from_pointee(Loaded::of(defs)),
            dir: None,
            seen: Mutex::new(Vec::new()),
            generation: watch::Sender::new(0),
            owner: uuid::Uuid::now_v7().to_string(),
            client,
            tokens: fetch::Tokens::default(),
            wake: Mutex::new(HashMap::new()),
        }
    }

    /// Reads the directory again; on any problem the sources in use stay.
    pub fn reload(&self) -> std::result::Result<usize, Vec<Problem>> {
        let Some(dir) = &self.dir else {
            return Ok(self.len());
        };
        let seen = snapshot(dir);
        if let Ok(mut last) = self.seen.lock() {
            // A broken file is reported once, not at every check.
            *last = seen;
        }
        let result = definition::load_dir(dir);
        metrics::counter!("freightgate_sources_reloads_total", "result" => if result.is_ok() { "ok" } else { "failed" })
            .increment(1);
        let defs = result?;
        let count = defs.sources.len();
        self.loaded.store(Arc::new(Loaded::of(defs)));
        self.generation.send_modify(|g| *g += 1);
        Ok(count)
    }

    /// Whether a source file was added, removed or changed since the last reading.
    fn changed(&self) -> bool {
        let Some(dir) = &self.dir else {
            return false;
        };
        let now = snapshot(dir);
        self.seen.lock().map(|last| *last != now).unwrap_or(false)
    }

    fn reload_and_log(&self, why: &str) {
        match self.reload() {
            Ok(sources) => tracing::info!(sources, why, "pull sources reloaded"),
            Err(problems) => {
                let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                tracing::error!(
                    why,
                    problems = problems.join("; "),
                    "pull sources reload failed; the sources in use stay"
                );
            }
        }
    }

    /// Notified after each successful reload.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// The files read.
    pub fn files(&self) -> Vec<String> {
        self.loaded.load().files.clone()
    }

    /// How many sources there are.
    pub fn len(&self) -> usize {
        self.loaded.load().sources.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every source's summary, in name order.
    pub fn summaries(&self) -> Vec<Summary> {
        let mut all: Vec<Summary> = self
            .loaded
            .load()
            .sources
            .iter()
            .map(|s| Summary::of(s))
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// The source `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Definition>> {
        self.loaded
            .load()
            .sources
            .iter()
            .find(|s| s.name == name)
            .cloned()
    }

    /// Every source.
    pub(crate) fn definitions(&self) -> Vec<Arc<Definition>> {
        self.loaded.load().sources.clone()
    }

    /// What wakes the schedule of `name`.
    pub(crate) fn wake_handle(&self, name: &str) -> Arc<Notify> {
        match self.wake.lock() {
            Ok(mut wake) => wake.entry(name.to_string()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    /// What a recorded page of `name` holds (see [`PageReport`]), and the source's
    /// business; for `freightgate sources test`.
    pub fn test_page(&self, name: &str, page: &Path) -> Result<(String, PageReport), String> {
        let all = self.definitions();
        let source = self.get(name).ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
            format!(
                "no source `{name}` (there are: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })?;
        let Some(http) = source.as_http() else {
            return Err(format!(
                "`{name}` is a {} source: its files are tested as payloads, with `freightgate rules test`",
                source.kind.as_str()
            ));
        };
        let text = std::fs::read_to_string(page)
            .map_err(|e| format!("cannot read {}: {e}", page.display()))?;
        let value = crate::rules::formats::strict_json(&text)
            .map_err(|e| format!("{} is not JSON: {e}", page.display()))?;
        let items = fetch::items(&http, &value);
        let initial = source.initial_cursor();
        let cursor = fetch::high_water(&http, &items, None, initial.clone());
        let first = fetch::first_url(&http, initial.as_deref())?;
        let next =
            fetch::next_url(&http, &first, &first, &value, items.len())?.map(|u| u.to_string());
        Ok((
            source.business.to_string(),
            PageReport {
                items_path: http.http.items_text.clone(),
                items,
                cursor,
                next,
            },
        ))
    }

    /// Credentials that cannot be read in this environment, one line each.
    pub fn credential_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for source in &self.definitions() {
            let auth = match &source.kind {
                definition::Kind::Http(http) => http.auth.as_ref(),
                definition::Kind::Folder(_) => None,
                definition::Kind::Sftp(sftp) => {
                    let secrets = match &sftp.auth {
                        definition::SftpAuth::Key { passphrase, .. } => passphrase.iter().collect(),
                        definition::SftpAuth::Password(password) => vec![password],
                    };
                    if let definition::SftpAuth::Key { file, .. } = &sftp.auth
                        && !file.is_file()
                    {
                        out.push(format!(
                            "source '{}': the key file {} cannot be read",
                            source.name,
                            file.display()
                        ));
                    }
                    for secret in secrets {
                        if let Err(e) = secret.read() {
                            out.push(format!("source '{}': {e}", source.name));
                        }
                    }
                    None
                }
            };
            let secrets = match auth {
                None => vec![],
                Some(definition::Auth::Bearer { token }) => vec![token],
                Some(definition::Auth::Basic { user, password }) => vec![user, password],
                Some(definition::Auth::Header { value, .. }) => vec![value],
                Some(definition::Auth::OAuth2 {
                    client_id,
                    client_secret,
                    ..
                }) => vec![client_id, client_secret],
            };
            for secret in secrets {
                if let Err(e) = secret.read() {
                    out.push(format!("source '{}': {e}", source.name));
                }
            }
        }
        out
    }

    /// The token cache of OAuth 2.0 sources.
    pub(crate) fn tokens(&self) -> &fetch::Tokens {
        &self.tokens
    }

    /// Wakes the schedule of `name` (after a resume).
    pub fn wake(&self, name: &str) {
        self.wake_handle(name).notify_one();
    }
}

/// Reads the sources again on SIGHUP and whenever a source file changes (checked
/// every `interval`, the rules' `rules_poll_ms`; zero checks only on SIGHUP), until
/// `shutdown`.
pub async fn watch(registry: Arc<Registry>, interval: Duration, shutdown: CancellationToken) {
    crate::rules::live::watch_files(
        interval,
        shutdown,
        || registry.changed(),
        |why| registry.reload_and_log(why.unwrap_or("source files changed")),
    )
    .await
}

/// What a recorded page holds, as a run would read it.
#[derive(Debug)]
pub struct PageReport {
    /// The source's JSONPath of a page's items.
    pub items_path: String,
    pub items: Vec<serde_json::Value>,
    /// The cursor once the page is stored (from the source's `initial` cursor).
    pub cursor: Option<String>,
    /// The next page's URL, relative links resolved against the first page's.
    pub next: Option<String>,
}

/// What a source is, as listed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub name: String,
    /// The business the pulled items belong to.
    pub business: String,
    /// `http`, `folder` or `sftp`.
    pub kind: &'static str,
    /// When it runs: the interval between runs (`30m`), or `cron EXPRESSION (ZONE)`.
    pub every: String,
    /// Where it pulls from: the first page's URL template without its query string,
    /// the folder's path, or `sftp://user@host:port/path`.
    pub url: String,
    /// The JSONPath of a page's items (HTTP), or the pattern of the file names taken.
    pub items: String,
    /// The JSONPath of the item field the cursor is the highest value of, or
    /// `header NAME` for a cursor a response header gives.
    pub cursor_field: Option<String>,
    /// The file it is declared in.
    pub file: String,
}

impl Summary {
    /// What `source` is, as listed.
    pub(crate) fn of(source: &Definition) -> Self {
        let (url, items, cursor_field) = match &source.kind {
            definition::Kind::Http(http) => (
                http.url.split('?').next().unwrap_or_default().to_string(),
                http.items_text.clone(),
                http.cursor.as_ref().map(|c| c.text.clone()),
            ),
            definition::Kind::Folder(files) => (files.path.clone(), files.pattern.clone(), None),
            definition::Kind::Sftp(sftp) => (
                format!(
                    "sftp://{}@{}:{}/{}",
                    sftp.user,
                    sftp.host,
                    sftp.port,
                    sftp.files.path.trim_start_matches('/')
                ),
                sftp.files.pattern.clone(),
                None,
            ),
        };
        Summary {
            name: source.name.clone(),
            business: source.business.to_string(),
            kind: source.kind.as_str(),
            every: source.schedule.describe(),
            url,
            items,
            cursor_field,
            file: source.file.clone(),
        }
    }
}
