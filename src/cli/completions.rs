//! `cutover completions SHELL` and `cutover man`: shell completion scripts (clap_complete)
//! and man pages (clap_mangen), both generated from the same command definitions as
//! `--help`, so they never drift from it.

use crate::error::{Error, Result};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write cutover.1 and one page per command (cutover-run.1, ...) into this
    /// directory instead of printing cutover.1 to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> Result<i32> {
    let mut cmd = super::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "cutover", &mut buf);
    let mut out = super::common::stdout();
    out.write_all(&buf)?;
    Ok(0)
}

pub fn man(args: ManArgs) -> Result<i32> {
    let cmd = super::command();
    match args.out {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            super::common::stdout().write_all(&buf)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::bad_input(format!("{}: {e}", dir.display())))?;
            let written = write_pages(&cmd, "cutover", &dir)?;
            say!("wrote {written} man page(s) to {}", dir.display());
        }
    }
    Ok(0)
}

/// Write `name.1` for `cmd` and a page per subcommand (`name-sub.1`), depth first.
fn write_pages(cmd: &clap::Command, name: &str, dir: &std::path::Path) -> Result<usize> {
    let cmd = cmd.clone().name(name.to_string());
    let path = dir.join(format!("{name}.1"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    std::fs::write(&path, buf).map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    let mut n = 1;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        n += write_pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(n)
}

use std::io::Write;
