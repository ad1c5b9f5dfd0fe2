//! Reports of check results: text for people, a versioned JSON document, JUnit XML
//! for CI test views, GitHub workflow annotations, and Markdown for a job summary or
//! a pull-request comment. All are rendered from [`Report`], never from JSON.

use super::{CheckResult, Status, Totals};
use std::fmt::Write as _;

/// The JSON document's version; raised when a field changes meaning or goes away
/// (adding a field does not raise it).
pub const JSON_VERSION: u32 = 1;

/// What `cutover verify` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// Always `cutover-verify`.
    pub format: String,
    pub version: u32,
    /// True when the exit code is 0: no error-severity check failed, timed out or errored.
    pub ok: bool,
    pub exit_code: i32,
    pub totals: Totals,
    pub duration_ms: u64,
    pub results: Vec<CheckResult>,
}

impl Report {
    pub fn new(results: Vec<CheckResult>, duration_ms: u64) -> Report {
        let totals = Totals::of(&results);
        let exit_code = totals.exit_code();
        Report {
            format: "cutover-verify".into(),
            version: JSON_VERSION,
            ok: exit_code == 0,
            exit_code,
            totals,
            duration_ms,
            results,
        }
    }

    /// `8 checks: 6 passed, 1 failed, 1 warning, 0 timed out, 0 errors`
    pub fn summary_line(&self) -> String {
        let t = &self.totals;
        format!(
            "{} check(s): {} passed, {} failed, {} warning(s), {} timed out, {} error(s)",
            t.total, t.passed, t.failed, t.warnings, t.timed_out, t.errors
        )
    }
}

fn mark(r: &CheckResult) -> &'static str {
    match r.status {
        Status::Passed => "PASS",
        Status::Failed if r.is_warning() => "WARN",
        Status::Failed => "FAIL",
        Status::TimedOut => "TIME",
        Status::Error => "ERR ",
    }
}

/// Text for a terminal: one line per check, details under the ones that did not pass.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for r in &report.results {
        let _ = writeln!(
            out,
            "{}  {}/{}  {}  ({} ms)",
            mark(r),
            r.suite,
            r.id,
            r.message,
            r.duration_ms
        );
        if r.status != Status::Passed {
            let _ = writeln!(out, "      at {}:{}", r.file, r.line);
            for d in &r.details {
                let _ = writeln!(out, "      {d}");
            }
        }
    }
    let _ = writeln!(
        out,
        "{} in {} ms",
        report.summary_line(),
        report.duration_ms
    );
    out
}

/// The versioned JSON document.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("report serializes") + "\n"
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\t' => o.push('\t'),
            c if (c as u32) < 0x20 => {}
            c => o.push(c),
        }
    }
    o
}

/// Text content of an element, as CDATA (what JUnit readers expect); a `]]>` inside
/// is split across two sections, and characters XML forbids are left out.
fn xml_text(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || (c as u32) >= 0x20)
        .collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

/// JUnit XML: a `<testsuite>` per suite, a `<testcase>` per check. A failed check is a
/// `<failure>`; one that timed out or could not run an `<error>`; a warning passes and
/// says so in its `<system-out>`.
pub fn junit(report: &Report) -> String {
    let mut suites: Vec<(&str, Vec<&CheckResult>)> = Vec::new();
    for r in &report.results {
        match suites.iter_mut().find(|(s, _)| *s == r.suite) {
            Some((_, v)) => v.push(r),
            None => suites.push((&r.suite, vec![r])),
        }
    }
    let secs = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let t = &report.totals;
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"cutover verify\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{}\">",
        t.total,
        t.failed,
        t.timed_out + t.errors,
        secs(report.duration_ms)
    );
    for (name, rs) in suites {
        let failures = rs.iter().filter(|r| r.is_failure()).count();
        let errors = rs.iter().filter(|r| r.not_run()).count();
        let time: u64 = rs.iter().map(|r| r.duration_ms).sum();
        let _ = writeln!(
            o,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{}\">",
            xml_escape(name),
            rs.len(),
            secs(time)
        );
        for r in rs {
            let _ = writeln!(
                o,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{}\">",
                xml_escape(&r.id),
                xml_escape(&r.suite),
                xml_escape(&r.file),
                r.line,
                secs(r.duration_ms)
            );
            let body = {
                let mut b = format!("expected: {}\nactual: {}\n", r.expected, r.actual);
                for d in &r.details {
                    b.push_str(d);
                    b.push('\n');
                }
                b
            };
            match r.status {
                Status::Failed if !r.is_warning() => {
                    let _ = writeln!(
                        o,
                        "      <failure message=\"{}\" type=\"failed\">{}</failure>",
                        xml_escape(&r.message),
                        xml_text(&body)
                    );
                }
                Status::TimedOut | Status::Error => {
                    let _ = writeln!(
                        o,
                        "      <error message=\"{}\" type=\"{}\">{}</error>",
                        xml_escape(&r.message),
                        if r.status == Status::TimedOut {
                            "timed_out"
                        } else {
                            "error"
                        },
                        xml_text(&body)
                    );
                }
                _ => {}
            }
            let out = if r.is_warning() {
                format!("warning: {}\n{body}", r.message)
            } else {
                format!("{}\n{body}", r.message)
            };
            let _ = writeln!(o, "      <system-out>{}</system-out>", xml_text(&out));
            o.push_str("    </testcase>\n");
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}

/// GitHub's escaping of a workflow command's message.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// ... and of its properties.
fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub workflow commands: an `::error` annotation for every failed, timed-out or
/// errored check and a `::warning` for every warning, each at the check's file and
/// line, then a `::notice` with the totals.
pub fn github(report: &Report) -> String {
    let mut o = String::new();
    for r in &report.results {
        let level = match r.status {
            Status::Passed => continue,
            Status::Failed if r.is_warning() => "warning",
            _ => "error",
        };
        let mut msg = r.message.clone();
        for d in &r.details {
            msg.push('\n');
            msg.push_str(d);
        }
        let _ = writeln!(
            o,
            "::{level} file={},line={},title={}::{}",
            gh_prop(&r.file),
            r.line,
            gh_prop(&format!("{} {}/{}", r.verdict(), r.suite, r.id)),
            gh_data(&msg)
        );
    }
    let _ = writeln!(
        o,
        "::notice title=cutover verify::{}",
        gh_data(&report.summary_line())
    );
    o
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown: the totals, a table of every check with expected and actual, and the
/// details of those that did not pass.
pub fn markdown(report: &Report) -> String {
    let mut o = String::new();
    let head = if report.ok { "✅" } else { "❌" };
    let _ = writeln!(o, "### {head} cutover verify: {}\n", report.summary_line());
    o.push_str("| | Check | Expected | Actual | Time |\n|---|---|---|---|---:|\n");
    for r in &report.results {
        let icon = match r.status {
            Status::Passed => "✅",
            Status::Failed if r.is_warning() => "⚠️",
            Status::Failed => "❌",
            Status::TimedOut => "⏱️",
            Status::Error => "💥",
        };
        let _ = writeln!(
            o,
            "| {icon} {} | `{}/{}` {} | {} | {} | {} ms |",
            r.verdict(),
            md_cell(&r.suite),
            md_cell(&r.id),
            md_cell(r.description.as_deref().unwrap_or("")),
            md_cell(&r.expected),
            md_cell(&r.actual),
            r.duration_ms
        );
    }
    let troubled: Vec<&CheckResult> = report
        .results
        .iter()
        .filter(|r| r.status != Status::Passed)
        .collect();
    for r in troubled {
        let _ = writeln!(
            o,
            "\n<details><summary>{} <code>{}/{}</code> ({}:{})</summary>\n\n```text\n{}",
            r.verdict(),
            r.suite,
            r.id,
            r.file,
            r.line,
            r.message.replace("```", "'''")
        );
        for d in &r.details {
            let _ = writeln!(o, "{}", d.replace("```", "'''"));
        }
        o.push_str("```\n\n</details>\n");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Severity;

    fn result(id: &str, status: Status, message: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            suite: "s".into(),
            kind: "no-rows".into(),
            description: None,
            severity: Severity::Error,
            targets: vec!["db".into()],
            file: "checks/s/a \"b\".toml".into(),
            line: 3,
            status,
            expected: "no rows".into(),
            actual: "1 row(s)".into(),
            message: message.into(),
            duration_ms: 5,
            details: vec!["note=]]> & <tag>".into()],
            latency: None,
        }
    }

    #[test]
    fn junit_keeps_awkward_text_intact() {
        let r = Report::new(
            vec![result(
                "x",
                Status::Failed,
                "x: expected <no rows>, got \"1\" & more",
            )],
            5,
        );
        let xml = junit(&r);
        assert!(
            xml.contains("message=\"x: expected &lt;no rows&gt;, got &quot;1&quot; &amp; more\"")
        );
        assert!(xml.contains("file=\"checks/s/a &quot;b&quot;.toml\""));
        // `]]>` cannot end the CDATA section early
        assert!(xml.contains("note=]]]]><![CDATA[> & <tag>"), "{xml}");
    }

    #[test]
    fn github_escapes_newlines_and_property_separators() {
        let r = Report::new(
            vec![result("x", Status::TimedOut, "x: 100% slow\nstill")],
            5,
        );
        let out = github(&r);
        let first = out.lines().next().unwrap();
        assert_eq!(
            first,
            "::error file=checks/s/a \"b\".toml,line=3,title=timed out s/x::x: 100%25 slow%0Astill%0Anote=]]> & <tag>"
        );
    }
}
