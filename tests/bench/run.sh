#!/usr/bin/env bash
# The rlx benchmark: builds release binaries, generates extraction datasets of each size,
# and times the floor F (parse each JSONL line into serde_json::Value and write it back)
# against every format. Prints one table: wall-clock median of RUNS runs after a warm-up,
# ratio to F, max RSS (largest over the runs), examples per second.
#
#   bash tests/bench/run.sh                 # 100K and 1M, 5 runs each
#   SIZES="100000" RUNS=3 bash tests/bench/run.sh
#   FORMATS="jsonl trl-dpo=--format,trl,--objective,dpo" bash tests/bench/run.sh
#
# A FORMATS entry is a format name (run as --format NAME), or LABEL=FLAGS with the flags
# joined by commas. In FLAGS, @prompts is the file `rlx template show --policy POLICY`
# prints (the built-in openai texts as a template) and @line a line template of the
# alpaca shape (tests/bench/line.jinja). FLAGS that start with rlx:COMMAND run that
# command on the input instead of export (`validate=rlx:validate`,
# `stats=rlx:stats,--group-by,metadata.sessionId`); they are not in the default set.
#
# Needs GNU time (/usr/bin/time, Debian package `time`); installs it if missing and root.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES=${SIZES:-"100000 1000000"}
RUNS=${RUNS:-5}
POLICY=${POLICY:-extraction}
WORK=${BENCH_DIR:-target/bench}
FORMATS=${FORMATS:-"jsonl huggingface parquet csv anthropic openai all trl-sft=--format,trl trl-dpo=--format,trl,--objective,dpo trl-kto=--format,trl,--objective,kto jsonl-nosync=--format,jsonl,--no-sync all-nosync=--format,all,--no-sync openai-tmpl=--format,openai,--template,@prompts template=--format,template,--line-template,@line"}

if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y time >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y time >/dev/null))
  else
    echo "error: /usr/bin/time (GNU time) is needed: apt-get install time" >&2
    exit 1
  fi
fi

cargo build --release --quiet --bin rlx --example gen
# The floor is a package of its own (tests/bench/floor): serde_json's default features.
cargo build --release --quiet --manifest-path tests/bench/floor/Cargo.toml --target-dir target/floor
RLX=target/release/rlx
GEN=target/release/examples/gen
FLOOR=target/floor/release/rlx-bench-floor
mkdir -p "$WORK"
"$RLX" template show --policy "$POLICY" --format openai > "$WORK/prompts.j2"

# run_case CMD...: prints "median_seconds max_rss_kb"
run_case() {
  local times=() rss=0 out
  "$@" >/dev/null 2>&1 # warm-up (also warms the page cache)
  for _ in $(seq "$RUNS"); do
    # Flush the previous run's output first, so its writeback (up to 1.3 GB at 1M) does
    # not slow the run being timed.
    sync
    /usr/bin/time -o "$WORK/time.txt" -f "%e %M" "$@" >/dev/null 2>&1
    out=$(tail -1 "$WORK/time.txt")
    times+=("${out% *}")
    local kb=${out#* }
    [ "$kb" -gt "$rss" ] && rss=$kb
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  echo "$median $rss"
}

printf '%-12s %10s %9s %8s %10s %12s\n' format examples "wall s" "x F" "max RSS" "examples/s"
for n in $SIZES; do
  input="$WORK/$POLICY-$n.jsonl"
  [ -s "$input" ] || "$GEN" --policy "$POLICY" --count "$n" --seed 1 > "$input"
  read -r floor_s floor_kb < <(run_case "$FLOOR" "$input" "$WORK/floor.out")
  printf '%-12s %10d %9.2f %8.2f %8d MB %12.0f\n' floor "$n" "$floor_s" 1 $((floor_kb / 1024)) "$(echo "$n / $floor_s" | bc -l)"
  for entry in $FORMATS; do
    if [[ $entry == *=* ]]; then
      f=${entry%%=*}
      IFS=, read -r -a flags <<<"${entry#*=}"
      flags=("${flags[@]/#@prompts/$WORK/prompts.j2}")
      flags=("${flags[@]/#@line/tests/bench/line.jinja}")
    else
      f=$entry
      flags=(--format "$entry")
    fi
    if [[ ${flags[0]:-} == rlx:* ]]; then
      read -r s kb < <(run_case "$RLX" "${flags[0]#rlx:}" "$input" --quiet "${flags[@]:1}")
    else
      read -r s kb < <(run_case "$RLX" export "$input" -o "$WORK/out-$f" --force --quiet "${flags[@]}")
    fi
    printf '%-12s %10d %9.2f %8.2f %8d MB %12.0f\n' "$f" "$n" "$s" "$(echo "$s / $floor_s" | bc -l)" $((kb / 1024)) "$(echo "$n / $s" | bc -l)"
  done
  rm -f "$WORK/floor.out"
done
