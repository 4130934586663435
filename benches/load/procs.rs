//! Child processes (the release server, the floors) pinned to the server core, and
//! what `/proc` says about their CPU time and memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Core layout: the load generator on one core, every measured process on the other.
#[derive(Debug, Clone)]
pub struct Pinning {
    pub server_core: Option<usize>,
    pub description: String,
}

impl Pinning {
    /// Pins this process (and so every thread it starts later) to core 0 and leaves core 1
    /// for the measured processes; without `taskset` or a second core nothing is pinned.
    pub fn apply() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let pinned = cores >= 2
            && Command::new("taskset")
                .args(["-a", "-p", "-c", "0", &std::process::id().to_string()])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if pinned {
            Self {
                server_core: Some(1),
                description: format!(
                    "load generator pinned to CPU 0 (taskset, one-thread tokio runtime); \
                     measured process pinned to CPU 1 ({cores} CPUs online)"
                ),
            }
        } else {
            Self {
                server_core: None,
                description: format!(
                    "NOT pinned ({cores} CPU(s) or no taskset); load generator limited to a \
                     one-thread tokio runtime"
                ),
            }
        }
    }

    /// A command running `program` on the server core.
    pub fn command(&self, program: &Path) -> Command {
        match self.server_core {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(core.to_string()).arg(program);
                c
            }
            None => Command::new(program),
        }
    }
}

/// Clock ticks per second for `/proc/<pid>/stat` (from `getconf CLK_TCK`, else 100).
pub fn ticks_per_sec() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// User + system CPU ticks of `pid` so far.
pub fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name may contain spaces; fields resume after its closing parenthesis.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
    field(11) + field(12)
}

/// CPU ticks of every `postgres` process now, by pid: PostgreSQL's backends are not
/// the harness's children, so its cost is read process by process.
pub fn postgres_ticks() -> HashMap<u32, u64> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|pid| (pid, cpu_ticks(pid)))
        .collect()
}

/// PostgreSQL's CPU ticks between two readings (backends that ended in between are lost).
pub fn postgres_spent(before: &HashMap<u32, u64>) -> u64 {
    postgres_ticks()
        .into_iter()
        .map(|(pid, now)| now.saturating_sub(before.get(&pid).copied().unwrap_or(0)))
        .sum()
}

/// A `/proc/<pid>/status` memory line (`VmHWM`, `VmRSS`) in MB.
pub fn memory_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A child that is killed when dropped.
pub struct Running {
    pub child: Child,
    pub base: String,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn peak_rss_mb(&self) -> Option<f64> {
        memory_mb(self.pid(), "VmHWM")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound and released; the child binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Waits until `GET {base}{path}` answers 2xx, or fails after 60 s.
pub async fn wait_ready(client: &reqwest::Client, base: &str, path: &str) {
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}{path}")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{base}{path} did not become ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh scratch directory under the system temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "fg-bench-{}-{label}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&path).expect("scratch dir");
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
