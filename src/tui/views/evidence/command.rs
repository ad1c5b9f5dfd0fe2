//! A command's run: what ran where, how it ended, and the last lines of its output.

use crate::steps::command::CommandEvidence;
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

#[derive(Debug)]
pub struct CommandModel {
    pub evidence: CommandEvidence,
}

impl CommandModel {
    pub fn from_evidence(e: &CommandEvidence) -> CommandModel {
        CommandModel {
            evidence: e.clone(),
        }
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let e = &self.evidence;
        let passed = e.exit_code.is_some_and(|c| e.success_codes.contains(&c));
        let ended = match (e.exit_code, e.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "ended".into(),
        };
        let field = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("  {k:<8}"), theme.dim()),
                Span::raw(v),
            ])
        };
        let mut out = vec![
            Line::from(Span::styled("Command", theme.title())),
            field("run", e.command.clone()),
            field("in", e.cwd.clone()),
        ];
        if !e.env.is_empty() {
            out.push(field("env", e.env.join(" ")));
        }
        out.push(Line::from(vec![
            Span::styled(format!("  {:<8}", "ended"), theme.dim()),
            Span::styled(
                format!(
                    "{ended} after {} ms (success: exit {})",
                    e.elapsed_ms,
                    e.success_codes
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                if passed { theme.ok() } else { theme.bad() },
            ),
        ]));
        for (name, text, bytes, truncated) in [
            ("stdout", &e.stdout, e.stdout_bytes, e.stdout_truncated),
            ("stderr", &e.stderr, e.stderr_bytes, e.stderr_truncated),
        ] {
            out.push(Line::from(Span::styled(
                format!(
                    "{name} ({bytes} byte(s){})",
                    if truncated { ", last part kept" } else { "" }
                ),
                theme.title(),
            )));
            for l in text.lines() {
                out.push(Line::from(format!("  {l}")));
            }
        }
        out
    }
}
