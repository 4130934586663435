//! End-to-end load harness: starts the release `freightgate` server (and the floor
//! programs) on a fresh database per scenario, drives it over loopback with closed-loop
//! concurrency and then at a fixed rate of half the closed-loop maximum, and prints
//! requests/s, p50/p99/p99.9 latency, server CPU seconds per 1000 requests and peak RSS.
//!
//! `cargo bench --bench load` (add `-- --help` for the options; set `FG_BENCH_POSTGRES`
//! to a PostgreSQL URL whose user may create databases to include PostgreSQL).

mod drain;
mod drive;
mod fanout;
mod http;
mod listing;
mod paths;
mod payload;
mod procs;
mod scenarios;
mod soak;
mod stats;
mod webhooks;
mod write_floor;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "load", about = "freightgate end-to-end load harness")]
pub struct Args {
    /// Seconds per measured phase (each scenario runs a closed-loop and a fixed-rate phase).
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Connections in the closed-loop phase.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// PostgreSQL URL (a user that may CREATE DATABASE); PostgreSQL rows are skipped without it.
    #[arg(long, env = "FG_BENCH_POSTGRES")]
    pub postgres: Option<String>,
    /// Seconds of the soak (ingest at half its closed-loop rate with webhooks delivered,
    /// on SQLite and, with `--postgres`, PostgreSQL) that samples RSS for growth; 0 skips it.
    #[arg(long, default_value_t = 0)]
    pub soak: u64,
    /// Seconds at the start of the soak that are warm-up: the RSS drift counts from
    /// their end.
    #[arg(long, default_value_t = 300)]
    pub soak_warmup: u64,
    /// Payloads per second of the soak instead of half its closed-loop rate (to run
    /// two builds side by side at one rate).
    #[arg(long)]
    pub soak_rate: Option<f64>,
    /// Directory the soak's samples are written to (`soak-<database>.csv`), so two
    /// harnesses soaking side by side keep their own; `target/` by default.
    #[arg(long)]
    pub soak_out: Option<PathBuf>,
    /// Payloads ingested for the webhook scenario before its dispatcher starts (each
    /// emits several events, each pushed to every endpoint).
    #[arg(long, default_value_t = 1000)]
    pub webhook_payloads: u64,
    /// Only these scenarios (comma-separated): floor, explain, ingest, write-floor, graphql,
    /// webhooks, slow-connections, fanout, listing, drain, paths.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Server binary to measure instead of the one this build made, e.g. an earlier
    /// release for a before/after comparison in one run.
    #[arg(long, env = "FG_BENCH_SERVER")]
    pub server: Option<std::path::PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,
    #[command(subcommand)]
    pub child: Option<ChildCommand>,
}

/// The measured programs other than the server; the harness starts itself with these.
#[derive(Debug, Subcommand)]
pub enum ChildCommand {
    /// A bare axum server: reads the body, answers 200.
    #[command(hide = true)]
    FloorHttp { port: u16 },
    /// Minimal sqlx program inserting the rows of one ingest per transaction.
    #[command(hide = true)]
    WriteFloor {
        database_url: String,
        concurrency: usize,
        secs: u64,
        orders: usize,
    },
    /// A plain reqwest loop posting `n` bodies of `bytes` bytes to `url`.
    #[command(hide = true)]
    PlainLoop {
        url: String,
        n: u64,
        concurrency: usize,
        bytes: usize,
    },
}

impl Args {
    pub fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }
}

/// Where the harness finds its programs.
pub struct Programs {
    pub server: PathBuf,
    pub this: PathBuf,
    pub repo_rules: PathBuf,
}

fn main() {
    let args = Args::parse();
    match args.child {
        Some(ChildCommand::FloorHttp { port }) => {
            return multi_thread().block_on(scenarios::floor_http(port));
        }
        Some(ChildCommand::WriteFloor {
            ref database_url,
            concurrency,
            secs,
            orders,
        }) => {
            return multi_thread().block_on(write_floor::child(
                database_url,
                concurrency,
                Duration::from_secs(secs),
                orders,
            ));
        }
        Some(ChildCommand::PlainLoop {
            ref url,
            n,
            concurrency,
            bytes,
        }) => {
            return multi_thread().block_on(webhooks::plain_child(url, n, concurrency, bytes));
        }
        None => {}
    }
    // Pin before the runtime exists so every thread inherits the mask.
    let pinning = procs::Pinning::apply();
    let programs = Programs {
        server: args
            .server
            .clone()
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_freightgate").into()),
        this: std::env::current_exe().expect("own path"),
        repo_rules: concat!(env!("CARGO_MANIFEST_DIR"), "/rules").into(),
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(scenarios::run_all(args, programs, pinning));
}

/// The measured children use the same runtime shape as the server.
fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}
