#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""[daemon] max_open_log_files (issue 17): the logger keeps at most that
many log files open, closes the least recently written one when it
needs room and has a closed one opened again by the supervisor when
output comes for it.  No byte is lost or written twice, lines stay in
order, rotation works as before, the logger holds no more files than
that (its /proc/PID/fd, sampled), and many instances with log files run
under a small RLIMIT_NOFILE.

Every wait is bounded; the only process signalled is the daemon (SIGUSR1
here, SIGTERM by the harness): agents end by themselves or are stopped
through the daemon."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import APM2D, Daemon, process  # noqa: E402
from harness import fd_links, needs_starving  # noqa: E402
from harness import get, rd, start  # noqa: E402
from harness import run, test, wait_until  # noqa: E402

CAP = 16        # the smallest max_open_log_files
RAW = {"redact": False, "timestamp": False}


def numbered(n, lines, pace=0):
    """sh: write lines numbered 0..lines-1 on stdout ("<inst> <i>") and
    stderr ("e <inst> <i>"), a pause of pace s every 50, then exit 0."""
    nap = "[ $((i %% 50)) -eq 0 ] && sleep %s; " % pace if pace else ""
    return ("i=0; while [ $i -lt %d ]; do echo \"$APM2_INSTANCE $i\"; "
            "echo \"e $APM2_INSTANCE $i\" >&2; i=$((i+1)); %sdone; true"
            % (lines, nap))


def log_fds(pid, log_dir):
    """How many of pid's descriptors are files in log_dir."""
    return sum(1 for t in fd_links(pid) if t.startswith(log_dir + "/"))


class Sampler(threading.Thread):
    """Counts the logger's log files every few ms until stopped."""

    def __init__(self, pid, log_dir):
        super().__init__(daemon=True)
        self.pid, self.log_dir = pid, log_dir
        self.seen = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                self.seen.append(log_fds(self.pid, self.log_dir))
            except OSError:
                pass
            self.done.wait(0.005)

    def stop(self):
        self.done.set()
        self.join(10)
        return self.seen


def finish(d, name, n, timeout):
    """Wait until name's n instances are Stopped{0}."""
    deadline = time.monotonic() + timeout
    while True:
        det = get(d, name)["instance_details"]
        if len(det) == n and all(i["state"] == {"Stopped": {"exit_code": 0}}
                                 for i in det):
            assert all(i["restart_count"] == 0 for i in det), det
            return
        assert time.monotonic() < deadline, \
            "timed out waiting for %s to finish: %r" % (
                name, [i["state"] for i in det])
        time.sleep(0.05)


def want_lines(data, prefix, lines, what):
    """data is exactly prefix + "<i>\\n" for i in 0..lines-1."""
    want = b"".join(b"%s%d\n" % (prefix, i) for i in range(lines))
    if data != want:
        got = data.split(b"\n")
        raise AssertionError("%s: %d lines, want %d; first difference "
                             "near %r" % (what, len(got) - 1, lines,
                                          next((g for g, w in zip(
                                              got, want.split(b"\n"))
                                              if g != w), got[-2:])))


def settled(check, timeout=60):
    """Wait until check() raises nothing (a drain that took longer than
    the supervisor waits for it may still be writing), then check()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            check()
            return
        except AssertionError:
            time.sleep(0.1)
    check()


def generations(path):
    """The file's rotated generations oldest first, then the file."""
    gens = []
    k = 1
    while os.path.exists("%s.%d" % (path, k)):
        gens.append("%s.%d" % (path, k))
        k += 1
    return list(reversed(gens)) + [path]


# 40 instances write 80 files (stdout and stderr) at once, under a cap
# of 16 open files: each file ends up with every line once, in order,
# and the logger never holds more than the cap (and two in passing: a
# rotation's new file before the old one is closed) of the log
# directory's files.
@test
def every_line_once_under_the_cap():
    n, lines = 40, 2000
    conf = process("w", "/bin/sh", ["-c", numbered(n, lines, "0.01")],
                   instances=n, autostart=False)
    with Daemon(conf, daemon={"max_open_log_files": CAP}) as d:
        lg = wait_until(d.logger_pid, 10, what="the logger")
        sampler = Sampler(lg, d.log_dir)
        sampler.start()
        try:
            start(d, "w", 60)
            finish(d, "w", n, 120)

            def check():
                for k in range(n):
                    base = os.path.join(d.log_dir, "w-%d" % k)
                    want_lines(rd(base + ".out.log"), b"%d " % k, lines,
                               "w-%d.out.log" % k)
                    want_lines(rd(base + ".err.log"), b"e %d " % k, lines,
                               "w-%d.err.log" % k)
            settled(check)
        finally:
            seen = sampler.stop()
        assert d.logger_pid() == lg, "the logger was replaced"
        assert max(seen) <= CAP + 2, (max(seen), CAP)
        assert max(seen) >= CAP - 2, (max(seen), CAP)
        print("# %d samples of the logger's log files: at most %d"
              % (len(seen), max(seen)))
        err = d.stderr()
        assert "cannot write" not in err and "log file" not in err, err


# Size rotation of 80 files under a cap of 16: every generation within
# max_size and ending at a line's end, and the generations in order
# hold every line once.  Raw capture: the pipe's bytes as they come.
@test
def rotation_under_the_cap():
    n, lines, max_size = 40, 600, 1500
    conf = process("r", "/bin/sh", ["-c", numbered(n, lines, "0.01")],
                   instances=n, autostart=False,
                   log=dict(RAW, rotation={"max_size": max_size,
                                           "max_files": 100}))
    with Daemon(conf, daemon={"max_open_log_files": CAP}) as d:
        lg = wait_until(d.logger_pid, 10, what="the logger")
        sampler = Sampler(lg, d.log_dir)
        sampler.start()
        try:
            start(d, "r", 60)
            finish(d, "r", n, 120)
            rotated = []

            def check():
                rotated[:] = []
                for k in range(n):
                    for name, prefix in (("out", b"%d " % k),
                                         ("err", b"e %d " % k)):
                        path = os.path.join(d.log_dir,
                                            "r-%d.%s.log" % (k, name))
                        gens = generations(path)
                        rotated.append(len(gens) - 1)
                        data = b""
                        for g in gens:
                            b = rd(g)
                            assert len(b) <= max_size, (g, len(b))
                            assert b == b"" or b.endswith(b"\n"), g
                            data += b
                        want_lines(data, prefix, lines, path)
            settled(check)
        finally:
            seen = sampler.stop()
        # Every file rotated (4 to 5 KB each), under the cap.
        assert sum(rotated) >= 3 * n, rotated
        assert max(seen) <= CAP + 2, (max(seen), CAP)
        assert "cannot write" not in d.stderr(), d.stderr()


# Files moved away while most are closed: SIGUSR1 reopens the ones the
# logger holds, the others are opened at their path when output comes;
# nothing new goes to the moved files.
@test
def moved_files_under_the_cap():
    n = 20
    flag = "{tmp}/flag"
    script = ("echo one; echo one >&2; n=0; while [ ! -e %s ] && "
              "[ $n -lt 150 ]; do sleep 0.2; n=$((n+1)); done; "
              "echo two; echo two >&2; exec sleep 1000" % flag)
    conf = process("m", "/bin/sh", ["-c", script], instances=n,
                   autostart=False)
    with Daemon(conf, daemon={"max_open_log_files": CAP}) as d:
        paths = [os.path.join(d.log_dir, "m-%d.%s.log" % (k, s))
                 for k in range(n) for s in ("out", "err")]
        start(d, "m", 60)
        wait_until(lambda: all(os.path.exists(p) and rd(p) == b"one\n"
                               for p in paths), 20, what="the first lines")
        for p in paths:
            os.rename(p, p + ".old")
        os.kill(d.pid, signal.SIGUSR1)
        # Only the files the logger holds: at most the cap.
        wait_until(lambda: re.search(r"reopening (\d+) log files",
                                     d.stderr()), 10, what="the reopen")
        k = int(re.search(r"reopening (\d+) log files", d.stderr())
                .group(1))
        assert k <= CAP, k
        # What the supervisor sent is in the logger before the flag.
        r = d.request({"type": "tail_logs", "name": "m", "lines": 1,
                       "follow": False}, timeout=20)
        assert r["type"] == "log_lines", r
        open(flag.replace("{tmp}", d.tmp), "w").close()
        wait_until(lambda: all(os.path.exists(p) and rd(p) == b"two\n"
                               for p in paths), 20, what="the new lines")
        for p in paths:
            assert rd(p + ".old") == b"one\n", p


# Issue 17: under RLIMIT_NOFILE 200, 70 instances with two log files
# each run with a cap of 16 (2 pipes each, 16 files and 32 for the
# logger's own: 188); at 4 descriptors an instance only 42 would.  Each
# file gets its line, most of them after being closed for another.
class Prlimit(Daemon):
    def argv(self):
        return ["prlimit", "--nofile=200:200"] + super().argv()


@test
def many_instances_under_a_small_rlimit():
    needs_starving()
    n = 70
    script = ("echo \"up $APM2_INSTANCE\"; echo \"err $APM2_INSTANCE\" >&2; "
              "exec sleep 1000")
    d = Prlimit(process("many", "/bin/sh", ["-c", script], instances=n,
                        autostart=False),
                daemon={"max_open_log_files": CAP})
    try:
        p = subprocess.run(["prlimit", "--nofile=200:200", APM2D, "-n", "-f",
                            d.config_path], capture_output=True, timeout=30)
        assert p.returncode == 0, p
        assert b"RLIMIT_NOFILE" not in p.stderr, p.stderr
        d.start()
        start(d, "many", 60)

        def running():
            st = [i["state"] for i in
                  get(d, "many")["instance_details"]]
            return len(st) == n and all(s == "Running" for s in st)
        wait_until(running, 30, what="70 instances running")

        def written():
            for k in range(n):
                for s, w in (("out", b"up %d\n" % k),
                             ("err", b"err %d\n" % k)):
                    p = os.path.join(d.log_dir, "many-%d.%s.log" % (k, s))
                    if not os.path.exists(p) or rd(p) != w:
                        return False
            return True
        wait_until(written, 30, what="every instance's lines")
        assert d.request({"type": "ping"})["type"] == "pong"
        err = d.stderr()
        assert "RLIMIT_NOFILE" not in err and "no descriptor" not in err, \
            err
        assert "logger lost" not in err, err
    finally:
        d.cleanup()
    # 100 would not fit: apm2d -n says how many do, files capped.
    d = Daemon(process("many", "sleep", ["1000"], instances=100),
               daemon={"max_open_log_files": CAP})
    try:
        p = subprocess.run(["prlimit", "--nofile=200:200", APM2D, "-n", "-f",
                            d.config_path], capture_output=True, timeout=30)
        assert p.returncode == 0, p
        assert b"need about 248 descriptors (200 pipes, 16 log files open " \
            b"at once, 32 more), but RLIMIT_NOFILE is 200: about 76 " \
            b"instances can run" in p.stderr, p.stderr
    finally:
        d.cleanup()


# The key is checked like the other [daemon] keys: file:line:col.
@test
def max_open_log_files_is_checked():
    for value, msg in (
            ("15", "must be at least 16, got 15"),
            ("1000001", "must be at most 1000000, got 1000001"),
            ('"64"', "expected integer, got string")):
        d = Daemon("[daemon]\nmax_open_log_files = %s\n" % value,
                   daemon_table=False)
        try:
            p = subprocess.run([APM2D, "-n", "-f", d.config_path],
                               capture_output=True, timeout=30)
            assert p.returncode != 0, p
            want = "%s:2:22: daemon.max_open_log_files: %s" % (
                d.config_path, msg)
            assert want in p.stderr.decode(), (want, p.stderr)
        finally:
            d.cleanup()
    d = Daemon("[daemon]\nmax_open_log_files = 1000000\n",
               daemon_table=False)
    try:
        p = subprocess.run([APM2D, "-n", "-f", d.config_path],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p
    finally:
        d.cleanup()


if __name__ == "__main__":
    run()
