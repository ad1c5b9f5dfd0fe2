//! Who may approve: a roster mapping people to roles (and, for signed approvals, to
//! their SSH public keys), in the runbook's `[policy.roster]` or a file it names:
//!
//! ```toml
//! [policy.roster]
//! dana = ["dba"]
//! erin = { roles = ["lead"], key = "ssh-ed25519 AAAA... erin@laptop" }
//! ```
//!
//! or `[policy] roster = "roster.toml"`, whose top level holds the same entries.

use super::{Params, SourceFile};
use crate::error::Result;
use crate::vocab::identity::normalize_name;
use std::path::PathBuf;
use toml::de::{DeTable, DeValue};

#[derive(Debug, Clone, PartialEq)]
pub struct RosterEntry {
    /// The name as written in the roster.
    pub name: String,
    pub roles: Vec<String>,
    /// `ssh-ed25519 AAAA...` (OpenSSH public key line), checked when parsed.
    pub key: Option<String>,
    /// file:line:col of the entry.
    pub location: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Roster {
    /// The roster file, when `roster = "FILE"` names one (its content then binds
    /// approvals like the runbook's own).
    pub file: Option<PathBuf>,
    /// Where the roster is, for messages: the file, or the runbook's `[policy.roster]`.
    pub source: String,
    pub people: Vec<RosterEntry>,
}

impl Roster {
    /// The entry for a person, names compared normalized (case, spaces, Unicode).
    pub fn find(&self, name: &str) -> Option<&RosterEntry> {
        let n = normalize_name(name);
        self.people.iter().find(|e| normalize_name(&e.name) == n)
    }

    /// Read the `roster` key of `[policy]`: a table, or the path of a roster file.
    pub fn parse(p: &Params, dir: &std::path::Path, require_keys: bool) -> Result<Option<Roster>> {
        let Some(v) = p.raw("roster") else {
            return Ok(None);
        };
        match v.get_ref() {
            DeValue::Table(t) => {
                let what = format!("{}.roster", p.what);
                let people = entries(p.src, t, &what, require_keys)?;
                Ok(Some(Roster {
                    file: None,
                    source: format!("[policy.roster] in {}", p.src.display),
                    people,
                }))
            }
            DeValue::String(f) => {
                let path = dir.join(f.as_ref());
                let src = SourceFile::read(&path).map_err(|e| {
                    p.value_error(v, format!("cannot read the roster file \"{f}\": {}", e.message))
                })?;
                let doc = DeTable::parse(&src.text).map_err(|e| {
                    let span = e.span().unwrap_or(0..0);
                    src.error(&span, format!("invalid TOML: {}", e.message().trim()))
                })?;
                let people = entries(&src, doc.get_ref(), "the roster", require_keys)?;
                Ok(Some(Roster {
                    file: Some(path),
                    source: src.display.clone(),
                    people,
                }))
            }
            other => Err(p.value_error(
                v,
                format!(
                    "`roster` must be a table of NAME = [\"role\", ...] or the path of a roster file, found {}",
                    other.type_str()
                ),
            )),
        }
    }
}

fn entries(
    src: &SourceFile,
    table: &DeTable<'_>,
    what: &str,
    require_keys: bool,
) -> Result<Vec<RosterEntry>> {
    let mut people: Vec<RosterEntry> = Vec::new();
    for (k, v) in table.iter() {
        let name = k.get_ref().to_string();
        let location = src.location(&k.span());
        if normalize_name(&name).is_empty() {
            return Err(src.error(&k.span(), format!("{what}: an empty name")));
        }
        if let Some(prev) = people
            .iter()
            .find(|e| normalize_name(&e.name) == normalize_name(&name))
        {
            return Err(src.error(
                &k.span(),
                format!(
                    "{what}: \"{name}\" is the same person as \"{}\" at {} (names compare ignoring case, spaces and Unicode forms)",
                    prev.name, prev.location
                ),
            ));
        }
        let (roles, key) = match v.get_ref() {
            DeValue::String(r) => (vec![r.to_string()], None),
            DeValue::Array(a) => {
                let mut roles = Vec::new();
                for x in a.iter() {
                    match x.get_ref() {
                        DeValue::String(r) => roles.push(r.to_string()),
                        other => {
                            return Err(src.error(
                                &x.span(),
                                format!(
                                    "{what} entry \"{name}\": a role must be a string, found {}",
                                    other.type_str()
                                ),
                            ));
                        }
                    }
                }
                (roles, None)
            }
            DeValue::Table(t) => {
                let tp = Params::new(src, t, v.span(), format!("{what} entry \"{name}\""));
                let roles = tp.str_list("roles")?.unwrap_or_default();
                let key = tp.str("key")?;
                if let Some(kv) = &key {
                    parse_key(kv).map_err(|m| tp.error_at("key", m))?;
                }
                tp.finish()?;
                (roles, key)
            }
            other => {
                return Err(src.error(
                    &v.span(),
                    format!(
                        "{what} entry \"{name}\" must be a list of roles or a table with `roles` and `key`, found {}",
                        other.type_str()
                    ),
                ));
            }
        };
        if roles.is_empty() {
            return Err(src.error(&v.span(), format!("{what} entry \"{name}\" has no roles")));
        }
        if require_keys && key.is_none() {
            return Err(src.error(
                &v.span(),
                format!(
                    "{what} entry \"{name}\" has no `key`, but the policy sets require_signatures = true: write it as {name} = {{ roles = [...], key = \"ssh-ed25519 AAAA...\" }}"
                ),
            ));
        }
        people.push(RosterEntry {
            name,
            roles,
            key,
            location,
        });
    }
    Ok(people)
}

/// An OpenSSH public key line, which must be ed25519.
pub fn parse_key(line: &str) -> std::result::Result<ssh_key::PublicKey, String> {
    let key = ssh_key::PublicKey::from_openssh(line.trim())
        .map_err(|e| format!("not an OpenSSH public key (\"ssh-ed25519 AAAA...\"): {e}"))?;
    if key.algorithm() != ssh_key::Algorithm::Ed25519 {
        return Err(format!(
            "the key is {}; signed approvals use ed25519 keys (ssh-keygen -t ed25519)",
            key.algorithm()
        ));
    }
    Ok(key)
}
