//! The rule set in use, swapped atomically on reload: a request holds one `Arc` for
//! its whole run, so it sees the old set or the new set, never a mix.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use tokio_util::sync::CancellationToken;

use super::{LoadOptions, LoadReport, RuleSet, load_dir_with};

/// The live rules of a running server.
pub struct LiveRules {
    dir: PathBuf,
    options: LoadOptions,
    current: ArcSwap<RuleSet>,
    seen: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
    status: Mutex<RulesStatus>,
}

/// The rules in use and how the last reload went: what an operator checks after
/// changing a rules file.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RulesStatus {
    /// The first 12 hex digits of a SHA-256 over the files' names and contents, in
    /// load order: the same files give the same version on every instance.
    pub version: String,
    /// Rules in use.
    pub rules: usize,
    /// Their files, in load order.
    pub files: Vec<String>,
    /// When they were loaded.
    pub loaded_at: chrono::DateTime<chrono::Utc>,
    /// Doubtful but usable rules (ties, shadowed rules).
    pub warnings: Vec<String>,
    /// The last reload, when there was one since start-up.
    pub last_reload: Option<ReloadAttempt>,
}

/// One reload of the rules directory.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReloadAttempt {
    pub at: chrono::DateTime<chrono::Utc>,
    /// False when a file was broken: the previous rules stay in use.
    pub ok: bool,
    /// What was wrong, one entry per problem, with file and line.
    pub errors: Vec<String>,
}

impl RulesStatus {
    fn loaded(dir: &Path, report: &LoadReport) -> Self {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        for name in &report.files {
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update(std::fs::read(dir.join(name)).unwrap_or_default());
            hash.update([0]);
        }
        let version = hex::encode(hash.finalize())[..12].to_string();
        Self {
            version,
            rules: report.rules,
            files: report.files.clone(),
            loaded_at: chrono::Utc::now(),
            warnings: report.warnings.iter().map(ToString::to_string).collect(),
            last_reload: None,
        }
    }

    /// Sets the metrics that say which rules are in use.
    fn publish(&self, previous: Option<&str>) {
        if let Some(previous) = previous.filter(|p| *p != self.version) {
            metrics::gauge!("freightgate_rules_info", "version" => previous.to_string()).set(0.0);
        }
        metrics::gauge!("freightgate_rules_info", "version" => self.version.clone()).set(1.0);
        metrics::gauge!("freightgate_rules_loaded").set(self.rules as f64);
    }
}

/// All errors of a failed load, one per line.
pub fn describe_errors(report: &LoadReport) -> String {
    report
        .errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `*.toml` files of `dir` with their times and sizes, to notice a change.
pub(crate) fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| {
            let meta = e.metadata().ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            (e.path(), modified, meta.map(|m| m.len()).unwrap_or(0))
        })
        .collect();
    files.sort();
    files
}

impl LiveRules {
    /// Loads the rules; an error in any file refuses them all.
    pub fn load(dir: &Path, options: LoadOptions) -> Result<(Self, LoadReport), LoadReport> {
        let seen = snapshot(dir);
        let (set, report) = load_dir_with(dir, &options)?;
        let status = RulesStatus::loaded(dir, &report);
        status.publish(None);
        let live = Self {
            dir: dir.to_path_buf(),
            options,
            current: ArcSwap::from_pointee(set),
            seen: Mutex::new(seen),
            status: Mutex::new(status),
        };
        Ok((live, report))
    }

    /// The rule set to use for one request.
    pub fn current(&self) -> Arc<RuleSet> {
        self.current.load_full()
    }

    /// The rules in use and how the last reload went.
    pub fn status(&self) -> Option<RulesStatus> {
        self.status.lock().ok().map(|s| s.clone())
    }

    /// Reloads from disk; on any error the previous set stays in use.
    pub fn reload(&self) -> Result<LoadReport, LoadReport> {
        let seen = snapshot(&self.dir);
        let attempt = |ok: bool, report: &LoadReport| ReloadAttempt {
            at: chrono::Utc::now(),
            ok,
            errors: report.errors.iter().map(ToString::to_string).collect(),
        };
        let (set, report) = match load_dir_with(&self.dir, &self.options) {
            Ok(loaded) => loaded,
            Err(report) => {
                metrics::counter!("freightgate_rules_reloads_total", "result" => "failed")
                    .increment(1);
                metrics::gauge!("freightgate_rules_reload_failing").set(1.0);
                if let Ok(mut status) = self.status.lock() {
                    status.last_reload = Some(attempt(false, &report));
                }
                return Err(report);
            }
        };
        self.current.store(Arc::new(set));
        if let Ok(mut last) = self.seen.lock() {
            *last = seen;
        }
        let mut status = RulesStatus::loaded(&self.dir, &report);
        status.last_reload = Some(attempt(true, &report));
        if let Ok(mut current) = self.status.lock() {
            status.publish(Some(&current.version));
            *current = status;
        }
        metrics::counter!("freightgate_rules_reloads_total", "result" => "ok").increment(1);
        metrics::gauge!("freightgate_rules_reload_failing").set(0.0);
        Ok(report)
    }

    /// Whether a rules file was added, removed or changed since the last load.
    fn changed(&self) -> bool {
        let now = snapshot(&self.dir);
        self.seen.lock().map(|last| *last != now).unwrap_or(false)
    }

    fn reload_and_log(&self, why: &str) {
        match self.reload() {
            Ok(report) => {
                for warning in &report.warnings {
                    tracing::warn!(problem = %warning, "rules warning");
                }
                tracing::info!(
                    rules = report.rules,
                    files = report.files.len(),
                    why,
                    "rules reloaded"
                );
            }
            Err(report) => {
                // Remember the broken files so the same failure is not retried and logged forever.
                if let Ok(mut last) = self.seen.lock() {
                    *last = snapshot(&self.dir);
                }
                tracing::error!(
                    why,
                    problems = %describe_errors(&report),
                    "rules reload failed; the previous rules stay in use"
                );
            }
        }
    }
}

/// Reloads on SIGHUP and whenever a rules file changes (checked every `interval`;
/// a zero interval disables the file check), until `shutdown`.
pub async fn watch(live: Arc<LiveRules>, interval: Duration, shutdown: CancellationToken) {
    watch_files(
        interval,
        shutdown,
        || live.changed(),
        |why| live.reload_and_log(why.unwrap_or("rules files changed")),
    )
    .await
}

/// Calls `reload` on SIGHUP (with `Some("SIGHUP")`) and whenever `changed` says so
/// (checked every `interval`, with `None`; a zero interval checks nothing), until
/// `shutdown`: the loop behind rules' and sources' reloading.
pub(crate) async fn watch_files(
    interval: Duration,
    shutdown: CancellationToken,
    changed: impl Fn() -> bool,
    reload: impl Fn(Option<&'static str>),
) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut ticker = tokio::time::interval(if interval.is_zero() {
        Duration::from_secs(3600)
    } else {
        interval
    });
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        #[cfg(unix)]
        let hup = async {
            match hangup.as_mut() {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hup = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = hup => reload(Some("SIGHUP")),
            _ = ticker.tick() => {
                if !interval.is_zero() && changed() {
                    reload(None);
                }
            }
        }
    }
}
