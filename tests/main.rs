//! The end-to-end suite: every module runs the real `rlx` binary on files from
//! `fixtures/`, each test in its own temporary directory (see `util`). One test binary,
//! so the suite links once (`autotests = false` in Cargo.toml).

mod util;

mod bad_input;
mod cli;
mod consumers;
mod durability;
mod export;
mod formats;
mod golden;
mod objectives;
mod parquet;
mod regression;
mod splits;
mod stats;
mod templates;
mod validate_cmd;
