#!/usr/bin/env bash
# Builds rvenv as one statically linked binary, for images where the base Python lives in the Nix
# store and LD_LIBRARY_PATH points at Nix's libraries (nixpacks, Railway): a static binary loads no
# shared object at all, so neither glibc's version nor LD_LIBRARY_PATH can break it.
#
#   scripts/build-static.sh            # prints the binary's path on the last line
#
# The x86_64-unknown-linux-musl target is preferred (rustup adds it; ring's C and assembly are
# built with musl-gcc from musl-tools, installed with apt-get when missing and allowed). Where that
# target cannot be had, the gnu target is linked statically with `-C target-feature=+crt-static`.
# CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}

have_musl_gcc() { command -v musl-gcc >/dev/null 2>&1; }

musl_ready() {
    rustup target add x86_64-unknown-linux-musl >&2 || return 1
    if ! have_musl_gcc && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        (apt-get install -y musl-tools || { apt-get update && apt-get install -y musl-tools; }) >&2 || true
    fi
    have_musl_gcc || return 1
    # ring's C code is compiled with musl-gcc: check that it can build a program at all, so that
    # a compile error in rvenv itself is reported as such instead of starting a second build.
    local probe
    probe=$(mktemp -d)
    printf 'int main(void) { return 0; }\n' > "$probe/probe.c"
    musl-gcc -o "$probe/probe" "$probe/probe.c" >&2
    local status=$?
    rm -rf "$probe"
    return $status
}

# Rust links static executables as position-independent ("static-pie") by default; a fixed load
# address makes `file` report them as "statically linked", which is what deploy checks look for.
# (Both load no shared object; only address-space randomisation of the binary itself is lost.)
build_musl() {
    CC_x86_64_unknown_linux_musl=musl-gcc \
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C relocation-model=static" \
        cargo build --release --locked --target x86_64-unknown-linux-musl -p rvenv >&2
}

build_gnu_static() {
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" \
        cargo build --release --locked --target x86_64-unknown-linux-gnu -p rvenv >&2
}

if musl_ready; then
    build_musl
    target=x86_64-unknown-linux-musl
else
    echo "build-static: the musl target or a working musl-gcc is not available; building the gnu target with +crt-static instead" >&2
    build_gnu_static
    target=x86_64-unknown-linux-gnu
fi

binary="$(cd "$target_dir" && pwd)/$target/release/rvenv"
description=$(file -L "$binary")
echo "$description" >&2
case "$description" in
    *"statically linked"*) ;;
    *) echo "build-static: $binary is not statically linked" >&2; exit 1 ;;
esac
echo "$binary"
