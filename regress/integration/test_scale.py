#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Scale (issue 17), what can be checked without timing: many programs
listed by many clients at once, none refused and the frontend never
killed for it.  The figures (thousands of instances, start, stop,
restart) are measured in bench/, not asserted here.

Every wait is bounded; only the daemon the test starts is signalled."""
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TOP, Client, Daemon, process, run, test  # noqa: E402
from harness import needs_starving  # noqa: E402
from harness import wait_until  # noqa: E402

HOOKS = os.path.join(TOP, "regress", "integration", "apm2d-hooks")
FAKE = os.path.join(TOP, "regress", "integration", "fakefront")

PROGRAMS = 10000
CLIENTS = 32


# 10,000 programs, 32 clients listing them at once: every reply whole.
# The supervisor holds requests back while the channel to the frontend
# is full, so no reply overflows it.
@test
def concurrent_lists_of_many_programs_are_all_answered():
    conf = "".join(process("p%05d" % i, "sleep", ["1000"], autostart=False)
                   for i in range(PROGRAMS))
    d = Daemon(conf)
    try:
        d.start()
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        got = [None] * CLIENTS
        go = threading.Barrier(CLIENTS)

        def one(k):
            with Client(d.socket, timeout=120) as c:
                go.wait(30)
                got[k] = c.call({"type": "list_processes"})
        ts = [threading.Thread(target=one, args=(k,)) for k in range(CLIENTS)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(180)
        for k, r in enumerate(got):
            assert r is not None, "client %d got no reply" % k
            assert r["type"] == "process_list", r.get("type")
            names = [p["name"] for p in r["processes"]]
            assert names == ["p%05d" % i for i in range(PROGRAMS)], k
        assert d.frontend_pid() == fe, "the frontend was replaced"
        assert "frontend lost" not in d.stderr(), d.stderr()
        assert "respawning the frontend" not in d.stderr(), d.stderr()
    finally:
        d.cleanup()


class SlowFront(Daemon):
    """The test build with fakefront in mode slow-lists: 4 clients list
    every program, and nothing is read for 2 s, then everything."""

    def __init__(self, conf):
        super().__init__(conf)
        self.state = os.path.join(self.tmp, "fakefront.state")
        self.result = os.path.join(self.tmp, "fakefront.result")
        self.env = {"APM2D_TEST_FRONTEND": FAKE,
                    "FAKEFRONT_MODE": "slow-lists",
                    "FAKEFRONT_STATE": self.state, "FAKEFRONT_REAL": HOOKS,
                    "FAKEFRONT_SOCKET": self.socket,
                    "FAKEFRONT_RESULT": self.result}

    def argv(self):
        a = super().argv()
        a[0] = HOOKS
        return a



# Lists longer than the supervisor lets wait for the frontend (10,000
# programs, 1.3 MB of entries each, against FRONTEND_WQ_HIGH, 1 MiB),
# asked for by 4 clients while the frontend reads nothing: the
# supervisor sends while there is room, holds the rest, and sends it as
# the frontend reads; every list arrives whole.  (It used to queue every
# entry at once: a list of 50,000 programs was 6.8 MB in its memory.)
@test
def lists_longer_than_the_channel_wait_for_room():
    n = 10000
    conf = "".join(process("q%05d" % i, "sleep", ["1000"], autostart=False)
                   for i in range(n))
    d = SlowFront(conf)
    try:
        d.start(wait=False)
        wait_until(lambda: os.path.exists(d.result), 120,
                   what="the fake frontend's result")
        got = open(d.result).read().split("\n")[:-1]
        assert got == ["%d end" % n] * 4, (got, d.stderr())
        assert "frontend lost" not in d.stderr(), d.stderr()
    finally:
        d.cleanup()


# A start of 500 instances is spawned a batch at a time, with requests
# served in between: a request sent right after the start is answered
# while most instances are still to be spawned.  Before, the supervisor
# made every spawn before it read another request, deaf for as long as
# that took (seconds at 1,000, most of a minute at 5,000 on a small VM).
@test
def a_big_start_leaves_the_daemon_answering():
    n = 500
    d = Daemon(process("many", "sleep", ["1000"], instances=n,
                       autostart=False,
                       log={"out_file": "/dev/null", "merge_stderr": True}))
    try:
        d.start()
        with Client(d.socket, timeout=120) as a, \
                Client(d.socket, timeout=60) as b:
            a.send({"type": "start_process", "name": "many"})
            r = b.call({"type": "get_process", "name": "many"})
            spawned = sum(1 for i in r["process"]["instance_details"]
                          if i["pid"] is not None)
            assert spawned < n, spawned
            r = a.recv()
            assert r == {"type": "ok", "message": "Process 'many' started"}, r
        st = d.request({"type": "status"})
        assert st["running_instances"] == n, st
    finally:
        d.cleanup()


class FdFill(Daemon):
    """The test build told to use up every descriptor (but its reserve)
    once it is up, under a small RLIMIT_NOFILE."""

    def __init__(self, conf):
        super().__init__(conf)
        self.env = {"APM2D_TEST_FD_FILL": "1"}

    def argv(self):
        a = super().argv()
        a[0] = HOOKS
        return ["prlimit", "--nofile=128:128"] + a


# With no descriptor left, the supervisor still accepts clients and
# respawns a lost frontend and a lost logger: those draw on a reserve
# it holds for them.  Before, accept paused and retried forever, and a
# respawn's socketpair() failed every second until SIGTERM.
@test
def the_control_plane_works_with_no_descriptor_left():
    needs_starving()
    d = FdFill(process("idle", "sleep", ["1000"], autostart=False))
    try:
        d.start()
        wait_until(lambda: "descriptors taken" in d.stderr(), 10,
                   what="the descriptors used up")
        for _ in range(40):
            assert d.request({"type": "status"})["type"] == "status"

        def one(k, got):
            got[k] = d.request({"type": "status"}, timeout=30)["type"]
        got = [None] * 16
        ts = [threading.Thread(target=one, args=(k, got))
              for k in range(16)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        assert got == ["status"] * 16, got
        for find in (d.frontend_pid, d.logger_pid):
            old = wait_until(find, 10, what="the child")
            os.kill(old, signal.SIGKILL)
            wait_until(lambda: find() not in (None, old), 20,
                       what="a new one")
            wait_until(lambda: d.request({"type": "status"})["type"] ==
                       "status", 20, what="an answer")
        assert "draws on its reserve" in d.stderr(), d.stderr()
        assert "cannot start" not in d.stderr(), d.stderr()
    finally:
        d.cleanup()


if __name__ == "__main__":
    run()
