#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Containment (issue 16): what an agent starts belongs to it, whatever
it does.  Each agent here leaves a grandchild that double-forks, calls
setsid, clears its environment and ignores SIGTERM; it must be gone
after stop, after a graceful shutdown, and after a SIGKILL of the
supervisor followed by a new start (which finds it in the cgroup of its
predecessor and stops it before starting anything).

Needs root: cgroups are only written by a daemon run as root; without
them the process-group walk stays best effort, and these attacks are
known to beat it.  Every wait is bounded; only pids the tests read are
signalled."""
import atexit
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import APM2D, IS_ROOT, Daemon, Skip, ensure_user  # noqa: E402
from harness import get  # noqa: E402
from harness import cgroup_dir, ctl, pid_alive, process, run  # noqa: E402
from harness import test, wait_until  # noqa: E402

USER = "apm2t1"
HOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "apm2d-hooks")


# The escape, as a script any test user can run: $1 gets the pid of a
# grandchild that double-forked, called setsid, cleared its environment
# and ignores SIGTERM.
BIN = tempfile.mkdtemp(prefix="apm2-contain-")
os.chmod(BIN, 0o755)
atexit.register(shutil.rmtree, BIN, True)
ESCAPE = os.path.join(BIN, "escape.sh")
with open(ESCAPE, "w") as _f:
    _f.write("""#!/bin/sh
( setsid sh -c 'trap "" TERM; echo $$ > "$0";
  exec env -i /bin/sh -c "trap \\"\\" TERM; while :; do sleep 1; done"' "$1" & )
exec sleep 1000
""")
os.chmod(ESCAPE, 0o755)


def escaper(name, **keys):
    """An agent that leaves an escaped grandchild, its pid in
    {tmp}/gc/<name>.<instance>.gc."""
    return process(name, "/bin/sh",
                   ["-c", "exec %s {tmp}/gc/%s.$APM2_INSTANCE.gc" %
                    (ESCAPE, name)],
                   shutdown={"timeout": "2s"}, **keys)


def setup():
    if not IS_ROOT:
        raise Skip("needs root: cgroups")
    if cgroup_dir("/x") is None:
        raise Skip("no cgroup v2 hierarchy")
    ensure_user(USER)


def start(conf):
    """A daemon whose directory the test user's agents can write their
    grandchild's pid to (sticky, like /tmp)."""
    d = Daemon(conf)
    gc = os.path.join(d.tmp, "gc")
    os.mkdir(gc)
    os.chmod(gc, 0o1777)
    d.start()
    return d


def grandchild(d, name):
    path = os.path.join(d.tmp, "gc", name + ".gc")
    wait_until(lambda: os.path.exists(path) and
               open(path).read().strip().isdigit(), 10,
               what="%s's grandchild" % name)
    return int(open(path).read())


def killed_and_swept(d, gcs, said, name):
    """SIGKILL the supervisor: the grandchildren gcs survive it; a new
    start stops them, saying so, and runs name's 2 instances again."""
    os.kill(d.pid, signal.SIGKILL)
    d.wait_exit(10)
    assert all(pid_alive(g) for g in gcs), "the attack did not work"
    d.start()
    wait_until(lambda: not any(pid_alive(g) for g in gcs), 15,
               what="the survivors to be stopped")
    assert said in d.stderr(), d.stderr()
    wait_until(lambda: [i["state"] for i in
                        get(d, name)["instance_details"]] ==
               ["Running", "Running"], 10, what="%s's 2 instances" % name)


def kill_left(pids):
    """Survivors of a failed test, by the pids it read."""
    for p in pids:
        if pid_alive(p):
            # A session leader (setsid): its group, then itself.
            try:
                os.killpg(p, signal.SIGKILL)
            except OSError:
                pass
            os.kill(p, signal.SIGKILL)


@test
def escaped_grandchild_dies_with_stop():
    setup()
    conf = escaper("mine") + escaper("theirs", user=USER)
    gcs = []
    d = start(conf)
    try:
        gcs = [grandchild(d, n) for n in ("mine.0", "theirs.0")]
        assert all(pid_alive(g) for g in gcs)
        for n in ("mine", "theirs"):
            r = d.request({"type": "stop_process", "name": n}, timeout=30)
            assert r["type"] == "ok", r
        wait_until(lambda: not any(pid_alive(g) for g in gcs), 10,
                   what="the grandchildren to go")
        for n in ("mine", "theirs"):
            st = get(d, n)["instance_details"][0]["state"]
            assert "Stopped" in st or st == "Terminated", st
    finally:
        kill_left(gcs)
        d.cleanup()


@test
def escaped_grandchild_dies_with_graceful_shutdown():
    setup()
    conf = escaper("mine") + escaper("theirs", user=USER)
    gcs = []
    d = start(conf)
    try:
        gcs = [grandchild(d, n) for n in ("mine.0", "theirs.0")]
        os.kill(d.pid, signal.SIGTERM)
        d.wait_exit(30)
        wait_until(lambda: not any(pid_alive(g) for g in gcs), 10,
                   what="the grandchildren to go with the daemon")
        assert not os.path.exists(cgroup_dir(d.pid_file))
    finally:
        kill_left(gcs)
        d.cleanup()


# SIGKILL the supervisor: the agents die with it (PDEATHSIG), their
# escaped grandchildren do not -- until the next start finds them.
@test
def survivors_of_a_killed_supervisor_are_stopped_at_next_start():
    setup()
    conf = escaper("mine", instances=2) + escaper("theirs", user=USER)
    gcs = []
    d = start(conf)
    try:
        for n in ("mine", "theirs"):
            wait_until(lambda n=n: all(i["state"] == "Running" for i in
                                       get(d, n)["instance_details"]),
                       10, what=n)
        gcs = [grandchild(d, n) for n in ("mine.0", "mine.1", "theirs.0")]
        killed_and_swept(d, gcs, "left by a previous apm2d", "mine")
        wait_until(lambda: get(d, "theirs")["instance_details"][0]
                   ["state"] == "Running", 10, what="theirs")
        # Exactly the configured instances, each with its own tree.
        procs = []
        for name in ("mine-0", "mine-1", "theirs"):
            with open(os.path.join(cgroup_dir(d.pid_file), name,
                                   "cgroup.procs")) as f:
                procs.append(len(f.read().split()))
        assert all(0 < n <= 4 for n in procs), procs
    finally:
        kill_left(gcs)
        d.cleanup()


def proc_limits(pid):
    """/proc/PID/limits as {name: (soft, hard)}."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        for line in f.read().splitlines()[1:]:
            name = line[:26].strip()
            parts = line[26:].split()
            out[name] = (parts[0], parts[1])
    return out


# [processes.limits] are set, soft and hard, on the agent; nproc stops a
# fork bomb (the user is the test's alone: its process count is ours).
@test
def limits_apply_and_nproc_stops_a_fork_bomb():
    if not IS_ROOT:
        raise Skip("needs root: a user of its own")
    ensure_user("apm2tnp")
    # The subshell that forks dies at its first failed fork (dash).
    script = ("(i=0; while [ $i -lt 60 ]; do sleep 1000 & i=$((i+1)); "
              "done); echo tried >&2; exec sleep 1000")
    conf = process("bomb", "/bin/sh", ["-c", script], user="apm2tnp",
                   log={"redact": False},
                   limits={"nproc": 10, "nofile": 64, "core": 0,
                           "cpu": 3600, "as": 4294967296,
                           "data": 2147483648})
    d = start(conf)
    try:
        err = os.path.join(d.log_dir, "bomb.err.log")
        wait_until(lambda: os.path.exists(err) and
                   b"tried" in open(err, "rb").read(), 20,
                   what="the bomb to give up")
        pid = get(d, "bomb")["instance_details"][0]["pid"]
        lim = proc_limits(pid)
        assert lim["Max processes"] == ("10", "10"), lim
        assert lim["Max open files"] == ("64", "64"), lim
        assert lim["Max core file size"] == ("0", "0"), lim
        assert lim["Max cpu time"] == ("3600", "3600"), lim
        assert lim["Max address space"] == ("4294967296",) * 2, lim
        assert lim["Max data size"] == ("2147483648",) * 2, lim
        uid = str(pwd.getpwnam("apm2tnp").pw_uid)
        mine = []
        for p in os.listdir("/proc"):
            try:
                with open("/proc/%s/status" % p) as f:
                    if f.read().split("Uid:")[1].split()[0] == uid:
                        mine.append(p)
            except (OSError, IndexError):
                pass
        assert len(mine) <= 10, len(mine)
        text = open(err, "rb").read()
        assert b"fork" in text.lower() or b"resource" in text.lower(), text
    finally:
        d.cleanup()


# memory_bytes counts the whole instance (its cgroup), not the main
# process alone: here a child holds 64 MiB while the main shell is tiny.
@test
def metrics_count_the_whole_instance():
    setup()
    conf = process("big", "/bin/sh", ["-c", "dd if=/dev/zero bs=64M count=1 "
                                      "2>/dev/null | sleep 1000"],
                   autostart=False)
    d = start(conf)
    try:
        r = d.request({"type": "start_process", "name": "big"}, timeout=30)
        assert r["type"] == "ok", r

        def mem():
            i = get(d, "big")["instance_details"][0]
            return i["memory_bytes"] if i["memory_bytes"] and \
                i["memory_bytes"] >= 64 << 20 else None
        wait_until(mem, 15, what="64 MiB counted")
    finally:
        d.cleanup()


# Without cgroups (another system, a daemon that is not root; here also
# root with cgroups turned off by the test build's hook), the state file
# records each running instance's pid and start time; after a SIGKILL of
# the supervisor the next start finds what those instances left in their
# process groups and sessions and stops it before starting anything.
class NoCgroups(Daemon):
    def __init__(self, conf):
        super().__init__(conf)
        self.env = {"APM2D_TEST_NO_CGROUPS": "1"}

    def argv(self):
        a = super().argv()
        a[0] = HOOKS
        return a


def recorded(d):
    """(process, index, pid) of each instance the state file records."""
    try:
        with open(d.state_file) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return set()
    assert st["version"] == 2, st
    return {(i["process"], i["index"], i["pid"]) for i in st["instances"]
            if "pid" in i}


@test
def without_cgroups_the_state_file_finds_survivors():
    script = ("sleep 1000 & echo $! > {tmp}/gc/%s.$APM2_INSTANCE.gc; "
              "exec sleep 1000")
    conf = process("keep", "/bin/sh", ["-c", script % "keep"], instances=2,
                   shutdown={"timeout": "2s"})
    names = ["keep.0", "keep.1"]
    if IS_ROOT:
        ensure_user(USER)
        conf += process("theirs", "/bin/sh", ["-c", script % "theirs"],
                        user=USER, shutdown={"timeout": "2s"})
        names.append("theirs.0")
    d = NoCgroups(conf)
    gc = os.path.join(d.tmp, "gc")
    os.mkdir(gc)
    os.chmod(gc, 0o1777)
    gcs = []
    try:
        d.start()
        assert "no cgroups" in d.stderr(), d.stderr()
        want = set()
        for n in ("keep", "theirs") if IS_ROOT else ("keep",):
            wait_until(lambda n=n: all(i["state"] == "Running" for i in
                                       get(d, n)["instance_details"]),
                       10, what=n)
            for i in get(d, n)["instance_details"]:
                want.add((n, i["index"], i["pid"]))
        wait_until(lambda: recorded(d) == want, 10, what="the state file")
        assert os.stat(d.state_file).st_mode & 0o777 == 0o600
        gcs = [grandchild(d, n) for n in names]
        killed_and_swept(d, gcs, "found from the state file", "keep")
    finally:
        kill_left(gcs)
        d.cleanup()


# Issue 16: the cgroup limits.  Each one is either in force, its value
# in its file in the instance's cgroup, or said not to be, with why: by
# apm2d -n, once in the log at start, and in get_process.  On a hybrid
# host (the controllers bound to v1) or for a daemon that is not root,
# none can be in force.
CG_LIMITS = [("memory_max", "256M", 256 << 20, "memory", "memory.max",
              str(256 << 20)),
             ("memory_high", 200000000, 200000000, "memory", "memory.high",
              "200000000"),
             ("pids_max", 50, 50, "pids", "pids.max", "50"),
             ("cpu_max", "50%", 50, "cpu", "cpu.max", "50000 100000"),
             ("io_weight", 200, 200, "io", "io.weight", "default 200")]


def controllers(pid_file):
    """The controllers offered to the cgroup a daemon would run in."""
    sub = cgroup_dir(pid_file)
    if sub is None:
        return set()
    try:
        with open(os.path.join(os.path.dirname(sub),
                               "cgroup.controllers")) as f:
            return set(f.read().split())
    except OSError:
        return set()


@test
def cgroup_limits_in_force_or_said_why():
    limits = {"nproc": 100}
    for name, conf_value, _, _, _, _ in CG_LIMITS:
        limits[name] = conf_value
    conf = (process("lim", "sleep", ["1000"], limits=limits)
            + process("plain", "sleep", ["1000"]))
    d = Daemon(conf)
    try:
        have = controllers(d.pid_file) if IS_ROOT else set()
        p = subprocess.run([APM2D, "-n", "-f", d.config_path],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p
        assert p.stdout == b"configuration OK\n", p.stdout
        for name, _, _, cname, _, _ in CG_LIMITS:
            said = ("processes[0].limits.%s: cannot be applied here" %
                    name).encode()
            if cname not in have:
                assert said in p.stderr, (name, p.stderr)
        d.start()
        wait_until(lambda: get(d, "lim")["instance_details"][0]["state"] ==
                   "Running", 10, what="lim running")
        det = get(d, "lim")
        # A process without limits reads exactly as upstream's.
        assert "limits" not in get(d, "plain"), get(d, "plain")
        got = det["limits"]
        assert [x["name"] for x in got] == ["nproc"] + \
            [c[0] for c in CG_LIMITS], got
        assert got[0] == {"name": "nproc", "value": 100, "in_force": True,
                          "reason": None}, got[0]
        inst = os.path.join(cgroup_dir(d.pid_file), "lim")
        for (name, _, value, cname, fname, text), x in zip(CG_LIMITS, got[1:]):
            assert x["value"] == value, x
            if x["in_force"]:
                assert x["reason"] is None, x
                with open(os.path.join(inst, fname)) as f:
                    assert f.read().strip() == text, (name, text)
                continue
            assert cname not in have or x["reason"], x
            assert isinstance(x["reason"], str) and x["reason"], x
            line = "limit %s of lim is not applied: %s" % (name, x["reason"])
            assert d.stderr().count(line) == 1, (line, d.stderr())
        # apm2ctl status shows them, and why one is not in force.
        rc, out, err = ctl(d, "status", "lim")
        assert rc == 0, err
        assert "\nLimits:\n" in out, out
        for x in got:
            line = [ln for ln in out.splitlines()
                    if ln.split()[:1] == [x["name"]]]
            assert len(line) == 1, (x, out)
            assert line[0].rstrip().endswith(
                "in force" if x["in_force"] else x["reason"]), (x, line)
        if "pids" not in have:
            assert not got[3]["in_force"], got
            assert "pids" in got[3]["reason"] or "cgroup" in \
                got[3]["reason"], got
        # Said once, not at each start of an instance.
        r = d.request({"type": "restart_process", "name": "lim"}, timeout=30)
        assert r["type"] == "ok", r
        for name, _, _, _, _, _ in CG_LIMITS:
            assert d.stderr().count("limit %s of lim is not applied" %
                                    name) <= 1, d.stderr()
    finally:
        d.cleanup()


# pids_max stops a fork bomb, where the pids controller can be used
# (a pure v2 host); here the agent runs as root, which nproc never binds.
@test
def pids_max_stops_a_fork_bomb():
    setup()
    script = ("(i=0; while [ $i -lt 60 ]; do sleep 1000 & i=$((i+1)); "
              "done); echo tried >&2; exec sleep 1000")
    conf = process("bomb", "/bin/sh", ["-c", script], log={"redact": False},
                   limits={"pids_max": 10})
    d = Daemon(conf)
    try:
        if "pids" not in controllers(d.pid_file):
            raise Skip("no pids controller in the unified hierarchy")
        d.start()
        err = os.path.join(d.log_dir, "bomb.err.log")
        wait_until(lambda: os.path.exists(err) and
                   b"tried" in open(err, "rb").read(), 20,
                   what="the bomb to give up")
        x = get(d, "bomb")["limits"][0]
        assert x["in_force"], x
        procs = os.path.join(cgroup_dir(d.pid_file), "bomb", "cgroup.procs")
        with open(procs) as f:
            assert len(f.read().split()) <= 10
    finally:
        d.cleanup()


# An OOM kill by the instance's cgroup is its own reason, where the
# memory controller can be used (and no swap hides the overrun).
@test
def oom_kill_is_a_reason_of_its_own():
    setup()
    # The shell itself grows past the limit: it is the one killed.
    script = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); sleep 1000"
    conf = process("hog", "/bin/sh", ["-c", script],
                   limits={"memory_max": "64M"},
                   restart={"max_restarts": 0})
    d = Daemon(conf)
    try:
        if "memory" not in controllers(d.pid_file):
            raise Skip("no memory controller in the unified hierarchy")
        with open("/proc/swaps") as f:
            if len(f.read().splitlines()) > 1:
                raise Skip("swap would take the overrun")
        d.start()
        wait_until(lambda: get(d, "hog")["instance_details"][0]["pid"]
                   is None, 60, what="the OOM kill")
        i = get(d, "hog")["instance_details"][0]
        assert i["state"] == {"Crashed": {"exit_code": None}}, i
        assert i.get("exit_reason") == "oom_killed", i
        assert "killed by the out-of-memory killer" in d.stderr()
        rc, out, err = ctl(d, "status", "hog")
        assert "(killed: out of memory)" in out, out
    finally:
        d.cleanup()


if __name__ == "__main__":
    run()
