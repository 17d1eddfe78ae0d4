#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""systemd's readiness protocol (issue 19): with NOTIFY_SOCKET set, the
supervisor sends READY=1 once a ping would be answered (with MAINPID=,
from the launcher, when it detached), STATUS= with the running count as
it changes but at most once a second, RELOADING=1 then READY=1 around a
reload that is not a dry run, and STOPPING=1 with EXTEND_TIMEOUT_USEC=
when shutdown begins.  Only the supervisor sends: the frontend, the
logger and the agents never see NOTIFY_SOCKET.  An address nobody
listens on, or a manager that does not read, changes nothing else.

A datagram socket in the test's temporary directory (or in the abstract
namespace) stands in for the manager's; SO_PASSCRED tells who sent each
message, SO_TIMESTAMP when.  Every wait is bounded."""
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (IS_ROOT, KEEPER, SLEEPER, Client, Daemon,  # noqa: E402
                     Skip, process, run, start, test, wait_until)

SO_TIMESTAMP = 29       # Linux's, which Python does not name
UCRED = struct.Struct("3i")
TIMEVAL = struct.Struct("qq")
# What the supervisor adds to shutdown_timeout (supervisor/notify.c):
# the frontend's exit (3 s), the logger's (5 s) and 5 s of slack.
STOP_EXTRA_USEC = (3 + 5 + 5) * 1000000


class Msg:
    """One datagram: its KEY=VALUE lines, who sent it and when."""

    def __init__(self, raw, pid, when):
        self.raw = raw.decode()
        self.kv = dict(line.split("=", 1) for line in
                       self.raw.split("\n") if line)
        self.pid = pid
        self.when = when

    def __repr__(self):
        return "Msg(%r from %s)" % (self.raw, self.pid)


class Manager:
    """The service manager's notification socket, as far as we need it."""

    def __init__(self, directory=None, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "apm2-it-notify-%d-%s" % (
                os.getpid(), os.urandom(6).hex())
            self.sock.bind("\0" + name)
            self.address = "@" + name
            self.path = None
        else:
            self.path = os.path.join(directory, "notify.sock")
            self.sock.bind(self.path)
            self.address = self.path
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
        self.seen = []

    def next(self, timeout=20.0):
        """The next message; AssertionError if none comes in time."""
        self.sock.settimeout(timeout)
        try:
            raw, anc, _, _ = self.sock.recvmsg(
                4096, socket.CMSG_SPACE(UCRED.size) +
                socket.CMSG_SPACE(TIMEVAL.size))
        except socket.timeout:
            raise AssertionError("no notification within %.1f s (seen: %r)"
                                 % (timeout, self.seen[-5:]))
        pid, when = None, None
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = UCRED.unpack(data[:UCRED.size])[0]
            elif level == socket.SOL_SOCKET and kind == SO_TIMESTAMP:
                sec, usec = TIMEVAL.unpack(data[:TIMEVAL.size])
                when = sec + usec / 1e6
        m = Msg(raw, pid, when)
        self.seen.append(m)
        return m

    def until(self, pred, timeout=20.0, what="a notification"):
        """Messages until one satisfies pred: (that one, those before)."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s (seen: %r)"
                                     % (what, skipped[-5:]))
            m = self.next(left)
            if pred(m):
                return m, skipped
            skipped.append(m)

    def status(self, text, timeout=20.0):
        """Wait until the last STATUS= said is text."""
        said = [m.kv["STATUS"] for m in self.seen if "STATUS" in m.kv]
        if said and said[-1] == text:
            return
        self.until(lambda m: m.kv.get("STATUS") == text, timeout,
                   what="STATUS=" + text)

    def pending(self):
        """What is queued now, without waiting."""
        out = []
        self.sock.setblocking(False)
        try:
            while True:
                out.append(self.next(0.0))
        except (AssertionError, BlockingIOError):
            pass
        finally:
            self.sock.setblocking(True)
        return out

    def close(self):
        self.sock.close()


def with_manager(config, abstract=False, env=None, **kw):
    """A daemon (not started) with NOTIFY_SOCKET set, and its manager."""
    d = Daemon(config, **kw)
    mgr = Manager(d.tmp, abstract=abstract)
    d.env = dict(env or {}, NOTIFY_SOCKET=mgr.address)
    return d, mgr


def ready(d, mgr):
    """Start d and wait for READY=1; check that it came from the daemon
    and that a ping is answered at once (no retry)."""
    d.start(wait=False)
    m = mgr.next(30)
    assert m.kv.get("READY") == "1", m
    assert m.pid == d.pid, (m, d.pid)
    with Client(d.socket, timeout=10) as c:
        assert c.call({"type": "ping"})["type"] == "pong"
    return m


def reload_sighup(d, mgr):
    """SIGHUP: RELOADING=1 (with the monotonic clock's reading), then
    READY=1; return the second."""
    t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    os.kill(d.pid, signal.SIGHUP)
    return reloaded(mgr, t0)[0]


def reloaded(mgr, t0):
    """RELOADING=1 then READY=1: (the second, the messages before)."""
    m, before = mgr.until(lambda m: "RELOADING" in m.kv, 20,
                          what="RELOADING=1")
    t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert all(set(x.kv) == {"STATUS"} for x in before), before
    assert m.kv["RELOADING"] == "1", m
    assert t0 <= int(m.kv["MONOTONIC_USEC"]) <= t1, (t0, m, t1)
    m2 = mgr.next(20)
    assert m2.kv.get("READY") == "1", m2
    return m2, before


# ------------------------------------------------------------ readiness

@test
def ready_once_a_ping_is_answered():
    d, mgr = with_manager(KEEPER + SLEEPER)
    try:
        m = ready(d, mgr)
        # The first message, from the supervisor itself: no MAINPID in
        # the foreground, a STATUS= with the count.
        assert len(mgr.seen) == 1, mgr.seen
        assert "MAINPID" not in m.kv, m
        assert m.kv.get("STATUS", "").endswith(" of 2 instances running"), m
        # READY=1 once only, even when a new frontend says it is ready.
        fe = d.frontend_pid()
        os.kill(fe, signal.SIGKILL)
        wait_until(lambda: d.frontend_pid() not in (None, fe), 15,
                   what="a new frontend")
        wait_until(lambda: d.request({"type": "ping"})["type"] == "pong",
                   15, what="the new frontend to answer")
        d.stop()
        m, before = mgr.until(lambda m: "STOPPING" in m.kv, 20,
                              what="STOPPING=1")
        assert not any("READY" in x.kv for x in before), before
    finally:
        d.cleanup()
        mgr.close()


@test
def detached_daemon_is_made_the_main_pid_by_its_launcher():
    """apm2d without -d: the launcher, which the manager started and
    (NotifyAccess=main) alone may speak, says READY=1 with MAINPID=; the
    daemon's own messages come after it."""
    d, mgr = with_manager(KEEPER, foreground=False)
    try:
        d.start(wait=False)     # returns once the launcher has exited
        launcher = d.proc.pid
        m = mgr.next(30)
        assert m.kv == {"MAINPID": str(d.pid), "READY": "1"}, m
        assert m.pid == launcher, (m, launcher)
        with Client(d.socket, timeout=10) as c:
            assert c.call({"type": "ping"})["type"] == "pong"
        m = mgr.next(20)
        assert m.kv == {"STATUS": "1 of 1 instance running"}, m
        assert m.pid == d.pid, (m, d.pid)
        reload_sighup(d, mgr)
        os.kill(d.pid, signal.SIGTERM)
        m, _ = mgr.until(lambda m: "STOPPING" in m.kv, 20, what="STOPPING")
        assert m.pid == d.pid, m
        d.wait_exit(20)
    finally:
        d.cleanup()
        mgr.close()


# --------------------------------------------------------------- status

@test
def status_counts_the_running_instances():
    d, mgr = with_manager(process("web", "sleep", ["1000"], instances=2)
                          + SLEEPER)
    try:
        ready(d, mgr)
        mgr.status("2 of 3 instances running", 20)
        start(d, "sleeper")
        mgr.status("3 of 3 instances running", 20)
        r = d.request({"type": "stop_process", "name": "web"}, timeout=30)
        assert r["type"] == "ok", r
        mgr.status("1 of 3 instances running", 20)
        # Only what changes is said again.
        statuses = [m.kv["STATUS"] for m in mgr.seen if "STATUS" in m.kv]
        assert all(a != b for a, b in zip(statuses, statuses[1:])), \
            statuses
    finally:
        d.cleanup()
        mgr.close()


@test
def status_is_sent_at_most_once_a_second():
    """200 starts and 200 stops do not send 400 datagrams: STATUS= goes
    at most once a second (the kernel's receive times show it)."""
    n = 200
    d, mgr = with_manager(process("many", "sleep", ["1000"], instances=n))
    try:
        ready(d, mgr)
        mgr.status("%d of %d instances running" % (n, n), 60)
        r = d.request({"type": "stop_process", "name": "many"}, timeout=60)
        assert r["type"] == "ok", r
        mgr.status("0 of %d instances running" % n, 30)
        times = [m.when for m in mgr.seen]
        assert None not in times, mgr.seen
        assert len(mgr.seen) < 40, mgr.seen
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert min(gaps) >= 0.9, (gaps, mgr.seen)
    finally:
        d.cleanup()
        mgr.close()


# -------------------------------------------------------------- reloads

@test
def sighup_is_bracketed_by_reloading_and_ready():
    d, mgr = with_manager(KEEPER)
    try:
        ready(d, mgr)
        mgr.status("1 of 1 instance running", 20)
        with open(d.config_path, "a") as f:
            f.write(process("extra", "sleep", ["1000"]))
        m = reload_sighup(d, mgr)
        assert m.pid == d.pid, m
        assert m.kv["STATUS"].startswith("2 of 2 instances running; "
                                         "reloaded: 1 added, ") or \
            m.kv["STATUS"].startswith("1 of 2 instances running; "
                                      "reloaded: 1 added, "), m
        # A file with an error: READY=1 all the same, saying so.
        with open(d.config_path, "a") as f:
            f.write("[[processes]]\nname = 3\n")
        m = reload_sighup(d, mgr)
        assert "reload failed, nothing changed: " in m.kv["STATUS"], m
        assert d.config_path in m.kv["STATUS"], m
        assert d.request({"type": "ping"})["type"] == "pong"
    finally:
        d.cleanup()
        mgr.close()


@test
def reload_request_is_bracketed_and_a_dry_run_is_not():
    d, mgr = with_manager(KEEPER)
    try:
        ready(d, mgr)
        mgr.status("1 of 1 instance running", 20)
        r = d.request({"type": "reload_config", "dry_run": True})
        assert r["type"] == "ok" and r["message"].startswith("dry run: "), r
        t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        r = d.request({"type": "reload_config", "dry_run": False})
        assert r["type"] == "ok" and r["message"].startswith("reloaded: "), r
        m, before = reloaded(mgr, t0)
        # Nothing at all came of the dry run.
        assert before == [], before
        assert m.kv["STATUS"] == "1 of 1 instance running; reloaded: 0 " \
            "added, 0 removed, 0 changed, 0 scaled, 0 policy only, 1 " \
            "unchanged", m
    finally:
        d.cleanup()
        mgr.close()


# ------------------------------------------------------------- shutdown

@test
def sigterm_says_stopping_and_extends_the_stop_timeout():
    """EXTEND_TIMEOUT_USEC follows shutdown_timeout: past systemd's
    TimeoutStopSec (90 s) when shutdown_timeout is longer."""
    for timeout, secs in (("2s", 2), ("100s", 100)):
        d, mgr = with_manager(KEEPER, daemon={"shutdown_timeout": timeout})
        try:
            ready(d, mgr)
            os.kill(d.pid, signal.SIGTERM)
            m, _ = mgr.until(lambda m: "STOPPING" in m.kv, 20,
                             what="STOPPING=1")
            assert m.kv["STOPPING"] == "1", m
            assert int(m.kv["EXTEND_TIMEOUT_USEC"]) == \
                secs * 1000000 + STOP_EXTRA_USEC, m
            assert m.kv["STATUS"] == "shutting down (SIGTERM)", m
            assert m.pid == d.pid, m
            assert d.wait_exit(30) == 0
        finally:
            d.cleanup()
            mgr.close()


@test
def kill_request_says_stopping():
    d, mgr = with_manager(KEEPER)
    try:
        ready(d, mgr)
        r = d.request({"type": "shutdown"})
        assert r["type"] == "ok", r
        m, _ = mgr.until(lambda m: "STOPPING" in m.kv, 20,
                         what="STOPPING=1")
        assert int(m.kv["EXTEND_TIMEOUT_USEC"]) == \
            10 * 1000000 + STOP_EXTRA_USEC, m
        assert m.kv["STATUS"] == "shutting down (shutdown request)", m
        assert d.wait_exit(30) == 0
    finally:
        d.cleanup()
        mgr.close()


# ---------------------------------------------------- who may speak

def environ_of(pid):
    """pid's environment as a dict; None if we may not read it."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            data = f.read()
    except PermissionError:
        return None
    return dict(x.decode(errors="replace").split("=", 1)
                for x in data.split(b"\0") if b"=" in x)


@test
def agents_frontend_and_logger_never_see_notify_socket():
    """An agent that inherits the daemon's environment (inherit_env)
    gets the rest of it but not NOTIFY_SOCKET: it cannot tell the
    manager that the daemon is ready or stopping.  Nor can the frontend
    or the logger (their environment is the supervisor's)."""
    out = "{tmp}/agent.env"
    d, mgr = with_manager(
        process("agent", "sh", ["-c", "env > %s.tmp && mv %s.tmp %s && "
                                "exec sleep 1000" % (out, out, out)],
                inherit_env=True),
        env={"APM2_NOTIFY_MARK": "inherited"})
    try:
        d.start()
        path = out.replace("{tmp}", d.tmp)
        wait_until(lambda: os.path.exists(path), 20, what="the agent's env")
        with open(path) as f:
            env = f.read().splitlines()
        assert "APM2_NOTIFY_MARK=inherited" in env, env
        assert not any(x.startswith("NOTIFY_SOCKET=") for x in env), env
        checked = 0
        for pid in (d.frontend_pid(), d.logger_pid()):
            assert pid is not None
            e = environ_of(pid)
            if e is not None:
                assert "NOTIFY_SOCKET" not in e, (pid, e)
                checked += 1
        if IS_ROOT:
            assert checked == 2
        # The supervisor still sends, and it alone.
        assert mgr.next(20).kv.get("READY") == "1", mgr.seen
        reload_sighup(d, mgr)
        assert all(m.pid == d.pid for m in mgr.seen), mgr.seen
    finally:
        d.cleanup()
        mgr.close()


# ------------------------------------------------------------ addresses

@test
def abstract_address_works():
    d, mgr = with_manager(KEEPER, abstract=True)
    try:
        assert mgr.address.startswith("@")
        ready(d, mgr)
        reload_sighup(d, mgr)
    finally:
        d.cleanup()
        mgr.close()


@test
def unreachable_notify_socket_changes_nothing_else():
    """Nobody at the address: the daemon starts, answers, reloads and
    stops as ever, and says so once, at debug."""
    d = Daemon(KEEPER, extra_args=["-v"])
    d.env = {"NOTIFY_SOCKET": os.path.join(d.tmp, "nobody.sock")}
    try:
        d.start()
        os.kill(d.pid, signal.SIGHUP)
        wait_until(lambda: "reload (SIGHUP): " in d.stderr(), 20,
                   what="the reload")
        assert d.request({"type": "ping"})["type"] == "pong"
        os.kill(d.pid, signal.SIGTERM)
        assert d.wait_exit(30) == 0
        err = d.stderr()
        assert err.count("cannot notify the service manager at %s: "
                         % d.env["NOTIFY_SOCKET"]) == 1, err
    finally:
        d.cleanup()


@test
def manager_that_does_not_read_changes_nothing_else():
    """A full queue: sends fail at once (they never block); the daemon
    goes on, reloads, and stops in time; what was queued is in order."""
    with open("/proc/sys/net/unix/max_dgram_qlen") as f:
        qlen = int(f.read())
    if qlen > 200:
        raise Skip("net.unix.max_dgram_qlen is %d" % qlen)
    d, mgr = with_manager(KEEPER, extra_args=["-v"])
    try:
        d.start()
        for i in range(qlen // 2 + 2):  # two messages each: past qlen
            n = d.stderr().count("reload (SIGHUP): ")
            os.kill(d.pid, signal.SIGHUP)
            wait_until(lambda: d.stderr().count("reload (SIGHUP): ") > n,
                       20, what="reload %d" % i)
        assert d.request({"type": "ping"})["type"] == "pong"
        os.kill(d.pid, signal.SIGTERM)
        assert d.wait_exit(30) == 0
        assert "cannot notify the service manager at " in d.stderr()
        got = mgr.pending()
        assert got and got[0].kv.get("READY") == "1", got
        assert len(got) <= qlen + 1, got
    finally:
        d.cleanup()
        mgr.close()


@test
def unusable_address_is_reported():
    d = Daemon(KEEPER)
    d.env = {"NOTIFY_SOCKET": "relative/notify.sock"}
    try:
        d.start()
        assert "NOTIFY_SOCKET=relative/notify.sock: not a socket path " \
            "or @name that can be used" in d.stderr(), d.stderr()
    finally:
        d.cleanup()


if __name__ == "__main__":
    run()
