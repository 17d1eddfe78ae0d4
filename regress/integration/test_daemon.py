#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The daemon itself: start-up and its failures, pid file and socket
lifecycle, signals, the privilege-separated frontend, and hostile clients.
Every test runs the real apm2d."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APM2D, APM2CTL, IS_ROOT, SLEEPER, Client, Daemon,  # noqa: E402
                     Skip, ctl, ensure_user, frame, proc_status, run, test,
                     wait_until)

USER = "apm2t1"


def run_apm2d(args, timeout=40, user=None):
    kw = {}
    if user is not None:
        import pwd
        pw = pwd.getpwnam(user)
        kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    p = subprocess.run([APM2D] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout, **kw)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


# ------------------------------------------------------------ start-up

@test
def foreground_start_answers_ping_and_status():
    with Daemon(SLEEPER) as d:
        r = d.request({"type": "ping"})
        assert r["type"] == "pong" and r["version"] == "0.3.0", r
        assert list(r) == ["type", "version", "uptime_secs"], r
        assert isinstance(r["uptime_secs"], int) and r["uptime_secs"] >= 0
        s = d.request({"type": "status"})
        assert list(s) == ["type", "version", "pid", "uptime_secs",
                           "process_count", "running_instances"], s
        assert s["pid"] == d.pid, (s, d.pid)
        assert s["process_count"] == 1 and s["running_instances"] == 0, s


@test
def check_mode_reports_ok_and_errors():
    d = Daemon(SLEEPER)
    try:
        rc, out, err = run_apm2d(["-n", "-f", d.config_path])
        assert rc == 0 and out.strip() == "configuration OK", (rc, out, err)
        bad = os.path.join(d.tmp, "bad.toml")
        with open(bad, "w") as f:
            f.write('[[processes]]\nname = "x"\ncomand = "y"\n')
        rc, out, err = run_apm2d(["-n", "-f", bad])
        assert rc == 1, (rc, out, err)
        assert bad + ":3:1:" in err and "comand" in err, err
        rc, out, err = run_apm2d(["-n", "-f", os.path.join(d.tmp, "nope")])
        assert rc == 1 and "nope" in err, (rc, err)
    finally:
        d.cleanup()


# CTR-D014: the pid file is written after daemonizing, with the final pid.
@test
def daemon_mode_launcher_exits_zero_when_ready():
    d = Daemon(SLEEPER, foreground=False)
    try:
        d.start()
        # Ready means answering, at once.
        assert d.request({"type": "ping"})["type"] == "pong"
        with open(d.pid_file) as f:
            content = f.read()
        assert content == "%d\n" % d.pid, repr(content)
        st = proc_status(d.pid)
        # Double fork: not a session leader's child of ours, own session.
        assert int(st["PPid"]) != os.getpid()
        assert os.getsid(d.pid) != os.getsid(0)
        assert os.readlink("/proc/%d/cwd" % d.pid) == "/"
        fd0 = os.readlink("/proc/%d/fd/0" % d.pid)
        assert fd0 == "/dev/null", fd0
    finally:
        d.cleanup()
    assert not os.path.exists(d.pid_file)
    assert not os.path.exists(d.socket)


@test
def daemon_mode_relative_paths_resolved_before_chdir():
    d = Daemon(SLEEPER, foreground=False)
    try:
        p = subprocess.run([APM2D, "-f", "ecosystem.toml", "-s", "rel.sock",
                            "--pid-file", "rel.pid"], cwd=d.tmp,
                           capture_output=True, timeout=40)
        assert p.returncode == 0, p.stderr
        sock = os.path.join(d.tmp, "rel.sock")
        d.pid = int(open(os.path.join(d.tmp, "rel.pid")).read())
        with Client(sock) as c:
            assert c.call({"type": "ping"})["type"] == "pong"
    finally:
        d.cleanup()


@test
def daemon_mode_launcher_fails_with_reason():
    d = Daemon(SLEEPER)
    try:
        bad = os.path.join(d.tmp, "bad.toml")
        with open(bad, "w") as f:
            f.write("[[processes]]\nname = 1\n")
        rc, out, err = run_apm2d(["-f", bad])
        assert rc == 1 and "bad.toml:" in err, (rc, err)
        # Socket path that cannot be created.
        rc, out, err = run_apm2d(["-f", d.config_path, "-s",
                                  "/proc/nonexistent/x.sock"])
        assert rc == 1 and "x.sock" in err, (rc, err)
        assert not os.path.exists(d.pid_file)
    finally:
        d.cleanup()


@test
def second_daemon_refused_pid_file_and_socket():
    with Daemon(SLEEPER) as d:
        # Same pid file and socket.
        rc, out, err = run_apm2d(["-d", "-f", d.config_path])
        assert rc == 1 and "pid file" in err and "another" in err, err
        # Different pid file, same socket: the live socket is kept.
        rc, out, err = run_apm2d(["-d", "-f", d.config_path, "--pid-file",
                                  os.path.join(d.tmp, "other.pid")])
        assert rc == 1 and "in use" in err, err
        assert d.request({"type": "ping"})["type"] == "pong"
        assert open(d.pid_file).read() == "%d\n" % d.pid


# CTR-D005: a stale socket file is removed before binding.
@test
def stale_socket_removed():
    d = Daemon(SLEEPER)
    try:
        os.makedirs(os.path.dirname(d.socket), exist_ok=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(d.socket)
        s.close()       # a socket file nobody listens on
        assert os.path.exists(d.socket)
        d.start()
        assert d.request({"type": "ping"})["type"] == "pong"
    finally:
        d.cleanup()


@test
def non_socket_file_at_socket_path_refused():
    d = Daemon(SLEEPER)
    try:
        os.makedirs(os.path.dirname(d.socket), exist_ok=True)
        with open(d.socket, "w") as f:
            f.write("precious")
        rc, out, err = run_apm2d(["-d", "-f", d.config_path])
        assert rc == 1 and "not a socket" in err, err
        assert open(d.socket).read() == "precious"
    finally:
        d.cleanup()


# CTR-D006: the socket's parent directory is created.
@test
def socket_mode_and_directory():
    d = Daemon(SLEEPER, daemon={"socket_mode": "0660"})
    try:
        d.start()
        st = os.stat(d.socket)
        assert st.st_mode & 0o777 == 0o660, oct(st.st_mode)
        dst = os.stat(os.path.dirname(d.socket))
        assert dst.st_mode & 0o777 == 0o755, oct(dst.st_mode)
        if IS_ROOT:
            assert dst.st_uid == 0
    finally:
        d.cleanup()


# CTR-D007, CTR-D015, CTR-D017, CTR-D019: SIGTERM is a graceful
# shutdown that removes the socket and the pid file.
@test
def sigterm_removes_socket_and_pid_file():
    d = Daemon(SLEEPER)
    try:
        d.start()
        os.kill(d.pid, signal.SIGTERM)
        assert d.wait_exit(20) == 0
        assert not os.path.exists(d.socket)
        assert not os.path.exists(d.pid_file)
    finally:
        d.cleanup()


# CTR-D007, CTR-D017: so is SIGINT.
@test
def sigint_is_graceful_too():
    d = Daemon(SLEEPER)
    try:
        d.start()
        os.kill(d.pid, signal.SIGINT)
        assert d.wait_exit(20) == 0
        assert not os.path.exists(d.socket)
    finally:
        d.cleanup()


# CTR-D015, CTR-D019: a shutdown request cleans up the same way.
@test
def shutdown_request_answers_ok_then_exits():
    d = Daemon(SLEEPER)
    try:
        d.start()
        r = d.request({"type": "shutdown"})
        assert r == {"type": "ok", "message": "Daemon shutting down"}, r
        assert d.wait_exit(20) == 0
        assert not os.path.exists(d.socket)
        assert not os.path.exists(d.pid_file)
    finally:
        d.cleanup()


@test
def sighup_keeps_running_with_bad_config():
    with Daemon(SLEEPER) as d:
        with open(d.config_path, "a") as f:
            f.write("\nbogus = [\n")
        os.kill(d.pid, signal.SIGHUP)
        wait_until(lambda: "reload" in d.stderr(), 5, what="reload log")
        assert d.request({"type": "ping"})["type"] == "pong"


# INV-D002: uptime counts from a start time that never moves.
@test
def uptime_is_monotonic():
    with Daemon(SLEEPER) as d:
        a = d.request({"type": "status"})["uptime_secs"]
        time.sleep(1.1)
        b = d.request({"type": "status"})["uptime_secs"]
        assert b >= a + 1, (a, b)


# ------------------------------------------------------------ processes

@test
def process_titles():
    with Daemon(SLEEPER) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        sup = open("/proc/%d/cmdline" % d.pid, "rb").read()
        fcmd = open("/proc/%d/cmdline" % fe, "rb").read()
        assert sup.startswith(b"apm2d: supervisor"), sup
        assert fcmd.startswith(b"apm2d: frontend"), fcmd


@test
def frontend_unprivileged_in_chroot_as_root():
    if not IS_ROOT:
        raise Skip("needs root")
    import pwd
    with Daemon(SLEEPER) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        st = proc_status(fe)
        uid = pwd.getpwnam("_apm2d").pw_uid
        gid = pwd.getpwnam("_apm2d").pw_gid
        assert st["Uid"].split() == [str(uid)] * 4, st["Uid"]
        assert st["Gid"].split() == [str(gid)] * 4, st["Gid"]
        assert st["Groups"].split() in ([], [str(gid)]), st["Groups"]
        assert st["NoNewPrivs"] == "1", st["NoNewPrivs"]
        assert os.readlink("/proc/%d/root" % fe) == "/var/empty"
        # The supervisor keeps root.
        assert proc_status(d.pid)["Uid"].split()[0] == "0"


@test
def ordinary_user_daemon_runs_as_that_user():
    if not IS_ROOT:
        # We already are an ordinary user: just run.
        with Daemon(SLEEPER) as d:
            fe = wait_until(d.frontend_pid, 5, what="frontend")
            assert proc_status(fe)["Uid"].split()[0] == str(os.getuid())
        return
    pw = ensure_user(USER)
    with Daemon(SLEEPER, user=USER) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        assert proc_status(fe)["Uid"].split() == [str(pw.pw_uid)] * 4
        assert proc_status(d.pid)["Uid"].split()[0] == str(pw.pw_uid)
        assert proc_status(fe)["NoNewPrivs"] == "1"
        r = d.request({"type": "status"})
        assert r["type"] == "status"
        rc, out, err = ctl(d, "ping", user=USER)
        assert rc == 0 and out.startswith("pong"), (rc, out, err)


@test
def frontend_killed_is_respawned_quickly():
    with Daemon(SLEEPER) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        os.kill(fe, signal.SIGKILL)
        t0 = time.monotonic()

        def answers():
            nfe = d.frontend_pid()
            if nfe is None or nfe == fe:
                return False
            return d.request({"type": "ping"}, timeout=2)["type"] == "pong"
        wait_until(answers, 5, what="respawned frontend")
        assert time.monotonic() - t0 < 2.5, time.monotonic() - t0
        assert d.alive()
        assert d.request({"type": "status"})["pid"] == d.pid


@test
def client_connecting_while_frontend_down_is_served():
    with Daemon(SLEEPER) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        os.kill(fe, signal.SIGKILL)
        # The listening socket stays with the supervisor: no ECONNREFUSED.
        with Client(d.socket, timeout=10) as c:
            assert c.call({"type": "ping"})["type"] == "pong"


# ------------------------------------------------------------ clients

# INV-D008, CTR-D010: a parse error is answered (code and message),
# then the connection is closed.
@test
def malformed_requests_get_invalid_request_and_close():
    cases = [b"not json", b"{}", b'{"type":"Ping"}', b'{"type":"nope"}',
             b'{"type":"ping"} x', b'{"type":"ping","type":"ping"}',
             b'{"type":"start_process"}', b'{"type":"tail_logs","lines":-1,'
             b'"follow":false}', b'["ping"]', b'{"type":"ping\xff"}', b""]
    with Daemon(SLEEPER) as d:
        for raw in cases:
            with d.client() as c:
                c.send_raw(frame(raw))
                r = c.recv()
                assert r["type"] == "error" and \
                    r["code"] == "invalid_request", (raw, r)
                assert list(r) == ["type", "code", "message"]
                assert isinstance(r["message"], str) and r["message"]
                assert c.is_closed(), raw
        assert d.request({"type": "ping"})["type"] == "pong"


@test
def unknown_keys_ignored_and_key_order_free():
    with Daemon(SLEEPER) as d:
        assert d.request({"type": "ping", "extra": 1})["type"] == "pong"
        r = d.request({"name": "nope", "type": "get_process"})
        assert r["type"] == "error", r


# INV-D007, INV-D008: a frame over 16 MiB closes the connection.
@test
def oversized_frame_closed_without_reading_payload():
    with Daemon(SLEEPER) as d:
        with d.client() as c:
            c.send_raw(struct.pack(">I", 16 * 1024 * 1024 + 1))
            assert c.is_closed(5)
        with d.client() as c:
            c.send_raw(b"\xff\xff\xff\xff")
            assert c.is_closed(5)
        assert d.request({"type": "ping"})["type"] == "pong"


# CTR-D009: one reply for every request.
@test
def pipelined_requests_answered_in_order():
    with Daemon(SLEEPER) as d:
        with d.client() as c:
            reqs = [{"type": "ping"}, {"type": "status"}] * 50
            c.send_raw(b"".join(frame(r) for r in reqs))
            for r in reqs:
                got = c.recv()
                want = "pong" if r["type"] == "ping" else "status"
                assert got["type"] == want, (r, got)


@test
def split_frames_one_byte_at_a_time():
    with Daemon(SLEEPER) as d:
        with d.client() as c:
            data = frame({"type": "ping"}) + frame({"type": "status"})
            for b in data:
                c.send_raw(bytes([b]))
                time.sleep(0.002)
            assert c.recv()["type"] == "pong"
            assert c.recv()["type"] == "status"


# CTR-D008: each connection is served on its own.
@test
def slow_drip_client_cut_off_others_unaffected():
    with Daemon(SLEEPER) as d:
        slow = d.client(timeout=30)
        slow.send_raw(struct.pack(">I", 100) + b"{")
        t0 = time.monotonic()
        # Others are served meanwhile.
        for _ in range(20):
            assert d.request({"type": "ping"})["type"] == "pong"

        def drip():
            try:
                slow.send_raw(b" ")
            except OSError:
                return True
            return slow.is_closed(0.5)
        wait_until(drip, 20, interval=0.5, what="slow client cut off")
        assert time.monotonic() - t0 < 20
        slow.close()


# CTR-D008: each connection is served on its own.
@test
def client_that_never_reads_does_not_stall_others():
    with Daemon(SLEEPER) as d:
        hog = d.client()
        hog.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # Many requests, never read a reply.
        try:
            hog.sock.settimeout(2)
            for _ in range(20000):
                hog.send({"type": "status"})
        except (socket.timeout, OSError):
            pass
        t0 = time.monotonic()
        for _ in range(20):
            assert d.request({"type": "ping"})["type"] == "pong"
        assert time.monotonic() - t0 < 5
        hog.close()
        assert d.request({"type": "status"})["type"] == "status"


# CTR-D008: each connection is served on its own.
@test
def two_hundred_concurrent_clients():
    with Daemon(SLEEPER) as d:
        clients = [d.client(timeout=20) for _ in range(200)]
        for c in clients:
            c.send({"type": "status"})
        for c in clients:
            r = c.recv()
            assert r["type"] == "status", r
        errors = []

        def worker(c):
            try:
                for _ in range(10):
                    assert c.call({"type": "ping"})["type"] == "pong"
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        ts = [threading.Thread(target=worker, args=(c,)) for c in clients]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        for c in clients:
            c.close()
        assert not errors, errors[:3]


@test
def connection_limit_refuses_extra_but_keeps_serving():
    with Daemon(SLEEPER) as d:
        clients = []
        try:
            for _ in range(600):
                clients.append(d.client(timeout=10))
            # The first 512 are served; the rest are told why and
            # closed at once.
            closed = 0
            for c in clients[512:]:
                r = c.recv()
                assert r["type"] == "error", r
                assert r["code"] == "permission_denied", r
                assert "Too many connections" in r["message"], r
                if c.is_closed(5):
                    closed += 1
            assert closed == len(clients) - 512, closed
            assert clients[0].call({"type": "ping"})["type"] == "pong"
        finally:
            for c in clients:
                c.close()
        # Slots free up as the frontend notices the closes.
        wait_until(lambda: d.request({"type": "ping"}, timeout=2)["type"]
                   == "pong", 10, what="ping after the burst")


# CTR-D010: an error has a code and a message.
@test
def credential_requests_not_supported():
    with Daemon(SLEEPER) as d:
        r = d.request({"type": "list_credentials"})
        assert r == {"type": "error", "code": "not_supported",
                     "message": "Not implemented yet"}, r


# ------------------------------------------------------------ apm2ctl

@test
def apm2ctl_ping_info_kill():
    d = Daemon(SLEEPER)
    try:
        d.start()
        rc, out, err = ctl(d, "ping")
        assert rc == 0 and out.startswith("pong"), (rc, out, err)
        rc, out, err = ctl(d, "-j", "info")
        assert rc == 0, (rc, err)
        j = json.loads(out)
        assert j["type"] == "status" and j["pid"] == d.pid, j
        rc, out, err = ctl(d, "info")
        assert rc == 0 and "PID:" in out and str(d.pid) in out, out
        rc, out, err = ctl(d, "kill")
        assert rc == 0 and "Daemon shutting down" in out, (rc, out, err)
        assert d.wait_exit(20) == 0
        rc, out, err = ctl(d, "ping")
        assert rc == 1 and "is the daemon running" in err, (rc, err)
        rc, out, err = ctl(d, "kill")
        assert rc == 1 and "not be running" in err, (rc, err)
    finally:
        d.cleanup()


@test
def apm2ctl_usage_and_socket_from_config():
    d = Daemon(SLEEPER)
    try:
        d.start()
        p = subprocess.run([APM2CTL], capture_output=True, timeout=10)
        assert p.returncode == 2 and b"usage" in p.stderr
        p = subprocess.run([APM2CTL, "frobnicate"], capture_output=True,
                           timeout=10)
        assert p.returncode == 2
        p = subprocess.run([APM2CTL, "-f", d.config_path, "ping"],
                           capture_output=True, timeout=10)
        assert p.returncode == 0 and p.stdout.startswith(b"pong"), p
        # Options after the command work too.
        p = subprocess.run([APM2CTL, "ping", "-s", d.socket],
                           capture_output=True, timeout=10)
        assert p.returncode == 0, p
    finally:
        d.cleanup()


run()
