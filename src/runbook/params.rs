//! Typed access to a TOML table that remembers which keys were read, so that any key
//! nobody asked for is reported as unknown with its file:line:col and the keys expected.

use super::source::SourceFile;
use crate::error::{Error, Result};
use std::cell::RefCell;
use std::ops::Range;
use std::path::PathBuf;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub struct Params<'a> {
    pub src: &'a SourceFile,
    table: &'a DeTable<'a>,
    pub span: Range<usize>,
    /// What this table is, for messages: `step "backup-prod"`, `[policy]`.
    pub what: String,
    known: RefCell<Vec<&'static str>>,
}

impl<'a> Params<'a> {
    pub fn new(
        src: &'a SourceFile,
        table: &'a DeTable<'a>,
        span: Range<usize>,
        what: impl Into<String>,
    ) -> Self {
        Params {
            src,
            table,
            span,
            what: what.into(),
            known: RefCell::new(Vec::new()),
        }
    }

    /// The same table described differently in messages.
    pub fn named(self, what: impl Into<String>) -> Self {
        Params {
            what: what.into(),
            ..self
        }
    }

    fn note(&self, key: &'static str) {
        let mut k = self.known.borrow_mut();
        if !k.contains(&key) {
            k.push(key);
        }
    }

    pub fn raw(&self, key: &'static str) -> Option<&'a Spanned<DeValue<'a>>> {
        self.note(key);
        self.table.get(key)
    }

    pub fn has(&self, key: &'static str) -> bool {
        self.raw(key).is_some()
    }

    pub fn error_at(&self, key: &'static str, msg: impl std::fmt::Display) -> Error {
        match self.table.get_key_value(key) {
            Some((k, _)) => self.src.error(&k.span(), msg),
            None => self.src.error(&self.span, msg),
        }
    }

    pub fn value_error(&self, v: &Spanned<DeValue<'_>>, msg: impl std::fmt::Display) -> Error {
        self.src.error(&v.span(), msg)
    }

    fn type_error(&self, key: &str, v: &Spanned<DeValue<'_>>, expected: &str) -> Error {
        self.src.error(
            &v.span(),
            format!(
                "`{key}` in {} must be {expected}, found {}",
                self.what,
                v.get_ref().type_str()
            ),
        )
    }

    pub fn str(&self, key: &'static str) -> Result<Option<String>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some(s.to_string())),
                _ => Err(self.type_error(key, v, "a string")),
            },
        }
    }

    pub fn req_str(&self, key: &'static str) -> Result<String> {
        self.str(key)?.ok_or_else(|| {
            self.src
                .error(&self.span, format!("{} is missing `{key}`", self.what))
        })
    }

    pub fn int(&self, key: &'static str) -> Result<Option<i64>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                    .map(Some)
                    .map_err(|_| self.type_error(key, v, "an integer that fits 64 bits")),
                _ => Err(self.type_error(key, v, "an integer")),
            },
        }
    }

    /// A count: an integer that cannot be negative.
    pub fn count(&self, key: &'static str) -> Result<Option<u64>> {
        match self.int(key)? {
            Some(n) if n < 0 => {
                let v = self.raw(key).expect("present");
                Err(self.value_error(
                    v,
                    format!(
                        "`{key}` in {} is a count and cannot be negative, found {n}",
                        self.what
                    ),
                ))
            }
            other => Ok(other.map(|n| n as u64)),
        }
    }

    pub fn bool(&self, key: &'static str) -> Result<Option<bool>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => v
                .get_ref()
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.type_error(key, v, "true or false")),
        }
    }

    /// A string or an array of strings.
    pub fn str_list(&self, key: &'static str) -> Result<Option<Vec<String>>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some(vec![s.to_string()])),
                DeValue::Array(a) => a
                    .iter()
                    .map(|x| match x.get_ref() {
                        DeValue::String(s) => Ok(s.to_string()),
                        _ => Err(self.type_error(key, x, "a string")),
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Some),
                _ => Err(self.type_error(key, v, "a string or an array of strings")),
            },
        }
    }

    /// A sub-table as Params.
    pub fn table(&self, key: &'static str) -> Result<Option<Params<'a>>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Table(t) => Ok(Some(Params::new(
                    self.src,
                    t,
                    v.span(),
                    format!("{}.{key}", self.what),
                ))),
                _ => Err(self.type_error(key, v, "a table")),
            },
        }
    }

    /// An array of tables (`[[key]]`), each as Params.
    pub fn tables(&self, key: &'static str) -> Result<Vec<Params<'a>>> {
        match self.raw(key) {
            None => Ok(Vec::new()),
            Some(v) => match v.get_ref() {
                DeValue::Array(a) => a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| match x.get_ref() {
                        DeValue::Table(t) => Ok(Params::new(
                            self.src,
                            t,
                            x.span(),
                            format!("{key}[{}]", i + 1),
                        )),
                        _ => Err(self.type_error(key, x, "a table")),
                    })
                    .collect(),
                _ => Err(self.type_error(key, v, "an array of tables ([[...]])")),
            },
        }
    }

    /// The keys of this table, for free-form maps such as `[targets]`.
    pub fn entries(
        &self,
    ) -> impl Iterator<
        Item = (
            &'a Spanned<std::borrow::Cow<'a, str>>,
            &'a Spanned<DeValue<'a>>,
        ),
    > {
        self.table.iter()
    }

    /// A file path relative to the runbook's directory; it must exist.
    pub fn existing_path(
        &self,
        key: &'static str,
        base: &std::path::Path,
    ) -> Result<Option<PathBuf>> {
        let Some(s) = self.str(key)? else {
            return Ok(None);
        };
        let p = base.join(&s);
        if !p.exists() {
            let v = self.raw(key).expect("present");
            return Err(self.value_error(
                v,
                format!(
                    "`{key}` names \"{s}\", which does not exist (looked in {})",
                    p.display()
                ),
            ));
        }
        Ok(Some(p))
    }

    /// Report the first key nobody read as unknown.
    pub fn finish(&self) -> Result<()> {
        let known = self.known.borrow();
        for (k, _) in self.table.iter() {
            if !known.iter().any(|x| *x == k.get_ref().as_ref()) {
                let mut expected: Vec<&str> = known.clone();
                expected.sort();
                return Err(self.src.error(
                    &k.span(),
                    format!(
                        "unknown key `{}` in {}; expected one of {}",
                        k.get_ref(),
                        self.what,
                        expected.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}
