//! Pure parts of the load harness: latency percentiles, rates and the result table.
//! Also built as the `load_stats` test target so these stay tested without a load run.

use std::fmt::Write;
use std::time::Duration;

/// Nearest-rank percentile (`q` in 0..=1) of latencies in microseconds; `None` when empty.
pub fn percentile(sorted_us: &[u32], q: f64) -> Option<u32> {
    if sorted_us.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted_us.len() as f64).ceil() as usize;
    Some(sorted_us[rank.clamp(1, sorted_us.len()) - 1])
}

/// Latency summary of one measured phase, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
}

impl Latency {
    /// Sorts `us` in place and reads p50/p99/p99.9 off it.
    pub fn of(us: &mut [u32]) -> Option<Self> {
        us.sort_unstable();
        let ms = |q| percentile(us, q).map(|v| f64::from(v) / 1000.0);
        Some(Self {
            p50: ms(0.5)?,
            p99: ms(0.99)?,
            p999: ms(0.999)?,
        })
    }
}

/// One line of the result table.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub mode: String,
    pub rate: f64,
    pub latency: Option<Latency>,
    /// CPU seconds (user + system) the measured process spent per 1000 requests.
    pub cpu_per_1000: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    pub errors: u64,
}

/// Requests per second over `elapsed`.
pub fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        0.0
    } else {
        count as f64 / secs
    }
}

/// CPU seconds per 1000 requests from clock ticks spent and requests served.
pub fn cpu_per_1000(ticks: u64, ticks_per_sec: u64, requests: u64) -> Option<f64> {
    (requests > 0 && ticks_per_sec > 0)
        .then(|| ticks as f64 / ticks_per_sec as f64 * 1000.0 / requests as f64)
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

/// Renders rows as a Markdown table (readable in a terminal and pasteable as is).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | mode | req/s | p50 ms | p99 ms | p99.9 ms | CPU s / 1000 req | peak RSS MB | errors |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let l = r.latency;
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.mode,
            r.rate,
            opt(l.map(|l| l.p50), 2),
            opt(l.map(|l| l.p99), 2),
            opt(l.map(|l| l.p999), 2),
            opt(r.cpu_per_1000, 3),
            opt(r.peak_rss_mb, 1),
            r.errors,
        );
    }
    out
}

/// A ratio against its target: `met` when `value` is on the right side of `target`.
#[derive(Debug, Clone)]
pub struct Ratio {
    pub name: String,
    pub value: Option<f64>,
    pub target: f64,
    pub at_least: bool,
}

impl Ratio {
    pub fn met(&self) -> Option<bool> {
        self.value.map(|v| {
            if self.at_least {
                v >= self.target
            } else {
                v <= self.target
            }
        })
    }
}

/// Renders the ratios with their targets and verdicts.
pub fn ratios(list: &[Ratio]) -> String {
    let mut out = String::from("| ratio | value | target | verdict |\n|---|---:|---:|---|\n");
    for r in list {
        let verdict = match r.met() {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "not measured",
        };
        let sign = if r.at_least { "≥" } else { "≤" };
        let _ = writeln!(
            out,
            "| {} | {} | {sign} {} | {verdict} |",
            r.name,
            opt(r.value, 2),
            r.target
        );
    }
    out
}

#[cfg(test)]
mod tests {
    // `cargo bench` compiles this module without its #[test] functions.
    #[allow(unused_imports)]
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), Some(500));
        assert_eq!(percentile(&v, 0.99), Some(990));
        assert_eq!(percentile(&v, 0.999), Some(999));
        assert_eq!(percentile(&v, 1.0), Some(1000));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7], 0.999), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn latency_sorts_and_converts_to_milliseconds() {
        let mut us = vec![3000, 1000, 2000, 100_000];
        let l = Latency::of(&mut us).unwrap();
        assert_eq!(l.p50, 2.0);
        assert_eq!(l.p99, 100.0);
        assert!(Latency::of(&mut []).is_none());
    }

    #[test]
    fn cpu_per_1000_requests_scales_ticks() {
        assert_eq!(cpu_per_1000(50, 100, 2000), Some(0.25));
        assert_eq!(cpu_per_1000(50, 100, 0), None);
        assert_eq!(rate(500, Duration::from_secs(2)), 250.0);
        assert_eq!(rate(5, Duration::ZERO), 0.0);
    }

    #[test]
    fn table_renders_missing_values_as_dashes() {
        let rows = [Row {
            scenario: "floor".into(),
            mode: "closed c=16".into(),
            rate: 12345.4,
            latency: None,
            cpu_per_1000: Some(0.1234),
            peak_rss_mb: None,
            errors: 0,
        }];
        let t = table(&rows);
        assert!(
            t.contains("| floor | closed c=16 | 12345 | - | - | - | 0.123 | - | 0 |"),
            "{t}"
        );
    }

    #[test]
    fn ratio_verdicts_respect_the_direction_of_the_target() {
        let r = |value, at_least| Ratio {
            name: "x".into(),
            value,
            target: 0.5,
            at_least,
        };
        assert_eq!(r(Some(0.6), true).met(), Some(true));
        assert_eq!(r(Some(0.4), true).met(), Some(false));
        assert_eq!(r(Some(0.4), false).met(), Some(true));
        assert_eq!(r(None, true).met(), None);
        assert!(ratios(&[r(Some(0.4), true)]).contains("| x | 0.40 | ≥ 0.5 | NOT met |"));
    }
}
