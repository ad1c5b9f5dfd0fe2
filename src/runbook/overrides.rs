//! Target URLs given on the command line in place of the runbook's.

use crate::db::Dialect;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Target URLs given on the command line (`--target NAME=URL`) in place of the
/// runbook's: each NAME must be a target the runbook declares.
#[derive(Debug, Clone, Default)]
pub struct TargetOverrides {
    /// Target name to URL, as given. A relative SQLite path is taken from the
    /// current directory, like any path on the command line.
    pub urls: BTreeMap<String, String>,
}

impl TargetOverrides {
    /// Parse `NAME=URL` arguments; a repeated NAME or a missing `=` is bad input.
    pub fn parse(args: &[String]) -> Result<TargetOverrides> {
        let mut urls = BTreeMap::new();
        for a in args {
            let Some((name, url)) = a.split_once('=') else {
                return Err(Error::bad_input(format!(
                    "--target expects NAME=URL (e.g. production=postgres://db/app), got \"{}\"",
                    crate::redact::scrub(a)
                )));
            };
            let (name, url) = (name.trim(), url.trim());
            crate::redact::register_url(url);
            if name.is_empty() || url.is_empty() {
                return Err(Error::bad_input(format!(
                    "--target expects NAME=URL, got \"{}\"",
                    crate::redact::scrub(a)
                )));
            }
            if urls.insert(name.to_string(), url.to_string()).is_some() {
                return Err(Error::bad_input(format!(
                    "--target {name}=... is given twice"
                )));
            }
        }
        Ok(TargetOverrides { urls })
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// The URL and dialect for target `name` when it is overridden.
    pub(super) fn resolve(&self, name: &str) -> Result<Option<(String, Dialect)>> {
        let Some(url) = self.urls.get(name) else {
            return Ok(None);
        };
        crate::redact::check_url(url)
            .map_err(|m| Error::bad_input(format!("--target {name}: {m}")))?;
        let dialect = crate::db::dialect_of(url)
            .map_err(|e| Error::bad_input(format!("--target {name}: {}", e.message)))?;
        let url = if dialect.sql().is_file() {
            super::resolve_sqlite_url(url, &std::env::current_dir().unwrap_or_default())
        } else {
            url.clone()
        };
        Ok(Some((url, dialect)))
    }
}
