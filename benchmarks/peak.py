"""Run one command; print its wall time, peak memory and exit code as one line of JSON.

    python -S -I benchmarks/peak.py STDOUT_FILE STDERR_FILE -- COMMAND ARG…

The runner starts this small launcher for every timed run so that `getrusage(RUSAGE_CHILDREN)`
sees exactly one command (and everything it starts). ru_maxrss is the largest resident set of
any single process in that tree, not their sum. On Linux a child's figure also includes the
launcher's own resident set at the moment of exec (a few MB with -S -I, reported by the runner
as the floor), which is why the runner does not measure its children itself.
Standard library only, and only these imports, to keep that floor low.
"""

import os
import resource
import sys
import time


def main() -> None:
    out, err, separator, *command = sys.argv[1:]
    if separator != "--" or not command:
        raise SystemExit("usage: peak.py STDOUT_FILE STDERR_FILE -- COMMAND [ARG…]")
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        actions = [
            (os.POSIX_SPAWN_DUP2, stdout.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, stderr.fileno(), 2),
        ]
        start = time.perf_counter()
        pid = os.posix_spawnp(command[0], command, os.environ, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    print(
        f'{{"seconds": {seconds}, "cpu_seconds": {cpu}, "peak_kb": {usage.ru_maxrss}, "exit": {code}}}'
    )


if __name__ == "__main__":
    main()
