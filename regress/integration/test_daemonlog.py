#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The daemon's own log and the signals an admin sends (issue 19):
timestamps on foreground lines, [daemon] log_file and --log-file (all
three processes write there, and SIGUSR1 reopens it after logrotate moved
it), --log-level, USR1/USR2/PIPE never kill any apm2d process, a crash
loop does not flood the log, the stop-timeout line names the timeout that
applied, and apm2d -n refuses what the daemon refuses.

Every wait is bounded; only the daemon the test starts is signalled, by
its pid and its children's pids."""
import os
import re
import signal
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import APM2D, Daemon, process, run, test  # noqa: E402
from harness import wait_until  # noqa: E402

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z apm2d\[\d+\]: ")


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def in_tmp(d):
    """{tmp} in the [daemon] table too."""
    with open(d.config_path) as f:
        text = f.read().replace("{tmp}", d.tmp)
    with open(d.config_path, "w") as f:
        f.write(text)
    return d


def lines_of(text, who):
    return [ln for ln in text.splitlines() if (" %s: " % who) in ln]


@test
def foreground_lines_carry_timestamps():
    with Daemon(process("a", "sleep", ["1000"])) as d:
        wait_until(lambda: "started, pid" in d.stderr(), 10,
                   what="the start line")
        lines = [ln for ln in d.stderr().splitlines() if "apm2d[" in ln]
        assert lines, d.stderr()
        for ln in lines:
            assert STAMP.match(ln), ln


def frame_refused(d):
    """A frame over 16 MiB: the frontend logs it (at -v) and hangs up."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(d.socket)
    s.sendall(struct.pack(">I", 17 * 1024 * 1024))
    try:
        s.recv(1)
    except OSError:
        pass
    s.close()


@test
def log_file_takes_all_three_processes_and_sigusr1_reopens_it():
    d = in_tmp(Daemon(process("a", "sleep", ["1000"]), foreground=False,
                      extra_args=["-v"],
                      daemon={"log_file": "{tmp}/dlog/apm2d.log"}))
    with d:
        path = os.path.join(d.tmp, "dlog", "apm2d.log")
        wait_until(lambda: "started, pid" in read(path), 10,
                   what="the start line in the log file")
        st = os.stat(path)
        assert st.st_mode & 0o777 == 0o640, oct(st.st_mode)
        text = read(path)
        assert lines_of(text, "supervisor") and lines_of(text, "logger"), \
            text
        for ln in text.splitlines():
            assert STAMP.match(ln), ln
        # logrotate: move it away, then SIGUSR1.
        os.rename(path, path + ".1")
        os.kill(d.pid, signal.SIGUSR1)
        wait_until(lambda: "reopened" in read(path), 10,
                   what="the reopened file")
        frame_refused(d)
        wait_until(lambda: lines_of(read(path), "frontend"), 10,
                   what="a frontend line in the new file")
        assert "frame of" in "\n".join(lines_of(read(path), "frontend"))
        # Nothing of the frontend's after the rotation went to the old one.
        assert not [ln for ln in lines_of(read(path + ".1"), "frontend")
                    if "frame of" in ln]
        assert d.request({"type": "ping"})["type"] == "pong"


@test
def log_file_option_overrides_and_is_judged():
    base = Daemon(process("a", "sleep", ["1000"]))
    try:
        bad = os.path.join(base.tmp, "open")
        os.mkdir(bad)
        os.chmod(bad, 0o777)
        target = os.path.join(base.tmp, "victim")
        with open(target, "w") as f:
            f.write("keep\n")
        os.chmod(target, 0o600)
        link = os.path.join(base.tmp, "link.log")
        os.symlink(target, link)
        for path, why in ((os.path.join(bad, "d.log"),
                           "writable by group or others"),
                          (link, "Too many levels of symbolic links")):
            for args in (["-n"], ["-d"]):
                p = subprocess.run([APM2D, "-f", base.config_path,
                                    "--log-file", path] + args,
                                   capture_output=True, timeout=30,
                                   stdin=subprocess.DEVNULL)
                err = p.stderr.decode(errors="replace")
                assert p.returncode == 1, (args, p.returncode, err)
                assert why in err, (args, err)
                assert "configuration OK" not in p.stdout.decode()
        assert read(target) == "keep\n"
        good = os.path.join(base.tmp, "good.log")
        base.extra_args = ["--log-file", good]
        base.start()
        wait_until(lambda: "started, pid" in read(good), 10,
                   what="the start line in --log-file")
        assert "started, pid" not in base.stderr()
    finally:
        base.cleanup()


@test
def check_mode_refuses_what_the_daemon_refuses():
    base = Daemon(process("a", "sleep", ["1000"]))
    try:
        run_dir = os.path.dirname(base.socket)
        os.makedirs(run_dir, exist_ok=True)
        os.chmod(run_dir, 0o777)
        said = []
        for args in (["-n"], ["-d"]):
            p = subprocess.run([APM2D, "-f", base.config_path] + args,
                               capture_output=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            err = p.stderr.decode(errors="replace")
            assert p.returncode == 1, (args, p.returncode, err)
            assert "unsafe directory %s" % run_dir in err, err
            said.append(err)
        assert b"configuration OK" not in p.stdout
        os.chmod(run_dir, 0o755)
        p = subprocess.run([APM2D, "-f", base.config_path, "-n"],
                           capture_output=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0 and b"configuration OK" in p.stdout, p
    finally:
        base.cleanup()


@test
def log_level_warn_drops_info_lines_and_bad_level_is_refused():
    with Daemon(process("crash", "/bin/sh", ["-c", "exit 3"],
                        restart={"max_restarts": 0}),
                extra_args=["--log-level", "warn"]) as d:
        wait_until(lambda: "restart limit" in d.stderr(), 15,
                   what="the restart-limit warning")
        assert "started, pid" not in d.stderr()
        assert "exited with code" not in d.stderr()
    p = subprocess.run([APM2D, "--log-level", "loud", "-n"],
                       capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2, p.returncode
    assert b"--log-level loud" in p.stderr, p.stderr


@test
def habitual_signals_kill_no_apm2d_process():
    with Daemon(process("a", "sleep", ["1000"])) as d:
        # The logger answers: it is past its start.
        r = d.request({"type": "tail_logs", "name": "a", "lines": 1,
                       "follow": False})
        assert r["type"] == "log_lines", r
        fe = d.frontend_pid()
        lg = d.logger_pid()
        assert fe and lg
        for sig in (signal.SIGUSR2, signal.SIGPIPE, signal.SIGUSR1):
            os.kill(d.pid, sig)
            os.kill(fe, sig)
            os.kill(lg, sig)
        wait_until(lambda: "SIGUSR2 ignored" in d.stderr(), 10,
                   what="SIGUSR2 logged")
        assert d.request({"type": "ping"})["type"] == "pong"
        assert d.alive()
        assert d.frontend_pid() == fe and d.logger_pid() == lg


@test
def crash_loop_is_rate_limited_with_a_count():
    # Two programs crash-looping with no backoff, 60 restarts each: about
    # 120 lines each unlimited.  They give up after that, which ends the
    # loop and says how many lines were left out.
    fast = {"max_restarts": 60, "restart_window": "1h", "min_uptime": "0s",
            "backoff": {"type": "fixed", "delay": "0s"}}
    conf = "".join(process("c%d" % i, "/bin/sh", ["-c", "exit 1"],
                           restart=fast) for i in range(2))
    with Daemon(conf) as d:
        wait_until(lambda: d.stderr().count("restart limit (60) reached")
                   == 2, 60, what="both to give up")
        text = d.stderr()
    for i in range(2):
        mine = [ln for ln in text.splitlines() if " c%d: " % i in ln]
        # 10 lines in the window, the count, the give-up line.
        assert len(mine) <= 12, (i, len(mine), mine[-3:])
        assert re.search(r"c%d: \d+ more messages like these in 10 s "
                         r"were not logged" % i, text), text[-2000:]


@test
def daemon_deadline_is_named_when_it_cuts_a_stop_short():
    # Ignores SIGTERM; its own timeout (60s) is longer than the daemon's.
    conf = process("deaf", "/bin/sh",
                   ["-c", "trap '' TERM; touch {tmp}/deaf; "
                    "sleep 1000 & wait; sleep 1000"],
                   shutdown={"timeout": "60s"})
    with Daemon(conf, daemon={"shutdown_timeout": "1s"}) as d:
        # Deaf once the shell has run its trap, not merely once spawned.
        wait_until(lambda: os.path.exists(os.path.join(d.tmp, "deaf")), 10,
                   what="the trap")
        os.kill(d.pid, signal.SIGTERM)
        assert d.wait_exit(30) is not None
        err = d.stderr()
        assert ("deaf: still running when the daemon's shutdown_timeout "
                "of 1s ran out (it cuts the process's own stop timeout "
                "of 1m)") in err, err
        assert "after 1m" not in err and "60s after" not in err, err


run()
