# rvenv's interpreter query: run once per interpreter (`python -I -B -c <this>`), prints one JSON
# object on stdout. Written so that any Python parses it (no f-strings), so that Python 2 and old
# 3.x answer "unsupported" instead of failing with a SyntaxError.
import json
import os
import sys

MIN_VERSION = (3, 8)
# Stands in for the venv root while asking sysconfig for a venv's paths; stripped afterwards.
PLACEHOLDER = "/__rvenv_venv_root__"


def unsupported():
    return {
        "result": "unsupported",
        "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
    }


def full_version():
    import platform

    version = platform.python_version()
    # Builds from a source checkout report e.g. "3.11.2+", which is not PEP 440.
    return version.rstrip("+")


def markers():
    import platform

    impl = sys.implementation
    info = impl.version
    impl_version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        impl_version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": impl.name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": full_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def elf_interpreter(path):
    """The PT_INTERP (dynamic loader) path of an ELF file, or None."""
    import struct

    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if ident[:4] != b"\x7fELF":
                return None
            is64 = ident[4] == 2 or ident[4:5] == b"\x02"
            endian = "<" if ident[5] in (1, b"\x01") else ">"
            if is64:
                header = struct.unpack(endian + "HHIQQQIHHHHHH", f.read(48))
            else:
                header = struct.unpack(endian + "HHIIIIIHHHHHH", f.read(36))
            phoff, phentsize, phnum = header[4], header[9], header[10]
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                if is64:
                    ptype, _, offset, _, _, filesz = struct.unpack(endian + "IIQQQQ", f.read(40))
                else:
                    ptype, offset, _, _, filesz = struct.unpack(endian + "IIIII", f.read(20))
                if ptype == 3:
                    f.seek(offset)
                    return f.read(filesz).rstrip(b"\x00").decode()
    except (OSError, struct.error, UnicodeDecodeError):
        return None
    return None


def parse_major_minor(text):
    parts = text.strip().split(".")
    try:
        return {"major": int(parts[0]), "minor": int(parts[1])}
    except (IndexError, ValueError):
        return None


def libc():
    """The C library this very process runs on (Linux only): glibc or musl, with its version."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")  # e.g. "glibc 2.36"
    except (AttributeError, OSError, ValueError):
        glibc = None
    if glibc and glibc.startswith("glibc "):
        version = parse_major_minor(glibc.split(" ", 1)[1])
        if version:
            version["kind"] = "glibc"
            return version
    loader = elf_interpreter(sys.executable)
    if loader and "musl" in os.path.basename(loader):
        import subprocess

        # Run without arguments, the musl loader prints "musl libc (arch)\nVersion 1.2.4\n...".
        proc = subprocess.Popen([loader], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = proc.communicate()
        for line in err.decode("utf-8", "replace").splitlines():
            if line.startswith("Version "):
                version = parse_major_minor(line.split(" ", 1)[1])
                if version:
                    version["kind"] = "musl"
                    return version
    return None


def read_pyvenv_home(prefix):
    try:
        with open(os.path.join(prefix, "pyvenv.cfg")) as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep and key.strip().lower() == "home":
                    return value.strip()
    except OSError:
        pass
    return None


def base_executable():
    """The real base interpreter binary: venvs followed through pyvenv.cfg, symlinks resolved."""
    exe = sys.executable
    if sys.prefix != sys.base_prefix:
        home = read_pyvenv_home(sys.prefix)
        names = ["python%d.%d" % sys.version_info[:2], "python%d" % sys.version_info[0], "python"]
        found = None
        if home:
            for name in names:
                candidate = os.path.join(home, name)
                if os.path.isfile(candidate):
                    found = candidate
                    break
        exe = found or getattr(sys, "_base_executable", exe)
    return os.path.realpath(exe)


def venv_scheme():
    """The paths a venv made from this interpreter gets, relative to the venv root."""
    import sysconfig

    if "venv" in sysconfig.get_scheme_names():
        scheme = "venv"
    else:
        scheme = "posix_prefix"
    names = ("base", "platbase", "installed_base", "installed_platbase")
    variables = dict((name, PLACEHOLDER) for name in names)
    paths = sysconfig.get_paths(scheme=scheme, vars=variables, expand=True)

    def relative(path):
        if path == PLACEHOLDER:
            return ""
        if not path.startswith(PLACEHOLDER + "/"):
            raise ValueError("sysconfig path %r is not inside the venv" % path)
        return path[len(PLACEHOLDER) + 1:]

    version = "%d.%d" % sys.version_info[:2]
    return {
        "purelib": relative(paths["purelib"]),
        "platlib": relative(paths["platlib"]),
        "scripts": relative(paths["scripts"]),
        "data": relative(paths["data"]),
        # pip puts a distribution's headers under include/site/pythonX.Y/<name> in a venv.
        "include": os.path.join("include", "site", "python" + version),
    }


def own_scheme():
    """The paths pip installs into for this interpreter's own prefix (absolute)."""
    import sysconfig

    if hasattr(sysconfig, "get_preferred_scheme"):
        paths = sysconfig.get_paths(scheme=sysconfig.get_preferred_scheme("prefix"))
    else:
        paths = sysconfig.get_paths()
    include = paths["include"]
    if sys.prefix != sys.base_prefix:
        include = os.path.join(sys.prefix, "include", "site", "python%d.%d" % sys.version_info[:2])
    return {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "scripts": paths["scripts"],
        "data": paths["data"],
        "include": include,
    }


def interpreter():
    import platform
    import sysconfig

    return {
        "executable": sys.executable,
        "base_executable": base_executable(),
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "implementation": sys.implementation.name,
        "python_full_version": full_version(),
        "markers": markers(),
        "platform": {
            "os": sys.platform if not sys.platform.startswith("linux") else "linux",
            "arch": platform.machine(),
            "libc": libc(),
        },
        "abiflags": getattr(sys, "abiflags", ""),
        "soabi": sysconfig.get_config_var("SOABI"),
        "is_64bit": sys.maxsize > 2**32,
        "stdlib": sysconfig.get_paths()["stdlib"],
        "venv_scheme": venv_scheme(),
        "scheme": own_scheme(),
        "is_venv": sys.prefix != sys.base_prefix,
    }


def main():
    if sys.version_info[:2] < MIN_VERSION:
        answer = unsupported()
    else:
        answer = {"result": "ok", "interpreter": interpreter()}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.write("\n")


main()
