#!/usr/bin/env bash
# Prepare a Python venv that reads rlx parquet exports.
#
#   bash tests/consumers/setup-parquet-venv.sh [5|3|spark] [VENV_DIR]
#
#   5      (default) pyarrow, pandas, polars, duckdb, datasets 5.x for
#          check_parquet.py; parquet-requirements.txt, VENV_DIR
#          ${XDG_CACHE_HOME:-$HOME/.cache}/rlx/parquet-venv
#   3      datasets 3.6 for `check_parquet.py --engines datasets`;
#          parquet3-requirements.txt, .../rlx/datasets3-venv
#   spark  pyspark for check_spark.py (needs Java 17+);
#          spark-requirements.txt, .../rlx/spark-venv
#
# Idempotent: creates the venv only when it is missing, runs pip only when the
# requirements file changed since the last successful install (sha256 stamp
# kept inside the venv), then imports what the checks use (and, for spark,
# starts a local SparkSession right after an install).  Progress goes to
# stderr; the last and only line on stdout is the venv's python path:
#
#   PY=$(bash tests/consumers/setup-parquet-venv.sh 3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kind=${1:-5}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/rlx
case $kind in
    5) req=$here/parquet-requirements.txt venv=${2:-$cache/parquet-venv} ;;
    3) req=$here/parquet3-requirements.txt venv=${2:-$cache/datasets3-venv} ;;
    spark) req=$here/spark-requirements.txt venv=${2:-$cache/spark-venv} ;;
    *)
        printf 'usage: setup-parquet-venv.sh [5|3|spark] [VENV_DIR]\n' >&2
        exit 2
        ;;
esac

log() { printf 'setup-parquet-venv(%s): %s\n' "$kind" "$*" >&2; }

if [[ $kind == spark ]] && ! java -version >/dev/null 2>&1; then
    log "no java on PATH; pyspark needs Java 17 or 21 (apt-get install openjdk-17-jre-headless)"
    exit 1
fi

# 1. The venv itself.
if [[ ! -x $venv/bin/python ]]; then
    log "creating venv $venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
fi
venv=$(cd "$venv" && pwd)
py=$venv/bin/python

# 2. Pinned packages, only when the requirements file changed.
stamp=$venv/.rlx-requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
installed=0
if [[ $want != "$have" ]]; then
    log "installing $req"
    rm -f "$stamp"
    "$py" -m pip install --disable-pip-version-check --no-input --quiet -r "$req" >&2
    "$py" -m pip check --disable-pip-version-check >&2
    printf '%s\n' "$want" >"$stamp"
    installed=1
else
    log "requirements unchanged since last install ($want)"
fi

# 3. Prove that the readers import (and Spark's JVM starts) without the network.
SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1} HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 RLX_KIND=$kind RLX_INSTALLED=$installed "$py" - >&2 <<'PY'
import os
kind = os.environ["RLX_KIND"]
if kind == "spark":
    import pyspark
    msg = f"pyspark {pyspark.__version__}"
    if os.environ["RLX_INSTALLED"] == "1":
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master("local[1]").appName("rlx-setup")
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        assert spark.range(3).count() == 3
        msg += f" (Spark {spark.version} on Java {spark.sparkContext._jvm.System.getProperty('java.version')})"
        spark.stop()
else:
    import datasets, pandas, pyarrow
    msg = f"datasets {datasets.__version__}, pyarrow {pyarrow.__version__}, pandas {pandas.__version__}"
    if kind == "5":
        import duckdb, polars
        msg += f", polars {polars.__version__}, duckdb {duckdb.__version__}"
print(f"setup-parquet-venv({kind}): {msg}: OK")
PY

printf '%s\n' "$py"
