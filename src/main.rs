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

/// Turns transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP`
/// is set (`1` keeps them). mimalloc asks the kernel for huge pages on its regions
/// (`madvise`), and a 2 MB page stays resident while any byte of it is in use: the
/// server's resident set then moved in 2 MB steps and grew over an hour of steady
/// load, where without them it stayed within ±5 % on PostgreSQL (BENCHMARKS.md,
/// memory over an hour).
/// Applies to this process's later page faults, mimalloc's regions included.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn without_transparent_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes a flag of
    // this process; it reads and writes none of our memory.
    let refused = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0;
    if refused {
        // Kernels before 3.15 lack the call: the server runs as before.
        eprintln!("freightgate: transparent huge pages stay on (prctl refused)");
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    without_transparent_huge_pages();
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
