#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""apm2ctl against a real daemon: the upstream table and detail formats,
the action messages, "all", errors and -j; agents' output and the
configuration's strings escaped on a terminal, kept as they are on a
pipe, with --raw and with -j.  Issue 19: one meaning for -f, errors
that say what is wrong, the closest name to a mistyped one, the logs of
one instance, exit statuses that tell the truth (stop all, partial
starts, a kill that waits), and states that say what the restart policy
does next.

Every wait is bounded; the only processes signalled are the daemon and
the apm2ctl clients the tests start."""
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APM2CTL, IS_ROOT, Daemon, Skip, ctl,  # noqa: E402
                     ensure_user, frame, pid_alive, process, run, test,
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
        # Issue 19: no figure is "-", not a zero.
        want = "%-20s %8d %8d %-12s %8s %10s %10s" % (
            "web", 0, 2, "stopped", "-", "-", "-")
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
        # Issue 19: one already stopped is as asked: all end stopped.
        rc, out, err = ctl(d, "stop", "batch")
        assert rc == 0
        rc, out, err = ctl(d, "stop", "all")
        assert rc == 0, (rc, out, err)
        assert out == ("Stopped 'web': Stopped 2 instance(s) of 'web'\n"
                       "Stopped 'batch': it was not running\n"), out
        assert err == "", err
        for name in ("web", "batch"):
            r = d.request({"type": "get_process", "name": name})
            assert all(i["pid"] is None
                       for i in r["process"]["instance_details"]), r
        # Alone, a stop of what is not running still fails.
        rc, out, err = ctl(d, "stop", "batch")
        assert rc == 1 and "(ProcessNotRunning)" in err, (rc, err)
        # A start of all that are running: each one fails.
        ctl(d, "start", "all")
        rc, out, err = ctl(d, "start", "all")
        assert rc == 1 and err.count("(ProcessAlreadyRunning)") == 2, err


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

        rc, out, err = pty_run(["-s", d.socket, "logs", "evil", "-F",
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



# ------------------------------------------------------------ issue 19

def plain_run(args, env=None, timeout=30):
    """apm2ctl with exactly these arguments (no -s added): rc, out, err."""
    e = dict(os.environ)
    e.pop("APM2_SOCKET", None)
    e.update(env or {})
    p = subprocess.run([APM2CTL] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout, env=e)
    return (p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace"))


@test
def f_means_config_everywhere():
    with Daemon(CONFIG) as d:
        # After the logs command too (it meant follow there).
        for args in (["-f", d.config_path, "list"],
                     ["list", "-f", d.config_path],
                     ["logs", "web", "-f", d.config_path, "-n", "1"],
                     ["logs", "-f", d.config_path, "web"],
                     ["--config", d.config_path, "ping"],
                     ["-c", d.config_path, "ping"]):
            rc, out, err = plain_run(args)
            assert rc == 0 and err == "", (args, rc, out, err)
        # An explicit configuration that is missing or does not parse
        # is an error that names it, whatever else gives the socket.
        missing = os.path.join(d.tmp, "nope.toml")
        rc, out, err = plain_run(["-s", d.socket, "-f", missing, "list"])
        assert rc == 1 and out == "", (rc, out)
        assert err == ("Error: configuration %s: No such file or "
                       "directory\n" % missing), err
        # The old "logs -f": the message says what -f is now.
        rc, out, err = plain_run(["-s", d.socket, "logs", "-f", "web"])
        assert rc == 1, (rc, err)
        assert ("Error: configuration web: No such file or directory "
                "(-f names the configuration; to follow logs, use -F or "
                "--follow)\n") == err, err
        rc, out, err = plain_run(["-s", d.socket, "logs", "web", "-f"])
        assert rc == 2 and err.startswith(
            "Error: option -f needs a configuration file (to follow logs, "
            "use -F or --follow)\n"), (rc, err)
        bad = os.path.join(d.tmp, "bad.toml")
        with open(bad, "w") as f:
            f.write("[daemon]\nsocket = \"%s\"\nsocket = 1\n" % d.socket)
        rc, out, err = plain_run(["-f", bad, "list"])
        assert rc == 1 and out == "", (rc, out)
        assert re.match(r"^Error: configuration %s:3:1: .+\n$"
                        % re.escape(bad), err), err
        rc, out, err = plain_run(["-f", d.tmp, "list"])
        assert rc == 1 and err == ("Error: configuration %s: not a regular "
                                   "file\n" % d.tmp), err
        # The default configuration may be absent without a word.
        if not os.path.exists("/etc/apm2/ecosystem.toml"):
            rc, out, err = plain_run(["list"],
                                     env={"APM2_SOCKET": d.socket})
            assert rc == 0 and err == "", (rc, err)
            rc, out, err = plain_run(["ping"])
            assert rc == 1 and err.startswith(
                "Error: failed to connect to daemon socket "
                "/var/run/apm2/apm2.sock") and err.count("\n") == 1, err


@test
def socket_that_is_not_one_says_so():
    d = tempfile.mkdtemp(prefix="apm2-ctl-")
    try:
        path = os.path.join(d, "file")
        open(path, "w").close()
        for p in (path, d):
            rc, out, err = plain_run(["-s", p, "list"])
            assert rc == 1 and err == "Error: %s is not a socket\n" % p, \
                (rc, err)
        rc, out, err = plain_run(["-s", os.path.join(d, "none"), "ping"])
        assert rc == 1 and "No such file or directory" in err, err
    finally:
        shutil.rmtree(d)


@test
def unknown_command_and_missing_name_say_which():
    for args, want in (
            (["lsit"], "Error: unknown command 'lsit'; did you mean "
                       "'list'?\n"),
            (["frobnicate"], "Error: unknown command 'frobnicate'\n"),
            (["status"], "Error: 'status' needs a process NAME\n"),
            (["stop"], "Error: 'stop' needs a process NAME or all\n"),
            (["restart"], "Error: 'restart' needs a process NAME or all\n"),
            (["list", "web"], "Error: 'list' takes no argument, got "
                              "'web'\n"),
            (["status", "a", "b"], "Error: 'status' takes a process NAME, "
                                   "got 'b' too\n"),
            (["--folow", "logs"], "Error: unknown option '--folow'; did "
                                  "you mean '--follow'?\n"),
            (["-F", "list"], "Error: -F is for logs\n"),
            (["logs", "--instance", "1"], "Error: an instance needs a "
                                          "process NAME: logs NAME:INDEX\n"),
            (["logs", "web:one"], "Error: the instance of NAME:INDEX "
                                  "'one': invalid\n"),
            (["logs", "web:1", "--instance", "2"],
             "Error: 'web:1' and --instance 2 name two instances\n")):
        rc, out, err = plain_run(["-s", "/nonexistent"] + args)
        assert rc == 2 and out == "", (args, rc, out)
        lines = err.splitlines(True)
        assert lines[0] == want and lines[1].startswith("usage: "), \
            (args, err)
    # The full usage, which names every option.
    rc, out, err = plain_run(["-h"])
    assert rc == 0 and err == "", (rc, err)
    for opt in ("-j", "--raw", "-s", "-f", "-c", "--config", "-t", "-n",
                "--lines", "--instance", "-F", "--follow", "-V"):
        assert re.search(r"(^|[ ,])%s\b" % re.escape(opt), out, re.M), opt


TYPO_CFG = (process("ticker", "sleep", ["1000"], autostart=False)
            + process("web", "sleep", ["1000"], autostart=False))


@test
def mistyped_name_suggests_the_closest():
    with Daemon(TYPO_CFG) as d:
        for verb, cmd in (("get process", "status"), ("start", "start"),
                          ("stop", "stop"), ("get logs", "logs")):
            rc, out, err = ctl(d, cmd, "tikcer")
            assert rc == 1 and out == "", (cmd, rc, out)
            assert err == ("Error: Failed to %s 'tikcer': Process 'tikcer' "
                           "not found (ProcessNotFound); did you mean "
                           "'ticker'?\n" % verb), err
        rc, out, err = ctl(d, "status", "wbe")
        assert err.endswith("; did you mean 'web'?\n"), err
        # Nothing close: no suggestion.
        rc, out, err = ctl(d, "status", "database")
        assert rc == 1 and err == ("Error: Failed to get process "
                                   "'database': Process 'database' not "
                                   "found (ProcessNotFound)\n"), err
        # -j: the reply alone.
        rc, out, err = ctl(d, "-j", "status", "tikcer")
        assert rc == 1 and err == "", err
        assert [json.loads(l)["code"] for l in out.splitlines()] == [
            "process_not_found"], out


TWO = process("pair", "/bin/sh", ["-c", "i=0; while :; do "
                                  "echo \"i$APM2_INSTANCE n$i\"; "
                                  "i=$((i+1)); sleep 0.05; done"],
              instances=2, autostart=False)


def lines_of(out):
    return [re.match(r"^\[[-0-9 :]{19}\] \[pair:(\d)\] \[stdout\] "
                     r"i(\d) n(\d+)$", l).groups() for l in out.splitlines()]


@test
def logs_of_one_instance():
    with Daemon(TWO) as d:
        rc, out, err = ctl(d, "start", "pair")
        assert rc == 0, err

        def enough():
            r = d.request({"type": "tail_logs", "name": "pair",
                           "lines": 100, "follow": False})
            return all(sum(1 for e in r["lines"] if e["instance"] == k) >= 8
                       for k in (0, 1))
        wait_until(enough, 20, what="output of both instances")
        for args, k in ((["pair:1"], "1"), (["pair", "--instance", "0"], "0"),
                        (["--instance", "1", "pair:1"], "1")):
            rc, out, err = ctl(d, "logs", "-n", "5", *args)
            assert rc == 0, (args, err)
            got = lines_of(out)
            assert len(got) == 5 and all(g[0] == k and g[1] == k
                                         for g in got), (args, out)
            n = [int(g[2]) for g in got]
            assert n == sorted(n), out
        # The last ones: nothing newer of that instance before them.
        r = d.request({"type": "tail_logs", "name": "pair", "lines": 10000,
                       "follow": False})
        rc, out, err = ctl(d, "logs", "pair:0", "-n", "1")
        last = int(lines_of(out)[0][2])
        assert last >= max(int(e["content"].split("n")[1])
                           for e in r["lines"] if e["instance"] == 0)
        # -j: a log_lines reply of that instance alone.
        rc, out, err = ctl(d, "-j", "logs", "pair:1", "-n", "3")
        assert rc == 0 and out.count("\n") == 1, (rc, out, err)
        j = json.loads(out)
        assert j["type"] == "log_lines" and len(j["lines"]) == 3, j
        assert all(e["instance"] == 1 and e["process_name"] == "pair" and
                   e["stream"] == "stdout" and
                   e["content"].startswith("i1 ") for e in j["lines"]), j
        assert set(j["lines"][0]) == {"timestamp", "process_name",
                                      "instance", "stream", "content"}
        # No such instance, no such process.
        rc, out, err = ctl(d, "logs", "pair:2")
        assert rc == 1 and err == ("Error: 'pair' has 2 instance(s): there "
                                   "is no instance 2\n"), err
        rc, out, err = ctl(d, "logs", "piar:0")
        assert rc == 1 and err.endswith("did you mean 'pair'?\n"), err
        rc, out, err = ctl(d, "-j", "logs", "nope:0")
        assert rc == 1 and err == "" and \
            json.loads(out)["code"] == "process_not_found", (out, err)
        # Following one instance.
        rc, out, err = pty_run(["-s", d.socket, "logs", "pair:1", "-n", "2",
                                "--follow"],
                               until=lambda o: o.count(b"\n") >= 8)
        got = lines_of(out.decode().replace("\r", ""))
        assert len(got) >= 8 and all(g[0] == "1" for g in got), out


class FakeDaemon:
    """A socket that answers each request type with a fixed reply, to
    hold apm2ctl to what it makes of a reply the real daemon gives only
    in conditions a test cannot always make (as an ordinary user)."""

    def __init__(self, replies):
        self.replies = replies
        self.dir = tempfile.mkdtemp(prefix="apm2-fake-")
        self.path = os.path.join(self.dir, "fake.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.done = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.done:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            c.settimeout(10)
            try:
                while True:
                    hdr = c.recv(4, socket.MSG_WAITALL)
                    if len(hdr) < 4:
                        break
                    n = struct.unpack(">I", hdr)[0]
                    req = json.loads(c.recv(n, socket.MSG_WAITALL))
                    c.sendall(frame(self.replies[req["type"]]))
            except (OSError, KeyError, ValueError):
                pass
            finally:
                c.close()

    def close(self):
        self.done = True
        self.thread.join(5)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def partial_start_fails():
    part = {"type": "ok", "message": "Started 7 of 50 instances (some "
                                     "failed)"}
    f = FakeDaemon({"start_process": part, "restart_process": part,
                    "list_processes": {"type": "process_list", "processes": [
                        {"name": "swarm", "instances": 50, "running": 7,
                         "status": "Running", "cpu_percent": None,
                         "memory_bytes": None, "uptime_secs": 1,
                         "restart_count": 0}]}})
    try:
        for cmd, verb in (("start", "start"), ("restart", "restart")):
            for name in ("swarm", "all"):
                rc, out, err = plain_run(["-s", f.path, cmd, name])
                assert rc == 1 and out == "", (cmd, rc, out)
                assert err == ("Error: Failed to %s 'swarm': Started 7 of "
                               "50 instances (some failed)\n" % verb), err
        # -j: the reply as it came, and the exit status.
        rc, out, err = plain_run(["-s", f.path, "-j", "start", "swarm"])
        assert rc == 1 and err == "" and json.loads(out) == part, (out, err)
    finally:
        f.close()
    full = {"type": "ok", "message": "Started 50 of 50 instances (some "
                                     "failed)"}
    f = FakeDaemon({"start_process": full})
    try:
        rc, out, err = plain_run(["-s", f.path, "start", "swarm"])
        assert rc == 0, (rc, err)
    finally:
        f.close()


SOFT = process("soft", "/bin/sh", ["-c", 'trap "" TERM; touch {tmp}/ready; '
                                   'while :; do sleep 0.1; done'],
               autostart=False,
               shutdown={"timeout": "200ms", "force_kill": False})


@test
def stop_that_leaves_it_running_fails():
    with Daemon(SOFT, daemon={"shutdown_timeout": "500ms"}) as d:
        rc, out, err = ctl(d, "start", "soft")
        assert rc == 0, err
        wait_until(lambda: os.path.exists(d.tmp + "/ready"), 10)
        rc, out, err = ctl(d, "stop", "soft")
        assert rc == 1 and out == "", (rc, out)
        assert err == ("Error: Failed to stop 'soft': Process 'soft' did "
                       "not stop: 1 instance(s) still running after the "
                       "stop signal and timeout (force_kill is off) "
                       "(InternalError)\n"), err
        rc, out, err = ctl(d, "stop", "all")
        assert rc == 1 and "did not stop" in err, (rc, err)


# Stopping it takes the daemon its shutdown timeout: 3 s.
SLOW = process("slow", "/bin/sh", ["-c", 'trap "" TERM; touch {tmp}/ready; '
                                   'while :; do sleep 0.1; done'],
               shutdown={"timeout": "3s"})


@test
def kill_waits_until_the_daemon_is_gone():
    d = Daemon(SLOW)
    try:
        d.start()
        wait_until(lambda: os.path.exists(d.tmp + "/ready"), 10)
        old = d.proc
        rc, out, err = ctl(d, "kill", timeout=60)
        assert rc == 0, (rc, out, err)
        assert out == "Daemon shutting down: Daemon shutting down\n", out
        # Gone when apm2ctl returns: socket and pid file free ...
        assert not os.path.exists(d.socket)
        assert not os.path.exists(d.pid_file)
        assert old.wait(timeout=10) == 0
        # ... so that "apm2ctl kill && apm2d" works.
        d.start()
        assert d.request({"type": "ping"})["type"] == "pong"
        wait_until(lambda: os.path.exists(d.tmp + "/ready"), 10)
        # A daemon slower than -t: said, and the exit status says so.
        os.unlink(d.tmp + "/ready")
        rc, out, err = ctl(d, "-t", "1", "kill", timeout=60)
        assert rc == 1, (rc, out, err)
        assert re.match(r"^Error: the daemon \(pid %d\) did not exit "
                        r"within 1 s\n$" % d.pid, err), err
        assert d.wait_exit(20) == 0
        # No daemon: as before.
        rc, out, err = ctl(d, "kill")
        assert rc == 1 and err.endswith("Daemon may not be running\n"), err
    finally:
        d.cleanup()


def policy_fields(p):
    return {k: p[k] for k in ("restart_in_secs", "gave_up", "gave_up_after")
            if k in p}


def restart(max_restarts, delay, on_success=False):
    return {"max_restarts": max_restarts, "restart_window": "60s",
            "min_uptime": "30s", "restart_on_success": on_success,
            "backoff": {"type": "fixed", "delay": delay}}


STATES = (process("flaky", "/bin/sh", ["-c", "exit 3"], autostart=False,
                  restart=restart(5, "30s"))
          + process("doomed", "/bin/sh", ["-c", "exit 3"], autostart=False,
                    restart=restart(2, "10ms"))
          + process("clean", "/bin/sh", ["-c", "exit 0"], autostart=False,
                    restart=restart(5, "30s", on_success=True))
          + process("once", "/bin/sh", ["-c", "exit 3"], autostart=False,
                    restart={"max_restarts": 0})
          + process("up", "sleep", ["1000"], autostart=False))


@test
def states_tell_the_truth():
    with Daemon(STATES) as d:
        for name in ("flaky", "doomed", "clean", "once", "up"):
            rc, out, err = ctl(d, "start", name)
            assert rc == 0, (name, err)

        def inst(name):
            r = d.request({"type": "get_process", "name": name})
            return r["process"]["instance_details"][0]

        def summary(name):
            r = d.request({"type": "list_processes"})
            return [p for p in r["processes"] if p["name"] == name][0]
        wait_until(lambda: "restart_in_secs" in inst("flaky"), 10)
        wait_until(lambda: inst("doomed").get("gave_up"), 20)
        wait_until(lambda: "restart_in_secs" in inst("clean"), 10)
        wait_until(lambda: inst("once")["pid"] is None and
                   inst("up")["state"] == "Running", 10)
        # Waiting to restart: the seconds until it.
        i = inst("flaky")
        assert i["state"] == {"Crashed": {"exit_code": 3}}, i
        assert 0 < i["restart_in_secs"] <= 30 and "gave_up" not in i, i
        s = summary("flaky")
        assert 0 < s["restart_in_secs"] <= 30 and "gave_up" not in s, s
        # Given up: after how many restarts, and never "restarting".
        i = inst("doomed")
        assert i["state"] == {"Crashed": {"exit_code": 3}}, i
        assert policy_fields(i) == {"gave_up": True, "gave_up_after": 2}, i
        assert i["restart_count"] == 2, i
        assert policy_fields(summary("doomed")) == {"gave_up": True,
                                                    "gave_up_after": 2}
        # Exit 0 restarted under restart_on_success: Stopped, not Crashed.
        i = inst("clean")
        assert i["state"] == {"Stopped": {"exit_code": 0}}, i
        assert 0 < i["restart_in_secs"] <= 30, i
        # No policy (max_restarts 0), and running: upstream's fields only.
        upstream = ["index", "pid", "state", "cpu_percent", "memory_bytes",
                    "uptime_secs", "restart_count"]
        assert list(inst("once")) == upstream, inst("once")
        assert list(inst("up")) == upstream, inst("up")
        assert list(summary("once")) == [
            "name", "instances", "running", "status", "cpu_percent",
            "memory_bytes", "uptime_secs", "restart_count"]

        rc, out, err = ctl(d, "list")
        assert rc == 0, err
        lines = out.splitlines()
        rows = {l.split()[0]: l for l in lines[2:]}
        assert re.search(r" restarting in [1-3]?\d+s +- +- +-$",
                         rows["flaky"]), rows["flaky"]
        assert " failed (gave up after 2 restarts) " in rows["doomed"], rows
        assert re.search(r" restarting in [1-3]?\d+s ", rows["clean"]), rows
        assert " crashed (exit code: 3) " in rows["once"], rows
        assert re.search(r" running +\S+% +\S+ +\d+[smhd]( \d+[smhd])?$",
                         rows["up"]), rows
        # Aligned whatever the status: every line as wide as the header.
        assert len(set(len(l) for l in lines[:1] + lines[2:])) == 1, out
        assert lines[0].index("CPU") + 3 == \
            rows["doomed"].index("-") + 1, out

        rc, out, err = ctl(d, "status", "doomed")
        assert rc == 0, err
        assert "State: failed (gave up after 2 restarts)  CPU:" in out, out
        # Started again: no longer given up.
        rc, out, err = ctl(d, "start", "doomed")
        assert rc == 0, err
        assert inst("doomed").get("gave_up_after", 0) in (0, 2)


@test
def hidden_figures_show_a_dash():
    if not IS_ROOT:
        raise Skip("needs root to ask as another user")
    user = "apm2t1"
    ensure_user(user)
    with Daemon(process("keeper", "sleep", ["1000"])) as d:
        wait_until(lambda: d.request({"type": "list_processes"})[
            "processes"][0]["uptime_secs"] is not None, 10)
        rc, out, err = ctl(d, "list", user=user)
        assert rc == 0, err
        row = out.splitlines()[2]
        assert re.match(r"^keeper +1 +1 running +- +- +-$", row), row
        r = d.request({"type": "list_processes"})
        rc, out, err = ctl(d, "list")
        row = out.splitlines()[2]
        assert re.match(r"^keeper +1 +1 running +\d+\.\d% +\S+ "
                        r"+\d+[smhd]( \d+[smhd])?$", row), (row, r)


@test
def man_page_documents_every_option_and_exit_status():
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    # apm2ctl(1), once renamed from apm2ctl(8).
    pages = [os.path.join(top, "apm2ctl", n)
             for n in ("apm2ctl.1", "apm2ctl.8")]
    pages = [p for p in pages if os.path.exists(p)]
    if not pages:
        raise Skip("no apm2ctl manual page in this copy of the tree")
    with open(pages[0]) as f:
        man = f.read()
    items = [l for l in man.splitlines() if l.startswith(".It ")]
    documented = set()
    for l in items:
        documented.update("-" + m for m in re.findall(r"\bFl (-?[\w-]+)", l))
    rc, out, err = plain_run(["-h"])
    assert rc == 0, err
    usage_opts = set()
    commands = set()
    section = None
    for l in out.splitlines():
        if l.endswith(":") and not l.startswith(" "):
            section = l
            continue
        if section == "options:":
            usage_opts.update(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", l))
        elif section == "commands:" and l.startswith("  ") and \
                not l.startswith("   "):
            words = re.sub(r"\[.*\]", "", l.strip().split("  ")[0])
            commands.update(re.findall(r"\b[a-z]+\b", words))
    commands -= {"all"}
    assert commands == {"ping", "info", "kill", "list", "ls", "status",
                        "start", "stop", "restart", "reload", "logs",
                        "reread", "update", "metrics"}, commands
    # Every option of the usage in the manual, and the other way round.
    assert usage_opts - documented == set(), (usage_opts - documented)
    assert documented - usage_opts == set(), (documented - usage_opts)
    for c in commands:
        assert any(re.match(r"\.It Cm %s\b" % c, l) or
                   re.search(r"\bCm %s\b" % c, l) for l in items), c
    # The exit statuses, each of them.
    m = re.search(r"^\.Sh EXIT STATUS\n(.*?)^\.Sh ", man, re.S | re.M)
    assert m is not None
    for n in ("0", "1", "2"):
        assert re.search(r"^\.It %s$" % n, m.group(1), re.M), n
        assert re.search(r"\b%s\b" % n, out.split("exit status:")[1]), n


run()
