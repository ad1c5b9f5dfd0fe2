//! What a step kind's builder may ask while it is built from its table in the runbook.

use super::Params;
use crate::db::Dialect;
use crate::error::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// What a step kind needs to know while it is built from the runbook.
pub struct BuildContext<'a> {
    pub dir: &'a Path,
    /// Names of the runbook's targets.
    pub targets: &'a [String],
    /// Each target's engine.
    pub dialects: &'a BTreeMap<String, Dialect>,
    /// The steps before this one in run order (phases, then rollback phases): id, kind.
    pub earlier: &'a [(String, String)],
    /// Is the step in a rollback phase?
    pub rollback: bool,
}

impl BuildContext<'_> {
    /// Read a `target`-like key and check it names a declared target.
    pub fn target(&self, p: &Params, key: &'static str) -> Result<String> {
        let name = p.req_str(key)?;
        self.check_target(p, key, &name)?;
        Ok(name)
    }
    /// Read a `target`-like key naming a declared target whose engine `supported`
    /// accepts; otherwise the error says `what` is not supported on that engine.
    pub fn target_on(
        &self,
        p: &Params,
        key: &'static str,
        supported: fn(Dialect) -> bool,
        what: &str,
    ) -> Result<String> {
        let name = self.target(p, key)?;
        if let Some(&d) = self.dialects.get(&name)
            && !supported(d)
        {
            let v = p.raw(key).expect("present");
            return Err(p.value_error(
                v,
                format!(
                    "{what} of {} targets is not supported (target \"{name}\")",
                    d.name()
                ),
            ));
        }
        Ok(name)
    }

    /// The kind of the step `id` built before this one, if any.
    pub fn earlier_kind(&self, id: &str) -> Option<&str> {
        self.earlier
            .iter()
            .rev()
            .find(|(i, _)| i == id)
            .map(|(_, k)| k.as_str())
    }

    pub fn check_target(&self, p: &Params, key: &'static str, name: &str) -> Result<()> {
        if !self.targets.iter().any(|t| t == name) {
            let msg = format!(
                "unknown target \"{name}\"; declared targets are {}",
                self.targets.join(", ")
            );
            return Err(match p.raw(key) {
                Some(v) => p.value_error(v, msg),
                None => p.error_at(key, msg),
            });
        }
        Ok(())
    }
}
