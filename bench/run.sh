#!/usr/bin/env bash
# The benchmark suite: rvenv against uv and pip, same machine, same run, with hyperfine.
#
#   bench/run.sh            # everything; writes the tables into docs/benchmarks.md
#   bench/run.sh --quick    # seed + web on the loopback mirror, rvenv and uv, few runs;
#                           # prints the tables (and keeps them in bench/.results/<time>/)
#
# Rows: create a venv; install each set (bench/sets/*.txt) with a cold cache, with a warm cache
# into a fresh venv, and a no-op re-run; each with and without bytecode; against live PyPI and
# against a loopback mirror (nginx serving PEP 503 pages, the wheels and their PEP 658 metadata,
# built by bench/mirror.py from what the sets resolve to); and `cp -al` of the finished venv.
# Peak memory: every timed run goes through /usr/bin/time (no-op rows excepted).
#
# Environment (defaults in parentheses; --quick changes them as noted):
#   PYTHON     the base interpreter (/usr/bin/python3)
#   SETS       (seed web ds; quick: seed web)       SOURCES  (live mirror; quick: mirror)
#   TOOLS      (rvenv uv pip; quick: rvenv uv)      MODES    (nobc bc)
#   STATES     (cold warm noop)
#   RESOLVE    1 to time resolution alone (`--dry-run`) of RESOLVE_SETS (web), cold and warm,
#              on each source, plus the mirror sending PyPI's `Cache-Control: max-age=600` (1)
#   RUNS       timed runs of warm and no-op cells (10; quick: 3)
#   COLD_RUNS  timed runs of cold cells (5; quick: 2)
#   PIP_RUNS   timed runs of every pip cell (3)
#   RVENV      the rvenv binary (default: cargo build --release into $CARGO_TARGET_DIR)
#   BENCH_DIR  where venvs and caches go (/tmp; must be one file system with itself so that
#              both tools can hard-link from their caches)
#   MEMORY     1 to time every run through /usr/bin/time for peak memory (1; no-op rows never)
#   WRITE_DOCS 1 to replace the results in docs/benchmarks.md (default: 1, quick: 0)
#
# It installs its own tools: uv and pip from PyPI into bench/.tools, hyperfine and nginx with
# apt-get when missing. Mirror files are kept in bench/.mirror between runs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; fi
if [ "$quick" = 1 ]; then
    : "${SETS:=seed web}" "${SOURCES:=mirror}" "${TOOLS:=rvenv uv}" "${RUNS:=3}" \
        "${COLD_RUNS:=2}" "${WRITE_DOCS:=0}"
fi
: "${PYTHON:=/usr/bin/python3}" "${SETS:=seed web ds}" "${SOURCES:=live mirror}" \
    "${TOOLS:=rvenv uv pip}" "${MODES:=nobc bc}" "${STATES:=cold warm noop}" "${RUNS:=10}" \
    "${COLD_RUNS:=5}" "${PIP_RUNS:=3}" "${WRITE_DOCS:=1}" "${RESOLVE:=1}" "${RESOLVE_SETS:=web}"

# The environment is cleared of PIP_* variables below: keep this knob's value.
pip_runs=$PIP_RUNS

# --- tools -------------------------------------------------------------------------------------
need_apt() {
    if ! command -v "$1" >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    fi
}
need_apt hyperfine hyperfine
need_apt nginx nginx-light
[ -x /usr/bin/time ] || need_apt /usr/bin/time time

tools="$here/.tools"
if [ ! -x "$tools/bin/uv" ] || [ ! -x "$tools/bin/pip" ]; then
    "$PYTHON" -m venv "$tools"
    "$tools/bin/python" -m pip install --quiet --disable-pip-version-check -U pip uv
fi
uv="$tools/bin/uv"
pip="$tools/bin/pip"
if [ -z "${RVENV:-}" ]; then
    (cd "$root" && cargo build --quiet --release -p rvenv)
    RVENV="${CARGO_TARGET_DIR:-$root/target}/release/rvenv"
fi
rvenv="$RVENV"

work="$(mktemp -d "${BENCH_DIR:-/tmp}/rvenv-bench.XXXXXX")"
results="$here/.results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"
nginx_pid=""
cleanup() {
    if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
# Every tool with its defaults: no settings from the environment (PIP_FIND_LINKS would send
# rvenv and pip to a directory uv does not look at). PIP_CERT stays: it only names CA roots.
for name in $(compgen -e | grep -E '^(PIP_|UV_|RVENV_|PYTHONDONTWRITEBYTECODE$|VIRTUAL_ENV$)'); do
    [ "$name" = PIP_CERT ] || unset "$name"
done
export UV_PYTHON_DOWNLOADS=never UV_NO_CONFIG=1
# Venvs are made with a cache of their own, so a "cold" cache is really empty.
create_cache="$work/create-cache"

log() { echo "== $*" >&2; }
log "$("$PYTHON" --version 2>&1) ($PYTHON), $("$uv" --version), $("$pip" --version | cut -d' ' -f1-2)," \
    "$("$rvenv" --version); work dir $work ($(df --output=fstype "$work" | tail -1))," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"

# make_venv TOOL DIR: an empty venv the way each tool's users make one.
make_venv() {
    rm -rf "$2"
    case "$1" in
        rvenv) "$rvenv" create -q --python "$PYTHON" --cache-dir "$create_cache" "$2" ;;
        uv) "$uv" venv -q --python "$PYTHON" --cache-dir "$create_cache" "$2" ;;
        pip) "$PYTHON" -m venv --without-pip "$2" ;;
    esac
}

# install_command TOOL VENV CACHE SET MODE INDEX: the measured command line.
install_command() {
    local tool=$1 venv=$2 cache=$3 set=$4 mode=$5 index=$6
    local req="$here/sets/$set.txt"
    case "$tool" in
        rvenv)
            echo "$rvenv install -q --venv $venv --cache-dir $cache -r $req" \
                "${index:+--index-url $index}" "$([ "$mode" = nobc ] && echo --no-compile)"
            ;;
        uv)
            echo "$uv pip install -q --python $venv/bin/python --cache-dir $cache -r $req" \
                "${index:+--index-url $index}" "$([ "$mode" = bc ] && echo --compile-bytecode)"
            ;;
        pip)
            echo "$pip --python $venv/bin/python install -q --disable-pip-version-check" \
                "--cache-dir $cache -r $req ${index:+--index-url $index}" \
                "$([ "$mode" = nobc ] && echo --no-compile)"
            ;;
    esac
}

# A prepare script per cell, so that hyperfine runs without a shell (-N).
script() {
    local path="$work/$1.sh"
    shift
    printf '#!/usr/bin/env bash\nset -e\n%s\n' "$*" >"$path"
    chmod +x "$path"
    echo "$path"
}

# bench_cell NAME RUNS WARMUP PREPARE COMMAND [SETUP]: hyperfine; with MEMORY=1 each timed run
# goes through /usr/bin/time (about 1 ms more per run) for its peak RSS.
bench_cell() {
    local name=$1 runs=$2 warmup=$3 prepare=$4 command=$5 setup=${6:-}
    log "$name: $command"
    local args=(-N --runs "$runs" --warmup "$warmup" --export-json "$results/$name.json")
    [ -n "$prepare" ] && args+=(--prepare "$prepare")
    [ -n "$setup" ] && args+=(--setup "$setup")
    if [ "${MEMORY:-1}" = 1 ]; then
        rm -f "$results/$name.mem"
        command="/usr/bin/time -a -o $results/$name.mem -f %M $command"
    fi
    hyperfine "${args[@]}" "$command" >&2
}

# --- create ------------------------------------------------------------------------------------
if [ "${CREATE:-1}" = 1 ]; then
    v="$work/create-venv"
    prep="$(script create-prep "rm -rf $v")"
    make_venv rvenv "$work/warm-interp-r" && make_venv uv "$work/warm-interp-u"
    bench_cell create__rvenv "$RUNS" 3 "$prep" \
        "$rvenv create -q --python $PYTHON --cache-dir $create_cache $v"
    bench_cell create__uv "$RUNS" 3 "$prep" \
        "$uv venv -q --python $PYTHON --cache-dir $create_cache $v"
    bench_cell create__venv "$RUNS" 3 "$prep" "$PYTHON -m venv --without-pip $v"
fi

# --- the finished venvs: the floor, and the versions the mirror serves --------------------------
for set in $SETS; do
    for mode in nobc bc; do
        final="$work/final-$set-$mode"
        make_venv rvenv "$final"
        # shellcheck disable=SC2046
        $(install_command rvenv "$final" "$work/final-cache" "$set" "$mode" "")
        copy="$work/floor-copy"
        bench_cell "floor__${set}__$mode" "$RUNS" 2 "$(script floor-prep "rm -rf $copy")" \
            "cp -al $final $copy"
    done
    make_venv uv "$work/final-uv-$set"
    # shellcheck disable=SC2046
    $(install_command uv "$work/final-uv-$set" "$work/final-uv-cache" "$set" nobc "")
done

# --- the mirror --------------------------------------------------------------------------------
mirror_url=""
if [[ " $SOURCES " == *" mirror "* ]]; then
    venvs=()
    for set in $SETS; do venvs+=(--venv "$work/final-$set-nobc" --venv "$work/final-uv-$set"); done
    "$tools/bin/python" "$here/mirror.py" "$here/.mirror" --python "$PYTHON" "${venvs[@]}"
    port=8765
    mkdir -p "$work/nginx"
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    types { text/plain metadata; }
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        root $here/.mirror;
        index index.html;
    }
    # The same files with the freshness PyPI itself gives its pages (the PyPI reachable
    # from this machine strips it): for the resolution rows.
    server {
        listen 127.0.0.1:$((port + 1));
        root $here/.mirror;
        index index.html;
        add_header Cache-Control "max-age=600, public";
    }
}
EOF
    nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
    nginx_pid=$!
    mirror_url="http://127.0.0.1:$port/simple/"
    fresh_mirror_url="http://127.0.0.1:$((port + 1))/simple/"
    for _ in $(seq 50); do
        curl -fsS -o /dev/null "$mirror_url" 2>/dev/null && break
        sleep 0.1
    done
fi

# --- installs ----------------------------------------------------------------------------------
for source in $SOURCES; do
    index=""
    [ "$source" = mirror ] && index="$mirror_url"
    for set in $SETS; do
        for mode in $MODES; do
            for tool in $TOOLS; do
                runs=$RUNS cold_runs=$COLD_RUNS
                if [ "$tool" = pip ]; then runs=$pip_runs cold_runs=$pip_runs; fi
                venv="$work/venv-$tool"
                cache="$work/cache-$source-$tool"
                command="$(install_command "$tool" "$venv" "$cache" "$set" "$mode" "$index")"
                fresh=""
                case "$tool" in
                    rvenv) fresh="$rvenv create -q --python $PYTHON --cache-dir $create_cache $venv" ;;
                    uv) fresh="$uv venv -q --python $PYTHON --cache-dir $create_cache $venv" ;;
                    pip) fresh="$PYTHON -m venv --without-pip $venv" ;;
                esac
                cell="${source}__${set}__"
                for state in $STATES; do
                    case "$state" in
                        cold)
                            bench_cell "$cell${state}__${mode}__$tool" "$cold_runs" 0 \
                                "$(script "prep-$tool-cold" "rm -rf $venv $cache; $fresh")" \
                                "$command"
                            ;;
                        warm)
                            bench_cell "$cell${state}__${mode}__$tool" "$runs" 1 \
                                "$(script "prep-$tool-warm" "rm -rf $venv; $fresh")" "$command"
                            ;;
                        noop)
                            MEMORY=0 bench_cell "$cell${state}__${mode}__$tool" "$runs" 1 "" "$command" \
                                "$(script "setup-$tool-noop" "rm -rf $venv; $fresh; $command")"
                            ;;
                    esac
                done
            done
        done
    done
done

# --- resolution alone -------------------------------------------------------------------------
# `--dry-run` into an empty venv: cold (page and metadata caches removed before each run) and
# warm (the caches of the previous run).
if [ "$RESOLVE" = 1 ]; then
    empty="$work/resolve-venv"
    make_venv rvenv "$empty"
    resolve_sources="$SOURCES"
    [ -n "$mirror_url" ] && resolve_sources="$resolve_sources mirror-max-age"
    for source in $resolve_sources; do
        index=""
        case "$source" in
            mirror) index="$mirror_url" ;;
            mirror-max-age) index="$fresh_mirror_url" ;;
        esac
        for set in $RESOLVE_SETS; do
            req="$here/sets/$set.txt"
            for tool in rvenv uv; do
                cache="$work/resolve-cache-$source-$tool"
                case "$tool" in
                    rvenv) command="$rvenv install -q --dry-run --venv $empty --cache-dir $cache -r $req" ;;
                    uv) command="$uv pip install -q --dry-run --python $empty/bin/python --cache-dir $cache -r $req" ;;
                esac
                command="$command${index:+ --index-url $index}"
                for state in cold warm; do
                    prep=""
                    [ "$state" = cold ] && prep="$(script "resolve-prep-$tool" "rm -rf $cache")"
                    bench_cell "resolve__${source}__${set}__${state}__$tool" "$RUNS" 1 "$prep" \
                        "$command"
                done
            done
        done
    done
fi

# --- the report --------------------------------------------------------------------------------
report="$results/report.md"
{
    echo "Measured $(date -u +%Y-%m-%d) with \`bench/run.sh\`$([ "$quick" = 1 ] && echo " --quick"):" \
        "$("$PYTHON" --version 2>&1), $("$uv" --version), $("$pip" --version | cut -d' ' -f1-2)," \
        "$("$rvenv" --version); SETS=\"$SETS\" RUNS=$RUNS COLD_RUNS=$COLD_RUNS" \
        "PIP_RUNS=$pip_runs; venvs and caches in ${BENCH_DIR:-/tmp} ($(df --output=fstype "$work" | tail -1));" \
        "$(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the end." \
        "Cells: median (min–max) over the timed runs."
    echo
    "$tools/bin/python" "$here/report.py" "$results"
} >"$report"
cat "$report"
if [ "$WRITE_DOCS" = 1 ]; then
    "$tools/bin/python" - "$root/docs/benchmarks.md" "$report" <<'PY'
import sys
doc_path, report_path = sys.argv[1], sys.argv[2]
begin, end = "<!-- bench/run.sh results: begin -->", "<!-- bench/run.sh results: end -->"
doc = open(doc_path).read()
report = open(report_path).read().strip()
block = begin + "\n" + report + "\n" + end
if begin in doc and end in doc:
    doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end):]
else:
    doc = doc.rstrip() + "\n\n## Installs (bench/run.sh)\n\n" + block + "\n"
open(doc_path, "w").write(doc)
PY
    log "wrote docs/benchmarks.md"
fi
