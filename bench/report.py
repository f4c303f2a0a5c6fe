"""Turns the hyperfine exports of bench/run.sh into the markdown tables of docs/benchmarks.md.

    report.py RESULTS_DIR

RESULTS_DIR holds `<source>__<set>__<state>__<bytecode>__<tool>.json` (hyperfine --export-json)
and, beside each, `.mem` (peak resident set size in KiB of each run, from /usr/bin/time; the
median is shown);
`create__<tool>.json` for venv creation; `floor__<set>__<bytecode>.json` for `cp -al`;
`resolve__<source>__<set>__<state>__<tool>.json` for resolution alone (`--dry-run`).
Prints markdown: the tables, then every target of the issue with its figure, met or missed.
"""

import json
import os
import statistics
import sys

SETS = ["seed", "web", "ds"]
STATES = ["cold", "warm", "noop"]
STATE_NAMES = {"cold": "cold cache", "warm": "warm cache, fresh venv", "noop": "no-op re-run"}
SOURCES = {"mirror": "loopback mirror (nginx)", "live": "live PyPI"}
RESOLVE_SOURCES = {
    "live": "live PyPI (no validators, no max-age)",
    "mirror": "mirror (ETag and Last-Modified)",
    "mirror-max-age": "mirror with PyPI's max-age=600",
}


def load(directory):
    results = {}
    for name in os.listdir(directory):
        if not name.endswith(".json"):
            continue
        key = tuple(name[: -len(".json")].split("__"))
        with open(os.path.join(directory, name)) as handle:
            times = json.load(handle)["results"][0]["times"]
        memory = None
        mem_path = os.path.join(directory, name[: -len(".json")] + ".mem")
        if os.path.exists(mem_path):
            with open(mem_path) as handle:
                peaks = [int(word) for word in handle.read().split() if word.isdigit()]
            memory = statistics.median(peaks) / 1024 if peaks else None
        results[key] = {
            "median": statistics.median(times),
            "min": min(times),
            "max": max(times),
            "runs": len(times),
            "mem": memory,
        }
    return results


def cell(result):
    """`median (min–max)`, all in the median's unit."""
    if not result:
        return "-"
    if result["median"] < 0.1:
        scale, unit, digits = 1000, "ms", 1
    else:
        scale, unit, digits = 1, "s", 2
    low, mid, high = (
        "%.*f" % (digits, result[key] * scale) for key in ("min", "median", "max")
    )
    return "%s %s (%s–%s)" % (mid, unit, low, high)


def ratio(a, b):
    if not a or not b:
        return "-"
    return "%.2fx" % (a["median"] / b["median"])


def memory(*results):
    values = ["%.0f" % r["mem"] if r and r.get("mem") else "-" for r in results]
    return " / ".join(values)


def tables(results):
    out = []
    if any(key[0] == "create" for key in results):
        r, u, v = (results.get(("create", tool)) for tool in ("rvenv", "uv", "venv"))
        out += [
            "### Create a venv",
            "",
            "| rvenv create | uv venv | python -m venv --without-pip | rvenv/uv | rvenv/venv |",
            "|---|---|---|---|---|",
            "| %s | %s | %s | %s | %s |" % (cell(r), cell(u), cell(v), ratio(r, u), ratio(r, v)),
            "",
        ]
    for source, title in SOURCES.items():
        rows = []
        for set_name in SETS:
            for state in STATES:
                for bytecode in ("nobc", "bc"):
                    r, u, p = (
                        results.get((source, set_name, state, bytecode, tool))
                        for tool in ("rvenv", "uv", "pip")
                    )
                    if not (r or u or p):
                        continue
                    rows.append(
                        "| %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                        % (
                            set_name,
                            STATE_NAMES[state],
                            "yes" if bytecode == "bc" else "no",
                            cell(r),
                            cell(u),
                            cell(p),
                            ratio(r, u),
                            ratio(r, p),
                            memory(r, u, p),
                        )
                    )
        if not rows:
            continue
        out += [
            "### Install, %s" % title,
            "",
            "| set | state | bytecode | rvenv | uv | pip | rvenv/uv | rvenv/pip "
            "| peak MiB rvenv / uv / pip |",
            "|---|---|---|---|---|---|---|---|---|",
        ] + rows + [""]
    resolve_rows = []
    for source, title in RESOLVE_SOURCES.items():
        for set_name in SETS:
            for state in ("cold", "warm"):
                r, u = (
                    results.get(("resolve", source, set_name, state, tool))
                    for tool in ("rvenv", "uv")
                )
                if r or u:
                    resolve_rows.append(
                        "| %s | %s | %s | %s | %s | %s |"
                        % (title, set_name, state, cell(r), cell(u), ratio(r, u))
                    )
    if resolve_rows:
        out += [
            "### Resolution alone (`--dry-run` into an empty venv)",
            "",
            "| index | set | cache | rvenv | uv | rvenv/uv |",
            "|---|---|---|---|---|---|",
        ] + resolve_rows + [""]
    floors = [(key, value) for key, value in results.items() if key[0] == "floor"]
    if floors:
        out += [
            "### The floor: `cp -al` of the finished venv",
            "",
            "| set | bytecode | cp -al |",
            "|---|---|---|",
        ]
        for set_name in SETS:
            for bytecode in ("nobc", "bc"):
                result = results.get(("floor", set_name, bytecode))
                if result:
                    out.append(
                        "| %s | %s | %s |"
                        % (set_name, "yes" if bytecode == "bc" else "no", cell(result))
                    )
        out.append("")
    return out


def targets(results):
    """Each target of the issue as (description, figure, met)."""
    checks = []

    def median(*key):
        result = results.get(key)
        return result["median"] if result else None

    def check(text, value, limit, unit="x", below=True):
        if value is None:
            return
        met = value <= limit if below else value >= limit
        figure = "%.2f%s" % (value, unit) if unit == "x" else "%.1f ms" % (value * 1000)
        checks.append((text, figure, met))

    r, u, v = median("create", "rvenv"), median("create", "uv"), median("create", "venv")
    if r and u:
        check("create <= 0.3x uv venv", r / u, 0.3)
    if r and v:
        check("create <= 0.3x python -m venv --without-pip", r / v, 0.3)
    for source in SOURCES:
        for set_name in SETS:
            key = (source, set_name)
            warm_r = median(*key, "warm", "nobc", "rvenv")
            warm_u = median(*key, "warm", "nobc", "uv")
            warm_bc_r = median(*key, "warm", "bc", "rvenv")
            cold_r = median(*key, "cold", "nobc", "rvenv")
            cold_u = median(*key, "cold", "nobc", "uv")
            cold_bc_r = median(*key, "cold", "bc", "rvenv")
            cold_bc_u = median(*key, "cold", "bc", "uv")
            where = "%s %s" % (set_name, source)
            if warm_r and warm_u:
                check("warm <= 0.7x uv (%s)" % where, warm_r / warm_u, 0.7)
            if warm_bc_r and warm_u:
                check(
                    "warm with bytecode <= 1.0x uv without (%s)" % where, warm_bc_r / warm_u, 1.0
                )
            limit = 1.0 if source == "live" else 0.8
            if cold_r and cold_u:
                check("cold <= %.1fx uv (%s)" % (limit, where), cold_r / cold_u, limit)
            if cold_bc_r and cold_bc_u:
                check(
                    "cold with bytecode <= %.1fx uv with bytecode (%s)" % (limit, where),
                    cold_bc_r / cold_bc_u,
                    limit,
                )
            for bytecode in ("nobc", "bc"):
                noop = median(*key, "noop", bytecode, "rvenv")
                check("no-op < 20 ms (%s, %s)" % (where, bytecode), noop, 0.020, unit="s")
                floor = median("floor", set_name, bytecode)
                warm = median(*key, "warm", bytecode, "rvenv")
                if set_name == "ds" and floor and warm:
                    check("warm <= 2x cp -al floor (%s, %s)" % (where, bytecode), warm / floor, 2)
                for state in STATES:
                    mine = median(*key, state, bytecode, "rvenv")
                    pip = median(*key, state, bytecode, "pip")
                    if mine and pip:
                        check(
                            ">= 20x faster than pip (%s %s %s)" % (where, state, bytecode),
                            pip / mine,
                            20,
                            below=False,
                        )
    for source in RESOLVE_SOURCES:
        warm = median("resolve", source, "web", "warm", "rvenv")
        check("warm resolution of web < 100 ms (%s)" % source, warm, 0.100, unit="s")
        cold_r = median("resolve", source, "web", "cold", "rvenv")
        cold_u = median("resolve", source, "web", "cold", "uv")
        if source == "live" and cold_r and cold_u:
            check("cold resolution <= 1.0x uv (web live)", cold_r / cold_u, 1.0)
    return checks


def main():
    results = load(sys.argv[1])
    lines = tables(results)
    checks = targets(results)
    if checks:
        met = sum(1 for _, _, ok in checks if ok)
        lines += [
            "### Targets (%d of %d met)" % (met, len(checks)),
            "",
            "| target | figure | |",
            "|---|---|---|",
        ]
        lines += ["| %s | %s | %s |" % (t, f, "met" if ok else "**missed**") for t, f, ok in checks]
        lines.append("")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
