//! Process-wide settings made once at start, before any secret is in memory and before the port
//! is bound: the open-files soft limit raised to its hard limit (connections need descriptors),
//! and the process made non-dumpable with a zero core-size limit, so that neither a crash nor
//! another process of the same user (ptrace, /proc/<pid>/mem) can read secrets out of memory.
//!
//! It changes only this process's own attributes; it never touches system settings.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

use crate::start_error::StartError;

/// What [`prepare`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessLimits {
    /// The open-files soft limit in force now (`u64::MAX` when unlimited).
    pub descriptors: u64,
    /// The soft limit before it was raised, when it was.
    pub raised_from: Option<u64>,
    /// Whether core dumps and ptrace by the same user remain possible (`allow_core_dumps`).
    pub dumpable: bool,
}

/// Raises the open-files soft limit to the hard limit and, unless `allow_core_dumps`, makes the
/// process non-dumpable (`PR_SET_DUMPABLE` 0) and sets `RLIMIT_CORE` to 0 (soft and hard, so
/// nothing later in this process can turn core files back on).
///
/// Failing to raise the descriptor limit is not fatal (the connection cap is sized from what
/// is in force); failing to forbid core dumps is, because it would leave secrets exposed.
pub fn prepare(allow_core_dumps: bool) -> Result<ProcessLimits, StartError> {
    let (descriptors, raised_from) = raise_descriptor_limit();
    if !allow_core_dumps {
        forbid_core_dumps()?;
    }
    Ok(ProcessLimits {
        descriptors,
        raised_from,
        dumpable: allow_core_dumps,
    })
}

/// Sets the `RLIMIT_NOFILE` soft limit to the hard limit; returns the limit now in force and
/// the previous one when it changed.
fn raise_descriptor_limit() -> (u64, Option<u64>) {
    let limit = getrlimit(Resource::Nofile);
    let Some(soft) = limit.current else {
        return (u64::MAX, None);
    };
    match limit.maximum {
        Some(hard) if hard > soft => {
            let raised = Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => (hard, Some(soft)),
                Err(e) => {
                    tracing::warn!(soft, hard, error = %e, "cannot raise the open-files limit");
                    (soft, None)
                }
            }
        }
        // An unlimited hard limit cannot be the soft one (the kernel caps it at fs.nr_open), so
        // the soft limit stays as it is.
        _ => (soft, None),
    }
}

/// Makes the process non-dumpable and forbids core files.
fn forbid_core_dumps() -> Result<(), StartError> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(StartError::NotDumpable)?;
    let none = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    setrlimit(Resource::Core, none).map_err(StartError::CoreLimit)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test process itself is hardened here (each test binary is its own process; being
    /// non-dumpable and core-less does not change how the other tests run).
    #[test]
    fn prepare_makes_the_process_non_dumpable_without_core_files_and_raises_the_soft_limit() {
        let before = getrlimit(Resource::Nofile);
        if let (Some(soft), Some(hard)) = (before.current, before.maximum) {
            let lowered = Rlimit {
                current: Some(soft.min(hard).min(256)),
                maximum: Some(hard),
            };
            setrlimit(Resource::Nofile, lowered).unwrap();
        }
        let limits = prepare(false).unwrap();
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
        let core = getrlimit(Resource::Core);
        assert_eq!((core.current, core.maximum), (Some(0), Some(0)));
        let after = getrlimit(Resource::Nofile);
        assert!(!limits.dumpable);
        if let Some(hard) = before.maximum {
            assert_eq!(after.current, Some(hard));
            assert_eq!(limits.descriptors, hard);
        }
    }
}
