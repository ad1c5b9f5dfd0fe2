//! An "Examples:" section for every command's `--help`, kept in one table so each
//! command shows how it is typed without its file repeating the layout. Appended after
//! the command's own notes; the top-level help points at `cutover demo`.

use clap::Command;

/// (command path, examples, one per line; indentation is added when shown). A path is
/// the subcommand names joined by spaces.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("run", "\
  cutover run runbooks/lerg-cutover.toml                      # the terminal UI
  cutover run runbooks/lerg-cutover.toml --headless           # plain lines; exit 4 at a checkpoint
  cutover run cutover.toml --headless --wait --wait-timeout 3600
  cutover run cutover.toml --headless --approve-as dana:dba --approve-as quinn:qa
  cutover run cutover.toml --target production=postgres://app@db1/prod --headless
  cutover run cutover.toml --new --abandon \"plan changed\"      # leave the unfinished run behind"),
    ("approve", "\
  cutover approve cutover.toml --checkpoint plan-approved --as dana --role dba --comment \"diff reviewed\"
  cutover approve cutover.toml --checkpoint plan-approved --as dana --role dba --sign-with ~/.ssh/id_ed25519"),
    ("reject", "\
  cutover reject cutover.toml --checkpoint plan-approved --as dana --role dba --comment \"wrong window\""),
    ("status", "\
  cutover status cutover.toml
  cutover status cutover.toml --format json | jq .waiting_for
  cutover status cutover.toml --run 3f9c2a1b              # an earlier run (see `cutover runs`)"),
    ("rollback", "\
  cutover rollback cutover.toml --yes                    # every rollback phase
  cutover rollback cutover.toml --phase full-restore --yes
  cutover rollback cutover.toml --phase full-restore --wait --wait-timeout 1800"),
    ("unlock", "\
  cutover unlock cutover.toml --reason \"runner host lost; run 3f9c2a1b is gone\""),
    ("audit verify", "\
  cutover audit verify cutover.toml
  cutover audit verify --ledger postgres://audit@ledger-db/cutover"),
    ("audit export", "\
  cutover audit export cutover.toml > audit.jsonl
  cutover audit export cutover.toml --run 3f9c2a1b -o run.jsonl"),
    ("backup", "\
  cutover backup --target postgres://app@db1/prod --out backups/prod-2026-11-28
  cutover backup --target mysql://root@db2/billing --out backups/billing --tables invoices,payments
  cutover backup --target sqlite://production.db --out backups/prod"),
    ("restore", "\
  cutover restore --target postgres://app@db1/prod --from backups/prod-2026-11-28 --yes
  cutover restore --target sqlite://production.db --from backups/prod --tables lerg_codes --yes"),
    ("validate", "\
  cutover validate cutover.toml
  CUTOVER_PROD_URL=postgres://app@db1/prod cutover validate cutover.toml"),
    ("diff schema", "\
  cutover diff schema --source sqlite://staging.db --target sqlite://production.db
  cutover diff schema --source postgres://db1/app --target postgres://db2/app --format sql > plan.sql
  cutover diff schema --source postgres://db1/app --target postgres://db2/app --exclude cutover_backup"),
    ("diff data", "\
  cutover diff data --source sqlite://staging.db --target sqlite://production.db --table profiles
  cutover diff data --source postgres://db1/app --target mysql://root@db2/app --table orders --format json
  cutover diff data --source postgres://db1/app --target postgres://db2/app --table orders --emit-sql sync.sql
  cutover diff data --source postgres://db1/app --target postgres://db2/app --table orders --apply --yes"),
    ("copy", "\
  cutover copy --from postgres://db1/app --to postgres://db2/app --tables orders,customers
  cutover copy --from mysql://root@db2/billing --to postgres://db1/billing --tables invoices --create"),
    ("sync-check", "\
  cutover sync-check --source sqlite://main.db --target sqlite://local.db
  cutover sync-check --source sqlite://main.db --target sqlite://local.db --tables sites --updated-column updated_at --deep
  cutover sync-check --source sqlite://main.db --target sqlite://local.db --where \"orders=created_at >= '2026-01-01'\"
  cutover sync-check --source sqlite://main.db --target sqlite://local.db --format json"),
    ("demo", "\
  cutover demo                                    # the LERG cutover in the terminal UI
  cutover demo --headless --approve-as olu:ops,dana:dba,dev:deploy,quinn:qa,lee:lead   # the whole plan, each checkpoint by its owner
  cutover demo --headless                         # stops at the first checkpoint (exit 4)
  cutover demo --dir /tmp/lerg --no-run           # write the workspace only"),
    ("snapshot capture", "\
  cutover snapshot capture --target postgres://db1/app --out snapshots/prod.json
  cutover snapshot capture --target sqlite://production.db --out snapshots/prod.json --exclude 'cutover_*'"),
    ("snapshot compare", "\
  cutover snapshot compare snapshots/prod.json --target postgres://db1/app
  cutover snapshot compare snapshots/prod.json --target postgres://db1/app --format json"),
    ("runs", "\
  cutover runs cutover.toml
  cutover runs cutover.toml --format json"),
    ("completions", "\
  cutover completions bash > ~/.local/share/bash-completion/completions/cutover
  cutover completions zsh > \"${fpath[1]}/_cutover\"
  eval \"$(cutover completions bash)\"      # this shell only"),
    ("verify", "\
  cutover verify lerg --target production=sqlite://production.db --target staging=sqlite://staging.db
  cutover verify checks --target db=postgres://ci@localhost/app --format junit --output verify.xml
  cutover verify checks/billing.toml --target db=mysql://root@localhost/billing --format github --jobs 8"),
    ("lint", "\
  cutover lint migrations/
  cutover lint migrations/V7__drop_legacy.sql --dialect postgres
  cutover lint runbooks/billing-mysql/migrations --dialect mysql --format github
  cutover lint migrations/ --target postgres://app@db/main   # judge against its schema"),
    ("checklist", "\
  cutover checklist cutover.toml --item tech-login --pass --as quinn --note \"logged in on iOS and Android\"
  cutover checklist cutover.toml --item scanner-mobile --fail --as quinn --note \"camera permission prompt loops\""),
    ("init", "\
  cutover init billing-cutover                     # SQLite targets, to try it out
  cutover init billing-cutover --engine postgres   # targets from STAGING_/PRODUCTION_DATABASE_URL
  cutover init . --name billing --engine mysql"),
    ("man", "\
  cutover man | man -l -
  cutover man --out /usr/local/share/man/man1"),
];

/// Append each command's examples to its `--help` (after its own notes).
pub fn with_examples(cmd: Command) -> Command {
    add(cmd, "")
}

fn add(mut cmd: Command, path: &str) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        cmd = cmd.mut_subcommand(&name, |sub| {
            let sub = match EXAMPLES.iter().find(|(p, _)| *p == sub_path) {
                Some((_, ex)) => {
                    let before = sub
                        .get_after_help()
                        .map(|h| format!("{h}\n\n"))
                        .unwrap_or_default();
                    let lines: Vec<String> = ex
                        .lines()
                        .map(|l| format!("  {}", l.trim_start()))
                        .collect();
                    sub.after_help(format!("{before}Examples:\n{}", lines.join("\n")))
                }
                None => sub,
            };
            add(sub, &sub_path)
        });
    }
    cmd
}
