//! A function's memory as deployed: Lambda caps a function's memory at its `MemorySize` (and kills
//! it beyond). Here the function runs in a memory cgroup of that size where the machine lets the
//! test make one (cgroup v1, as root), so going beyond is the kernel's kill the test sees; its peak
//! resident set (`VmHWM`) is measured either way.

use std::path::{Path, PathBuf};

/// A memory cgroup limited to the function's size, removed when dropped.
pub(crate) struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    /// A new cgroup under this process's own memory cgroup, limited to `bytes` (swap included),
    /// or `None` where none can be made (no cgroup v1 memory controller, or no permission).
    pub(crate) fn new(bytes: u64) -> Option<Self> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let relative = own.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then(|| path.to_owned())
        })?;
        let dir = Path::new("/sys/fs/cgroup/memory")
            .join(relative.trim_start_matches('/'))
            .join(format!("intake-e2e-{}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        let group = Self { dir };
        std::fs::write(group.dir.join("memory.limit_in_bytes"), bytes.to_string()).ok()?;
        // Where swap is accounted, it may not stretch the limit either.
        let _ = std::fs::write(
            group.dir.join("memory.memsw.limit_in_bytes"),
            bytes.to_string(),
        );
        Some(group)
    }

    /// Moves the process `pid` into the cgroup.
    pub(crate) fn add(&self, pid: u32) {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string()).expect("join the cgroup");
    }

    /// The most memory the cgroup's processes used at once (page cache they read included).
    pub(crate) fn peak(&self) -> u64 {
        read_number(&self.dir.join("memory.max_usage_in_bytes"))
    }

    /// How often the limit was hit.
    pub(crate) fn failures(&self) -> u64 {
        read_number(&self.dir.join("memory.failcnt"))
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // The function is killed first; its exit can take a moment.
        for _ in 0..100 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn read_number(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The peak resident set of process `pid` (`VmHWM`), in bytes.
pub(crate) fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
