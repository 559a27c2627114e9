//! The `rlx` binary: parse the command line, run, and turn the outcome into an exit
//! status and at most one `error:` line. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

// glibc malloc/free were a third of the CPU profile of a CSV export (many short-lived
// values freed across threads); mimalloc removes most of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match rlx::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(rlx::report_usage_error(e)),
    };
    match rlx::run(cli) {
        Ok(outcome) => {
            if let Some(error) = &outcome.error {
                eprintln!("error: {error}");
            }
            ExitCode::from(outcome.exit_code)
        }
        // A closed stdout (`rlx completions bash | head -1`) is not an error.
        Err(e) if rlx::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
