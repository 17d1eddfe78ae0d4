#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench/hostile.py -- the figures of issue 13, measured on the real daemon.

Run as root from the top of the tree, after `make` (it uses apm2d/apm2d and
regress/integration/harness.py); the hostile side runs as an ordinary user
(default apm2tu) in a forked child that drops to that user with setuid.
Only Unix sockets; every wait is bounded; only processes it started are
stopped, by pid.

  idle600   one user opens 600 idle connections (the default quota keeps
            64); root's ping meanwhile, N times on a new connection each
            and N times on one kept connection, against a baseline.
  hostile   496 connections of one user (all that a non-administrator may
            hold; max_connections_per_user = 512) for DURATION seconds:
            a quarter pipelines 20 list_processes (1,000 processes) and
            never reads, a quarter pipelines 20 and reads 4 KiB every
            0.5 s (above the minimum drain rate, so never cut), a quarter
            sends one request and never reads, a quarter sends the header
            of a 16 MiB frame and 1 MiB of it and stops.  Whatever the
            daemon closes is opened again at once, so the pressure lasts.
            Then root adds 16 hostile connections of its own (the
            reserved slots): 512 in all.  The frontend's VmRSS is sampled
            and its VmHWM (peak) read at the end; root's ping meanwhile.
  floods    FLOODS reply floods by one user: CONNS connections, each
            pipelining LISTS list_processes (1,000 processes) and a
            get_process of the user's own process, read in full (every
            other flood reads only after a 2 s pause).  The frontend's pid
            before and after each flood, and the "frontend lost" lines.

  python3 bench/hostile.py [--only idle600,hostile,floods] [--pings 50]
      [--duration 30] [--floods 10] [--conns 300] [--lists 2]
      [--user apm2tu] [--json FILE]
"""
import argparse
import json
import os
import pwd
import select
import signal
import socket
import struct
import sys
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "regress", "integration"))
from harness import (KEEPER, Daemon, frame, pid_alive,  # noqa: E402
                     process, wait_until)

LIST = frame({"type": "list_processes"})
PING = frame({"type": "ping"})


def many_procs(n, owner):
    """n processes that never start, and one of owner's that runs."""
    return (process("own", "sleep", ["100000"], user=owner) +
            "".join(process("p%d" % i, "true", autostart=False)
                    for i in range(n)))


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_exact(s, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = s.recv_into(view[got:], n - got)
        if k == 0:
            raise EOFError("closed after %d of %d bytes" % (got, n))
        got += k
    return bytes(buf)


def recv_frame(s):
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return json.loads(recv_exact(s, n))


def ping_new(path):
    """ms for connect + ping + pong on a new connection; None if refused
    or not answered within 5 s."""
    t0 = time.monotonic()
    try:
        s = connect(path, 5)
        try:
            s.sendall(PING)
            r = recv_frame(s)
        finally:
            s.close()
    except (OSError, EOFError, ValueError):
        return None
    if r.get("type") != "pong":
        return None
    return (time.monotonic() - t0) * 1000


def ping_kept(c):
    t0 = time.monotonic()
    c.sendall(PING)
    r = recv_frame(c)
    assert r["type"] == "pong", r
    return (time.monotonic() - t0) * 1000


def stats(ms):
    ok = sorted(x for x in ms if x is not None)
    out = {"n": len(ms), "answered": len(ok)}
    if ok:
        out.update(median=round(ok[len(ok) // 2], 3),
                   p90=round(ok[min(len(ok) - 1, len(ok) * 9 // 10)], 3),
                   max=round(ok[-1], 3), min=round(ok[0], 3))
    return out


def fmt(st):
    if not st.get("answered"):
        return "%d pings, none answered" % st["n"]
    return ("%d/%d answered: median %.2f ms, p90 %.2f ms, max %.2f ms"
            % (st["answered"], st["n"], st["median"], st["p90"], st["max"]))


def kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class AsUser:
    """fn(socket_path, report) in a forked child running as user; report
    what fn returns (JSON) through a pipe.  The child holds what fn opened
    until release(), and gives up by itself after hold seconds."""

    def __init__(self, user, fn, path, hold=600):
        pw = pwd.getpwnam(user)
        rd, wr = os.pipe()
        hold_rd, self.hold_wr = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            code = 0
            try:
                os.close(rd)
                os.close(self.hold_wr)
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
                out = fn(path, hold_rd)
                os.write(wr, json.dumps(out).encode() + b"\n")
                select.select([hold_rd], [], [], hold)
            except BaseException as e:  # noqa: BLE001
                os.write(wr, json.dumps({"error": repr(e)}).encode() +
                         b"\n")
                code = 1
            os._exit(code)
        os.close(wr)
        os.close(hold_rd)
        self.rd = rd

    def result(self, timeout):
        r, _, _ = select.select([self.rd], [], [], timeout)
        if not r:
            raise AssertionError("the user's child did not report in "
                                 "%d s" % timeout)
        data = b""
        while not data.endswith(b"\n"):
            b = os.read(self.rd, 1 << 16)
            if not b:
                break
            data += b
        out = json.loads(data)
        if "error" in out:
            raise AssertionError("the user's child: %s" % out["error"])
        return out

    def release(self):
        try:
            os.close(self.hold_wr)
        except OSError:
            pass
        for _ in range(200):
            if os.waitpid(self.pid, os.WNOHANG)[0] != 0:
                return
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def say(*a):
    print(*a, flush=True)


# ------------------------------------------------------------- idle600

def hog(n):
    """Open n idle connections; count those refused (a frame, then EOF)."""
    def fn(path, _hold):
        socks = [connect(path) for _ in range(n)]
        refused, msgs = 0, set()
        pending = list(socks)
        deadline = time.monotonic() + 5
        while pending and time.monotonic() < deadline:
            r, _, _ = select.select(pending, [], [], 0.5)
            if not r and refused > 0:
                break
            for s in r:
                try:
                    msgs.add(recv_frame(s).get("message", "?")[:80])
                except (EOFError, OSError, ValueError):
                    pass
                refused += 1
                pending.remove(s)
        fn.socks = socks        # held by the child until released
        return {"opened": n, "refused": refused, "held": n - refused,
                "messages": sorted(msgs)}
    return fn


def run_idle600(a, res):
    say("== idle600: root's ping while %s holds 600 idle connections"
        % a.user)
    with Daemon(KEEPER) as d:
        fe = d.frontend_pid()
        base = [ping_new(d.socket) for _ in range(a.pings)]
        with d.client() as c:
            base_kept = [ping_kept(c.sock) for _ in range(a.pings)]
        u = AsUser(a.user, hog(600), d.socket)
        try:
            h = u.result(60)
            new = []
            for _ in range(a.pings):
                new.append(ping_new(d.socket))
                time.sleep(0.02)
            with d.client() as c:
                kept = [ping_kept(c.sock) for _ in range(a.pings)]
        finally:
            u.release()
        lost = d.stderr().count("frontend lost")
        res["idle600"] = {
            "user": h, "baseline_new_conn": stats(base),
            "baseline_kept_conn": stats(base_kept),
            "ping_new_conn": stats(new), "ping_kept_conn": stats(kept),
            "frontend_same": d.frontend_pid() == fe,
            "frontend_lost_lines": lost}
    r = res["idle600"]
    say("  %s: %d opened, %d held, %d refused (%s)"
        % (a.user, h["opened"], h["held"], h["refused"],
           "; ".join(h["messages"])))
    say("  root ping, new connection each, no hog:   " +
        fmt(r["baseline_new_conn"]))
    say("  root ping, new connection each, 600 held: " +
        fmt(r["ping_new_conn"]))
    say("  root ping, kept connection, no hog:       " +
        fmt(r["baseline_kept_conn"]))
    say("  root ping, kept connection, 600 held:     " +
        fmt(r["ping_kept_conn"]))
    say("  frontend the same one: %s; 'frontend lost' lines: %d"
        % (r["frontend_same"], lost))


# ------------------------------------------------------------- hostile

PIPE, SLOW, MUTE, HALF = "pipeline", "slow_reader", "no_read", "half_frame"
HUP = select.POLLRDHUP | select.POLLHUP | select.POLLERR


def open_hostile(path, kind):
    """One hostile connection of its kind; None if the connect failed."""
    try:
        s = connect(path, 5)
    except OSError:
        return None
    s.setblocking(False)
    try:
        if kind in (PIPE, SLOW):
            s.send(LIST * 20)
        elif kind == MUTE:
            s.send(LIST)
        else:
            s.send(struct.pack(">I", 16 * 1024 * 1024))
            s.send(b"x" * (1 << 20))
    except (BlockingIOError, OSError):
        pass
    return s


def refused_frame(s):
    """True if what s holds is the supervisor's refusal of a connection
    (an error frame saying "Too many connections"), peeked at."""
    try:
        b = s.recv(300, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:
        return False
    return b"Too many connections" in b[:300]


def hostile(n_each, duration, kinds=(PIPE, SLOW, MUTE, HALF)):
    """n_each connections of each kind for duration seconds; what the
    daemon closes is opened again (after a refusal, 0.2 s later).  Slow
    readers take 4 KiB every 0.25 s (16 KiB/s, above the minimum drain
    rate of 64 KiB per 10 s, far below what they asked for).  Reports
    counts per kind."""
    def fn(path, _hold):
        conns = {}          # fd: (socket, kind)
        made = {k: 0 for k in kinds}
        closed = {k: 0 for k in kinds}
        refused = {k: 0 for k in kinds}
        failed = {k: 0 for k in kinds}
        read = {k: 0 for k in kinds}
        first_close = {}
        t_start = time.monotonic()
        p = select.poll()
        later = []          # (when, kind): to open again

        def add(kind):
            s = open_hostile(path, kind)
            if s is None:
                failed[kind] += 1
                later.append((time.monotonic() + 0.2, kind))
                return
            made[kind] += 1
            conns[s.fileno()] = (s, kind)
            p.register(s.fileno(), HUP)

        def gone(fd, s, k, now):
            p.unregister(fd)
            del conns[fd]
            if refused_frame(s):
                refused[k] += 1
                later.append((now + 0.2, k))
            else:
                closed[k] += 1
                first_close.setdefault(k, round(now - t_start, 2))
                later.append((now, k))
            s.close()

        for k in kinds:
            for _ in range(n_each):
                add(k)
        end = time.monotonic() + duration
        next_read = 0.0
        while time.monotonic() < end:
            for fd, ev in p.poll(100):
                if fd in conns and ev & HUP:
                    s, k = conns[fd]
                    gone(fd, s, k, time.monotonic())
            now = time.monotonic()
            if now >= next_read:
                next_read = now + 0.25
                for fd, (s, k) in list(conns.items()):
                    if k != SLOW:
                        continue
                    try:
                        b = s.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        b = b""
                    if b:
                        read[k] += len(b)
                    else:
                        gone(fd, s, k, now)
            due = [x for x in later if x[0] <= now]
            later[:] = [x for x in later if x[0] > now]
            for _, k in due:
                add(k)
        fn.conns = conns        # held until released
        return {"open_at_end": len(conns), "opened": made,
                "closed_by_daemon": closed, "refused": refused,
                "connect_failed": failed,
                "first_close_s": first_close,
                "slow_reader_bytes_read": read}
    return fn


class Sampler(threading.Thread):
    """The frontend's VmRSS every 0.1 s, and root's ping every 0.2 s."""

    def __init__(self, d, fe, ping=True):
        super().__init__(daemon=True)
        self.d, self.fe, self.ping = d, fe, ping
        self.stop_ev = threading.Event()
        self.rss_max = 0
        self.pings = []

    def run(self):
        next_ping = 0.0
        while not self.stop_ev.is_set():
            v = kib(self.fe, "VmRSS")
            if v is not None:
                self.rss_max = max(self.rss_max, v)
            now = time.monotonic()
            if self.ping and now >= next_ping:
                next_ping = now + 0.2
                self.pings.append(ping_new(self.d.socket))
            time.sleep(0.1)

    def stop(self):
        self.stop_ev.set()
        self.join(30)


def run_hostile(a, res):
    n = 124
    half = a.duration / 2
    say("== hostile: %d connections of %s (%d of each kind) for %d s; "
        "after %d s, 16 of root's too: 512" % (4 * n, a.user, n,
                                                a.duration, half))
    with Daemon(many_procs(1000, a.user),
                daemon={"max_connections_per_user": 512}) as d:
        fe = d.frontend_pid()
        idle = {"VmRSS": kib(fe, "VmRSS"), "VmHWM": kib(fe, "VmHWM")}
        smp = Sampler(d, fe)
        smp.start()
        u = AsUser(a.user, hostile(n, a.duration), d.socket)
        extra = []
        try:
            time.sleep(half)
            smp.stop()
            hwm496 = kib(fe, "VmHWM")
            # 16 more, root's (the reserved slots): pipelining and half
            # frames.  Root's own pings then find no slot.
            extra = [open_hostile(d.socket, PIPE if i % 2 else HALF)
                     for i in range(16)]
            smp2 = Sampler(d, fe, ping=False)
            smp2.start()
            h = u.result(a.duration + 120)
            probe = [ping_new(d.socket) for _ in range(5)]
            smp2.stop()
            hwm512 = kib(fe, "VmHWM")
        finally:
            smp3 = Sampler(d, fe, ping=False)
            smp3.start()
            for s in extra:
                if s is not None:
                    s.close()
            u.release()
        wait_until(lambda: ping_new(d.socket) is not None, 15,
                   what="ping after the attack")
        time.sleep(3)
        smp3.stop()
        hwm_end = kib(fe, "VmHWM")
        after = kib(fe, "VmRSS")
        lost = d.stderr().count("frontend lost")
        res["hostile"] = {
            "frontend_idle_kib": idle, "user": h,
            "peak_vmhwm_kib_496": hwm496, "sampled_vmrss_max_kib_496":
            smp.rss_max, "root_ping_during_496": stats(smp.pings),
            "root_extra_opened": sum(s is not None for s in extra),
            "peak_vmhwm_kib_512": hwm512,
            "sampled_vmrss_max_kib_512": smp2.rss_max,
            "root_ping_at_512": stats(probe),
            "peak_vmhwm_kib_end": hwm_end,
            "sampled_vmrss_max_kib_teardown": smp3.rss_max,
            "vmrss_after_kib": after,
            "frontend_same": d.frontend_pid() == fe,
            "frontend_lost_lines": lost}
    r = res["hostile"]
    say("  frontend idle: VmRSS %d KiB, VmHWM %d KiB"
        % (idle["VmRSS"], idle["VmHWM"]))
    say("  %s: opened %s" % (a.user, h["opened"]))
    say("  closed by the daemon (and opened again) %s, first at %s s"
        % (h["closed_by_daemon"], h["first_close_s"]))
    say("  refused (slot not free yet) %s; connect failed %s; %d open at "
        "the end; slow readers read %s bytes" %
        (h["refused"], h["connect_failed"], h["open_at_end"],
         h["slow_reader_bytes_read"].get(SLOW, 0)))
    say("  first %d s, 496 connections: frontend VmHWM %d KiB (%.1f MiB), "
        "sampled VmRSS max %d KiB" % (half, hwm496, hwm496 / 1024,
                                      smp.rss_max))
    say("  root ping meanwhile (new connection every 0.2 s): " +
        fmt(r["root_ping_during_496"]))
    say("  then 512 (root's 16 added, %d opened): VmHWM %d KiB (%.1f MiB), "
        "sampled VmRSS max %d KiB; root's ping at the end: %s"
        % (r["root_extra_opened"], hwm512, hwm512 / 1024, smp2.rss_max,
           fmt(r["root_ping_at_512"])))
    say("  teardown (all closed): VmHWM %d KiB (%.1f MiB), sampled VmRSS "
        "max %d KiB, VmRSS %s KiB 3 s later" % (hwm_end, hwm_end / 1024,
                                                smp3.rss_max, after))
    say("  frontend the same one: %s; 'frontend lost' lines: %d"
        % (r["frontend_same"], lost))


# -------------------------------------------------------------- floods

def flood(conns, lists, pause):
    """conns connections, each pipelining lists list_processes and one
    get_process of our own process; read every reply (after pause s)."""
    def fn(path, _hold):
        req = LIST * lists + frame({"type": "get_process", "name": "own"})
        want = lists + 1
        socks = []
        refused = 0
        for _ in range(conns):
            try:
                socks.append(connect(path, 10))
            except OSError:
                refused += 1
        t0 = time.monotonic()
        for s in socks:
            s.sendall(req)
        if pause:
            time.sleep(pause)
        bufs = {s: bytearray() for s in socks}
        got = {s: 0 for s in socks}
        types = {}
        closed = 0
        pending = list(socks)
        deadline = time.monotonic() + 300
        while pending and time.monotonic() < deadline:
            r, _, _ = select.select(pending, [], [], 1)
            for s in r:
                try:
                    b = s.recv(1 << 20)
                except OSError:
                    b = b""
                if not b:
                    closed += 1
                    pending.remove(s)
                    continue
                buf = bufs[s]
                buf += b
                while len(buf) >= 4:
                    (k,) = struct.unpack(">I", buf[:4])
                    if len(buf) < 4 + k:
                        break
                    t = json.loads(bytes(buf[4:4 + k]))["type"]
                    types[t] = types.get(t, 0) + 1
                    del buf[:4 + k]
                    got[s] += 1
                if got[s] >= want:
                    pending.remove(s)
        secs = time.monotonic() - t0
        for s in socks:
            s.close()
        return {"connections": len(socks), "refused": refused,
                "replies": sum(got.values()), "wanted": want * len(socks),
                "types": types, "closed_early": closed,
                "unfinished": len(pending), "seconds": round(secs, 2)}
    return fn


def run_floods(a, res):
    say("== floods: %d reply floods by %s, %d connections x (%d lists of "
        "1,000 + 1 get_process)" % (a.floods, a.user, a.conns, a.lists))
    out = []
    with Daemon(many_procs(1000, a.user),
                daemon={"max_connections_per_user": 512}) as d:
        first = d.frontend_pid()
        for i in range(a.floods):
            fe = wait_until(d.frontend_pid, 10, what="a frontend")
            lost0 = d.stderr().count("frontend lost")
            pings = []
            stop = threading.Event()

            def pinger():
                while not stop.is_set():
                    pings.append(ping_new(d.socket))
                    stop.wait(0.25)
            t = threading.Thread(target=pinger, daemon=True)
            t.start()
            u = AsUser(a.user, flood(a.conns, a.lists, 2 if i % 2 else 0),
                       d.socket)
            try:
                f = u.result(400)
            finally:
                u.release()
                stop.set()
                t.join(10)
            fe2 = wait_until(d.frontend_pid, 10, what="a frontend")
            f.update(frontend_before=fe, frontend_after=fe2,
                     killed=fe2 != fe or not pid_alive(fe),
                     frontend_lost_lines=d.stderr().count("frontend lost")
                     - lost0, root_ping=stats(pings))
            out.append(f)
            say("  flood %d: %d/%d replies in %.1f s (%d closed early, %d "
                "unfinished); frontend %d -> %d%s; root ping %s"
                % (i + 1, f["replies"], f["wanted"], f["seconds"],
                   f["closed_early"], f["unfinished"], fe, fe2,
                   " KILLED" if f["killed"] else "", fmt(f["root_ping"])))
        respawns = d.stderr().count("respawning the frontend")
        last = d.frontend_pid()
    kills = sum(1 for f in out if f["killed"])
    res["floods"] = {"floods": out, "floods_that_killed": kills,
                     "first_frontend": first, "last_frontend": last,
                     "respawn_lines": respawns}
    say("  floods that killed the frontend: %d of %d (frontend %d at the "
        "start, %d at the end; 'respawning the frontend' lines: %d)"
        % (kills, len(out), first, last, respawns))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="idle600,hostile,floods")
    ap.add_argument("--pings", type=int, default=50)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--floods", type=int, default=10)
    ap.add_argument("--conns", type=int, default=300)
    ap.add_argument("--lists", type=int, default=2)
    ap.add_argument("--user", default="apm2tu")
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("hostile.py: run as root (the attacker is --user)")
    pwd.getpwnam(a.user)
    res = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                    time.gmtime()),
           "loadavg_before": open("/proc/loadavg").read().split()[:3]}
    only = a.only.split(",")
    for name, fn in (("idle600", run_idle600), ("hostile", run_hostile),
                     ("floods", run_floods)):
        if name in only:
            fn(a, res)
    res["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
    say("load average before %s, after %s"
        % (" ".join(res["loadavg_before"]), " ".join(res["loadavg_after"])))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
