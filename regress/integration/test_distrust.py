#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The supervisor distrusts the frontend.

A stand-in frontend (fakefront, started only by the test build
apm2d-hooks) sends one kind of malformed message each time; the
supervisor must log a violation, kill it, respawn a real frontend, keep
its agents untouched, and answer again."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APM2D, KEEPER, TOP, Daemon, pid_alive,  # noqa: E402
                     process, run, test, wait_until)

HOOKS = os.path.join(TOP, "regress", "integration", "apm2d-hooks")
FAKE = os.path.join(TOP, "regress", "integration", "fakefront")

CONFIG = KEEPER + process(
    "stubborn", "sh", ["-c", "trap '' TERM; while :; do sleep 1; done"],
    shutdown={"timeout": "3s"})


class HookDaemon(Daemon):
    def __init__(self, mode):
        super().__init__(CONFIG, quick_stop=True)
        self.mode = mode
        self.state = os.path.join(self.tmp, "fakefront.state")

    def argv(self):
        a = super().argv()
        a[0] = HOOKS
        return a + ["-v"]

    def start(self, wait=True):
        os.environ["APM2D_TEST_FRONTEND"] = FAKE
        os.environ["FAKEFRONT_MODE"] = self.mode
        os.environ["FAKEFRONT_STATE"] = self.state
        os.environ["FAKEFRONT_REAL"] = HOOKS
        os.environ["FAKEFRONT_SOCKET"] = self.socket
        try:
            return super().start(wait)
        finally:
            for k in ("APM2D_TEST_FRONTEND", "FAKEFRONT_MODE",
                      "FAKEFRONT_STATE", "FAKEFRONT_REAL",
                      "FAKEFRONT_SOCKET"):
                os.environ.pop(k, None)


def keeper_pid(d):
    r = d.request({"type": "get_process", "name": "keeper"})
    return r["process"]["instance_details"][0]["pid"]


def check_mode(mode, expect):
    with HookDaemon(mode) as d:
        # By now the fake frontend misbehaved and a real one serves.
        wait_until(lambda: expect in d.stderr(), 10,
                   what="violation logged (%s)" % expect)
        assert "frontend lost" in d.stderr(), d.stderr()
        assert d.alive()
        spawns = int(open(d.state).read())
        assert spawns >= 2, spawns
        pid = wait_until(lambda: keeper_pid(d), 10, what="keeper running")
        assert pid_alive(pid)
        st = d.request({"type": "status"})
        assert st["type"] == "status" and st["pid"] == d.pid, st


def _mk(mode, expect):
    def t():
        check_mode(mode, expect)
    t.__name__ = "violation_" + mode.replace("-", "_")
    return t


for _mode, _expect in [
        ("unknown-type", "not allowed"),
        ("reply-type", "not allowed"),
        ("short-request", "F_REQUEST with"),
        ("long-request", "F_REQUEST with"),
        ("unterminated", "malformed request"),
        ("enum-range", "malformed request"),
        ("bad-flags", "malformed request"),
        ("unexpected-fd", "with a descriptor"),
        ("closed-with-fd", "with a descriptor"),
        ("conn-no-fd", "type 65 not allowed"),
        ("unknown-conn", "unknown connection"),
        ("closed-twice", "unknown connection"),
        ("two-requests", "second request"),
        ("bad-length", "malformed message"),
        ("tiny-length", "malformed message"),
        ("ready-twice", "F_READY twice"),
        ("ack-not-following", "without a follow stream"),
        ("heartbeat-forged", "F_HEARTBEAT 424242"),
        ("silent", "no answer to a heartbeat"),
        ("garbage", "frontend lost"),
        ("exit", "frontend lost")]:
    test(_mk(_mode, _expect))


def check_forged_conn(mode):
    """A descriptor of the frontend's choosing passed off as a client.

    Before the supervisor accepted clients itself, the frontend passed
    each client's socket up and the supervisor read the peer's
    credentials from it: the frontend's own channel (fd 3) or the
    listening socket reported the supervisor's own uid, which made the
    frontend an administrator.  Now any descriptor from the frontend is a
    violation: the forged connection never exists, so the shutdown
    request sent on it is not obeyed."""
    with HookDaemon(mode) as d:
        wait_until(lambda: "type 65 not allowed" in d.stderr(), 10,
                   what="violation logged")
        assert "frontend lost" in d.stderr(), d.stderr()
        pid = wait_until(lambda: keeper_pid(d), 10, what="keeper running")
        assert d.alive(), d.stderr()
        assert "shutdown request" not in d.stderr(), d.stderr()
        assert "shutting down" not in d.stderr(), d.stderr()
        assert pid_alive(pid)
        assert int(open(d.state).read()) >= 2
        st = d.request({"type": "status"})
        assert st["type"] == "status" and st["pid"] == d.pid, st


def _mk_forged(mode):
    def t():
        check_forged_conn(mode)
    t.__name__ = "forged_connection_" + mode.replace("-", "_")
    return t


for _mode in ("conn-chan-fd", "conn-listen-fd", "conn-socketpair",
              "conn-pipe"):
    test(_mk_forged(_mode))


@test
def production_binary_ignores_the_hook():
    """The installed apm2d has no stand-in hook compiled in."""
    d = Daemon(CONFIG, quick_stop=True)
    os.environ["APM2D_TEST_FRONTEND"] = FAKE
    try:
        d.start()
    finally:
        os.environ.pop("APM2D_TEST_FRONTEND", None)
    try:
        assert d.argv()[0] == APM2D
        assert d.request({"type": "ping"})["type"] == "pong"
        time.sleep(0.3)
        assert "frontend lost" not in d.stderr(), d.stderr()
        with open(APM2D, "rb") as f:
            assert b"APM2D_TEST_FRONTEND" not in f.read()
    finally:
        d.cleanup()


run()
