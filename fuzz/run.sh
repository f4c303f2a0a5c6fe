#!/bin/sh
# Runs one cargo-fuzz target for a number of seconds: fuzz/run.sh TARGET SECONDS
# The growing corpus lives in fuzz/corpus/TARGET (not committed); fuzz/seeds/TARGET holds the
# small committed starting set. A crash is saved under fuzz/artifacts/TARGET/.
# FUZZ_TARGET_DIR, when set, is where cargo builds (default fuzz/target).
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them on a stable toolchain.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 TARGET SECONDS" >&2
    exit 2
fi
target=$1
seconds=$2
cd "$(dirname "$0")"
seeds=seeds/$target
# The requirements target's seeds predate the per-target layout.
[ "$target" = requirements_txt ] && seeds=seeds
mkdir -p "corpus/$target"
set -- "corpus/$target"
[ -d "$seeds" ] && set -- "$@" "$seeds"
dict=
[ -f "dicts/$target.dict" ] && dict="-dict=dicts/$target.dict"
[ "$target" = requirements_txt ] && dict="-dict=requirements.dict"
RUSTC_BOOTSTRAP=1 exec cargo fuzz run ${FUZZ_TARGET_DIR:+--target-dir "$FUZZ_TARGET_DIR"} "$target" "$@" -- \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 $dict
