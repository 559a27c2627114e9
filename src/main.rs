//! The `rlx` binary: parse the command line, run, and turn the outcome into an exit
//! status and at most one `error:` line. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = rlx::cli::Cli::parse();
    match rlx::run(cli) {
        Ok(outcome) => {
            if let Some(error) = &outcome.error {
                eprintln!("error: {error}");
            }
            ExitCode::from(outcome.exit_code)
        }
        Err(e) => {
            // A closed stdout (`rlx completions bash | head -1`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

// glibc malloc/free were a third of the CPU profile of a CSV export (many short-lived
// values freed across threads); mimalloc removes most of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
