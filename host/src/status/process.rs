//! The gateway process's own resources as Linux reports them (`/proc/self`): resident
//! memory and CPU time, read when a status is taken, for `/status`, `/metrics` and the
//! end-of-run summary of `dagr run`.
use serde::Serialize;

/// What the process holds and has used, as far as `/proc` tells (`None` elsewhere).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct ProcessUsage {
    /// Resident set, bytes (`VmRSS`).
    pub resident_bytes: Option<u64>,
    /// Largest resident set since start, bytes (`VmHWM`).
    pub peak_resident_bytes: Option<u64>,
    /// User + system CPU time since start, seconds.
    pub cpu_seconds: Option<f64>,
}

impl ProcessUsage {
    /// The process's usage now.
    pub fn now() -> ProcessUsage {
        let status = std::fs::read_to_string("/proc/self/status").ok();
        let bytes = |key| Some(kb_line(status.as_deref()?, key)? * 1024);
        ProcessUsage {
            resident_bytes: bytes("VmRSS:"),
            peak_resident_bytes: bytes("VmHWM:"),
            cpu_seconds: cpu_seconds(),
        }
    }
}

/// User + system CPU seconds of this process (`/proc/self/stat`, clock ticks at 100 Hz as
/// on every Linux the gateway targets).
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// A `kB` line of `/proc/self/status` (`VmRSS:`, `VmHWM:`...).
pub fn status_kb(key: &str) -> Option<u64> {
    kb_line(&std::fs::read_to_string("/proc/self/status").ok()?, key)
}

/// The value of the `kB` line `key` of a `/proc/.../status` text.
fn kb_line(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_cpu_time() {
        let before = ProcessUsage::now();
        let spin = std::time::Instant::now();
        let mut x = 0u64;
        while spin.elapsed().as_millis() < 50 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let ballast = vec![1u8; 8 << 20];
        let after = ProcessUsage::now();
        let resident = after.resident_bytes.expect("Linux /proc");
        assert!(
            resident > 8 << 20,
            "{resident} bytes resident with 8 MiB touched"
        );
        assert!(after.peak_resident_bytes.unwrap() >= 8 << 20);
        let used = after.cpu_seconds.unwrap() - before.cpu_seconds.unwrap();
        assert!((0.0..10.0).contains(&used), "{used} s");
        assert!(after.cpu_seconds.unwrap() > 0.0);
        std::hint::black_box(ballast);
    }
}
