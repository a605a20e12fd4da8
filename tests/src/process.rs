//! Child processes that tests start: killed and reaped when dropped, waited for with a
//! timeout, their output read without blocking the test forever.
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (SIGKILL) and reaped when dropped, so no test leaves one behind.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Waits for the child to exit on its own within `timeout` and returns its output
    /// (stdout and stderr must have been piped); panics naming `what` on a timeout.
    pub fn wait_output(mut self, what: &str, timeout: Duration) -> Output {
        let stdout = self.0.stdout.take().map(read_to_end_in_background);
        let stderr = self.0.stderr.take().map(read_to_end_in_background);
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.0.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => panic!("{what} did not exit within {timeout:?}"),
                Err(e) => panic!("waiting for {what}: {e}"),
            }
        };
        let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
            h.map(|h| h.join().unwrap_or_default()).unwrap_or_default()
        };
        Output {
            status,
            stdout: collect(stdout),
            stderr: collect(stderr),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_to_end_in_background(
    mut pipe: impl Read + Send + 'static,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Starts `command` with stdout and stderr piped, under a [`ChildGuard`].
pub fn spawn_piped(command: &mut Command) -> ChildGuard {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    ChildGuard(child)
}

/// Runs `command` to completion within `timeout`; panics (with its stderr) unless it
/// exits 0. Returns its standard output.
pub fn run_ok(command: &mut Command, timeout: Duration) -> Vec<u8> {
    let what = format!("{command:?}");
    let out = spawn_piped(command).wait_output(&what, timeout);
    assert!(
        out.status.success(),
        "{what} failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Reads one line of a child's output on a helper thread, so the wait is bounded.
pub fn line_within(
    mut reader: BufReader<ChildStdout>,
    timeout: Duration,
) -> (String, BufReader<ChildStdout>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send((line, reader));
    });
    rx.recv_timeout(timeout)
        .expect("the peer printed nothing in time")
}

/// Polls `done` every 10 ms until it holds; panics naming `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// True when process `pid` has `path` (after resolving symlinks) open: how a test knows
/// that a program it started has opened its device before data are sent to it.
pub fn has_open(pid: u32, path: &std::path::Path) -> bool {
    path.canonicalize().is_ok_and(|target| holds(pid, &target))
}

/// True when one of process `pid`'s file descriptors names `target` (a resolved path,
/// which may no longer exist: a device that vanished stays named by the descriptors still
/// open on it).
pub fn holds(pid: u32, target: &std::path::Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == target))
}

/// Process `pid`'s peak resident memory so far (`VmHWM`), KiB; None once it has exited (a
/// zombie has none). Polled until None, its last value is the peak of the whole run, up to
/// the last poll.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// A thread that runs until told to stop, and is stopped and joined when dropped: the relays
/// the live tests put between a device and the gateway, so a failing test never leaves one
/// running.
pub struct BackgroundThread {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundThread {
    /// Runs `body` on a new thread; `body` gets the flag that says it should return.
    pub fn spawn(
        body: impl FnOnce(&std::sync::atomic::AtomicBool) + Send + 'static,
    ) -> BackgroundThread {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        BackgroundThread {
            stop,
            thread: Some(std::thread::spawn(move || body(&flag))),
        }
    }
}

impl Drop for BackgroundThread {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
