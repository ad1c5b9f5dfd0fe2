//! Signed approvals: the message an approval's SSH signature covers (SSHSIG,
//! namespace "cutover", verifiable with `ssh-keygen -Y verify`), signing with a key
//! file, and checking recorded decisions against the roster's keys.

use crate::error::{Error, Result};
use crate::ledger::{Approval, Decision, RunState};
use crate::steps::Runbook;
use std::path::Path;

/// The SSHSIG namespace of approval signatures (`ssh-keygen -Y verify -n cutover`).
pub const SIGNATURE_NAMESPACE: &str = "cutover";

/// The message an approval's SSH signature covers.
pub fn signed_message(
    run_id: &str,
    checkpoint: &str,
    evidence_hash: &str,
    decision: Decision,
    approver: &str,
    role: &str,
) -> String {
    format!(
        "cutover approval v1\nrun: {run_id}\ncheckpoint: {checkpoint}\nevidence: {evidence_hash}\ndecision: {decision}\napprover: {approver}\nrole: {role}\n"
    )
}

/// Sign `message` with the OpenSSH private key at `key_path` (SSHSIG, armored).
pub fn sign(key_path: &Path, message: &str) -> Result<String> {
    let key = ssh_key::PrivateKey::read_openssh_file(key_path).map_err(|e| {
        Error::bad_input(format!(
            "{}: cannot read an OpenSSH private key: {e}",
            key_path.display()
        ))
    })?;
    if key.is_encrypted() {
        return Err(Error::bad_input(format!(
            "{}: the key is protected by a passphrase, which cutover cannot prompt for",
            key_path.display()
        ))
        .with_hint("sign with an unencrypted ed25519 key kept for approvals (ssh-keygen -t ed25519 -N '' -f ~/.ssh/cutover_approvals)"));
    }
    if key.algorithm() != ssh_key::Algorithm::Ed25519 {
        return Err(Error::bad_input(format!(
            "{}: the key is {}; signed approvals use ed25519 keys",
            key_path.display(),
            key.algorithm()
        )));
    }
    let sig = key
        .sign(
            SIGNATURE_NAMESPACE,
            ssh_key::HashAlg::Sha512,
            message.as_bytes(),
        )
        .map_err(|e| Error::runtime(format!("signing with {}: {e}", key_path.display())))?;
    sig.to_pem(ssh_key::LineEnding::LF)
        .map_err(|e| Error::runtime(format!("encoding the signature: {e}")))
}

/// Check an armored SSHSIG over `message` against an OpenSSH public key line.
pub fn verify_signature(
    public_key: &str,
    message: &str,
    signature: &str,
) -> std::result::Result<(), String> {
    let key = crate::runbook::parse_key(public_key)?;
    let sig = ssh_key::SshSig::from_pem(signature.trim())
        .map_err(|e| format!("not an SSH signature: {e}"))?;
    key.verify(SIGNATURE_NAMESPACE, message.as_bytes(), &sig)
        .map_err(|_| "the signature does not verify with the roster's key".to_string())
}

/// Why a recorded decision does not count under the policy (roster, signature), if so.
pub fn invalid_because(runbook: &Runbook, run_id: &str, a: &Approval) -> Option<String> {
    let policy = &runbook.policy;
    let entry = match &policy.roster {
        Some(r) => match r.find(&a.approver) {
            None => return Some(format!("{} is not on the roster", a.approver)),
            Some(e) if !e.roles.contains(&a.role) => {
                return Some(format!(
                    "the roster does not give {} the role {}",
                    a.approver, a.role
                ));
            }
            Some(e) => Some(e),
        },
        None => None,
    };
    if policy.require_signatures || a.signature.is_some() {
        let Some(sig) = &a.signature else {
            return Some("unsigned, and the policy requires signatures".into());
        };
        let Some(key) = entry.and_then(|e| e.key.as_deref()) else {
            return Some(format!(
                "signed, but the roster has no key for {}",
                a.approver
            ));
        };
        let msg = signed_message(
            run_id,
            &a.checkpoint,
            &a.evidence_hash,
            a.decision,
            &a.approver,
            &a.role,
        );
        if let Err(e) = verify_signature(key, &msg, sig) {
            return Some(e);
        }
    }
    None
}

/// Every recorded decision of a run whose signature or roster standing fails, as
/// (ledger seq, reason): what `audit verify` reports.
pub fn signature_problems(runbook: &Runbook, state: &RunState) -> Vec<(i64, String)> {
    state
        .approvals
        .iter()
        .filter(|a| runbook.policy.require_signatures || a.signature.is_some())
        .filter_map(|a| invalid_because(runbook, &state.run_id, a).map(|why| (a.seq, why)))
        .collect()
}
