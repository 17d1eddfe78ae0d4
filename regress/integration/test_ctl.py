#!/usr/bin/env python3
"""apm2ctl against a real daemon: the upstream table and detail formats,
the action messages, "all", errors and -j."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, ctl, run, test, wait_until  # noqa: E402

CONFIG = """
[[processes]]
name = "web"
command = "sleep"
args = ["1000"]
cwd = "/tmp"
instances = 2
autostart = false

[[processes]]
name = "batch"
command = "sh"
args = ["-c", "exec sleep 1000"]
autostart = false
"""

HEADER = ("NAME                  RUNNING    TOTAL STATUS            CPU"
          "        MEM     UPTIME")


def running(d, name):
    r = d.request({"type": "get_process", "name": name})
    return all(i["state"] == "Running"
               for i in r["process"]["instance_details"])


@test
def list_table_format():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "list")
        assert rc == 0, (rc, err)
        lines = out.splitlines()
        assert lines[0] == HEADER, repr(lines[0])
        assert lines[1] == "-" * 78
        want = "%-20s %8d %8d %-12s %7.1f%% %10s %10s" % (
            "web", 0, 2, "stopped", 0.0, "0B", "0s")
        assert lines[2] == want, (lines[2], want)
        assert lines[3].startswith("batch "), lines[3]
        assert len(lines) == 4
        rc, out, err = ctl(d, "ls")
        assert rc == 0 and out.splitlines()[0] == HEADER


@test
def empty_list_says_so():
    with Daemon("") as d:
        rc, out, err = ctl(d, "list")
        assert rc == 0 and out == "No processes configured\n", (rc, out)


@test
def start_stop_restart_reload_messages():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "start", "web")
        assert rc == 0, err
        assert out == "Started 'web': Process 'web' started\n", out
        wait_until(lambda: running(d, "web"), 10, what="web running")
        rc, out, err = ctl(d, "list")
        row = out.splitlines()[2]
        assert re.match(r"^web +2 +2 running ", row), row
        rc, out, err = ctl(d, "restart", "web")
        assert rc == 0 and out.startswith("Restarted 'web': "), (out, err)
        wait_until(lambda: running(d, "web"), 10, what="web running")
        rc, out, err = ctl(d, "reload", "web")
        assert rc == 0 and out.startswith("Reloading 'web': "), (out, err)
        rc, out, err = ctl(d, "stop", "web")
        assert rc == 0, err
        assert out == "Stopped 'web': Stopped 2 instance(s) of 'web'\n", out


@test
def errors_name_the_code():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "start", "nope")
        assert rc == 1 and out == "", (rc, out)
        assert err == ("Error: Failed to start 'nope': Process 'nope' not "
                       "found (ProcessNotFound)\n"), err
        rc, out, err = ctl(d, "stop", "web")
        assert rc == 1
        assert err == ("Error: Failed to stop 'web': Process 'web' is not "
                       "running (ProcessNotRunning)\n"), err
        rc, out, err = ctl(d, "status", "nope")
        assert rc == 1 and "(ProcessNotFound)" in err, err


@test
def status_detail_format():
    with Daemon(CONFIG) as d:
        ctl(d, "start", "web")
        wait_until(lambda: running(d, "web"), 10, what="web running")
        r = d.request({"type": "get_process", "name": "web"})
        rc, out, err = ctl(d, "status", "web")
        assert rc == 0, err
        lines = out.splitlines()
        assert lines[0] == "Name:        web"
        assert lines[1] == "ID:          " + r["process"]["id"]
        assert lines[2] == "Command:     sleep 1000"
        assert lines[3] == "Working Dir: /tmp"
        assert lines[4] == "Instances:   2"
        assert lines[5] == ""
        assert lines[6] == "Instance Details:"
        for i, inst in enumerate(r["process"]["instance_details"]):
            want = "  [%d] PID: %6d  State: running     " % (i, inst["pid"])
            assert lines[7 + i].startswith(want), (lines[7 + i], want)
            assert lines[7 + i].endswith("Restarts: 0"), lines[7 + i]


@test
def all_acts_on_every_process_and_reports_each():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "start", "all")
        assert rc == 0, err
        assert out == ("Started 'web': Process 'web' started\n"
                       "Started 'batch': Process 'batch' started\n"), out
        wait_until(lambda: running(d, "web") and running(d, "batch"), 10,
                   what="all running")
        # One already running: reported, and the exit status says so.
        rc, out, err = ctl(d, "stop", "batch")
        assert rc == 0
        rc, out, err = ctl(d, "stop", "all")
        assert rc == 1, (rc, out, err)
        assert "Stopped 'web': Stopped 2 instance(s) of 'web'" in out, out
        assert "Failed to stop 'batch'" in err, err


@test
def json_output_is_one_line_per_reply():
    with Daemon(CONFIG) as d:
        rc, out, err = ctl(d, "-j", "list")
        assert rc == 0, err
        assert out.count("\n") == 1
        j = json.loads(out)
        assert j["type"] == "process_list"
        assert [p["name"] for p in j["processes"]] == ["web", "batch"]
        rc, out, err = ctl(d, "-j", "start", "nope")
        assert rc == 1 and json.loads(out)["code"] == "process_not_found"


run()
