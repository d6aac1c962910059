//! What a packager needs: shell completions and man pages, generated from the same clap
//! definitions as the help.

use clap::{Args, CommandFactory, ValueEnum};
use std::path::PathBuf;

/// `pgcarry --version`: the package version, the commit and the build date.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PGCARRY_COMMIT"),
    ", built ",
    env!("PGCARRY_BUILD_DATE"),
    ")"
);

#[derive(Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    pub shell: Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// Write pgcarry.1 and one page per command (pgcarry-migrate.1 …) into this directory,
    /// instead of pgcarry.1 to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn completions(a: &CompletionsArgs) {
    use clap_complete::Shell as S;
    let shell = match a.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(shell, &mut cmd, "pgcarry", &mut std::io::stdout());
}

pub fn man(a: &ManArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let cmd = crate::cli::Cli::command();
    let Some(dir) = &a.out else {
        clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |name: String, page: clap::Command| -> anyhow::Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut bytes = Vec::new();
        clap_mangen::Man::new(page).render(&mut bytes)?;
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
        Ok(())
    };
    for sub in cmd.get_subcommands() {
        // A page's title is its command's name; clap keeps names as static strings.
        let name: &'static str = format!("pgcarry-{}", sub.get_name()).leak();
        write(name.to_string(), sub.clone().name(name))?;
    }
    write("pgcarry".into(), cmd)
}
