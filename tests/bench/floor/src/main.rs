//! The benchmark's floor F: read a JSONL file line by line, parse each line into a
//! `serde_json::Value` and write it back compactly through a BufWriter. Every rlx format
//! is measured as a ratio to this. It is a package of its own so that it is built with
//! serde_json's default features, not rlx's.
//!
//! Usage: floor INPUT OUTPUT

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: floor INPUT OUTPUT");
        std::process::exit(2);
    }
    let input = BufReader::with_capacity(1 << 20, File::open(&args[1])?);
    let mut out = BufWriter::with_capacity(1 << 18, File::create(&args[2])?);
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)?;
        serde_json::to_writer(&mut out, &v)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
