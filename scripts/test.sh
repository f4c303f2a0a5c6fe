#!/usr/bin/env bash
# Every test: unit tests, end-to-end tests of the real binary (local index, real interpreters,
# real PyPI), then the static release binary that deploy images use, built and smoke-tested.
set -euo pipefail
cd "$(dirname "$0")/.."
# The end-to-end tests run the built binary, so it is built first.
cargo build --workspace --locked
cargo test --workspace --locked
# The static binary is what ships (docs/nixpacks.md): a release build for the musl target, about
# 5 minutes on 2 cores from cold, seconds when the target dir is kept.
static_bin=$(scripts/build-static.sh | tail -n 1)
RVENV_STATIC_BIN="$static_bin" cargo test --locked -p rvenv-e2e --test static_build
