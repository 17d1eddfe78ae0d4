#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""apm2ctl against a real daemon: the upstream table and detail formats,
the action messages, "all", errors and -j; agents' output and the
configuration's strings escaped on a terminal, kept as they are on a
pipe, with --raw and with -j.

Every wait is bounded; the only processes signalled are the daemon and
the apm2ctl clients the tests start."""
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APM2CTL, Daemon, ctl, process, run, test,  # noqa: E402
                     wait_until)

CONFIG = (process("web", "sleep", ["1000"], cwd="/tmp", instances=2,
                  autostart=False)
          + process("batch", "sh", ["-c", "exec sleep 1000"],
                    autostart=False))

HEADER = ("NAME                  RUNNING    TOTAL STATUS            CPU"
          "        MEM     UPTIME")


def running(d, name):
    r = d.request({"type": "get_process", "name": name})
    return all(i["state"] == "Running"
               for i in r["process"]["instance_details"])


@test
def list_table_format():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "list")
        assert rc == 0, (rc, err)
        lines = out.splitlines()
        assert lines[0] == HEADER, repr(lines[0])
        assert lines[1] == "-" * 78
        want = "%-20s %8d %8d %-12s %7.1f%% %10s %10s" % (
            "web", 0, 2, "stopped", 0.0, "0B", "0s")
        assert lines[2] == want, (lines[2], want)
        assert lines[3].startswith("batch "), lines[3]
        assert len(lines) == 4
        rc, out, err = ctl(d, "ls")
        assert rc == 0 and out.splitlines()[0] == HEADER


@test
def empty_list_says_so():
    with Daemon("") as d:
        rc, out, err = ctl(d, "list")
        assert rc == 0 and out == "No processes configured\n", (rc, out)


@test
def start_stop_restart_reload_messages():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "start", "web")
        assert rc == 0, err
        assert out == "Started 'web': Process 'web' started\n", out
        wait_until(lambda: running(d, "web"), 10, what="web running")
        rc, out, err = ctl(d, "list")
        row = out.splitlines()[2]
        assert re.match(r"^web +2 +2 running ", row), row
        rc, out, err = ctl(d, "restart", "web")
        assert rc == 0 and out.startswith("Restarted 'web': "), (out, err)
        wait_until(lambda: running(d, "web"), 10, what="web running")
        rc, out, err = ctl(d, "reload", "web")
        assert rc == 0 and out.startswith("Reloading 'web': "), (out, err)
        rc, out, err = ctl(d, "stop", "web")
        assert rc == 0, err
        assert out == "Stopped 'web': Stopped 2 instance(s) of 'web'\n", out


@test
def errors_name_the_code():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "start", "nope")
        assert rc == 1 and out == "", (rc, out)
        assert err == ("Error: Failed to start 'nope': Process 'nope' not "
                       "found (ProcessNotFound)\n"), err
        rc, out, err = ctl(d, "stop", "web")
        assert rc == 1
        assert err == ("Error: Failed to stop 'web': Process 'web' is not "
                       "running (ProcessNotRunning)\n"), err
        rc, out, err = ctl(d, "status", "nope")
        assert rc == 1 and "(ProcessNotFound)" in err, err


@test
def status_detail_format():
    with Daemon(CONFIG) as d:
        ctl(d, "start", "web")
        wait_until(lambda: running(d, "web"), 10, what="web running")
        r = d.request({"type": "get_process", "name": "web"})
        rc, out, err = ctl(d, "status", "web")
        assert rc == 0, err
        lines = out.splitlines()
        assert lines[0] == "Name:        web"
        assert lines[1] == "ID:          " + r["process"]["id"]
        assert lines[2] == "Command:     sleep 1000"
        assert lines[3] == "Working Dir: /tmp"
        assert lines[4] == "Instances:   2"
        assert lines[5] == ""
        assert lines[6] == "Instance Details:"
        for i, inst in enumerate(r["process"]["instance_details"]):
            want = "  [%d] PID: %6d  State: running     " % (i, inst["pid"])
            assert lines[7 + i].startswith(want), (lines[7 + i], want)
            assert lines[7 + i].endswith("Restarts: 0"), lines[7 + i]


@test
def all_acts_on_every_process_and_reports_each():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "start", "all")
        assert rc == 0, err
        assert out == ("Started 'web': Process 'web' started\n"
                       "Started 'batch': Process 'batch' started\n"), out
        wait_until(lambda: running(d, "web") and running(d, "batch"), 10,
                   what="all running")
        # One already running: reported, and the exit status says so.
        rc, out, err = ctl(d, "stop", "batch")
        assert rc == 0
        rc, out, err = ctl(d, "stop", "all")
        assert rc == 1, (rc, out, err)
        assert "Stopped 'web': Stopped 2 instance(s) of 'web'" in out, out
        assert "Failed to stop 'batch'" in err, err


@test
def json_output_is_one_line_per_reply():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "-j", "list")
        assert rc == 0, err
        assert out.count("\n") == 1
        j = json.loads(out)
        assert j["type"] == "process_list"
        assert [p["name"] for p in j["processes"]] == ["web", "batch"]
        rc, out, err = ctl(d, "-j", "start", "nope")
        assert rc == 1 and json.loads(out)["code"] == "process_not_found"


# ------------------------------------------------------------ terminals

# What a hostile agent writes: a window title, the clipboard (OSC 52), a
# line overwritten with \r, an erase sequence, a raw 8-bit CSI (0x9b,
# not UTF-8: the daemon passes it on as U+FFFD), the C1 CSI U+009B, and
# tab, DEL and printable UTF-8.  Round 2 comes once the test creates the
# trigger file, for the follow test.
EVIL = r"""
say() {
	printf 'L1 \033]0;pwned-title\007 end\n'
	printf 'L2 \033]52;c;cHduZWQ=\007 end\n'
	printf 'L3 real text\rFORGED ok end\n'
	printf 'L4 \033[2K end\n'
	printf 'L5 \233 end\n'
	printf 'L6 \302\2331;31m end\n'
	printf 'L7 a\tb \303\251 \177 end\n'
	printf "DONE $1\n"
}
say 1
while [ ! -e "$TRIGGER" ]; do sleep 0.05; done
say 2
exec sleep 1000
"""

# Each line as a terminal shows it: escaped, tab and UTF-8 kept.
ESCAPED = [
    b"L1 \\x1b]0;pwned-title\\x07 end",
    b"L2 \\x1b]52;c;cHduZWQ=\\x07 end",
    b"L3 real text\\x0dFORGED ok end",
    b"L4 \\x1b[2K end",
    b"L5 \xef\xbf\xbd end",
    b"L6 \\x9b1;31m end",
    b"L7 a\tb \xc3\xa9 \\x7f end",
]
# ... and as the agent wrote them (0x9b replaced by the daemon).
RAWLINES = [
    b"L1 \x1b]0;pwned-title\x07 end",
    b"L2 \x1b]52;c;cHduZWQ=\x07 end",
    b"L3 real text\rFORGED ok end",
    b"L4 \x1b[2K end",
    b"L5 \xef\xbf\xbd end",
    b"L6 \xc2\x9b1;31m end",
    b"L7 a\tb \xc3\xa9 \x7f end",
]


# The daemon's directory is the test's: only it can create the trigger.
EVIL_CFG = process("evil", "/bin/sh", ["-c", EVIL], autostart=False,
                   env={"TRIGGER": "{tmp}/trigger"})


def bodies(out):
    """The text of each `apm2ctl logs` line, after its [...] prefixes."""
    res = []
    for line in out.split(b"\n")[:-1]:
        m = re.match(rb"^\[[-0-9 :]{19}\] \[evil:0\] \[stdout\] (.*)$",
                     line, re.S)
        assert m is not None, (line, out)
        res.append(m.group(1))
    return res


def assert_nothing_raw(out):
    """No control byte but tab and newline reaches the terminal, and no
    byte in 0x80-0x9f (none of the printable text here has one)."""
    bad = [b for b in out if (b < 0x20 and b not in b"\t\n") or
           0x7f <= b <= 0x9f]
    assert not bad, (bad, out)


def pty_run(args, timeout=20, stderr_tty=False, until=None):
    """Run apm2ctl with its stdout (and stderr if asked) on a pseudo-
    terminal in raw mode, so that what arrives is what apm2ctl wrote.
    Read until it exits, or until until(output) is true and then stop
    it.  Return (rc, terminal bytes, stderr bytes if not on the tty)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    errf = tempfile.TemporaryFile()
    try:
        p = subprocess.Popen([APM2CTL] + list(args),
                             stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=slave if stderr_tty else errf)
    finally:
        os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("apm2ctl %s: no end within %ds: %r"
                                     % (args, timeout, out))
            r, _, _ = select.select([master], [], [], min(left, 0.5))
            if not r:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break           # EIO: the last writer closed the tty
            if not chunk:
                break
            out += chunk
            if until is not None and until(out) and p.poll() is None:
                p.terminate()
                until = None
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)
        os.close(master)
    errf.seek(0)
    err = errf.read()
    errf.close()
    return rc, out, err


def pipe_run(args, timeout=20):
    p = subprocess.run([APM2CTL] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def wait_round(d, n):
    def done():
        r = d.request({"type": "tail_logs", "name": "evil", "lines": 100,
                       "follow": False})
        return any(e["content"] == "DONE %d" % n for e in r["lines"])
    wait_until(done, 15, what="round %d of the agent's output" % n)


@test
def logs_escape_controls_on_a_terminal_only():
    with Daemon(EVIL_CFG) as d:
        rc, out, err = ctl(d, "start", "evil")
        assert rc == 0, err
        wait_round(d, 1)
        logs = ["-s", d.socket, "logs", "evil", "-n", "100"]

        # A terminal: every control but tab escaped.
        rc, out, err = pty_run(logs)
        assert rc == 0, (rc, out, err)
        assert bodies(out) == ESCAPED + [b"DONE 1"], out
        assert_nothing_raw(out)

        # A pipe: the bytes as they are, as scripts expect.
        rc, pout, err = pipe_run(logs)
        assert rc == 0, (rc, err)
        assert bodies(pout) == RAWLINES + [b"DONE 1"], pout

        # --raw: the bytes as they are, even on a terminal.
        rc, out, err = pty_run(logs + ["--raw"])
        assert rc == 0, (rc, out, err)
        assert out == pout, (out, pout)
        rc, out, err = pty_run(["--raw"] + logs)
        assert rc == 0 and out == pout, (out, pout)

        # -j: the daemon's JSON, the same on a terminal as on a pipe.
        rc, jpty, err = pty_run(["-j"] + logs)
        assert rc == 0, (rc, jpty, err)
        rc, jpipe, err = pipe_run(["-j"] + logs)
        assert rc == 0 and jpty == jpipe, (jpty, jpipe)
        j = json.loads(jpty)
        assert [e["content"].encode() for e in j["lines"]] == \
            RAWLINES + [b"DONE 1"], j

        # Without a name (all processes): escaped the same way.
        rc, out, err = pty_run(["-s", d.socket, "logs", "-n", "100"])
        assert rc == 0 and bodies(out) == ESCAPED + [b"DONE 1"], out


@test
def logs_follow_escapes_on_a_terminal():
    with Daemon(EVIL_CFG) as d:
        rc, out, err = ctl(d, "start", "evil")
        assert rc == 0, err
        wait_round(d, 1)
        state = {"triggered": False}

        def seen(out):
            # Round 1 came with the tail: the stream is on, round 2
            # can only come through it.
            if not state["triggered"] and b"DONE 1\n" in out:
                open(os.path.join(d.tmp, "trigger"), "w").close()
                state["triggered"] = True
            return b"DONE 2\n" in out

        rc, out, err = pty_run(["-s", d.socket, "logs", "evil", "-f",
                                "-n", "100"], until=seen)
        assert state["triggered"] and b"DONE 2\n" in out, (out, err)
        assert bodies(out) == (ESCAPED + [b"DONE 1"] + ESCAPED +
                               [b"DONE 2"]), out
        assert_nothing_raw(out)


# A command, arguments and working directory with control bytes: the
# configuration is the administrator's, but "status" is for the users
# whose processes they are, and they may not trust it either.
CTRL_CFG = r"""
[[processes]]
name = "odd"
command = "/bin/echo\u001b]0;title\u0007"
args = ["a\u001b[2Kb", "c\rd", "e\u0080\u009bf"]
cwd = "/tmp/\u001b[31mred"
autostart = false
"""


@test
def status_escapes_config_strings_on_a_terminal():
    with Daemon(CTRL_CFG) as d:
        rc, out, err = pty_run(["-s", d.socket, "status", "odd"])
        assert rc == 0, (rc, out, err)
        lines = out.split(b"\n")
        assert lines[2] == (b"Command:     /bin/echo\\x1b]0;title\\x07 "
                            b"a\\x1b[2Kb c\\x0dd e\\x80\\x9bf"), lines[2]
        assert lines[3] == b"Working Dir: /tmp/\\x1b[31mred", lines[3]
        assert_nothing_raw(out)
        rc, pout, err = pipe_run(["-s", d.socket, "status", "odd"])
        assert rc == 0, err
        assert pout.split(b"\n")[2] == (
            b"Command:     /bin/echo\x1b]0;title\x07 a\x1b[2Kb c\rd "
            b"e\xc2\x80\xc2\x9bf"), pout
        rc, out, err = pty_run(["-s", d.socket, "--raw", "status", "odd"])
        assert rc == 0 and out == pout, (out, pout)


@test
def errors_echoing_input_escaped_on_a_terminal():
    with Daemon(CONFIG) as d:
        rc, out, err = pty_run(["-s", d.socket, "start", "x\x1b]0;t\x07"],
                               stderr_tty=True)
        assert rc == 1, (rc, out)
        assert out == (b"Error: Failed to start 'x\\x1b]0;t\\x07': Process "
                       b"'x\\x1b]0;t\\x07' not found (ProcessNotFound)\n"), out
        rc, out, err = pipe_run(["-s", d.socket, "start", "x\x1b]0;t\x07"])
        assert rc == 1 and b"'x\x1b]0;t\x07' not found" in err, err


run()
