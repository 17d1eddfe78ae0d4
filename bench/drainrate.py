#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench/drainrate.py -- which reading rates the frontend's minimum drain
rate (64 KiB per 10 s, SECURITY.md) lets through.  One connection per rate
(KiB/s, arguments), each asking for 20 lists of 1,000 processes and reading
them at that rate for 40 s; says which were closed by the daemon.  Run as
root from the top of the tree after `make`."""
import os, sys, time, socket, select, threading
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "regress", "integration"))
from harness import Daemon, process, frame
LIST = frame({"type": "list_processes"})
def procs(n):
    return "".join(process("p%d" % i, "true", autostart=False) for i in range(n))
rates = [int(x) for x in sys.argv[1:]] or [8, 12, 16, 24, 32, 64]
with Daemon(procs(1000), daemon={"max_connections_per_user": 512}) as d:
    res = {}
    def one(rate):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.socket)
        s.sendall(LIST * 20)
        got = 0; t0 = time.monotonic(); step = 0.25
        chunk = int(rate * 1024 * step)
        closed = None
        while time.monotonic() - t0 < 40:
            time.sleep(step)
            want = chunk
            while want > 0:
                r, _, _ = select.select([s], [], [], 0)
                if not r: break
                b = s.recv(want)
                if not b:
                    closed = time.monotonic() - t0; break
                got += len(b); want -= len(b)
            if closed: break
        res[rate] = (closed, got, time.monotonic() - t0)
        s.close()
    ts = [threading.Thread(target=one, args=(r,)) for r in rates]
    for t in ts: t.start()
    for t in ts: t.join(60)
    for r in rates:
        c, g, el = res[r]
        print("read %3d KiB/s: %s; took %d KiB in %.1f s (%.1f KiB per 10 s)" % (r, "closed by the daemon at %.1f s" % c if c else "still open at 40 s", g // 1024, el, g / 1024 / el * 10))
