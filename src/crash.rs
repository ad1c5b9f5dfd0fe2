//! Deterministic crash points for the crash/resume tests: when `CUTOVER_CRASH_AT`
//! names a point, the process kills itself with SIGKILL there, exactly like `kill -9`.
//! Points: `before:STEP` (recorded as started, nothing done), `after:STEP` (effects
//! committed, ledger not yet told), `migration:STEP:N` (while applying migration N),
//! `restore:rows:N` (a MySQL restore with N of a table's row statements loaded); other
//! modules name theirs where they call [`point`].
//!
//! Only with the `testkit` feature (which the tests and benchmarks enable): a release
//! build has no crash hook at all, and [`point`] does nothing.

#[cfg(feature = "testkit")]
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

/// Without the `testkit` feature there are no crash points.
#[cfg(not(feature = "testkit"))]
#[inline(always)]
pub fn point(_name: &str) {}

/// A forced panic for the tests that prove a panic in a background task fails the
/// command instead of vanishing: panics when `CUTOVER_PANIC_AT` names this point.
/// Points: `diff-stream:source`, `diff-stream:target` (the data diff's row readers);
/// `POINT@N` panics at the Nth time the point is passed instead of the first.
#[cfg(feature = "testkit")]
pub fn panic_point(name: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PASSED: AtomicUsize = AtomicUsize::new(0);
    if let Ok(want) = std::env::var("CUTOVER_PANIC_AT") {
        let (point, nth) = match want.split_once('@') {
            Some((p, n)) => (p, n.parse::<usize>().unwrap_or(1)),
            None => (want.as_str(), 1),
        };
        if point == name && PASSED.fetch_add(1, Ordering::Relaxed) + 1 >= nth {
            panic!("CUTOVER_PANIC_AT={want}: forced panic");
        }
    }
}

/// Without the `testkit` feature there are no panic points.
#[cfg(not(feature = "testkit"))]
#[inline(always)]
pub fn panic_point(_name: &str) {}
