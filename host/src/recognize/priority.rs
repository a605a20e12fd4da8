//! The scheduling priority of the thread that recognizes windows in a live run.
//!
//! A window's prediction is due as soon as its deadline passes; on a busy edge box the
//! recognizing thread otherwise waits for a core behind whatever else runs (builds, other
//! services, the gateway's own decoding and HTTP threads), and that wait, not the few ms
//! of preprocessing and inference, makes the deadline-to-prediction tail. So a live run
//! asks for a higher priority for that thread: a lower niceness ([`RECOGNIZER_NICE`]),
//! which Linux grants with `CAP_SYS_NICE` or an `RLIMIT_NICE` allowing it. Refused, it
//! lowers the niceness of the gateway's other threads instead ([`OTHER_THREADS_NICE`]
//! above their own; always allowed), so at least the gateway's own work does not delay a
//! prediction. Either way the run goes on: what was done is returned, for one log line.
//! Only Linux sets per-thread niceness; elsewhere nothing changes.

/// Niceness asked for the recognizing thread (0 is the default; -20 the highest).
pub const RECOGNIZER_NICE: i32 = -10;

/// How much nicer than before the gateway's other threads become when the recognizing
/// thread may not be raised.
pub const OTHER_THREADS_NICE: i32 = 5;

/// What [`favour_current_thread`] could do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Favour {
    /// The calling thread runs at this niceness now.
    Raised {
        /// Its niceness.
        nice: i32,
    },
    /// Raising was refused (`reason`); this many other threads of the process were made
    /// nicer by [`OTHER_THREADS_NICE`].
    OthersLowered {
        /// Threads made nicer.
        threads: usize,
        /// Why the calling thread could not be raised.
        reason: String,
    },
    /// Nothing could be changed (`reason`).
    Unchanged {
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for Favour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Favour::Raised { nice } => write!(f, "recognizing thread at niceness {nice}"),
            Favour::OthersLowered { threads, reason } => write!(
                f,
                "recognizing thread keeps its priority ({reason}); {threads} other gateway \
                 threads made {OTHER_THREADS_NICE} nicer instead"
            ),
            Favour::Unchanged { reason } => {
                write!(f, "recognizing thread keeps its priority ({reason})")
            }
        }
    }
}

/// Gives the calling thread (the one that will recognize windows) precedence over other
/// work, as far as the system allows (see the [module doc](self)). Call it after the
/// gateway's other threads started, so the fallback reaches them. Logs the outcome once
/// (info); a refusal never fails the run.
pub fn favour_current_thread() -> Favour {
    let favour = imp::favour_current_thread();
    tracing::info!("{favour}");
    favour
}

#[cfg(target_os = "linux")]
mod imp {
    use rustix::process::{getpriority_process, setpriority_process, Pid};
    use rustix::thread::gettid;

    use super::{Favour, OTHER_THREADS_NICE, RECOGNIZER_NICE};

    pub(super) fn favour_current_thread() -> Favour {
        let me = gettid();
        // On Linux, PRIO_PROCESS with a thread id sets that thread's niceness alone.
        let refused = match setpriority_process(Some(me), RECOGNIZER_NICE) {
            Ok(()) => {
                return Favour::Raised {
                    nice: getpriority_process(Some(me)).unwrap_or(RECOGNIZER_NICE),
                }
            }
            Err(e) => format!("niceness {RECOGNIZER_NICE} refused: {e}"),
        };
        match lower_other_threads(me) {
            Ok(threads) => Favour::OthersLowered {
                threads,
                reason: refused,
            },
            Err(e) => Favour::Unchanged {
                reason: format!("{refused}; listing /proc/self/task: {e}"),
            },
        }
    }

    /// Makes every other thread of the process [`OTHER_THREADS_NICE`] nicer; returns how
    /// many it changed (a thread that ended meanwhile is passed over).
    pub(super) fn lower_other_threads(me: Pid) -> std::io::Result<usize> {
        let mut changed = 0;
        for entry in std::fs::read_dir("/proc/self/task")? {
            let name = entry?.file_name();
            let Some(tid) = name.to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let Some(tid) = Pid::from_raw(tid).filter(|t| *t != me) else {
                continue;
            };
            let Ok(nice) = getpriority_process(Some(tid)) else {
                continue;
            };
            let nicer = (nice + OTHER_THREADS_NICE).min(19);
            if setpriority_process(Some(tid), nicer).is_ok() {
                changed += 1;
            }
        }
        Ok(changed)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Favour;

    pub(super) fn favour_current_thread() -> Favour {
        Favour::Unchanged {
            reason: "per-thread priority is only set on Linux".into(),
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::process::getpriority_process;
    use rustix::thread::gettid;

    use super::*;

    /// Another thread of the test process, parked until dropped, whose niceness the tests
    /// read.
    struct Sibling {
        tid: rustix::thread::Pid,
        stop: Option<std::sync::mpsc::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl Sibling {
        fn start() -> Sibling {
            let (tx, rx) = std::sync::mpsc::channel();
            let (stop, parked) = std::sync::mpsc::channel::<()>();
            let thread = std::thread::spawn(move || {
                tx.send(gettid()).unwrap();
                parked.recv().ok();
            });
            Sibling {
                tid: rx.recv().unwrap(),
                stop: Some(stop),
                thread: Some(thread),
            }
        }

        fn nice(&self) -> i32 {
            getpriority_process(Some(self.tid)).unwrap()
        }
    }

    impl Drop for Sibling {
        fn drop(&mut self) {
            drop(self.stop.take());
            if let Some(thread) = self.thread.take() {
                thread.join().unwrap();
            }
        }
    }

    /// Run in a thread of its own so the test process's other threads are not reniced by
    /// accident of order; checks the outcome against the thread's niceness as the kernel
    /// reports it.
    #[test]
    fn the_calling_thread_is_raised_or_the_others_are_lowered() {
        let (favour, nice_after, sibling_before, sibling_after) = std::thread::spawn(|| {
            let sibling = Sibling::start();
            let sibling_before = sibling.nice();
            let favour = favour_current_thread();
            let nice_after = getpriority_process(Some(gettid())).unwrap();
            (favour, nice_after, sibling_before, sibling.nice())
        })
        .join()
        .unwrap();
        match favour {
            Favour::Raised { nice } => {
                assert_eq!(nice, RECOGNIZER_NICE);
                assert_eq!(nice_after, RECOGNIZER_NICE);
                assert_eq!(
                    sibling_after, sibling_before,
                    "others untouched when raised"
                );
            }
            Favour::OthersLowered { threads, .. } => {
                assert!(threads >= 1, "at least the sibling");
                assert_eq!(sibling_after, (sibling_before + OTHER_THREADS_NICE).min(19));
            }
            Favour::Unchanged { reason } => panic!("Linux always allows the fallback: {reason}"),
        }
    }

    /// The fallback alone (a privileged test run takes the other branch above).
    #[test]
    fn the_fallback_makes_a_sibling_thread_nicer_and_leaves_the_caller() {
        let sibling = Sibling::start();
        let before = sibling.nice();
        let mine = getpriority_process(Some(gettid())).unwrap();
        let changed = imp::lower_other_threads(gettid()).unwrap();
        let after = sibling.nice();
        drop(sibling);
        assert!(changed >= 1);
        assert_eq!(after, (before + OTHER_THREADS_NICE).min(19));
        assert_eq!(getpriority_process(Some(gettid())).unwrap(), mine);
    }
}
