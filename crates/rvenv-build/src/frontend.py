"""rvenv's PEP 517/660 build frontend: calls one hook of a build backend.

Run by rvenv inside the build environment, with the source tree as the working directory:

    python rvenv_build_frontend.py REQUEST.json

REQUEST.json holds `backend` ("module" or "module:object"), `backend_path` (absolute
directories, PEP 517's backend-path), `hook` (the hook's name), `args` (its positional
arguments) and `result` (where to write the outcome). The outcome is JSON: {"status": "ok",
"value": ...}, {"status": "missing"} when the backend does not define the hook (rvenv then
applies PEP 517's fallback), or {"status": "error", "message": ...}. Whatever the backend prints
goes to this process's stdout and stderr, which rvenv keeps in a log file.
"""

import importlib
import json
import os
import sys
import traceback


class BackendUnavailable(Exception):
    pass


def _within(path, directory):
    path = os.path.normcase(os.path.realpath(path))
    directory = os.path.normcase(os.path.realpath(directory))
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def load_backend(spec, backend_path):
    module_name, _, object_path = spec.partition(":")
    module_name = module_name.strip()
    if backend_path:
        sys.path[:0] = backend_path
    try:
        backend = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailable(
            "cannot import the build backend module %r: %s" % (module_name, exc)
        )
    if backend_path:
        # PEP 517: an in-tree backend must come from backend-path, not from an installed package.
        origin = getattr(backend, "__file__", None) or ""
        if not any(_within(origin, entry) for entry in backend_path):
            raise BackendUnavailable(
                "the build backend %r was loaded from %s, not from its backend-path %s"
                % (module_name, origin, backend_path)
            )
    for attribute in filter(None, object_path.strip().split(".")):
        backend = getattr(backend, attribute)
    return backend


def write_result(path, outcome):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(outcome, f)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    result = request["result"]
    try:
        backend = load_backend(request["backend"], request["backend_path"])
    except BaseException as exc:
        write_result(
            result,
            {"status": "error", "message": str(exc), "traceback": traceback.format_exc()},
        )
        return 1
    hook = getattr(backend, request["hook"], None)
    if hook is None:
        write_result(result, {"status": "missing"})
        return 0
    try:
        value = hook(*request["args"])
    except BaseException as exc:
        # SystemExit included: distutils reports setup.py errors by exiting.
        sys.stdout.flush()
        sys.stderr.flush()
        message = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
        write_result(
            result,
            {"status": "error", "message": message, "traceback": traceback.format_exc()},
        )
        return 1
    if isinstance(value, (list, tuple)):
        value = [str(item) for item in value]
    write_result(result, {"status": "ok", "value": value})
    return 0


if __name__ == "__main__":
    sys.exit(main())
