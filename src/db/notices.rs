//! Messages the servers send beside results: PostgreSQL `NOTICE`/`WARNING` (e.g.
//! `RAISE NOTICE` in a migration) and MySQL/MariaDB warnings. A step that wants them
//! opens a [`Capture`] around its statements; while one is open, every such message
//! from any connection of this process is collected (steps run one at a time).
//!
//! PostgreSQL notices arrive through sqlx's tracing events (target
//! `sqlx::postgres::notice`): [`NoticeLayer`] is installed beside the log file's layer
//! (`logging.rs`) with its own filter, so the log level does not hide them. MySQL
//! warnings are read with the dialect's warnings query after each statement
//! (`SqlDialect::warnings_query`), only while a capture is open.

use std::sync::Mutex;

static BUFFER: Mutex<Option<Vec<String>>> = Mutex::new(None);

/// While alive, server messages are collected; [`Capture::take`] returns them.
pub struct Capture(());

impl Capture {
    pub fn start() -> Capture {
        *BUFFER.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
        Capture(())
    }
    /// The messages collected so far (scrubbed of secrets), emptying the buffer.
    pub fn take(&self) -> Vec<String> {
        BUFFER
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        *BUFFER.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Is a capture open? (MySQL warnings cost a round trip: read only then.)
pub fn capturing() -> bool {
    BUFFER.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// Forget what was collected so far (e.g. notices about cutover's own bookkeeping
/// tables), keeping the capture open.
pub fn discard() {
    if let Some(v) = BUFFER.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        v.clear();
    }
}

/// Keep a server message if a capture is open.
pub fn record(message: String) {
    if let Some(v) = BUFFER.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        v.push(crate::redact::scrub(&message));
    }
}

const PG_NOTICE_TARGET: &str = "sqlx::postgres::notice";

/// The tracing layer that hands PostgreSQL notices to an open [`Capture`].
pub struct NoticeLayer;

impl NoticeLayer {
    /// The layer with its filter: only sqlx's notice events, at every level.
    pub fn filtered<S>() -> impl tracing_subscriber::Layer<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        use tracing_subscriber::Layer;
        NoticeLayer.with_filter(tracing_subscriber::filter::filter_fn(|m| {
            m.target() == PG_NOTICE_TARGET
        }))
    }
}

struct MessageField(String);

impl tracing::field::Visit for MessageField {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && self.0.is_empty() {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoticeLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() != PG_NOTICE_TARGET {
            return;
        }
        let mut m = MessageField(String::new());
        event.record(&mut m);
        let severity = match *event.metadata().level() {
            tracing::Level::ERROR => "ERROR",
            tracing::Level::WARN => "WARNING",
            tracing::Level::INFO => "NOTICE",
            tracing::Level::DEBUG => "DEBUG",
            tracing::Level::TRACE => "INFO",
        };
        record(format!("{severity}: {}", m.0));
    }
}
