//! `command`: run an external program (the application's own migrate, build or test)
//! with arguments, a working directory, environment variables (`${env:NAME}` values are
//! secrets: scrubbed from everything shown or stored), a timeout and the exit codes
//! that count as success. Its output is streamed to the log line by line and the last
//! `output_limit` bytes of each stream are kept as evidence. Never through a shell
//! unless `shell = true`. The program runs in its own process group, killed whole when
//! the step times out or the run is stopped (Ctrl-C, the TUI quitting).
//!
//! ```toml
//! [[phases.steps]]
//! id = "app-migrate"
//! kind = "command"
//! run = ["php", "artisan", "migrate", "--force"]
//! cwd = "app"                         # relative to the runbook
//! env = { DATABASE_URL = "${env:PROD_DATABASE_URL}", APP_ENV = "production" }
//! timeout = 300                       # seconds (default 600)
//! success_codes = [0]                 # default [0]
//! target = "production"               # optional: the target it changes (locked, anchored)
//! ```

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use toml::de::DeValue;

const DEFAULT_TIMEOUT_SECS: u64 = 600;
const DEFAULT_OUTPUT_LIMIT: u64 = 64 * 1024;

struct EnvVar {
    name: String,
    /// As written in the runbook (shown); the value is never shown.
    written: String,
    value: String,
}

pub struct Command {
    argv: Vec<String>,
    /// `run` as written (`${env:...}` not expanded): what is shown.
    written: Vec<String>,
    shell: bool,
    cwd: PathBuf,
    env: Vec<EnvVar>,
    timeout: Duration,
    success_codes: Vec<i32>,
    output_limit: u64,
    target: Option<String>,
    /// A script under the runbook's directory that the command runs (approvals bind to it).
    script: Option<PathBuf>,
}

impl Command {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let shell = p.bool("shell")?.unwrap_or(false);
        let raw = p.raw("run").ok_or_else(|| {
            p.src.error(
                &p.span,
                format!(
                    "{} is missing `run`: the program and its arguments, run = [\"php\", \"artisan\", \"migrate\"]",
                    p.what
                ),
            )
        })?;
        let argv: Vec<String> = match (raw.get_ref(), shell) {
            (DeValue::String(s), true) => vec![s.to_string()],
            (DeValue::String(_), false) => {
                return Err(p.value_error(
                    raw,
                    "without `shell = true`, `run` is the program and its arguments as an array: run = [\"php\", \"artisan\", \"migrate\"] (splitting a string would need a shell)",
                ));
            }
            (DeValue::Array(_), true) => {
                return Err(p.value_error(
                    raw,
                    "with `shell = true`, `run` is one string the shell runs: run = \"make migrate && make seed\"",
                ));
            }
            (DeValue::Array(_), false) => p.str_list("run")?.unwrap_or_default(),
            (other, _) => {
                return Err(p.value_error(
                    raw,
                    format!(
                        "`run` must be an array of strings (or a string with shell = true), found {}",
                        other.type_str()
                    ),
                ));
            }
        };
        if argv.first().is_none_or(|a| a.trim().is_empty()) {
            return Err(p.value_error(raw, "`run` names no program"));
        }
        // `${env:NAME}` in the program's arguments: the value is a secret like an env one.
        let written = argv.clone();
        let argv = argv
            .iter()
            .map(|a| {
                let v = crate::runbook::interpolate_env(a).map_err(|m| p.value_error(raw, m))?;
                if a.contains("${") {
                    register(&v);
                }
                Ok(v)
            })
            .collect::<Result<Vec<_>>>()?;
        let cwd = match p.str("cwd")? {
            None => ctx.dir.to_path_buf(),
            Some(_) => {
                let dir = p.existing_path("cwd", ctx.dir)?.expect("present");
                if !dir.is_dir() {
                    return Err(p.error_at("cwd", format!("{} is not a directory", dir.display())));
                }
                dir
            }
        };
        let mut env = Vec::new();
        if let Some(t) = p.table("env")? {
            for (k, v) in t.entries() {
                let DeValue::String(s) = v.get_ref() else {
                    return Err(t.value_error(v, format!("env {} must be a string", k.get_ref())));
                };
                let value = crate::runbook::interpolate_env(s).map_err(|m| t.value_error(v, m))?;
                if s.contains("${") {
                    register(&value);
                }
                env.push(EnvVar {
                    name: k.get_ref().to_string(),
                    written: s.to_string(),
                    value,
                });
            }
        }
        let timeout = match p.raw("timeout").map(|v| (v, v.get_ref())) {
            None => Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            Some((_, DeValue::Float(f))) => {
                let secs: f64 = f.as_str().parse().unwrap_or(-1.0);
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(
                        p.error_at("timeout", "`timeout` must be a positive number of seconds")
                    );
                }
                Duration::from_secs_f64(secs)
            }
            Some(_) => match p.count("timeout")? {
                Some(0) | None => {
                    return Err(
                        p.error_at("timeout", "`timeout` must be a positive number of seconds")
                    );
                }
                Some(n) => Duration::from_secs(n),
            },
        };
        let success_codes = match p.raw("success_codes") {
            None => vec![0],
            Some(v) => {
                let one = |x: &toml::Spanned<DeValue<'_>>| match x.get_ref() {
                    DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                        .ok()
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| p.value_error(x, "an exit code must fit 32 bits")),
                    _ => Err(p.value_error(
                        x,
                        "`success_codes` must be an integer or an array of integers",
                    )),
                };
                match v.get_ref() {
                    DeValue::Array(a) if !a.is_empty() => {
                        a.iter().map(one).collect::<Result<Vec<_>>>()?
                    }
                    DeValue::Array(_) => return Err(p.value_error(v, "`success_codes` is empty")),
                    _ => vec![one(v)?],
                }
            }
        };
        let output_limit = match p.count("output_limit")? {
            Some(0) => {
                return Err(p.error_at("output_limit", "`output_limit` must be at least 1 byte"));
            }
            Some(n) => n,
            None => DEFAULT_OUTPUT_LIMIT,
        };
        let target = match p.str("target")? {
            Some(t) => {
                ctx.check_target(p, "target", &t)?;
                Some(t)
            }
            None => None,
        };
        let script = (!shell)
            .then(|| Path::new(&argv[0]))
            .filter(|a| a.components().count() > 1 && a.is_relative())
            .map(|a| cwd.join(a))
            .filter(|f| f.is_file() && f.starts_with(ctx.dir));
        Ok(Command {
            argv,
            written,
            shell,
            cwd,
            env,
            timeout,
            success_codes,
            output_limit,
            target,
            script,
        })
    }

    fn display(&self) -> String {
        let words: Vec<String> = self
            .written
            .iter()
            .map(|a| {
                if !self.shell
                    && (a.is_empty()
                        || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"'))
                {
                    format!("{a:?}")
                } else {
                    a.clone()
                }
            })
            .collect();
        let shown = crate::redact::scrub(&words.join(" "));
        if self.shell {
            format!("sh -c {shown:?}")
        } else {
            shown
        }
    }

    fn cwd_label(&self, dir: &Path) -> String {
        match self.cwd.strip_prefix(dir) {
            Ok(p) if p.as_os_str().is_empty() => ".".into(),
            Ok(p) => p.display().to_string(),
            Err(_) => self.cwd.display().to_string(),
        }
    }
}

/// A value taken from the environment is a secret until proven otherwise: scrubbed
/// from everything shown, logged or stored. A URL's secrets are its password and secret
/// parameters (its host and database stay readable, as for targets).
fn register(value: &str) {
    if value.contains("://") {
        crate::redact::register_url(value);
    } else {
        crate::redact::register_secret(value);
    }
}

/// Kills the command's whole process group unless it ended: on timeout, and when the
/// step's future is dropped (the run stopped with Ctrl-C, the TUI quit).
struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            // SAFETY: kill(2) with a negative pid signals the process group we created.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `limit` bytes of a stream, with its total size.
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
    total: u64,
}

impl Tail {
    fn push(&mut self, line: &[u8], limit: u64) {
        self.total += line.len() as u64;
        self.bytes.extend_from_slice(line);
        let limit = limit as usize;
        if self.bytes.len() > limit * 2 {
            let cut = self.bytes.len() - limit;
            self.bytes.drain(..cut);
        }
    }
    fn finish(mut self, limit: u64) -> (String, u64, bool) {
        let limit = limit as usize;
        if self.bytes.len() > limit {
            let cut = self.bytes.len() - limit;
            self.bytes.drain(..cut);
        }
        let text = crate::redact::scrub(&String::from_utf8_lossy(&self.bytes));
        (text, self.total, self.total > limit as u64)
    }
}

async fn pump<R: AsyncRead + Unpin>(
    reader: R,
    name: &'static str,
    step: String,
    events: crate::vocab::EventSink,
    limit: u64,
) -> Tail {
    let mut r = BufReader::new(reader);
    let mut tail = Tail::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                tail.push(&line, limit);
                let text = String::from_utf8_lossy(&line);
                let message = crate::redact::scrub(&format!("{name}: {}", text.trim_end()));
                tracing::info!(step = step.as_str(), "{message}");
                events.emit(crate::vocab::EngineEvent::StepLog {
                    step: step.clone(),
                    message,
                });
            }
        }
    }
    tail
}

#[async_trait]
impl Step for Command {
    fn kind(&self) -> &'static str {
        "command"
    }
    fn targets(&self) -> Vec<String> {
        self.target.iter().cloned().collect()
    }
    fn writes(&self) -> Vec<String> {
        self.target.iter().cloned().collect()
    }
    fn files_read(&self) -> Vec<PathBuf> {
        self.script.iter().cloned().collect()
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let mut line = format!(
            "run {} (timeout {}s, success exit {})",
            self.display(),
            self.timeout.as_secs_f64(),
            self.success_codes
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        );
        if !self.env.is_empty() {
            let env: Vec<String> = self
                .env
                .iter()
                .map(|e| format!("{}={}", e.name, crate::redact::scrub(&e.written)))
                .collect();
            line.push_str(&format!("; env {}", env.join(" ")));
        }
        vec![line]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let (program, args): (&str, Vec<&str>) = if self.shell {
            ("sh", vec!["-c", self.argv[0].as_str()])
        } else {
            (
                self.argv[0].as_str(),
                self.argv[1..].iter().map(String::as_str).collect(),
            )
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(&args)
            .current_dir(&self.cwd)
            .envs(self.env.iter().map(|e| (&e.name, &e.value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let shown = self.display();
        ctx.log(format!("running {shown} in {}", self.cwd_label(ctx.dir)));
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::bad_input(format!(
                    "program \"{program}\" not found (looked in PATH{}, from {})",
                    if program.contains('/') {
                        " and as a path"
                    } else {
                        ""
                    },
                    self.cwd.display()
                ))
                .with_hint("install it, or name it by its full path in `run`")
            } else {
                Error::runtime(format!("cannot start {shown}: {e}"))
            }
        })?;
        let mut guard = GroupGuard {
            pgid: child.id().map(|p| p as i32),
        };
        let out = tokio::spawn(pump(
            child.stdout.take().expect("piped"),
            "stdout",
            ctx.step_id.to_string(),
            ctx.events.clone(),
            self.output_limit,
        ));
        let err = tokio::spawn(pump(
            child.stderr.take().expect("piped"),
            "stderr",
            ctx.step_id.to_string(),
            ctx.events.clone(),
            self.output_limit,
        ));
        let status = tokio::select! {
            s = child.wait() => Some(s.map_err(|e| Error::runtime(format!("waiting for {shown}: {e}")))?),
            _ = tokio::time::sleep(self.timeout) => None,
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let Some(status) = status else {
            guard.kill();
            let _ = child.wait().await;
            let (_, stderr) = collect(out, err, self.output_limit).await;
            let last = stderr.0.lines().rev().find(|l| !l.trim().is_empty());
            return Err(Error::runtime(format!(
                "{shown} timed out after {}s and was killed (its whole process group){}",
                self.timeout.as_secs_f64(),
                last.map(|l| format!("; last stderr line: {l}"))
                    .unwrap_or_default()
            ))
            .with_hint("raise `timeout` if it needs longer, or find what it waits on"));
        };
        // The program ended; output still held by processes it left behind is not waited for.
        let (stdout, stderr) = collect(out, err, self.output_limit).await;
        guard.pgid = None;
        use std::os::unix::process::ExitStatusExt;
        let exit_code = status.code();
        let signal = status.signal();
        let passed = exit_code.is_some_and(|c| self.success_codes.contains(&c));
        let evidence = CommandEvidence {
            command: shown.clone(),
            shell: self.shell,
            cwd: self.cwd_label(ctx.dir),
            env: self
                .env
                .iter()
                .map(|e| format!("{}={}", e.name, crate::redact::scrub(&e.written)))
                .collect(),
            exit_code,
            signal,
            success_codes: self.success_codes.clone(),
            elapsed_ms,
            stdout: stdout.0,
            stdout_bytes: stdout.1,
            stdout_truncated: stdout.2,
            stderr: stderr.0,
            stderr_bytes: stderr.1,
            stderr_truncated: stderr.2,
        };
        let ended = match (exit_code, signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "ended".into(),
        };
        let summary = format!(
            "{shown}: {ended} ({} stdout, {} stderr byte(s))",
            evidence.stdout_bytes, evidence.stderr_bytes
        );
        let mut outcome = StepOutcome::ok(summary, evidence.clone());
        if !passed {
            let last = evidence
                .stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .or_else(|| evidence.stdout.lines().rev().find(|l| !l.trim().is_empty()));
            outcome.failure = Some(format!(
                "{shown} ended with {ended}, success is exit {}{}",
                self.success_codes
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                last.map(|l| format!("; last output: {l}"))
                    .unwrap_or_default()
            ));
        }
        Ok(outcome)
    }
}

type Joined = tokio::task::JoinHandle<Tail>;

/// The streams' tails: (text, total bytes, truncated) for stdout and stderr. Waits at
/// most 2 s for the pipes to close after the program ended (a child it left running
/// may hold them open).
async fn collect(
    out: Joined,
    err: Joined,
    limit: u64,
) -> ((String, u64, bool), (String, u64, bool)) {
    let grace = Duration::from_secs(2);
    let get = |h: Joined| async move {
        match tokio::time::timeout(grace, h).await {
            Ok(Ok(t)) => t.finish(limit),
            _ => (String::new(), 0, false),
        }
    };
    let o = get(out).await;
    let e = get(err).await;
    (o, e)
}

/// What a command did: how it was run (never an environment value), how it ended,
/// and the last bytes of its output.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CommandEvidence {
    /// The program and arguments as run (secrets scrubbed).
    pub command: String,
    pub shell: bool,
    /// Relative to the runbook's directory.
    pub cwd: String,
    /// NAME=value as written in the runbook (`${env:...}` stays as written).
    pub env: Vec<String>,
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    pub success_codes: Vec<i32>,
    pub elapsed_ms: u64,
    /// The last `output_limit` bytes of standard output (secrets scrubbed).
    pub stdout: String,
    pub stdout_bytes: u64,
    pub stdout_truncated: bool,
    pub stderr: String,
    pub stderr_bytes: u64,
    pub stderr_truncated: bool,
}
