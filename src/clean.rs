//! `rlx clean DIR`: with the output's lock taken (so a running export is never touched),
//! put back an old export a killed `--force` left aside, remove the staging directories
//! killed exports left beside DIR, and remove a dead owner's lock file. What an export
//! does on its own before it starts, on request; the rules live in `output::reclaim`.

use std::io::{self, Write};

use anyhow::Context;
use serde::Serialize;

use crate::cli::CleanArgs;
use crate::outcome::Outcome;
use crate::output::{self, OutputError, OutputLock, Reclaimed};
use crate::summary::write_reclaimed;

/// The result `--json` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CleanResult {
    success: bool,
    output: String,
    #[serde(flatten)]
    reclaimed: Reclaimed,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(args: &CleanArgs) -> Outcome {
    let outcome = clean(args);
    let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
    let result = CleanResult {
        success: error.is_none(),
        output: args.dir.display().to_string(),
        reclaimed: outcome.unwrap_or_default(),
        error: error.clone(),
    };
    if args.json {
        let mut out = io::stdout().lock();
        // A closed stdout (`| head -c1`) is not an error.
        let _ = serde_json::to_writer(&mut out, &result);
        let _ = writeln!(out);
    } else if !args.quiet && result.success {
        let _ = write_summary(&mut io::stderr().lock(), &result);
    }
    Outcome {
        exit_code: if error.is_some() { 1 } else { 0 },
        error,
        result: None,
    }
}

fn clean(args: &CleanArgs) -> anyhow::Result<Reclaimed> {
    let (parent, name) = output::parent_and_name(&args.dir)?;
    if !parent.is_dir() {
        return Ok(Reclaimed::default());
    }
    let lock = match OutputLock::try_acquire(&parent, &name)? {
        Ok(lock) => lock,
        Err(owner) => anyhow::bail!(OutputError(format!(
            "{} is exporting into {}; nothing was removed (its staging directory is in use): wait for it to finish or stop it, then run rlx clean again",
            owner.describe(),
            args.dir.display()
        ))),
    };
    let reclaimed = output::reclaim_stale(&parent, &name)
        .with_context(|| format!("cleaning up beside {}", args.dir.display()));
    lock.release();
    reclaimed
}

fn write_summary(out: &mut dyn Write, result: &CleanResult) -> io::Result<()> {
    if result.reclaimed.is_empty() {
        return writeln!(
            out,
            "rlx clean: nothing left behind by killed exports of {}",
            result.output
        );
    }
    writeln!(out, "rlx clean: {}", result.output)?;
    write_reclaimed(out, &result.reclaimed)
}
