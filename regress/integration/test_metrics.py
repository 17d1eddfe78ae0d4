#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Metrics (issue 19): get_metrics and apm2ctl metrics print the
Prometheus text exposition format, checked with a parser of the format
(prometheus_client's, from Debian's python3-prometheus-client), not with
string comparison alone; names follow Prometheus's conventions; the
figures agree with what list_processes says; an ordinary user sees the
figures of their own processes only; [daemon] metrics_file is written
whole (a rename, no temporary left behind), again every
metrics_interval, and never into a directory another user controls.

Every wait is bounded; only the daemon the test starts is signalled."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import APM2D, Daemon, IS_ROOT, Skip, TEST_USERS, ctl  # noqa: E402
from harness import ensure_user, process, run, test, wait_until  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's package is for Debian's python3; the suite may run another.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import \
            text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None

NAME = re.compile(r"^apm2_[a-z_]+$")
UNITS = ("_seconds", "_bytes", "_total", "_info")


def parse(text):
    if text_string_to_metric_families is None:
        raise Skip("python3-prometheus-client is not installed "
                   "(mk/deps.sh installs it)")
    fams = {}
    for f in text_string_to_metric_families(text):
        fams[f.name] = f
    return fams


def samples(fams, family, sample=None, **labels):
    out = []
    for s in fams[family].samples:
        if sample is not None and s.name != sample:
            continue
        if all(s.labels.get(k) == v for k, v in labels.items()):
            out.append(s)
    return out


def value(fams, family, sample=None, **labels):
    s = samples(fams, family, sample, **labels)
    assert len(s) == 1, (family, labels, s)
    return s[0].value


def metrics(d):
    r = d.request({"type": "get_metrics"})
    assert r["type"] == "metrics" and set(r) == {"type", "text"}, r
    return r["text"]


FAST = {"max_restarts": 1000, "min_uptime": "0s",
        "backoff": {"type": "fixed", "delay": "0s"}}


@test
def metrics_parse_and_agree_with_the_list():
    conf = (process("web", "sh", ["-c", "echo hello; exec sleep 1000"],
                    instances=2) +
            process("crash", "/bin/sh", ["-c", "exit 3"],
                    restart={"max_restarts": 2, "min_uptime": "0s",
                             "backoff": {"type": "fixed",
                                         "delay": "0s"}}) +
            process("idle", "sleep", ["1000"], autostart=False))
    with Daemon(conf) as d:
        def settled():
            r = d.request({"type": "list_processes"})
            c = [p for p in r["processes"] if p["name"] == "crash"][0]
            return c["restart_count"] == 2 and "Crashed" in c["status"]
        wait_until(settled, 20, what="crash to give up")
        fams = parse(metrics(d))
        for name, f in fams.items():
            assert NAME.match(name), name
            if f.type == "counter":
                # The parser strips _total from a counter's family name.
                assert all(s.name == name + "_total" for s in f.samples), f
        for fam, typ in (("apm2_process_restarts", "counter"),
                         ("apm2_process_cpu_seconds", "counter"),
                         ("apm2_process_memory_bytes", "gauge"),
                         ("apm2_process_uptime_seconds", "gauge"),
                         ("apm2_process_state", "gauge"),
                         ("apm2_process_up", "gauge"),
                         ("apm2_process_last_exit_code", "gauge"),
                         ("apm2_daemon_requests", "counter"),
                         ("apm2_daemon_connections", "gauge"),
                         ("apm2_daemon_frontend_respawns", "counter"),
                         ("apm2_daemon_logger_respawns", "counter"),
                         ("apm2_daemon_log_bytes_written", "counter"),
                         ("apm2_daemon_log_bytes_dropped", "counter"),
                         ("apm2_daemon_uptime_seconds", "gauge")):
            assert fams[fam].type == typ, (fam, fams[fam].type)
        assert value(fams, "apm2_process_restarts", process="crash",
                     instance="0") == 2
        assert value(fams, "apm2_process_last_exit_code", process="crash",
                     instance="0") == 3
        assert value(fams, "apm2_process_state", process="crash",
                     instance="0", state="crashed") == 1
        assert value(fams, "apm2_process_state", process="idle",
                     instance="0", state="stopped") == 1
        for i in ("0", "1"):
            assert value(fams, "apm2_process_up", process="web",
                         instance=i) == 1
            assert value(fams, "apm2_process_memory_bytes", process="web",
                         instance=i) > 0
        # Not running: no uptime, no cpu, rather than a 0.
        assert samples(fams, "apm2_process_uptime_seconds",
                       process="idle") == []
        assert value(fams, "apm2_process_instances", process="web") == 2
        assert value(fams, "apm2_daemon_instances_running") == 2
        assert value(fams, "apm2_daemon_processes") == 3
        assert value(fams, "apm2_daemon_requests", type="list_processes") \
            >= 1
        # The logger's counters come with its heartbeat.
        wait_until(lambda: value(parse(metrics(d)),
                                 "apm2_daemon_log_bytes_written") >= 12,
                   15, what="log bytes counted")
        # apm2ctl prints the same text; -j the reply.
        rc, out, err = ctl(d, "metrics")
        assert rc == 0, err
        assert "apm2_process_restarts_total" in out
        parse(out)
        rc, out, err = ctl(d, "-j", "metrics")
        assert rc == 0 and out.startswith('{"type":"metrics","text":"# HELP')
        # Unknown fields are refused, as for reload_config.
        r = d.request({"type": "get_metrics", "x": 1})
        assert r["type"] == "error" and r["code"] == "invalid_request", r


@test
def many_instances_come_in_parts_and_parse_whole():
    conf = process("many", "sleep", ["1000"], instances=300)
    with Daemon(conf) as d:
        wait_until(lambda: d.request({"type": "status"})
                   ["running_instances"] == 300, 60, what="300 running")
        text = metrics(d)
        assert len(text) > 64 * 1024, len(text)
        fams = parse(text)
        idx = {s.labels["instance"] for s in
               fams["apm2_process_up"].samples}
        assert idx == {str(i) for i in range(300)}


@test
def a_user_sees_only_the_figures_of_their_own_processes():
    if not IS_ROOT:
        raise Skip("needs root to run processes as test users")
    mine, theirs = TEST_USERS[0], TEST_USERS[1]
    ensure_user(mine)
    ensure_user(theirs)
    conf = (process("mine", "sleep", ["1000"], user=mine) +
            process("theirs", "sleep", ["1000"], user=theirs))
    with Daemon(conf) as d:
        wait_until(lambda: d.request({"type": "status"})
                   ["running_instances"] == 2, 20)
        rc, out, err = ctl(d, "metrics", user=mine)
        assert rc == 0, err
        fams = parse(out)
        procs = {s.labels.get("process") for f in fams.values()
                 for s in f.samples if "process" in s.labels}
        assert procs == {"mine"}, procs
        assert value(fams, "apm2_daemon_processes") == 2
        fams = parse(metrics(d))
        procs = {s.labels.get("process") for f in fams.values()
                 for s in f.samples if "process" in s.labels}
        assert procs == {"mine", "theirs"}, procs


@test
def metrics_file_is_replaced_whole_every_interval():
    d = Daemon(process("a", "sleep", ["1000"]),
               daemon={"metrics_interval": "1s"})
    path = os.path.join(d.tmp, "prom", "apm2d.prom")
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace("[daemon]\n", "[daemon]\nmetrics_file = %s\n"
                             % ('"%s"' % path), 1))
    with d:
        wait_until(lambda: os.path.exists(path), 10, what="metrics file")
        st = os.stat(path)
        assert st.st_mode & 0o777 == 0o644, oct(st.st_mode)
        first = st.st_ino
        up0 = value(parse(open(path).read()), "apm2_daemon_uptime_seconds")
        wait_until(lambda: os.stat(path).st_ino != first, 10,
                   what="the file replaced")
        fams = parse(open(path).read())
        assert value(fams, "apm2_process_up", process="a",
                     instance="0") == 1
        assert value(fams, "apm2_daemon_uptime_seconds") >= up0
        # Written beside, then renamed: nothing else in the directory.
        assert os.listdir(os.path.dirname(path)) == ["apm2d.prom"]


@test
def metrics_file_refuses_a_directory_others_can_write():
    d = Daemon(process("a", "sleep", ["1000"]),
               daemon={"metrics_interval": "1s"})
    bad = os.path.join(d.tmp, "open")
    os.mkdir(bad)
    os.chmod(bad, 0o777)
    path = os.path.join(bad, "apm2d.prom")
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace("[daemon]\n", "[daemon]\nmetrics_file = %s\n"
                             % ('"%s"' % path), 1))
    try:
        p = subprocess.run([APM2D, "-n", "-f", d.config_path],
                           capture_output=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 1, p
        assert b"writable by group or others" in p.stderr, p.stderr
        assert not os.listdir(bad)
    finally:
        d.cleanup()


run()
