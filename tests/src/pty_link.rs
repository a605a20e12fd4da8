//! Two serial device paths joined back to back by `socat`, as a USB-serial cable joins a
//! device to the gateway: a program opens one end by path, another program the other end.
//!
//! `TTYPort::pair()` gives one path and an in-process master; when BOTH ends must be
//! opened by path from other processes (the node simulator on one, `dagr record` on the
//! other) it takes a relay, and socat is the standard one. Killing socat is unplugging the
//! cable (both ends hang up); [`PtyLink::replug`] starts a new socat under the same names.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{wait_for, ChildGuard};

/// Longest wait for socat to create its pseudo-terminals.
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// A socat relay between the pseudo-terminals linked at [`a`](Self::a) and [`b`](Self::b).
pub struct PtyLink {
    a: PathBuf,
    b: PathBuf,
    socat: Option<ChildGuard>,
}

impl PtyLink {
    /// Starts the relay with its ends linked at `dir/a` and `dir/b`.
    pub fn start(dir: &Path) -> PtyLink {
        let mut link = PtyLink {
            a: dir.join("a"),
            b: dir.join("b"),
            socat: None,
        };
        link.replug();
        link
    }

    /// The end the device writes to.
    pub fn a(&self) -> &Path {
        &self.a
    }

    /// The end the gateway reads.
    pub fn b(&self) -> &Path {
        &self.b
    }

    /// Pulls the cable: socat dies (SIGKILL), both ends hang up and their names vanish.
    pub fn unplug(&mut self) {
        drop(self.socat.take());
        for end in [&self.a, &self.b] {
            let _ = std::fs::remove_file(end);
        }
    }

    /// Plugs a cable in: a new socat, new pseudo-terminals, the same names.
    pub fn replug(&mut self) {
        self.unplug();
        let end = |p: &Path| format!("pty,raw,echo=0,link={}", p.display());
        let child = Command::new("socat")
            .args([end(&self.a), end(&self.b)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run socat: {e} (install it: apt-get install socat)")
            });
        self.socat = Some(ChildGuard(child));
        wait_for("socat's pseudo-terminals", START_TIMEOUT, || {
            self.a.exists() && self.b.exists()
        });
    }
}

impl Drop for PtyLink {
    fn drop(&mut self) {
        self.unplug();
    }
}
