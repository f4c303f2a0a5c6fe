"""Builds a static PEP 503 mirror of the packages installed in some environments.

    mirror.py OUT --python PYTHON --venv VENV [--venv VENV ...] [--index URL]

For every distribution installed in the given environments, OUT/simple/<name>/index.html lists
every file the index lists for that project (so pages are as large as the real ones), with
`#sha256=` fragments and Requires-Python. The files of the installed versions that fit PYTHON's
tags are downloaded once into OUT/files/ (kept across runs, checked by hash) with their PEP 658
metadata files (the wheel's own METADATA), announced by data-core-metadata and
data-dist-info-metadata. Every other file points to OUT/absent/, which does not exist: a tool
that touches any of them fails loudly instead of silently reaching the network.

Uses the standard library only (and pip's vendored `packaging` for the tags of PYTHON).
"""

import argparse
import concurrent.futures
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import urllib.request
import zipfile

ACCEPT = "application/vnd.pypi.simple.v1+json"


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(venv):
    """(name, version) of every distribution in the environment's site-packages."""
    found = set()
    for root, dirs, _ in os.walk(venv):
        for directory in dirs:
            if not directory.endswith(".dist-info"):
                continue
            metadata = os.path.join(root, directory, "METADATA")
            fields = {}
            with open(metadata, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if not line.strip():
                        break
                    key, _, value = line.partition(":")
                    fields.setdefault(key.strip().lower(), value.strip())
            found.add((normalize(fields["name"]), fields["version"]))
        dirs[:] = [d for d in dirs if not d.endswith(".dist-info")]
    return found


def interpreter_tags(python):
    """PYTHON's supported tags, most preferred first, as `py-abi-platform` strings."""
    import pip  # the tools venv's pip, for its vendored packaging

    vendor = os.path.join(os.path.dirname(pip.__file__), "_vendor")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from packaging.tags import sys_tags;"
        "print('\\n'.join(str(t) for t in sys_tags()))"
    )
    out = subprocess.run(
        [python, "-I", "-c", code, vendor], check=True, capture_output=True, text=True
    ).stdout
    return set(out.split())


def wheel_tags(filename):
    parts = filename[: -len(".whl")].split("-")
    if len(parts) < 5:
        return set()
    pythons, abis, platforms = parts[-3], parts[-2], parts[-1]
    return {
        "%s-%s-%s" % (p, a, pl)
        for p in pythons.split(".")
        for a in abis.split(".")
        for pl in platforms.split(".")
    }


def file_version(filename, name):
    """The version in a wheel or sdist file name of project `name`, or None."""
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if normalize(parts[0]) == name else None
    for suffix in (".tar.gz", ".zip", ".tar.bz2"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            project, _, version = stem.rpartition("-")
            return version if normalize(project) == name else None
    return None


def get(url, accept=None):
    request = urllib.request.Request(url, headers={"User-Agent": "rvenv-bench-mirror"})
    if accept:
        request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_file(url, sha256, path):
    if os.path.exists(path) and sha256_of(path) == sha256:
        return
    data = get(url)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SystemExit("hash mismatch for %s" % url)
    with open(path + ".part", "wb") as handle:
        handle.write(data)
    os.replace(path + ".part", path)


def wheel_metadata(path):
    """The METADATA file of the wheel's .dist-info directory (what PEP 658 serves)."""
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            parts = member.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                return archive.read(member)
    raise SystemExit("no METADATA in %s" % path)


def write_if_changed(path, content):
    """Leaves an unchanged file alone, so its mtime and the server's ETag stay the same across
    runs and caches revalidate as they would against a real index."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return
    except FileNotFoundError:
        pass
    with open(path + ".part", "wb") as handle:
        handle.write(data)
    os.replace(path + ".part", path)


def page(name, files, local):
    lines = [
        "<!DOCTYPE html>",
        '<html><head><meta name="pypi:repository-version" content="1.0">'
        "<title>Links for %s</title></head><body><h1>Links for %s</h1>" % (name, name),
    ]
    for file in files:
        filename = file["filename"]
        sha256 = file.get("hashes", {}).get("sha256")
        folder = "files" if filename in local else "absent"
        href = "../../%s/%s" % (folder, filename)
        if sha256:
            href += "#sha256=" + sha256
        attributes = ['href="%s"' % html.escape(href)]
        if file.get("requires-python"):
            attributes.append('data-requires-python="%s"' % html.escape(file["requires-python"]))
        yanked = file.get("yanked")
        if yanked:
            reason = yanked if isinstance(yanked, str) else ""
            attributes.append('data-yanked="%s"' % html.escape(reason))
        if filename in local:
            value = "sha256=" + local[filename]
            attributes.append('data-dist-info-metadata="%s"' % value)
            attributes.append('data-core-metadata="%s"' % value)
        lines.append("<a %s>%s</a><br/>" % (" ".join(attributes), html.escape(filename)))
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--python", required=True)
    parser.add_argument("--venv", action="append", required=True)
    parser.add_argument("--index", default="https://pypi.org/simple/")
    args = parser.parse_args()

    pins = set()
    for venv in args.venv:
        pins |= installed(venv)
    tags = interpreter_tags(args.python)
    versions = {}
    for name, version in pins:
        versions.setdefault(name, set()).add(version)

    files_dir = os.path.join(args.out, "files")
    os.makedirs(files_dir, exist_ok=True)

    def project(name):
        listing = json.loads(get(args.index.rstrip("/") + "/%s/" % name, ACCEPT))
        files = listing["files"]
        wanted = [
            f
            for f in files
            if f["filename"].endswith(".whl")
            and file_version(f["filename"], name) in versions[name]
            and wheel_tags(f["filename"]) & tags
        ]
        if not wanted:
            raise SystemExit("no wheel of %s %s fits %s" % (name, versions[name], args.python))
        local = {}
        for file in wanted:
            path = os.path.join(files_dir, file["filename"])
            fetch_file(file["url"], file["hashes"]["sha256"], path)
            metadata = wheel_metadata(path)
            write_if_changed(path + ".metadata", metadata)
            local[file["filename"]] = hashlib.sha256(metadata).hexdigest()
        directory = os.path.join(args.out, "simple", name)
        os.makedirs(directory, exist_ok=True)
        write_if_changed(os.path.join(directory, "index.html"), page(name, files, local))
        return name, len(files), len(local)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        done = sorted(pool.map(project, sorted(versions)))
    root = "<!DOCTYPE html><html><body>\n"
    root += "".join('<a href="%s/">%s</a><br/>\n' % (name, name) for name, _, _ in done)
    write_if_changed(os.path.join(args.out, "simple", "index.html"), root + "</body></html>\n")
    listed = sum(count for _, count, _ in done)
    local = sum(count for _, _, count in done)
    print("mirror: %d projects, %d files listed, %d served" % (len(done), listed, local),
          file=sys.stderr)


if __name__ == "__main__":
    main()
