#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Scale (issue 17), what can be checked without timing: many programs
listed by many clients at once, none refused and the frontend never
killed for it.  The figures (thousands of instances, start, stop,
restart) are measured in bench/, not asserted here.

Every wait is bounded; only the daemon the test starts is signalled."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client, Daemon, process, run, test  # noqa: E402
from harness import wait_until  # noqa: E402

PROGRAMS = 2000
CLIENTS = 32


# 2,000 programs, 32 clients listing them at once: every reply whole.
# The supervisor holds requests back while the channel to the frontend
# is full, so no reply overflows it.
@test
def concurrent_lists_of_many_programs_are_all_answered():
    conf = "".join(process("p%04d" % i, "sleep", ["1000"], autostart=False)
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
            assert names == ["p%04d" % i for i in range(PROGRAMS)], k
        assert d.frontend_pid() == fe, "the frontend was replaced"
        assert "frontend lost" not in d.stderr(), d.stderr()
        assert "respawning the frontend" not in d.stderr(), d.stderr()
    finally:
        d.cleanup()


if __name__ == "__main__":
    run()
