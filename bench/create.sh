#!/usr/bin/env bash
# Times `rvenv create` (interpreter cache warm) against `python -m venv --without-pip` and
# `uv venv`, in the same run on the same machine, and prints the ratios.
#
#   bench/create.sh [PYTHON]        # PYTHON defaults to /usr/bin/python3
#
# Environment: RUNS (default 40), BENCH_DIR (where the venvs go; default a temp dir in /tmp,
# try /dev/shm to leave the disk out), CARGO_TARGET_DIR.
# uv is installed from PyPI into bench/.tools (gitignored); rvenv is built in release mode.
# Uses hyperfine when present (apt-get install hyperfine), else a plain timing loop. The
# removal of the previous venv is never timed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
python="${1:-/usr/bin/python3}"
runs="${RUNS:-40}"

tools="$here/.tools"
if [ ! -x "$tools/bin/uv" ]; then
    "$python" -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check uv
fi
uv="$tools/bin/uv"

target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --quiet --release -p rvenv)
rvenv="$target/release/rvenv"

work="$(mktemp -d "${BENCH_DIR:-/tmp}/rvenv-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export RVENV_CACHE_DIR="$work/rvenv-cache" UV_CACHE_DIR="$work/uv-cache"
export UV_PYTHON_DOWNLOADS=never PYTHONDONTWRITEBYTECODE=1
# Warm both tools' interpreter caches once.
"$rvenv" create -q --python "$python" "$work/warm-rvenv"
"$uv" venv -q --python "$python" "$work/warm-uv"

venv="$work/v"
names=(rvenv venv uv)
commands=(
    "$rvenv create -q --python $python $venv"
    "$python -m venv --without-pip $venv"
    "$uv venv -q --python $python $venv"
)

echo "python: $python ($("$python" --version 2>&1)), $("$uv" --version), $("$rvenv" --version)"
echo "venvs in: $work ($(df --output=fstype "$work" | tail -1)), runs: $runs"

means=""
if command -v hyperfine >/dev/null; then
    json="$work/hyperfine.json"
    args=()
    for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${commands[$i]}"); done
    hyperfine -N --warmup 3 --runs "$runs" --prepare "rm -rf $venv" \
        --export-json "$json" "${args[@]}" >&2
    means="$("$python" -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], r["mean"] * 1000)
' "$json")"
else
    for i in "${!names[@]}"; do
        total=0
        for _ in $(seq "$runs"); do
            rm -rf "$venv"
            start=$(date +%s%N)
            ${commands[$i]} >/dev/null
            end=$(date +%s%N)
            total=$((total + end - start))
        done
        means+="${names[$i]} $(awk "BEGIN { print $total / $runs / 1000000 }")"$'\n'
    done
fi

"$python" - "$means" <<'PY'
import sys
means = dict((name, float(ms)) for name, ms in (l.split() for l in sys.argv[1].strip().splitlines()))
for name in ("rvenv", "venv", "uv"):
    print("%-6s %6.1f ms" % (name, means[name]))
print("rvenv / venv = %.2fx" % (means["rvenv"] / means["venv"]))
print("rvenv / uv   = %.2fx" % (means["rvenv"] / means["uv"]))
PY
