//! The CLI fits the shell (issue 14, item 2): every command's `--help` shows examples
//! that parse, and the bash completion script completes commands.

use crate::support::cutover;

/// Every command path (`run`, `audit verify`, ...), leaves and groups alike.
fn paths(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let path = if prefix.is_empty() {
            sub.get_name().to_string()
        } else {
            format!("{prefix} {}", sub.get_name())
        };
        if sub.get_subcommands().next().is_none() {
            out.push(path.clone());
        }
        paths(sub, &path, out);
    }
}

/// Split an example line the way a shell would, for the simple quoting examples use.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, ' ') => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_command_shows_examples_and_every_example_parses() {
    let cmd = cutover::cli::command();
    let mut all = Vec::new();
    paths(&cmd, "", &mut all);
    assert!(all.len() >= 20, "{all:?}");
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for path in &all {
        let mut args: Vec<&str> = path.split(' ').collect();
        args.push("--help");
        let out = cutover(tmp.path(), &args);
        assert_eq!(out.code, 0, "{path}: {}", out.all());
        let Some((_, examples)) = out.stdout.split_once("\nExamples:\n") else {
            panic!("`cutover {path} --help` shows no examples:\n{}", out.stdout);
        };
        let lines: Vec<&str> = examples
            .lines()
            .take_while(|l| l.starts_with("  "))
            .collect();
        assert!(!lines.is_empty(), "{path}: {}", out.stdout);
        for line in lines {
            // What the shell would hand cutover: no comment, pipe, redirection or env.
            let line = line.split(" #").next().unwrap();
            let line = line.split(" |").next().unwrap();
            let line = line.split(" > ").next().unwrap();
            if line.contains("...") || line.contains("$(") {
                continue;
            }
            let mut w = words(line.trim());
            while w
                .first()
                .is_some_and(|x| x.contains('=') && !x.starts_with('-'))
            {
                w.remove(0);
            }
            assert_eq!(
                w.first().map(String::as_str),
                Some("cutover"),
                "{path}: {line}"
            );
            if let Err(e) = cmd.clone().try_get_matches_from(&w) {
                panic!("the example `{line}` of `cutover {path}` does not parse:\n{e}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} examples checked");
}

#[test]
fn bash_completion_completes_commands_and_options() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cutover(tmp.path(), &["completions", "bash"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let script = tmp.path().join("cutover.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let probe = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _cutover cutover '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            line,
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg(&probe)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut v: Vec<String> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert_eq!(complete("cutover ru"), ["run", "runs"]);
    let opts = complete("cutover status --f");
    assert!(opts.contains(&"--format".to_string()), "{opts:?}");
    for shell in ["zsh", "fish", "powershell"] {
        let out = cutover(tmp.path(), &["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.all());
        assert!(out.stdout.contains("runs"), "{shell}");
    }
}

#[test]
fn the_man_page_names_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cutover(tmp.path(), &["man"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.starts_with(".ie") || out.stdout.contains(".TH cutover 1"),
        "{}",
        out.stdout
    );
    let dir = tmp.path().join("man1");
    let out = cutover(tmp.path(), &["man", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.all());
    for page in [
        "cutover.1",
        "cutover-run.1",
        "cutover-diff-data.1",
        "cutover-audit-verify.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    assert!(
        std::fs::read_to_string(dir.join("cutover-run.1"))
            .unwrap()
            .contains("approve\\-as")
    );
}

/// Colour only where a person reads it: never in a pipe, never with NO_COLOR, and
/// with --color always even in a pipe (so this test can tell the difference).
#[test]
fn no_escape_sequences_in_pipes_or_under_no_color_and_colour_when_asked() {
    let (_tmp, ws) = crate::support::demo_workspace();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let out = crate::support::cutover_env(&ws, args, env);
        format!("{}{}", out.stdout, out.stderr)
    };
    let plain = run(&["run", crate::support::RUNBOOK, "--headless"], &[]);
    assert!(plain.contains('✓') && !plain.contains('\x1b'), "{plain}");
    let diff = [
        "diff",
        "schema",
        "--source",
        "sqlite://staging.db",
        "--target",
        "sqlite://production.db",
    ];
    assert!(!run(&diff, &[]).contains('\x1b'));
    assert!(!run(&diff, &[("NO_COLOR", "1")]).contains('\x1b'));
    let mut always = diff.to_vec();
    always.push("--color=always");
    let coloured = run(&always, &[]);
    assert!(coloured.contains("\x1b[32m+"), "{coloured}");
    let mut never = diff.to_vec();
    never.push("--color=never");
    assert!(!run(&never, &[("NO_COLOR", "")]).contains('\x1b'));
    let data = [
        "diff",
        "data",
        "--source",
        "sqlite://staging.db",
        "--target",
        "sqlite://production-initial.db",
        "--table",
        "profiles",
    ];
    let plain_rows = run(&data, &[]);
    assert!(
        plain_rows.contains("- only in target") && !plain_rows.contains('\x1b'),
        "{plain_rows}"
    );
    let mut data_always = data.to_vec();
    data_always.push("--color=always");
    let coloured_rows = run(&data_always, &[]);
    assert!(
        coloured_rows.contains("\x1b[31m- only in target"),
        "{coloured_rows}"
    );
    let status = run(
        &["status", crate::support::RUNBOOK, "--color", "always"],
        &[],
    );
    assert!(status.contains("\x1b[32mdone"), "{status}");
    assert!(status.contains("awaiting approval"), "{status}");
    let json = run(
        &[
            "status",
            crate::support::RUNBOOK,
            "--format",
            "json",
            "--color",
            "always",
        ],
        &[],
    );
    assert!(!json.contains('\x1b'), "JSON is never coloured: {json}");
}
