"""A PEP 517/660 build backend written by rvenv-testkit into the sdists it builds.

It needs only the standard library, so tests can build sdists offline. It packs every file of the
source tree into the wheel except PKG-INFO, pyproject.toml, this file and `testkit_backend.json`;
the metadata comes from PKG-INFO. The JSON file configures it: build requirements and an optional
failure message (to test build errors).
"""

import base64
import email.parser
import hashlib
import json
import os
import re
import tarfile
import zipfile

_HERE = os.path.dirname(os.path.abspath(__file__))
_SKIP = {"PKG-INFO", "pyproject.toml", "testkit_backend.py", "testkit_backend.json"}


def _config():
    with open(os.path.join(_HERE, "testkit_backend.json"), encoding="utf-8") as f:
        return json.load(f)


def _fail_if_asked(hook):
    message = _config().get("fail")
    if message is not None:
        raise RuntimeError("testkit backend, %s: %s" % (hook, message))


def _metadata():
    with open(os.path.join(_HERE, "PKG-INFO"), encoding="utf-8") as f:
        text = f.read()
    headers = email.parser.Parser().parsestr(text)
    return headers["Name"], headers["Version"], text


def _escaped(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def _dist_info(name, version):
    return "%s-%s.dist-info" % (_escaped(name), version)


def _wheel_text():
    return "Wheel-Version: 1.0\nGenerator: testkit_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (path, digest, len(data))


def _source_files():
    for root, dirs, files in os.walk(_HERE):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            path = os.path.relpath(os.path.join(root, name), _HERE).replace(os.sep, "/")
            if path not in _SKIP and not name.startswith("."):
                yield path


def _write_wheel(wheel_directory, entries):
    name, version, metadata = _metadata()
    dist_info = _dist_info(name, version)
    filename = "%s-%s-py3-none-any.whl" % (_escaped(name), version)
    entries = list(entries) + [
        (dist_info + "/METADATA", metadata.encode()),
        (dist_info + "/WHEEL", _wheel_text().encode()),
    ]
    record = "".join(_record_line(path, data) for path, data in entries) + dist_info + "/RECORD,,\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in entries:
            wheel.writestr(path, data)
        wheel.writestr(dist_info + "/RECORD", record)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return list(_config().get("requires", []))


get_requires_for_build_editable = get_requires_for_build_wheel


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _fail_if_asked("prepare_metadata_for_build_wheel")
    name, version, metadata = _metadata()
    dist_info = _dist_info(name, version)
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    for filename, text in (("METADATA", metadata), ("WHEEL", _wheel_text())):
        with open(os.path.join(metadata_directory, dist_info, filename), "w", encoding="utf-8") as f:
            f.write(text)
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _fail_if_asked("build_wheel")
    entries = []
    for path in _source_files():
        with open(os.path.join(_HERE, path), "rb") as f:
            entries.append((path, f.read()))
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _fail_if_asked("build_editable")
    name, _, _ = _metadata()
    pth = ("%s\n" % _HERE).encode()
    return _write_wheel(wheel_directory, [("__editable__.%s.pth" % _escaped(name), pth)])


def build_sdist(sdist_directory, config_settings=None):
    _fail_if_asked("build_sdist")
    name, version, _ = _metadata()
    stem = "%s-%s" % (_escaped(name), version)
    filename = stem + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as sdist:
        for path in sorted(_SKIP) + list(_source_files()):
            if os.path.exists(os.path.join(_HERE, path)):
                sdist.add(os.path.join(_HERE, path), arcname=stem + "/" + path)
    return filename
