//! `rlx completions <shell>`: the completion script generated from the one clap
//! definition in `cli`, so it never drifts from the flags.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::Cli;

/// Print the completion script for `shell`.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = Cli::command();
    // clap_complete panics on a failed write; render to memory, then write ourselves so
    // a closed stdout is an ordinary error (and exits quietly).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "rlx", &mut script);
    out.write_all(&script)?;
    out.flush()
}
