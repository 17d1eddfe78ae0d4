#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench/quickrt.py -- make bench's ping and list-of-100 round trips alone.

The same measurement as bench.py's "trivial request round trip" and "list
of 100 round trip": bench/apm2c on one kept connection, client and every
thread of the daemon's own processes pinned to one CPU, 100 processes
running (sleep).  Several apm2d builds may be given; their runs alternate,
so that a machine that gets busier hurts them alike.

  python3 bench/quickrt.py [--cpu N] [--rounds 3] [--ping 10000]
      [--list 500] [--warmup 200] [NAME=PATH/TO/apm2d ...]

Without builds it measures apm2d/apm2d of this tree.  Prints one line per
run and the median of each build's run medians.  Kills only the daemons
it started (by pid, SIGTERM then SIGKILL)."""
import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
CFLAGS = ["-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra"]
SLEEP = shutil.which("sleep") or "/bin/sleep"


def children(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def pin_daemon(root, cpus):
    """root and its apm2d children (not the sleeps), every thread."""
    procs = [root] + [c for c in children(root) if comm(c) != "sleep"]
    for p in procs:
        try:
            tids = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tids:
            try:
                os.sched_setaffinity(int(t), cpus)
            except OSError:
                pass
    return procs


def request(sock, obj):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(sock)
        b = json.dumps(obj).encode()
        s.sendall(struct.pack(">I", len(b)) + b)
        n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
        return json.loads(s.recv(n, socket.MSG_WAITALL))
    finally:
        s.close()


class Run:
    def __init__(self, apm2d, tmp):
        self.dir = tempfile.mkdtemp(prefix="quickrt-", dir=tmp)
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "apm2.sock")
        conf = os.path.join(self.dir, "apm2.toml")
        s = ['[daemon]', 'pid_file = "%s/apm2.pid"' % self.dir,
             'socket = "%s"' % self.sock, 'log_dir = "%s/log"' % self.dir,
             'shutdown_timeout = "10s"', '']
        for i in range(100):
            s += ['[[processes]]', 'name = "b%03d"' % i,
                  'command = "%s"' % SLEEP, 'args = ["100000"]', '']
        with open(conf, "w") as f:
            f.write("\n".join(s))
        self.log = open(os.path.join(self.dir, "apm2d.log"), "wb")
        self.proc = subprocess.Popen([apm2d, "-d", "-f", conf],
                                     stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        end = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("apm2d exited: see %s" % self.dir)
            try:
                r = request(self.sock, {"type": "list_processes"})
                if sum(p.get("running", 0) for p in r["processes"]) == 100:
                    break
            except (OSError, KeyError, ValueError, struct.error):
                pass
            if time.monotonic() > end:
                raise RuntimeError("apm2d not ready: see %s" % self.dir)
            time.sleep(0.05)

    def rt(self, apm2c, what, n, warmup, cpu):
        req = {"ping": ('{"type":"ping"}', '"type":"pong"'),
               "list": ('{"type":"list_processes"}',
                        '"type":"process_list"')}[what]
        pin_daemon(self.proc.pid, {cpu})
        try:
            r = subprocess.run([apm2c, "rt", self.sock, req[0], req[1],
                                str(n), str(warmup)], capture_output=True,
                               text=True, timeout=600,
                               preexec_fn=lambda: os.sched_setaffinity(
                                   0, {cpu}))
        finally:
            pin_daemon(self.proc.pid, os.sched_getaffinity(0))
        if r.returncode != 0:
            raise RuntimeError("apm2c: %s" % r.stderr.strip()[-300:])
        return json.loads(r.stdout.strip().splitlines()[-1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", type=int,
                    default=max(os.sched_getaffinity(0)))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ping", type=int, default=10000)
    ap.add_argument("--list", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("builds", nargs="*")
    a = ap.parse_args()
    builds = []
    for b in a.builds or ["now=" + os.path.join(TOP, "apm2d", "apm2d")]:
        name, _, path = b.partition("=")
        builds.append((name, os.path.abspath(path)))
    tmp = tempfile.mkdtemp(prefix="quickrt-")
    os.chmod(tmp, 0o755)
    apm2c = os.path.join(tmp, "apm2c")
    subprocess.run(["cc"] + CFLAGS + ["-o", apm2c,
                                      os.path.join(HERE, "apm2c.c"),
                                      os.path.join(HERE, "proc.c")],
                   check=True, timeout=120)
    res = {name: {"ping": [], "list": [], "ping_p99": [], "list_p99": []}
           for name, _ in builds}
    try:
        for rnd in range(a.rounds):
            order = builds if rnd % 2 == 0 else builds[::-1]
            for name, path in order:
                r = Run(path, tmp)
                try:
                    p = r.rt(apm2c, "ping", a.ping, a.warmup, a.cpu)
                    ls = r.rt(apm2c, "list", a.list, a.warmup // 4, a.cpu)
                finally:
                    r.stop()
                for k, v in (("ping", p), ("list", ls)):
                    res[name][k].append(v["median"])
                    res[name][k + "_p99"].append(v["p99"])
                print("round %d %-8s ping median %7.2f us p99 %7.2f | "
                      "list of 100 median %7.2f us p99 %7.2f | load %s"
                      % (rnd + 1, name, p["median"], p["p99"],
                         ls["median"], ls["p99"],
                         open("/proc/loadavg").read().split()[0]),
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, _ in builds:
        r = res[name]
        print("%-8s ping median of medians %.2f us [%.2f-%.2f], list of "
              "100 %.2f us [%.2f-%.2f]"
              % (name, median(r["ping"]), min(r["ping"]), max(r["ping"]),
                 median(r["list"]), min(r["list"]), max(r["list"])))
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
