#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The supervisor distrusts the logger (a compromised one: an agent's
output exploited a bug in the code that reads it).

A stand-in logger (fakelogger, started only by the test build
apm2d-hooks) misbehaves once; the supervisor must log the violation,
kill it, start a real logger, keep its agents untouched and their
output flowing.  Frames for connections that never asked the logger
anything, and requests about files and instances it was never given,
are dropped without harm."""
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TOP, Daemon, frame, pid_alive, process,  # noqa: E402
                     run, test, wait_until)

HOOKS = os.path.join(TOP, "regress", "integration", "apm2d-hooks")
FAKE = os.path.join(TOP, "regress", "integration", "fakelogger")

CONFIG = process("talker", "/bin/sh",
                 ["-c", "i=0; while :; do echo line $i; i=$((i+1)); "
                  "sleep 0.05; done"])


class HookDaemon(Daemon):
    def __init__(self, mode):
        super().__init__(CONFIG, quick_stop=True)
        self.mode = mode
        self.state = os.path.join(self.tmp, "fakelogger.state")

    def argv(self):
        a = super().argv()
        a[0] = HOOKS
        return a + ["-v"]

    def start(self, wait=True):
        # This Python, not whichever "python3" the PATH finds first (a
        # pyenv shim can take seconds to start on a busy machine).
        wrapper = os.path.join(self.tmp, "fakelogger.sh")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec "%s" "%s" "$@"\n' % (sys.executable,
                                                        FAKE))
        os.chmod(wrapper, 0o755)
        env = {"APM2D_TEST_LOGGER": wrapper, "FAKELOGGER_MODE": self.mode,
               "FAKELOGGER_STATE": self.state, "FAKELOGGER_REAL": HOOKS}
        os.environ.update(env)
        try:
            return super().start(wait)
        finally:
            for k in env:
                os.environ.pop(k, None)


def talker_pid(d):
    r = d.request({"type": "get_process", "name": "talker"})
    return r["process"]["instance_details"][0]["pid"]


def fake_started(d):
    """The stand-in ran (it notes its mode in a trace file)."""
    try:
        return " mode " in open(d.state + ".trace").read()
    except OSError:
        return False


def misbehaved(mode, expect):
    """A daemon whose stand-in logger misbehaved as mode says and was
    caught (expect logged).  On a loaded machine Python can take longer
    to start than the supervisor's heartbeat allows (6 s); the stand-in
    is then replaced before it ran, which proves nothing: try again."""
    for _ in range(3):
        d = HookDaemon(mode)
        d.start()
        try:
            wait_until(lambda: expect in d.stderr() or
                       ("no answer to a heartbeat" in d.stderr() and
                        not fake_started(d)), 20,
                       what="violation logged (%s)" % expect)
            if expect in d.stderr():
                return d
        except BaseException:
            d.cleanup()
            raise
        d.cleanup()
    raise AssertionError("the stand-in logger never started in time")


def check_violation(mode, expect):
    d = misbehaved(mode, expect)
    try:
        assert "logger lost: protocol violation" in d.stderr(), d.stderr()
        # Started by the stand-in's script: Python may be slow to start.
        wait_until(lambda: int(open(d.state).read()) >= 2, 30,
                   what="a real logger")
        pid = talker_pid(d)
        assert pid_alive(pid)
        # Output flows again, through the new logger, from the same agent.
        path = os.path.join(d.log_dir, "talker.out.log")
        size = os.path.getsize(path) if os.path.exists(path) else 0
        wait_until(lambda: os.path.exists(path) and
                   os.path.getsize(path) > size, 20, what="new output")
        assert talker_pid(d) == pid
        r = d.request({"type": "get_process", "name": "talker"})
        i = r["process"]["instance_details"][0]
        assert i["restart_count"] == 0, i
    finally:
        d.cleanup()


def _mk(mode, expect):
    def t():
        check_violation(mode, expect)
    t.__name__ = "logger_violation_" + mode.replace("-", "_")
    return t


for _mode, _expect in [
        ("fd", "L_READY with"),
        ("unknown-type", "protocol violation"),
        ("frontend-type", "F_REQUEST"),
        ("bad-size", "L_ROTATE with 3 bytes"),
        ("entry-length", "L_LOG_ENTRY with")]:
    test(_mk(_mode, _expect))


# A logger cannot make the frontend exit (and drop every client) with a
# frame the frontend would refuse, nor by dying inside a frame: the
# supervisor checks the frames as the frontend does, and closes a
# connection it cannot end cleanly.
def check_frontend_survives(mode, expect):
    for _ in range(3):
        d = HookDaemon(mode)
        d.start()
        # Running, and answering heartbeats, before the request.
        try:
            wait_until(lambda: fake_started(d), 20, what="the stand-in")
        except BaseException:
            d.cleanup()
            raise
        if "no answer to a heartbeat" not in d.stderr():
            break
        d.cleanup()
    try:
        fe = d.frontend_pid()
        by = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        by.settimeout(10)
        by.connect(d.socket)
        assert ask(by, {"type": "ping"})["type"] == "pong"
        t = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        t.settimeout(10)
        t.connect(d.socket)
        t.sendall(frame({"type": "tail_logs", "name": "talker",
                         "lines": 10, "follow": True}))
        # It gets an error or is closed; never a half frame's trash.
        try:
            got = t.recv(65536)
        except OSError:
            got = b""
        if got:
            n = struct.unpack(">I", got[:4])[0]
            body = json.loads(got[4:4 + n])
            assert body["type"] == "error", body
        wait_until(lambda: expect in d.stderr(), 10,
                   what="the logger lost (%s)" % expect)
        # The bystander's connection and the frontend are untouched.
        assert ask(by, {"type": "ping"})["type"] == "pong"
        assert d.frontend_pid() == fe
        assert "invalid" not in d.stderr(), d.stderr()
        t.close()
        by.close()
    finally:
        d.cleanup()


def ask(s, req):
    s.sendall(frame(req))
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    return json.loads(s.recv(n, socket.MSG_WAITALL))


@test
def frontend_survives_a_frame_it_would_refuse():
    check_frontend_survives("tail-bad-entry",
                            "logger lost: protocol violation: L_LOG_ENTRY")


@test
def frontend_survives_a_logger_dying_inside_a_frame():
    # Closed its channel, or reset it (it left unread messages behind).
    check_frontend_survives("tail-dies-mid-frame", "logger lost: ")


# Forged frames for every connection id it can guess: no client that did
# not ask the logger for logs ever sees one.
@test
def logger_cannot_reach_clients_that_did_not_ask():
    with HookDaemon("spray") as d:
        wait_until(lambda: os.path.exists(d.state), 10, what="fake logger")
        for _ in range(5):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(d.socket)
            s.sendall(frame({"type": "status"}))
            hdr = s.recv(4, socket.MSG_WAITALL)
            n = struct.unpack(">I", hdr)[0]
            body = json.loads(s.recv(n, socket.MSG_WAITALL))
            assert body["type"] == "status", body
            # Nothing else comes on this connection.
            s.settimeout(0.5)
            try:
                extra = s.recv(4096)
            except socket.timeout:
                extra = None
            assert not extra, extra
            s.close()
        assert "protocol violation" not in d.stderr(), d.stderr()
        assert int(open(d.state).read()) == 1
        assert d.alive()


if __name__ == "__main__":
    run()
