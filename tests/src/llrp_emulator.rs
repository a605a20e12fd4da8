//! The llrpkit reader emulator (an independent implementation of the reader side of LLRP)
//! on 127.0.0.1, killed when dropped.
use std::io::BufReader;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{line_within, ChildGuard};

/// `llrpkit emulate`: 6 tags, 50 reads/s, Impinj extensions.
pub struct Emulator {
    child: ChildGuard,
    /// The TCP port it listens on.
    pub port: u16,
}

impl Emulator {
    /// Starts it on `port` (0 = any free port) and waits for its banner.
    pub fn start(port: u16) -> Emulator {
        let llrpkit = crate::python().with_file_name("llrpkit");
        let mut child = Command::new(&llrpkit)
            .args([
                "emulate",
                "--port",
                &port.to_string(),
                "--tags",
                "6",
                "--rate",
                "50",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", llrpkit.display()));
        let out = child.stdout.take().expect("piped stdout");
        let child = ChildGuard(child);
        let (line, _) = line_within(BufReader::new(out), Duration::from_secs(10));
        // "emulated Impinj-style reader on port N (...)"
        let port = line
            .split("on port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected emulator banner {line:?}"));
        Emulator { child, port }
    }

    /// The emulator's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}
