#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Lasting intent (issue 18): what an operator did by hand -- a process
stopped, one started that does not autostart -- and each instance's
restart count and last exit outlive a restart of apm2d, after SIGTERM
and after SIGKILL of the supervisor; the state file keeps no
environment value; a process no longer configured is dropped from it.

Every wait is bounded; only the daemon the test starts and the agent
pids it read are signalled."""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Daemon, get, process, run, start, test  # noqa: E402
from harness import IS_ROOT, TEST_USERS, daemon_conf  # noqa: E402
from harness import ensure_user, wait_until  # noqa: E402

SECRET = "s3cr3t-value-never-on-disk"


def conf():
    fast = {"max_restarts": 100, "min_uptime": "0s",
            "backoff": {"type": "fixed", "delay": "0s"}}
    # web exits 7 when stopped, so that its last exit is its own.
    return (process("web", "/bin/sh",
                    ["-c", "trap 'exit 7' TERM; sleep 1000 & wait"],
                    env={"TOKEN": SECRET}, shutdown={"timeout": "3s"}) +
            process("api", "sleep", ["1000"], restart=fast,
                    shutdown={"timeout": "3s"}) +
            process("batch", "sleep", ["1000"], autostart=False,
                    shutdown={"timeout": "3s"}) +
            process("job", "/bin/sh", ["-c", "exit 3"], autostart=False,
                    restart={"max_restarts": 0}))


def states(d, name):
    return [i["state"] for i in get(d, name)["instance_details"]]


def running(d, name):
    return states(d, name) == ["Running"]


def on_file(d):
    try:
        with open(d.state_file) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def kill_and_wait_new(d, name):
    """SIGKILL name's pid; wait until it runs again with another pid."""
    old = get(d, name)["instance_details"][0]["pid"]
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: get(d, name)["instance_details"][0]["pid"]
               not in (None, old) and running(d, name), 15,
               what="%s restarted" % name)


def operate(d):
    """The operator's day: web stopped, batch started, api killed twice,
    job run once (it exits 3).  What each looks like, recorded."""
    for n in ("web", "api"):
        wait_until(lambda n=n: running(d, n), 15, what=n)
    r = d.request({"type": "stop_process", "name": "web"}, timeout=30)
    assert r["type"] == "ok", r
    start(d, "batch")
    start(d, "job")
    wait_until(lambda: states(d, "job")[0] != "Starting" and
               states(d, "job")[0] != "Running", 10, what="job to exit")
    kill_and_wait_new(d, "api")
    kill_and_wait_new(d, "api")
    before = {n: get(d, n)["instance_details"][0]
              for n in ("web", "api", "batch", "job")}
    assert before["api"]["restart_count"] == 2, before["api"]
    assert before["job"]["state"] == {"Crashed": {"exit_code": 3}}, \
        before["job"]
    assert before["web"]["state"] == {"Stopped": {"exit_code": 7}}, \
        before["web"]

    def recorded():
        st = on_file(d)
        if st is None:
            return False
        intents = {p["process"]: p["intent"] for p in st["processes"]}
        api = [i for i in st["instances"] if i["process"] == "api"]
        return (intents == {"web": "stopped", "batch": "started",
                            "job": "started"} and
                api and api[0].get("restarts") == 2 and
                api[0].get("pid") == before["api"]["pid"])
    wait_until(recorded, 10, what="the state file to record it all")
    # A running instance's cgroup is on record where there are cgroups.
    api = [i for i in on_file(d)["instances"] if i["process"] == "api"]
    if "no cgroups" not in d.stderr():
        assert api[0]["cgroup"] == "api", api
    else:
        assert "cgroup" not in api[0], api
    return before


def restarted_as_left(d, before):
    """After a restart of apm2d: api and batch run, api's count kept;
    web stays stopped, showing its last exit."""
    for n in ("api", "batch"):
        wait_until(lambda n=n: running(d, n), 20, what=n)
    after = {n: get(d, n)["instance_details"][0]
             for n in ("web", "api", "batch", "job")}
    assert after["api"]["restart_count"] == 2, after["api"]
    assert after["api"]["pid"] != before["api"]["pid"]
    assert after["web"]["state"] == before["web"]["state"], after["web"]
    assert after["web"]["pid"] is None, after["web"]
    # job was started by hand, so it runs (and exits) again.
    wait_until(lambda: states(d, "job") == [{"Crashed": {"exit_code": 3}}],
               10, what="job to run and exit again")
    with open(d.state_file, "rb") as f:
        raw = f.read()
    assert SECRET.encode() not in raw
    assert os.stat(d.state_file).st_mode & 0o777 == 0o600


def across(how):
    d = Daemon(conf())
    try:
        d.start()
        before = operate(d)
        if how == "kill":
            os.kill(d.pid, signal.SIGKILL)
            d.wait_exit(10)
        else:
            d.stop()
        d.start()
        restarted_as_left(d, before)
        # Still true when nothing is asked for a while: web not started.
        assert states(d, "web") == [before["web"]["state"]]
    finally:
        d.cleanup()


@test
def hand_intent_and_counts_outlive_a_sigterm_of_the_daemon():
    across("term")


@test
def hand_intent_and_counts_outlive_a_sigkill_of_the_supervisor():
    across("kill")


# An intent for a process no longer configured is dropped; one still
# configured is kept across the rewrite.
@test
def intent_of_a_removed_process_is_dropped():
    d = Daemon(conf())
    try:
        d.start()
        wait_until(lambda: running(d, "web"), 15, what="web")
        for n in ("web", "api"):
            r = d.request({"type": "stop_process", "name": n}, timeout=30)
            assert r["type"] == "ok", r
        wait_until(lambda: on_file(d) is not None and
                   len(on_file(d)["processes"]) == 2, 10,
                   what="both intents on file")
        d.stop()
        with open(d.config_path) as f:
            text = f.read()
        cut = text.index("[[processes]]")
        rest = text[cut:].split("[[processes]]")
        rest = [b for b in rest if b and 'name = "web"' not in b]
        with open(d.config_path, "w") as f:
            f.write(text[:cut] + "".join("[[processes]]" + b for b in rest))
        d.start()
        r = d.request({"type": "get_process", "name": "web"})
        assert r["type"] == "error", r
        st = states(d, "api")[0]
        assert st == "Stopped" or (isinstance(st, dict) and
                                   list(st) == ["Stopped"]), st
        # A start of batch writes the file: web is gone from it.
        start(d, "batch")
        wait_until(lambda: {p["process"]: p["intent"] for p in
                            on_file(d)["processes"]} ==
                   {"api": "stopped", "batch": "started"}, 10,
                   what="web dropped from the state file")
    finally:
        d.cleanup()


# A daemon that is not root keeps its state file beside its pid file
# unless the configuration or --state-file names one: the default under
# /var/lib is not its to write.
@test
def a_daemon_not_root_keeps_its_state_beside_its_pid_file():
    user = None
    if IS_ROOT:
        user = TEST_USERS[0]
        ensure_user(user)
    d = Daemon("", user=user, daemon_table=False)
    run_dir = os.path.join(d.tmp, "run")
    with open(d.config_path, "w") as f:
        f.write(daemon_conf(socket=d.socket, pid_file=d.pid_file,
                            log_dir=d.log_dir) + "\n" +
                process("web", "sleep", ["1000"],
                        shutdown={"timeout": "3s"}))
    try:
        d.start()
        wait_until(lambda: running(d, "web"), 15, what="web")
        r = d.request({"type": "stop_process", "name": "web"}, timeout=30)
        assert r["type"] == "ok", r
        path = os.path.join(run_dir, "state.json")

        def intents():
            try:
                with open(path) as f:
                    return json.load(f)["processes"]
            except (OSError, ValueError):
                return None
        wait_until(lambda: intents() == [{"process": "web",
                                          "intent": "stopped"}], 10,
                   what="web's intent in " + path)
        d.stop()
        d.start()
        wait_until(lambda: d.request({"type": "ping"})["type"] == "pong",
                   10, what="the daemon")
        assert get(d, "web")["instance_details"][0]["pid"] is None
    finally:
        d.cleanup()


if __name__ == "__main__":
    run()
