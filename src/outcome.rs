//! How a command's run ends: `Outcome` (the exit status, the one error line `main`
//! prints, the result), `finish` (print the result, pick the status), `UsageError`
//! (exit 2), and the report of a command line clap rejected. Nothing here runs a command.

use std::fmt;
use std::io;

use crate::cli::CommonArgs;
use crate::summary::ExportResult;

/// A problem with the command line found after parsing (exit status 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// How a run ended: the exit status and the one error line `main` prints.
#[derive(Debug)]
pub struct Outcome {
    pub exit_code: u8,
    pub error: Option<String>,
    pub result: Option<ExportResult>,
}

/// Whether an error is a write to a closed pipe, which is not worth reporting.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Report a command line clap rejected (or `--help`/`--version`): clap's own text on
/// stderr (stdout for help), and under `--json` also the failed result object on stdout,
/// so scripts reading stdout always get one. Returns the exit status.
pub fn report_usage_error(e: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    let is_info = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    let wants_json = std::env::args().any(|a| a == "--json");
    if !is_info && wants_json {
        let message = e
            .kind()
            .as_str()
            .unwrap_or("invalid command line")
            .to_string();
        let detail = e.render().to_string();
        let first = detail
            .lines()
            .next()
            .unwrap_or(&message)
            .trim_start_matches("error: ")
            .to_string();
        let result = ExportResult {
            error: Some(first),
            ..Default::default()
        };
        let _ = result.write_json(&mut io::stdout().lock());
    }
    let _ = e.print();
    e.exit_code() as u8
}

/// Print the result and turn it into an exit status.
pub fn finish(
    mut result: ExportResult,
    outcome: anyhow::Result<()>,
    common: &CommonArgs,
    is_validation: bool,
) -> Outcome {
    let error = match &outcome {
        Ok(()) => None,
        Err(e) => Some(format!("{e:#}")),
    };
    let is_usage = outcome
        .as_ref()
        .err()
        .is_some_and(|e| e.chain().any(|c| c.is::<UsageError>()));
    result.success = error.is_none();
    result.error = error.clone();
    result.is_usage_error = is_usage;
    if common.json {
        // A closed stdout (`| head -c1`) is not an error.
        let _ = result.write_json(&mut io::stdout().lock());
    } else if !common.quiet && (result.success || is_validation) {
        // A failed export says why in one error line; a failed validation also shows
        // its counts and warnings, which are the point of running it.
        let _ = result.write_human(&mut io::stderr().lock(), is_validation);
    }
    let exit_code = match (&error, is_usage) {
        (None, _) => 0,
        (Some(_), true) => 2,
        (Some(_), false) => 1,
    };
    Outcome {
        exit_code,
        error,
        result: Some(result),
    }
}
