#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""reloadbench.py -- issue 18's figure: a reload of a configuration of
N processes (default 1,000 `sleep`s) in which one process changed.

    python3 bench/reloadbench.py [N] [RUNS]

For each run: the supervisor's CPU time for the reload (from
/proc/PID/schedstat, nanoseconds on a CPU, read before the SIGHUP and
once the changed process runs again with its new pid), the wall time
until then, and how many of the N processes got a new pid (must be 1).
Prints one JSON object: the per-run figures and their medians.  Starts
and stops only the daemon it started, by pid."""
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APM2D = os.environ.get("APM2D", os.path.join(TOP, "apm2d", "apm2d"))


def request(path, obj, timeout=30):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    try:
        b = json.dumps(obj).encode()
        s.sendall(struct.pack(">I", len(b)) + b)
        n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
        buf = bytearray()
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise EOFError("closed")
            buf += chunk
        return json.loads(buf)
    finally:
        s.close()


def conf(d, n, changed):
    s = ['[daemon]', 'pid_file = "%s/apm2.pid"' % d,
         'socket = "%s/apm2.sock"' % d, 'log_dir = "%s/log"' % d,
         'state_file = "%s/state.json"' % d, '']
    for i in range(n):
        arg = 100000 + (changed if i == n // 2 else 0)
        s += ['[[processes]]', 'name = "p%04d"' % i,
              'command = "/bin/sleep"', 'args = ["%d"]' % arg, '']
    return "\n".join(s)


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def pids(sock):
    r = request(sock, {"type": "list_processes"})
    out = {}
    for p in r["processes"]:
        g = request(sock, {"type": "get_process", "name": p["name"]})
        out[p["name"]] = tuple(i["pid"] for i in
                               g["process"]["instance_details"])
    return out


def wait(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.01)
    raise RuntimeError("timed out waiting for " + what)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    d = tempfile.mkdtemp(prefix="apm2-reloadbench-")
    sock = os.path.join(d, "apm2.sock")
    cf = os.path.join(d, "apm2.toml")
    with open(cf, "w") as f:
        f.write(conf(d, n, 0))
    err = open(os.path.join(d, "stderr"), "w")
    p = subprocess.Popen([APM2D, "-d", "-f", cf], stdout=err, stderr=err,
                         stdin=subprocess.DEVNULL)
    res = []
    try:
        def up():
            try:
                return request(sock, {"type": "status"},
                               5)["running_instances"] == n
            except (OSError, ValueError, KeyError):
                return False
        wait(up, 300, "all running")
        victim = "p%04d" % (n // 2)
        for r in range(1, runs + 1):
            before = pids(sock)
            with open(cf, "w") as f:
                f.write(conf(d, n, r))
            c0 = cpu_ns(p.pid)
            t0 = time.monotonic()
            os.kill(p.pid, signal.SIGHUP)

            def replaced():
                g = request(sock, {"type": "get_process", "name": victim})
                i = g["process"]["instance_details"][0]
                return (i["state"] == "Running" and
                        (i["pid"],) != before[victim])
            wait(replaced, 60, "the changed process to run again")
            wall = time.monotonic() - t0
            cpu = cpu_ns(p.pid) - c0
            after = pids(sock)
            touched = sorted(k for k in before if before[k] != after.get(k))
            res.append({"cpu_ms": cpu / 1e6, "wall_ms": wall * 1e3,
                        "touched": touched})
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
        err.close()
        shutil.rmtree(d, ignore_errors=True)
    print(json.dumps({
        "n": n, "runs": res,
        "cpu_ms_median": statistics.median(x["cpu_ms"] for x in res),
        "wall_ms_median": statistics.median(x["wall_ms"] for x in res),
        "touched_max": max(len(x["touched"]) for x in res)}, indent=1))


if __name__ == "__main__":
    main()
