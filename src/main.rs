use clap::Parser;
use freightgate::cli::Cli;
use freightgate::config::Config;

// A request allocates and frees many small strings and JSON nodes (a payload's
// values, an explanation's reports); mimalloc's per-thread free lists serve those
// with far less work than glibc's malloc (see BENCHMARKS.md). The feature
// `system-allocator` builds with glibc's instead, for heap profilers that hook
// malloc (heaptrack).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("freightgate: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    freightgate::telemetry::init_logging(&config);
    match freightgate::cli::run(cli, config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("freightgate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
