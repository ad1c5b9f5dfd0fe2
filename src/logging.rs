//! tracing to a log file, never to the terminal (a TUI owns it). Every line is scrubbed
//! of secrets before it is written.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone)]
struct ScrubbingFile(Arc<Mutex<std::fs::File>>);

impl Write for ScrubbingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = crate::redact::scrub(&String::from_utf8_lossy(buf));
        let mut f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(text.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

static INIT: OnceLock<std::path::PathBuf> = OnceLock::new();

/// Log to `dir/.cutover/cutover.log` (or `$CUTOVER_LOG_FILE`). Level from `CUTOVER_LOG`
/// (default info). Only the first call takes effect.
pub fn init_for_dir(dir: &Path) {
    let path = std::env::var_os("CUTOVER_LOG_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.join(".cutover").join("cutover.log"));
    if INIT.get().is_some() {
        return;
    }
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    else {
        return;
    };
    let writer = ScrubbingFile(Arc::new(Mutex::new(file)));
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // The file gets what CUTOVER_LOG lets through; PostgreSQL notices reach a step's
    // capture whatever the level (crate::db::notices).
    let ok = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .with_filter(filter),
        )
        .with(crate::db::notices::NoticeLayer::filtered())
        .try_init()
        .is_ok();
    if ok {
        let _ = INIT.set(path);
    }
}

/// The log file in use, if any.
pub fn log_file() -> Option<&'static Path> {
    INIT.get().map(|p| p.as_path())
}
