#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The logger process (issue 15): agents' output is read by an
unprivileged, sandboxed process, never by the root supervisor; a logger
that dies is replaced and gets every pipe again without an agent being
restarted; log files that are moved or removed are made again at their
path (and at once on SIGUSR1); a full disk drops whole lines, never half
of one.

Every wait is bounded; only the daemon and its logger are signalled,
by the pids the test read."""
import os
import pwd
import re
import resource
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import APM2D, IS_ROOT, Daemon  # noqa: E402
from harness import fd_links, needs_starving  # noqa: E402
from harness import get, rd, start  # noqa: E402
from harness import process, proc_children  # noqa: E402
from harness import run, test, wait_until  # noqa: E402


def said(d, pattern, n=1, timeout=15):
    """Wait until the daemon's log has n lines matching pattern."""
    rx = re.compile(pattern)
    wait_until(lambda: len([ln for ln in d.stderr().splitlines()
                            if rx.search(ln)]) >= n, timeout,
               what="daemon to say %r" % pattern)


def pipes_of(pid):
    """The pipe inodes among pid's descriptors."""
    return {t for t in fd_links(pid) if t.startswith("pipe:")}


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(ln.split(":", 1) for ln in f.read().splitlines()
                    if ":" in ln)


def fsize_limit(pid, limit):
    """Set pid's RLIMIT_FSIZE soft limit (None: the hard one) with pid's own
    uid and gid: root in a container may lack CAP_SYS_RESOURCE."""
    st = status(pid)
    uid, gid = int(st["Uid"].split()[1]), int(st["Gid"].split()[1])
    child = os.fork()
    if child == 0:
        code = 1
        try:
            if os.geteuid() != uid:
                os.setgroups([])
                os.setresgid(gid, gid, gid)
                os.setresuid(uid, uid, uid)
            hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)[1]
            resource.prlimit(pid, resource.RLIMIT_FSIZE,
                             (hard if limit is None else limit, hard))
            code = 0
        finally:
            os._exit(code)
    _, st = os.waitpid(child, 0)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st


def logger_caught_up(d, name):
    """A tail_logs round trip: it reaches the logger after whatever the
    supervisor sent it before (a reopened file), on the same channel."""
    r = d.request({"type": "tail_logs", "name": name, "lines": 1,
                   "follow": False}, timeout=20)
    assert r["type"] == "log_lines", r


def wait_flag_script(flag, before, after):
    """sh: print before, wait (bounded) for flag, print after, sleep."""
    return ("%s; n=0; while [ ! -e %s ] && [ $n -lt 600 ]; do sleep 0.05; "
            "n=$((n+1)); done; %s; exec sleep 1000" % (before, flag, after))


# ------------------------------------------------------------ the split

# The root supervisor holds no end of an agent's pipes: the logger
# holds the read ends, the agent the write ends.
@test
def supervisor_holds_no_agent_pipe():
    conf = process("talk", "/bin/sh", ["-c", "echo hi; echo err >&2; "
                                       "exec sleep 1000"], instances=3,
                   autostart=False)
    with Daemon(conf) as d:
        start(d, "talk")
        agents = [i["pid"] for i in get(d, "talk")["instance_details"]]
        theirs = set()
        for a in agents:
            for fd in (1, 2):
                theirs.add(os.readlink("/proc/%d/fd/%d" % (a, fd)))
        assert len(theirs) == 6 and all(t.startswith("pipe:")
                                        for t in theirs), theirs
        lg = wait_until(d.logger_pid, 10, what="the logger")
        wait_until(lambda: theirs <= pipes_of(lg), 10,
                   what="the logger to hold every read end")
        assert not theirs & pipes_of(d.pid), theirs & pipes_of(d.pid)


# The logger: its own user, no new privileges, seccomp filter, an empty
# root directory.
@test
def logger_is_sandboxed():
    with Daemon(process("x", "true", autostart=False)) as d:
        lg = wait_until(d.logger_pid, 10, what="the logger")
        assert lg != d.frontend_pid()
        # Found, it may still be on its way into the sandbox.
        wait_until(lambda: status(lg)["Seccomp"].strip() == "2", 10,
                   what="the logger's seccomp filter")
        st = status(lg)
        assert st["NoNewPrivs"].strip() == "1", st["NoNewPrivs"]
        assert st["Seccomp"].strip() == "2", st["Seccomp"]
        if IS_ROOT:
            uid = pwd.getpwnam("_apm2log").pw_uid
            assert st["Uid"].split() == [str(uid)] * 4, st["Uid"]
            assert os.readlink("/proc/%d/root" % lg) == "/var/empty"
            assert os.listdir("/proc/%d/root" % lg) == []
        else:
            assert st["Uid"].split()[0] == str(os.geteuid())


# ------------------------------------------------------------ lost logger

# SIGKILL the logger while 20 agents write numbered lines.  A new one
# gets every pipe again; no agent is restarted; every line is on disk
# once and in order.  What may be lost is only what the dead logger had
# read and not yet written: it writes after every read, so at most one
# read per pipe, one run of consecutive lines per agent (in practice
# none: the kill finds it waiting in epoll).
@test
def lost_logger_loses_at_most_its_buffer():
    n = 20
    lines = 3000
    script = ("i=0; while [ $i -lt %d ]; do echo \"$APM2_INSTANCE $i\"; "
              "i=$((i+1)); [ $((i %% 100)) -eq 0 ] && sleep 0.02; done; "
              "true" % lines)
    conf = process("w", "/bin/sh", ["-c", script], instances=n,
                   autostart=False)
    with Daemon(conf) as d:
        old = wait_until(d.logger_pid, 10, what="the logger")
        start(d, "w")
        first = os.path.join(d.log_dir, "w-0.out.log")
        wait_until(lambda: os.path.exists(first) and
                   rd(first).count(b"\n") >= 300, 20,
                   what="output on disk before the kill")
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: d.logger_pid() not in (None, old), 15,
                   what="a new logger")
        wait_until(lambda: all(i["state"] == {"Stopped": {"exit_code": 0}}
                               for i in get(d, "w")["instance_details"]),
                   40, what="the agents to finish")
        det = get(d, "w")["instance_details"]
        assert all(i["restart_count"] == 0 for i in det), det
        lost = []
        for k in range(n):
            got = [ln.split() for ln in
                   rd(os.path.join(d.log_dir, "w-%d.out.log" % k))
                   .decode().splitlines()]
            assert all(g[0] == str(k) for g in got), k
            nums = [int(g[1]) for g in got]
            assert nums == sorted(set(nums)), "duplicates or disorder"
            # The one run that may be lost can be the first lines (an
            # agent that started as the logger died) or the last.
            edges = [-1] + nums + [lines]
            gaps = [(a, b) for a, b in zip(edges, edges[1:]) if b != a + 1]
            assert len(gaps) <= 1, (k, gaps)
            lost.append(lines - len(nums))
        print("# lines lost at the logger's death, per agent: %s" % lost)


# A logger that stops answering (stopped here; wedged by what an agent
# wrote, in real life) is replaced, and the agent's output flows again.
@test
def stopped_logger_is_replaced():
    conf = process("tick", "/bin/sh", ["-c", "i=0; while :; do echo $i; "
                                       "i=$((i+1)); sleep 0.05; done"],
                   autostart=False)
    with Daemon(conf) as d:
        path = os.path.join(d.log_dir, "tick.out.log")
        start(d, "tick")
        pid = get(d, "tick")["instance_details"][0]["pid"]
        wait_until(lambda: os.path.exists(path) and
                   os.path.getsize(path) > 0, 10, what="output")
        old = wait_until(d.logger_pid, 10, what="the logger")
        os.kill(old, signal.SIGSTOP)
        said(d, r"logger lost: no answer to a heartbeat", timeout=30)
        wait_until(lambda: d.logger_pid() not in (None, old), 15,
                   what="a new logger")
        size = os.path.getsize(path)
        wait_until(lambda: os.path.getsize(path) > size, 10,
                   what="output flowing again")
        assert get(d, "tick")["instance_details"][0]["pid"] == pid


# ------------------------------------------------------------ moved files

@test
def sigusr1_reopens_every_file():
    flag = "{tmp}/flag"
    conf = process("m", "/bin/sh", ["-c", wait_flag_script(
        flag, "echo one", "echo two")], autostart=False)
    with Daemon(conf) as d:
        path = os.path.join(d.log_dir, "m.out.log")
        start(d, "m")
        wait_until(lambda: os.path.exists(path) and rd(path) == b"one\n",
                   10, what="the first line")
        os.rename(path, path + ".old")
        os.kill(d.pid, signal.SIGUSR1)
        said(d, r"reopening \d+ log files")
        wait_until(lambda: os.path.exists(path), 10, what="a new file")
        logger_caught_up(d, "m")
        open(flag.replace("{tmp}", d.tmp), "w").close()
        wait_until(lambda: rd(path) == b"two\n", 10, what="the new line")
        assert rd(path + ".old") == b"one\n"


# A file or its whole directory removed behind the daemon's back is
# made again at its path within a few seconds, and said once.
@test
def removed_file_and_dir_are_made_again():
    for remove in ("file", "dir"):
        flag = "{tmp}/flag"
        conf = process("m", "/bin/sh", ["-c", wait_flag_script(
            flag, "echo one", "echo two")], autostart=False)
        with Daemon(conf) as d:
            path = os.path.join(d.log_dir, "m.out.log")
            start(d, "m")
            wait_until(lambda: os.path.exists(path) and
                       rd(path) == b"one\n", 10, what="the first line")
            if remove == "file":
                os.unlink(path)
            else:
                shutil.rmtree(d.log_dir)
            said(d, r"m\.out\.log: moved or removed; reopening")
            wait_until(lambda: os.path.exists(path), 10, what="a new file")
            logger_caught_up(d, "m")
            open(flag.replace("{tmp}", d.tmp), "w").close()
            wait_until(lambda: rd(path) == b"two\n", 10,
                       what="the new line")
            assert len(re.findall(r"m\.out\.log: moved or removed",
                                  d.stderr())) == 1


# ------------------------------------------------------------ full disk

# A write limit (RLIMIT_FSIZE on the logger, like a disk that fills)
# cuts a line: the file still holds only whole lines, the cut one is
# finished when writing works again, the lines meanwhile are counted.
@test
def full_disk_never_tears_a_line():
    flag1, flag2 = "{tmp}/f1", "{tmp}/f2"
    line = "printf '%%04d %s\\n' $i" % ("x" * 94)    # 100 bytes
    script = ("i=0; while [ $i -lt 50 ]; do %s; i=$((i+1)); done; "
              "n=0; while [ ! -e %s ] && [ $n -lt 600 ]; do sleep 0.05; "
              "n=$((n+1)); done; "
              "while [ $i -lt 150 ]; do %s; i=$((i+1)); done; "
              "n=0; while [ ! -e %s ] && [ $n -lt 600 ]; do sleep 0.05; "
              "n=$((n+1)); done; "
              "while [ $i -lt 200 ]; do %s; i=$((i+1)); done; "
              "exec sleep 1000" % (line, flag1, line, flag2, line))
    conf = process("full", "/bin/sh", ["-c", script], autostart=False,
                   log={"redact": False, "timestamp": False})
    with Daemon(conf) as d:
        path = os.path.join(d.log_dir, "full.out.log")
        start(d, "full")
        wait_until(lambda: os.path.exists(path) and
                   os.path.getsize(path) == 5000, 10, what="50 lines")
        lg = wait_until(d.logger_pid, 10, what="the logger")
        fsize_limit(lg, 8050)
        try:
            open(flag1.replace("{tmp}", d.tmp), "w").close()
            said(d, r"full\.out\.log: cannot write")
        finally:
            fsize_limit(lg, None)
        open(flag2.replace("{tmp}", d.tmp), "w").close()
        said(d, r"full\.out\.log: writing again; \d+ bytes \(\d+ lines\)")
        wait_until(lambda: rd(path).endswith(b"0199 " + b"x" * 94 + b"\n"),
                   10, what="the last line")
        got = rd(path).split(b"\n")
        assert got[-1] == b""
        nums = []
        for ln in got[:-1]:
            assert len(ln) == 99 and ln[5:] == b"x" * 94, ln[:20]
            nums.append(int(ln[:4]))
        assert nums == sorted(set(nums)), nums
        # The line the limit cut (number 80) was finished, not lost.
        assert list(range(0, 81)) == nums[:81], nums[:90]
        assert nums[-50:] == list(range(150, 200)), nums[-50:]
        m = re.search(r"writing again; (\d+) bytes \((\d+) lines\)",
                      d.stderr())
        assert int(m.group(2)) == 200 - len(nums), (m.group(0), len(nums))


# Issue 17: out of descriptors.  Under RLIMIT_NOFILE 64, 60 instances
# with log files need more than the logger may hold: the daemon says so
# at load (and apm2d -n does), starts what fits, never hands the logger
# a descriptor it cannot take (it would lose its channel, and be
# respawned forever), and its control socket keeps answering.
class Prlimit(Daemon):
    def argv(self):
        return ["prlimit", "--nofile=64:64"] + super().argv()


@test
def descriptor_exhaustion_leaves_the_control_plane():
    needs_starving()
    d = Prlimit(process("many", "sleep", ["1000"], instances=60))
    try:
        p = subprocess.run(["prlimit", "--nofile=64:64", APM2D, "-n", "-f",
                            d.config_path], capture_output=True, timeout=30)
        assert p.returncode == 0, p
        assert b"RLIMIT_NOFILE is 64: about 8 instances can run" in \
            p.stderr, p.stderr
        d.start()
        assert "RLIMIT_NOFILE is 64" in d.stderr(), d.stderr()

        def states():
            r = d.request({"type": "get_process", "name": "many"})
            return [i["state"] for i in r["process"]["instance_details"]]
        wait_until(lambda: "Running" in states(), 10, what="some running")
        # New clients, one after another, while instances keep failing.
        for _ in range(30):
            assert d.request({"type": "ping"})["type"] == "pong"
            r = d.request({"type": "status"})
            assert r["type"] == "status", r
        st = states()
        assert 0 < st.count("Running") <= 8, st
        assert len(st) == 60, st
        err = d.stderr()
        assert "the logger has no descriptor left" in err, err
        assert "logger lost" not in err and "respawning the logger" \
            not in err, err
    finally:
        d.cleanup()


# Issue 17: a character device as a log target is written as it is, by
# every instance: no /dev/null-0, /dev/null-1, ... regular files.
@test
def dev_null_with_instances_creates_no_file():
    made = ["/dev/null-%d" % k for k in range(3)]
    before = [os.path.lexists(m) for m in made]
    conf = process("dn", "/bin/sh", ["-c", "echo out; echo err >&2; "
                                     "exec sleep 1000"], instances=3,
                   log={"out_file": "/dev/null", "err_file": "/dev/null"})
    d = Daemon(conf)
    try:
        d.start()

        def running():
            r = d.request({"type": "get_process", "name": "dn"})
            return all(i["state"] == "Running"
                       for i in r["process"]["instance_details"])
        wait_until(running, 10, what="dn's 3 instances")
        for m, was in zip(made, before):
            assert was or not os.path.lexists(m), m
        assert os.path.exists("/dev/null")
        st = os.stat("/dev/null")
        assert (st.st_mode & 0o777) == 0o666, oct(st.st_mode)
        assert "refused" not in d.stderr(), d.stderr()
    finally:
        d.cleanup()
        # What the bug would have made: only regular files, only ours.
        for m, was in zip(made, before):
            if not was and os.path.isfile(m) and not os.path.islink(m):
                os.unlink(m)


if __name__ == "__main__":
    run()
