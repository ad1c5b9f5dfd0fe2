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

/// Query parameters whose values are secrets (compared case-insensitively).
const SECRET_PARAMS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "sslpassword",
    "secret",
    "token",
    "auth_token",
    "access_token",
    "api_key",
    "apikey",
];

fn is_secret_param(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    SECRET_PARAMS.contains(&key.as_str())
}

/// Where a URL written in text ends: at whitespace or a quote or bracket.
fn token_end(s: &str) -> usize {
    s.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')' | ']'))
        .unwrap_or(s.len())
}

/// The userinfo of a URL's tail (after `scheme://`): everything before the last `@`
/// that has a `:` in it, so that an unencoded `@`, `/`, `?` or `#` inside a password
/// still counts as part of it. Returns (user, password, rest after '@').
fn split_userinfo(tail: &str) -> Option<(&str, &str, &str)> {
    let at = tail.rfind('@')?;
    let userinfo = &tail[..at];
    let colon = userinfo.find(':')?;
    let user = &userinfo[..colon];
    // A user name never holds '/', '?' or '#': then this '@' belongs to something else.
    if user.contains(['/', '?', '#']) {
        return None;
    }
    Some((user, &userinfo[colon + 1..], &tail[at + 1..]))
}

/// Replace the values of secret query parameters (`?password=…`, `&sslpassword=…`).
fn redact_params(rest: &str) -> String {
    let Some(q) = rest.find('?') else {
        return rest.to_string();
    };
    let (head, query) = rest.split_at(q + 1);
    let mut out = head.to_string();
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((k, _)) if is_secret_param(k) => {
                out.push_str(k);
                out.push_str("=***");
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// Return `url` with any password replaced by `***`: the userinfo password and the
/// values of secret query parameters. Works on non-URL text too: every
/// `scheme://…` occurrence is rewritten up to the next whitespace or quote.
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let mut end = token_end(tail);
        // `user:pass word@host`: a password with a space ends the token early. When
        // the authority so far is `user:something` (not `host:port`) and an '@'
        // follows on the same line, the userinfo runs to that '@'.
        let authority = tail[..end].split('/').next().unwrap_or("");
        if !authority.contains('@')
            && let Some((_, after_colon)) = authority.split_once(':')
            && !after_colon.chars().all(|c| c.is_ascii_digit())
        {
            let line_end = tail.find('\n').unwrap_or(tail.len());
            if let Some(at) = tail[end..line_end].find('@') {
                end = token_end(&tail[end + at..]) + end + at;
            }
        }
        let token = &tail[..end];
        match split_userinfo(token) {
            Some((user, _, after)) => {
                out.push_str(user);
                out.push_str(":***@");
                out.push_str(&redact_params(after));
            }
            None => out.push_str(&redact_params(token)),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    // `password=…` outside a URL (a key=value connection string, a driver message).
    scrub_key_values(&out)
}

/// `password=VALUE` and `password: VALUE` pairs in free text.
fn scrub_key_values(text: &str) -> String {
    // The common case (a diff line, a plan line) holds no such key: leave it untouched.
    let lower = text.to_ascii_lowercase();
    if !lower.contains("password") && !lower.contains("pwd=") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let mut matched = None;
        for key in ["password=", "sslpassword=", "password: ", "pwd="] {
            if lower[i..].starts_with(key) {
                let prev = lower[..i].chars().last();
                if prev.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_') {
                    matched = Some(key.len());
                    break;
                }
            }
        }
        match matched {
            Some(k) => {
                out.push_str(&text[i..i + k]);
                let v = &text[i + k..];
                let end = v
                    .find(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | ',' | '"' | '\''))
                    .unwrap_or(v.len());
                if v[..end] == *"***" || end == 0 {
                    out.push_str(&v[..end]);
                } else {
                    out.push_str("***");
                }
                i += k + end;
            }
            None => {
                let c = text[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// Why a URL cannot be used as written, without repeating its secret: a password with
/// an unencoded character that ends the userinfo for a URL parser (the driver would
/// read a different password, host or database than the one written).
pub fn check_url(url: &str) -> Result<(), String> {
    let Some(pos) = url.find("://") else {
        return Ok(());
    };
    let Some((user, password, _)) = split_userinfo(&url[pos + 3..]) else {
        return Ok(());
    };
    let bad: Vec<String> = ['/', '?', '#', '@', ' ', '%']
        .iter()
        .filter(|c| match c {
            // '%' is fine as the start of an escape.
            '%' => password.match_indices('%').any(|(i, _)| {
                let h = password.as_bytes().get(i + 1..i + 3);
                !h.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
            }),
            c => password.contains(**c),
        })
        .map(|c| match c {
            ' ' => "a space (%20)".to_string(),
            c => format!("'{c}' (%{:02X})", *c as u32),
        })
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the password of user \"{user}\" in this URL contains {} unencoded; percent-encode it in the URL",
        bad.join(", ")
    ))
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

/// Register every secret of a URL (its password, however written, and secret query
/// parameters) and return the redacted form.
pub fn register_url(url: &str) -> String {
    if let Some(pos) = url.find("://") {
        let tail = &url[pos + 3..];
        let rest = match split_userinfo(tail) {
            Some((_, password, rest)) => {
                register_secret(password);
                rest
            }
            None => tail,
        };
        if let Some((_, query)) = rest.split_once('?') {
            for pair in query.split('&') {
                if let Some((k, v)) = pair.split_once('=')
                    && is_secret_param(k)
                {
                    register_secret(v);
                }
            }
        }
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

    /// Every way a password can be written into a URL, with the secret it holds.
    pub(crate) const URL_FORMS: &[(&str, &str)] = &[
        ("postgres://alice:Pw0rd-One@db:5432/app", "Pw0rd-One"),
        (
            "postgresql://alice:Pw0rd-Two@db/app?sslmode=disable",
            "Pw0rd-Two",
        ),
        (
            "postgres://db/app?user=alice&password=Pw0rd-Three",
            "Pw0rd-Three",
        ),
        (
            "postgres://alice@db/app?sslmode=require&sslpassword=Pw0rd-Four",
            "Pw0rd-Four",
        ),
        ("postgres://alice:Pw%23rd-Five@db/app", "Pw%23rd-Five"),
        ("postgres://alice:Pw#rd-Six@db/app", "Pw#rd-Six"),
        ("postgres://alice:Pw/rd-Seven@db/app", "Pw/rd-Seven"),
        ("postgres://alice:Pw?rd-Eight@db/app", "Pw?rd-Eight"),
        ("postgres://alice:Pw rd-Nine@db/app", "Pw rd-Nine"),
        ("postgres://alice:Pw@rd-Ten@db/app", "Pw@rd-Ten"),
        (
            "mysql://root:Pw:rd-Eleven@127.0.0.1:3306/billing",
            "Pw:rd-Eleven",
        ),
        (
            "mariadb://root:Pw0rd-Twelve@h/db?ssl-mode=DISABLED",
            "Pw0rd-Twelve",
        ),
        (
            "mysql://root@h/db?password=Pw0rd-Thirteen&x=1",
            "Pw0rd-Thirteen",
        ),
        ("postgres://h/db?PASSWORD=Pw0rd-Fourteen", "Pw0rd-Fourteen"),
    ];

    #[test]
    fn every_url_form_is_redacted_without_registration() {
        for (url, secret) in URL_FORMS {
            let r = redact_url(url);
            assert!(!r.contains(secret), "{url} -> {r}");
            assert!(r.contains("***"), "{url} -> {r}");
            // In running text too.
            let t = redact_url(&format!("error connecting to {url}: refused"));
            assert!(!t.contains(secret), "{t}");
            assert!(t.ends_with(": refused") || t.contains("refused"), "{t}");
        }
    }

    #[test]
    fn registered_passwords_are_scrubbed_in_any_text() {
        for (url, secret) in URL_FORMS {
            register_url(url);
            let decoded = secret.replace("%23", "#");
            let text = format!("role \"x\" password {decoded} rejected");
            assert!(!scrub(&text).contains(&decoded), "{}", scrub(&text));
        }
    }

    #[test]
    fn unencoded_reserved_characters_are_refused_without_the_secret() {
        for url in [
            "postgres://alice:Pw#rd@db/app",
            "postgres://alice:Pw/rd@db/app",
            "postgres://alice:Pw?rd@db/app",
            "postgres://alice:Pw rd@db/app",
        ] {
            let e = check_url(url).expect_err(url);
            assert!(e.contains("percent-encode") && !e.contains("Pw"), "{e}");
        }
        assert!(check_url("postgres://alice:Pw%23rd@db/app").is_ok());
        assert!(check_url("postgres://alice@db/app?password=x").is_ok());
        assert!(check_url("sqlite://x.db").is_ok());
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        assert_eq!(redact_url("no urls here"), "no urls here");
        assert_eq!(
            redact_url("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable"
        );
        assert_eq!(scrub_key_values("passwords=3 ok"), "passwords=3 ok");
        assert_eq!(
            scrub_key_values("host=h password=abc user=u"),
            "host=h password=*** user=u"
        );
    }
}
