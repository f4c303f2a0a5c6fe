"""Before/after timing of rvenv binaries, interleaved: each round runs every binary once, so a
machine that slows down or speeds up mid-measure moves all of them alike.

    python3 bench/ab.py ROUNDS PREPARE COMMAND BINARY...

PREPARE and COMMAND are shell commands in which `{BIN}` stands for the binary being timed;
PREPARE runs before each timed COMMAND and is not timed. The first two rounds warm up. Prints
the median, lower quartile and minimum wall time of each binary, in milliseconds. Example (a
warm install of web.txt into a fresh venv, two builds):

    python3 bench/ab.py 30 \
        "rm -rf /dev/shm/v && {BIN} create -q --python /usr/bin/python3 /dev/shm/v" \
        "exec {BIN} install -q --venv /dev/shm/v --cache-dir /dev/shm/c -r bench/sets/web.txt --index-url http://127.0.0.1:8765/simple/" \
        /tmp/rvenv-before /tmp/rvenv-after
"""

import statistics
import subprocess
import sys
import time

WARMUP_ROUNDS = 2


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    rounds, prepare, command, binaries = int(argv[0]), argv[1], argv[2], argv[3:]
    times = {binary: [] for binary in binaries}
    for round_number in range(WARMUP_ROUNDS + rounds):
        for binary in binaries:
            subprocess.run(prepare.replace("{BIN}", binary), shell=True, check=True)
            start = time.perf_counter()
            done = subprocess.run(command.replace("{BIN}", binary), shell=True)
            elapsed = (time.perf_counter() - start) * 1000
            if done.returncode != 0:
                sys.exit(f"{binary} failed (exit status {done.returncode})")
            if round_number >= WARMUP_ROUNDS:
                times[binary].append(elapsed)
    for binary, measured in times.items():
        measured.sort()
        print(
            f"{binary:40s} median {statistics.median(measured):7.1f} ms"
            f"  p25 {measured[len(measured) // 4]:7.1f}  min {measured[0]:7.1f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
