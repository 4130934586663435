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

fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
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
        let live = Self {
            dir: dir.to_path_buf(),
            options,
            current: ArcSwap::from_pointee(set),
            seen: Mutex::new(seen),
        };
        Ok((live, report))
    }

    /// The rule set to use for one request.
    pub fn current(&self) -> Arc<RuleSet> {
        self.current.load_full()
    }

    /// Reloads from disk; on any error the previous set stays in use.
    pub fn reload(&self) -> Result<LoadReport, LoadReport> {
        let seen = snapshot(&self.dir);
        let (set, report) = load_dir_with(&self.dir, &self.options)?;
        self.current.store(Arc::new(set));
        if let Ok(mut last) = self.seen.lock() {
            *last = seen;
        }
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
            _ = hup => live.reload_and_log("SIGHUP"),
            _ = ticker.tick() => {
                if !interval.is_zero() && live.changed() {
                    live.reload_and_log("rules files changed");
                }
            }
        }
    }
}
