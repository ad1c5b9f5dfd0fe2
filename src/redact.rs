//! Passwords never reach a terminal, a log, the ledger or a report.
//!
//! Two layers: [`redact_url`] rewrites a connection URL's password to `***`, and every
//! password seen in a target URL is registered so that [`scrub`] can remove it from any
//! text (driver error messages, logs) before it is shown or stored.

use std::sync::{OnceLock, RwLock};

fn secrets() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Remember a secret so that `scrub` removes it from any text.
pub fn register_secret(secret: &str) {
    if secret.len() < 3 {
        // Very short secrets would mangle ordinary text; URL redaction still hides them.
        return;
    }
    let mut s = secrets().write().unwrap_or_else(|e| e.into_inner());
    if !s.iter().any(|x| x == secret) {
        s.push(secret.to_string());
        let decoded = percent_decode(secret);
        if decoded != secret && decoded.len() >= 3 {
            s.push(decoded);
        }
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Return `url` with any password replaced by `***`. Works on non-URL text too:
/// every `scheme://user:password@` occurrence is rewritten.
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // userinfo ends at '@' before any '/', '?' or whitespace
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some(colon) = userinfo.find(':') {
                out.push_str(&userinfo[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            } else {
                out.push_str(authority);
            }
        } else {
            out.push_str(authority);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Remove every registered secret and URL password from `text`.
pub fn scrub(text: &str) -> String {
    let mut out = redact_url(text);
    let s = secrets().read().unwrap_or_else(|e| e.into_inner());
    for secret in s.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

/// Register the password of a URL (if any) and return the redacted form.
pub fn register_url(url: &str) -> String {
    if let Ok(u) = url::Url::parse(url)
        && let Some(p) = u.password()
    {
        register_secret(p);
    }
    redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password_in_urls() {
        assert_eq!(
            redact_url("postgres://alice:s3cret@db:5432/app?sslmode=disable"),
            "postgres://alice:***@db:5432/app?sslmode=disable"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1/x"),
            "mysql://root@127.0.0.1/x"
        );
        assert_eq!(redact_url("sqlite://prod.db"), "sqlite://prod.db");
        assert_eq!(
            redact_url("error connecting to postgres://u:p%40ss@h/db: refused"),
            "error connecting to postgres://u:***@h/db: refused"
        );
    }

    #[test]
    fn scrub_removes_registered_secrets_anywhere() {
        register_url("postgres://bob:hunter2-xyz@h/db");
        assert_eq!(
            scrub("password hunter2-xyz rejected"),
            "password *** rejected"
        );
    }
}
