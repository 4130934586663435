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

/// What mimalloc holds from the system now (its committed memory), for `/metrics`.
#[cfg(not(feature = "system-allocator"))]
fn mimalloc_committed() -> u64 {
    let mut committed = 0usize;
    // SAFETY: every out-parameter but one is null, which mi_process_info allows;
    // `committed` outlives the call.
    unsafe {
        libmimalloc_sys::mi_process_info(
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut committed,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
    }
    committed as u64
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "system-allocator"))]
    freightgate::telemetry::set_heap_reader(mimalloc_committed);
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
