#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Reload (issue 18): SIGHUP reads ecosystem.toml again and applies the
difference, process by process, touching nothing else.  Added processes
start (if autostart); removed ones stop with their own shutdown settings
and are forgotten; changed ones are replaced one instance at a time,
each new one running before the next old one stops; scaled ones start
or stop the difference, highest index first; policy-only changes apply
in place; the unchanged keep their pids, log files and restart counts.
A file with an error changes nothing.  [daemon] keys keep their values
until a restart.  A follow survives a reload; what an operator stopped
by hand stays stopped.

Every wait is bounded; only the daemon the test starts and the agent
pids it read are signalled."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, fd_links, get, process, rd, run, start  # noqa
from harness import test, wait_until  # noqa: E402


def edit(d, procs):
    """The config file with its [daemon] table and procs after it."""
    with open(d.config_path) as f:
        text = f.read()
    cut = text.index("[[processes]]") if "[[processes]]" in text else \
        len(text)
    with open(d.config_path, "w") as f:
        f.write(text[:cut] + procs)


def pids(d, name):
    return [i["pid"] for i in get(d, name)["instance_details"]]


def states(d, name):
    return [i["state"] for i in get(d, name)["instance_details"]]


def all_running(d, name, n=None):
    st = states(d, name)
    return (n is None or len(st) == n) and all(s == "Running" for s in st)


def names(d):
    r = d.request({"type": "list_processes"})
    assert r["type"] == "process_list", r
    return [p["name"] for p in r["processes"]]


def reload(d, what, expect=None):
    """SIGHUP, then wait until the log says the reload was read (and, a
    line a log line, has said expect)."""
    before = d.stderr().count("reload (SIGHUP): ")
    os.kill(d.pid, signal.SIGHUP)
    wait_until(lambda: d.stderr().count("reload (SIGHUP): ") > before and
               (expect is None or expect in d.stderr()), 10,
               what="the reload of " + what)


def sleeper(name, arg, **keys):
    keys.setdefault("shutdown", {"timeout": "5s"})
    return process(name, "sleep", [str(arg)], **keys)


def lines(path):
    try:
        with open(path) as f:
            return [l.split() for l in f.read().splitlines()]
    except OSError:
        return []


@test
def each_kind_of_change_touches_only_its_process():
    one = (sleeper("keep", 1000) + sleeper("gone", 1001) +
           sleeper("grow", 1002, instances=2) +
           sleeper("shrink", 1003, instances=3) +
           sleeper("tune", 1004) +
           sleeper("args", 1005))
    two = (sleeper("fresh", 1006) +
           sleeper("quiet", 1007, autostart=False) +
           sleeper("keep", 1000) +
           sleeper("grow", 1002, instances=4) +
           sleeper("shrink", 1003, instances=1 + 1) +
           sleeper("tune", 1004, restart={"max_restarts": 0}) +
           sleeper("args", 2005))
    with Daemon(one) as d:
        for n, k in (("keep", 1), ("gone", 1), ("grow", 2), ("shrink", 3),
                     ("tune", 1), ("args", 1)):
            wait_until(lambda n=n, k=k: all_running(d, n, k), 15, what=n)
        before = {n: pids(d, n) for n in
                  ("keep", "gone", "grow", "shrink", "tune", "args")}
        edit(d, two)
        reload(d, "six kinds")
        err = d.stderr()
        for line in ("+ fresh (added)", "+ quiet (added)",
                     "- gone (removed)", "# grow (instances 2 -> 4)",
                     "# shrink (instances 3 -> 2)",
                     "* tune (policy: restart)",
                     "~ args (changed: args)"):
            assert line in err, (line, err[-3000:])
        assert "keep (" not in err, err[-3000:]
        wait_until(lambda: all_running(d, "fresh", 1), 15, what="fresh")
        wait_until(lambda: all_running(d, "grow", 4), 15, what="grow 4")
        wait_until(lambda: len(states(d, "shrink")) == 2, 15,
                   what="shrink 2")
        wait_until(lambda: all_running(d, "args") and
                   pids(d, "args") != before["args"], 15, what="args")
        # Unchanged, policy-only, and the survivors of scaling: same pids.
        assert pids(d, "keep") == before["keep"]
        assert pids(d, "tune") == before["tune"]
        assert pids(d, "grow")[:2] == before["grow"]
        assert pids(d, "shrink") == before["shrink"][:2]
        assert states(d, "quiet") == [{"Stopped": {"exit_code": None}}] or \
            get(d, "quiet")["instance_details"][0]["pid"] is None
        assert get(d, "args")["args"] == ["2005"]
        # Removed: stopped, then forgotten; the highest of shrink stopped.
        r = d.request({"type": "get_process", "name": "gone"})
        assert r["type"] == "error" and \
            r["code"] == "process_not_found", r
        wait_until(lambda: not os.path.exists("/proc/%d" %
                                              before["gone"][0]) or
                   open("/proc/%d/stat" % before["gone"][0]).read()
                   .split(") ")[1][0] == "Z", 10, what="gone's pid to go")
        assert names(d) == ["fresh", "quiet", "keep", "grow", "shrink",
                            "tune", "args"], names(d)
        # Policy in place: tune now has max_restarts 0, so a kill is
        # final.
        os.kill(before["tune"][0], signal.SIGKILL)
        wait_until(lambda: states(d, "tune")[0] != "Running", 10,
                   what="tune to die")
        time.sleep(0.5)
        assert get(d, "tune")["instance_details"][0]["pid"] is None, \
            get(d, "tune")


# Of 300 processes, one changed: only its pid changes.
@test
def one_change_among_many_touches_one_process():
    def many(arg):
        return "".join(sleeper("p%03d" % i, arg if i == 150 else 1000)
                       for i in range(300))
    with Daemon(many(1000)) as d:
        wait_until(lambda: d.request({"type": "status"})
                   ["running_instances"] == 300, 60, what="300 running")
        before = {"p%03d" % i: pids(d, "p%03d" % i) for i in range(300)}
        edit(d, many(2000))
        reload(d, "one change")
        wait_until(lambda: all_running(d, "p150") and
                   pids(d, "p150") != before["p150"], 15, what="p150")
        after = {"p%03d" % i: pids(d, "p%03d" % i) for i in range(300)}
        assert [n for n in before if before[n] != after[n]] == ["p150"]


# A changed process with 3 instances: each new one runs before the next
# old one is stopped.  An old instance takes 0.3 s to exit after its
# SIGTERM and writes when it got it (seconds since boot); the new ones'
# start times come from /proc.  Stopping all at once would put the
# second SIGTERM 0.3 s before the first new start.
@test
def a_changed_process_is_replaced_one_instance_at_a_time():
    d = Daemon("")
    events = os.path.join(d.tmp, "events")
    script = ("trap 'read up rest < /proc/uptime; "
              "echo stop $APM2_INSTANCE $up %s >> %s; sleep 0.3; exit 0' "
              "TERM; sleep 1000 & wait")
    edit(d, process("roll", "/bin/sh", ["-c", script % ("old", events)],
                    instances=3, shutdown={"timeout": "5s"}))
    try:
        d.start()
        wait_until(lambda: all_running(d, "roll", 3), 15, what="roll")
        old = pids(d, "roll")
        edit(d, process("roll", "/bin/sh", ["-c", script % ("new", events)],
                        instances=3, shutdown={"timeout": "5s"}))
        reload(d, "roll")
        wait_until(lambda: all_running(d, "roll", 3) and
                   not set(pids(d, "roll")) & set(old), 30,
                   what="3 new instances")
        new = pids(d, "roll")
        tck = os.sysconf("SC_CLK_TCK")
        started = []
        for pid in new:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
            started.append(int(st[st.rfind(")") + 2:].split()[19]) / tck)
        stops = {int(e[1]): float(e[2]) for e in lines(events)
                 if e[0] == "stop" and e[3] == "old"}
        assert sorted(stops) == [0, 1, 2], lines(events)
        for k in range(3):
            # New k waited for old k to exit.
            assert started[k] >= stops[k] + 0.25, (k, started, stops)
        for k in range(2):
            # Old k + 1 was stopped only once new k had started.
            assert stops[k + 1] >= started[k] - 0.02, (k, started, stops)
    finally:
        d.cleanup()


# A removed process is stopped with its own shutdown settings (here
# SIGINT), not the daemon's default.
@test
def a_removed_process_stops_with_its_own_signal():
    d = Daemon("")
    events = os.path.join(d.tmp, "events")
    script = ("trap 'echo INT >> %s; exit 0' INT; "
              "trap 'echo TERM >> %s; exit 0' TERM; sleep 1000 & wait"
              % (events, events))
    edit(d, process("old", "/bin/sh", ["-c", script],
                    shutdown={"signal": "INT", "timeout": "5s"}) +
         sleeper("stay", 1000))
    try:
        d.start()
        wait_until(lambda: all_running(d, "old"), 15, what="old")
        wait_until(lambda: [l for l in fd_links(d.logger_pid())
                            if "/old." in l], 10, what="old's files held")
        edit(d, sleeper("stay", 1000))
        reload(d, "removal")
        wait_until(lambda: os.path.exists(events), 10, what="its signal")
        wait_until(lambda: names(d) == ["stay"], 10, what="old forgotten")
        assert rd(events) == b"INT\n", rd(events)
        # Its log files are closed: the logger holds none of them.
        wait_until(lambda: not [l for l in fd_links(d.logger_pid())
                                if "/old." in l], 10,
                   what="old's log files closed")
    finally:
        d.cleanup()


# The unchanged keep their pids, their log files (same descriptors in
# the logger, still written), their restart counts; a follow of one of
# them goes on through the reload.
@test
def unchanged_processes_keep_pids_logs_counts_and_followers():
    script = "while :; do echo tick; sleep 0.2; done"
    conf = process("talk", "/bin/sh", ["-c", script],
                   restart={"min_uptime": "0s", "backoff":
                            {"type": "fixed", "delay": "0s"}},
                   log={"timestamp": False, "redact": False})
    with Daemon(conf) as d:
        wait_until(lambda: all_running(d, "talk"), 15, what="talk")
        pid = pids(d, "talk")[0]
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: pids(d, "talk")[0] not in (None, pid), 10,
                   what="a restart")
        pid = pids(d, "talk")[0]
        assert get(d, "talk")["instance_details"][0]["restart_count"] == 1
        logf = os.path.join(d.log_dir, "talk.out.log")
        held = sorted(l for l in fd_links(d.logger_pid())
                      if l.endswith("talk.out.log"))
        c = d.client(timeout=20)
        c.send({"type": "tail_logs", "name": "talk", "lines": 1,
                "follow": True})
        first = c.recv()
        assert first["type"] == "log_lines", first
        edit(d, conf + sleeper("other", 1000))
        reload(d, "an addition")
        size = os.path.getsize(logf)
        wait_until(lambda: os.path.getsize(logf) > size, 10,
                   what="talk to go on writing its file")
        assert pids(d, "talk") == [pid]
        assert get(d, "talk")["instance_details"][0]["restart_count"] == 1
        assert sorted(l for l in fd_links(d.logger_pid())
                      if l.endswith("talk.out.log")) == held
        # The follower still gets lines.
        got = c.recv()
        assert got["type"] == "log_lines" and got["lines"], got
        c.close()


# Rotation thresholds are policy: a reload that lowers max_size makes
# the running instance's file rotate, with the same pid.
@test
def a_new_rotation_size_applies_in_place():
    script = ("while :; do echo 0123456789012345678901234567890123456789; "
              "sleep 0.02; done")

    def conf(size):
        return process("rot", "/bin/sh", ["-c", script],
                       log={"timestamp": False, "redact": False,
                            "rotation": {"max_size": size, "max_files": 2}})
    with Daemon(conf(100000000)) as d:
        wait_until(lambda: all_running(d, "rot"), 15, what="rot")
        pid = pids(d, "rot")
        base = os.path.join(d.log_dir, "rot.out.log")
        wait_until(lambda: os.path.exists(base) and
                   os.path.getsize(base) > 2000, 15, what="some output")
        assert not os.path.exists(base + ".1")
        edit(d, conf(1000))
        reload(d, "a smaller max_size", "* rot (policy: log.rotation)")
        assert "* rot (policy: log.rotation)" in d.stderr(), \
            d.stderr()[-2000:]
        wait_until(lambda: os.path.exists(base + ".1"), 15,
                   what="a rotation")
        wait_until(lambda: os.path.exists(base + ".2"), 15,
                   what="a second rotation")
        assert os.path.getsize(base + ".1") <= 1000
        assert not os.path.exists(base + ".3")
        assert pids(d, "rot") == pid


# Timestamps on: the process is changed (log), replaced, and its lines
# in the same file get a prefix from then on.
@test
def timestamps_turned_on_apply_to_the_same_file():
    script = "while :; do echo tick; sleep 0.05; done"

    def conf(ts):
        return process("ts", "/bin/sh", ["-c", script],
                       log={"timestamp": ts, "redact": False})
    with Daemon(conf(False)) as d:
        wait_until(lambda: all_running(d, "ts"), 15, what="ts")
        base = os.path.join(d.log_dir, "ts.out.log")
        wait_until(lambda: os.path.exists(base) and
                   rd(base).startswith(b"tick\n"), 10, what="plain lines")
        edit(d, conf(True))
        reload(d, "timestamps on", "~ ts (changed: log)")
        assert "~ ts (changed: log)" in d.stderr(), d.stderr()[-2000:]
        wait_until(lambda: all(l.startswith(b"[") for l in
                               rd(base).splitlines()[-2:]),
                   15, what="timestamped lines")
        last = rd(base).splitlines()[-2:]
        assert all(l.startswith(b"[") and l.endswith(b"tick")
                   for l in last), last


# A file with an error changes nothing, and the log says where.
@test
def a_config_with_errors_changes_nothing():
    conf = sleeper("a", 1000) + sleeper("b", 1001)
    with Daemon(conf) as d:
        for n in "ab":
            wait_until(lambda n=n: all_running(d, n), 15, what=n)
        before = {n: pids(d, n) for n in "ab"}
        edit(d, sleeper("a", 2000) + "[[processes]]\nname = \"c\"\n"
             "command = 7\n")
        reload(d, "a broken file", "command")
        err = d.stderr()
        assert "has errors; nothing changed" in err, err[-2000:]
        assert "ecosystem.toml:" in err and "command" in err, err[-2000:]
        assert {n: pids(d, n) for n in "ab"} == before
        assert get(d, "a")["args"] == ["1000"]
        assert names(d) == ["a", "b"]


# [daemon] keys are reported and keep their values until a restart.
@test
def daemon_keys_wait_for_a_restart():
    with Daemon(sleeper("a", 1000)) as d:
        wait_until(lambda: all_running(d, "a"), 15, what="a")
        with open(d.config_path) as f:
            text = f.read()
        other = os.path.join(d.tmp, "other.sock")
        with open(d.config_path, "w") as f:
            f.write(text.replace(d.socket, other))
        reload(d, "a new socket",
               "! daemon.socket (kept until apm2d restarts)")
        assert "! daemon.socket (kept until apm2d restarts)" in \
            d.stderr(), d.stderr()[-2000:]
        assert d.request({"type": "ping"})["type"] == "pong"
        assert not os.path.exists(other)


# shutdown_timeout is a [daemon] key a reload applies: lowered from 60 s
# to 1 s, the next shutdown kills a process that ignores SIGTERM after
# 1 s, not 60.
@test
def a_new_shutdown_timeout_applies_at_once():
    deaf = process("deaf", "/bin/sh", ["-c", "trap '' TERM; touch "
                                       "{tmp}/ready; while :; do sleep 1; "
                                       "done"],
                   shutdown={"timeout": "60s"})
    d = Daemon(deaf, daemon={"shutdown_timeout": "60s"})
    try:
        d.start()
        wait_until(lambda: os.path.exists(d.tmp + "/ready"), 15,
                   what="deaf")
        with open(d.config_path) as f:
            text = f.read()
        with open(d.config_path, "w") as f:
            f.write(text.replace('shutdown_timeout = "60s"',
                                 'shutdown_timeout = "1s"'))
        reload(d, "a shorter shutdown_timeout",
               "* daemon.shutdown_timeout (applied)")
        assert "* daemon.shutdown_timeout (applied)" in d.stderr(), \
            d.stderr()[-2000:]
        os.kill(d.pid, signal.SIGTERM)
        assert d.wait_exit(20) is not None, "still shutting down after 20 s"
    finally:
        d.cleanup()


# What an operator stopped by hand stays stopped through a reload that
# does not change it, whatever autostart says; the intent is kept.
@test
def a_process_stopped_by_hand_stays_stopped():
    with Daemon(sleeper("a", 1000) + sleeper("b", 1001)) as d:
        for n in "ab":
            wait_until(lambda n=n: all_running(d, n), 15, what=n)
        r = d.request({"type": "stop_process", "name": "a"}, timeout=30)
        assert r["type"] == "ok", r
        edit(d, sleeper("a", 1000) + sleeper("b", 1001) +
             sleeper("c", 1002))
        reload(d, "an addition")
        wait_until(lambda: all_running(d, "c"), 15, what="c")
        assert pids(d, "a") == [None]
        start(d, "a")
        wait_until(lambda: all_running(d, "a"), 15, what="a again")


if __name__ == "__main__":
    run()
