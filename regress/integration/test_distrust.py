#!/usr/bin/env python3
"""The supervisor distrusts the frontend.

A stand-in frontend (fakefront, started only by the test build
apm2d-hooks) sends one kind of malformed message each time; the
supervisor must log a violation, kill it, respawn a real frontend, keep
its agents untouched, and answer again."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APM2D, TOP, Daemon, pid_alive, run, test,  # noqa: E402
                     wait_until)

HOOKS = os.path.join(TOP, "regress", "integration", "apm2d-hooks")
FAKE = os.path.join(TOP, "regress", "integration", "fakefront")

CONFIG = """
[[processes]]
name = "keeper"
command = "sleep"
args = ["1000"]

[[processes]]
name = "stubborn"
command = "sh"
args = ["-c", "trap '' TERM; while :; do sleep 1; done"]
[processes.shutdown]
timeout = "3s"
"""


class HookDaemon(Daemon):
    def __init__(self, mode):
        super().__init__(CONFIG)
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
        try:
            return super().start(wait)
        finally:
            for k in ("APM2D_TEST_FRONTEND", "FAKEFRONT_MODE",
                      "FAKEFRONT_STATE", "FAKEFRONT_REAL"):
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
        ("missing-fd", "without a descriptor"),
        ("not-a-socket", "not a connected socket"),
        ("unknown-conn", "unknown connection"),
        ("dup-conn", "in use"),
        ("two-requests", "second request"),
        ("bad-length", "malformed message"),
        ("tiny-length", "malformed message"),
        ("ready-twice", "F_READY twice"),
        ("ack-not-following", "without a follow stream"),
        ("flood", "unknown connection"),
        ("garbage", "frontend lost"),
        ("exit", "frontend lost")]:
    test(_mk(_mode, _expect))


@test
def production_binary_ignores_the_hook():
    """The installed apm2d has no stand-in hook compiled in."""
    d = Daemon(CONFIG)
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
