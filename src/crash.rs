//! Deterministic crash points for the crash/resume tests: when `CUTOVER_CRASH_AT`
//! names a point, the process kills itself with SIGKILL there, exactly like `kill -9`.
//! Points: `before:STEP` (recorded as started, nothing done), `after:STEP` (effects
//! committed, ledger not yet told), `migration:STEP:N` (while applying migration N).

pub fn point(name: &str) {
    if let Ok(want) = std::env::var("CUTOVER_CRASH_AT")
        && want == name
    {
        tracing::warn!("CUTOVER_CRASH_AT={want}: killing this process with SIGKILL");
        // SAFETY: sending SIGKILL to ourselves; nothing after this runs.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
