#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The reload_config request and apm2ctl reread/update: what a dry run
reports after the configuration file was edited, and that it changes
nothing; a file with errors; a message longer than S_OK holds; who may
ask; malformed requests.  What a real reload does is not tested here,
only that apm2ctl update asks for one."""
import json
import os
import pwd
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (IS_ROOT, KEEPER, Daemon, Skip, ctl,  # noqa: E402
                     ensure_user, get, process, run, test, wait_until)

OTHER = "apm2t2"        # not an administrator
DENIED = {"type": "error", "code": "permission_denied",
          "message": "Permission denied: reload_config is for "
                     "administrators"}
DRY = {"type": "reload_config", "dry_run": True}

# Before and after the edit: one of each kind of difference.
RUNNING = (process("stay", "sleep", ["1000"])
           + process("old", "sleep", ["1000"])
           + process("api", "sleep", ["1000"], env={"A": "1"})
           + process("batch", "sleep", ["1000"], instances=2)
           + process("worker", "sleep", ["1000"],
                     restart={"max_restarts": 5}))
EDITED = (process("stay", "sleep", ["1000"])
          + process("api", "sleep", ["1000"], env={"A": "2"})
          + process("batch", "sleep", ["1000"], instances=4)
          + process("worker", "sleep", ["1000"],
                    restart={"max_restarts": 3})
          + process("new", "sleep", ["1000"]))
DIFF = ["dry run: 1 added, 1 removed, 1 changed, 1 scaled, 1 policy only, "
        "1 unchanged",
        "~ api (changed: env)",
        "# batch (instances 2 -> 4)",
        "* worker (policy: restart)",
        "+ new (added)",
        "- old (removed)"]


def edit(d, old, new):
    """Replace the text old in d's configuration file with new."""
    with open(d.config_path) as f:
        text = f.read()
    assert old in text
    with open(d.config_path, "w") as f:
        f.write(text.replace(old, new))


def all_running(d):
    return all(p["running"] == p["instances"] for p in
               d.request({"type": "list_processes"})["processes"])


def snapshot(d):
    """The process list as a client sees it, and every instance's pid."""
    procs = d.request({"type": "list_processes"})["processes"]
    table = [(p["name"], p["instances"], p["running"], p["status"],
              p["restart_count"]) for p in procs]
    pids = {p["name"]: [i["pid"] for i in get(d, p["name"])
                        ["instance_details"]] for p in procs}
    return table, pids


def requested_line():
    """What the supervisor logs for a reload that is not a dry run."""
    return "reload_config requested by uid %d" % os.geteuid()


# ------------------------------------------------------------ dry run

@test
def dry_run_lists_each_change_and_changes_nothing():
    with Daemon(RUNNING) as d:
        wait_until(lambda: all_running(d), 15, what="all running")
        before = snapshot(d)
        assert sum(len(p) for p in before[1].values()) == 6, before
        edit(d, RUNNING, EDITED)
        r = d.request(DRY)
        assert r == {"type": "ok", "message": "\n".join(DIFF)}, r
        rc, out, err = ctl(d, "reread")
        assert (rc, out, err) == (0, "\n".join(DIFF) + "\n", ""), \
            (rc, out, err)
        # Nothing changed: the same processes, the same pids.
        assert snapshot(d) == before
        # The old configuration is still the one in use: unedited, the
        # file is the same again.
        edit(d, EDITED, RUNNING)
        r = d.request(DRY)
        assert r == {"type": "ok", "message": "dry run: 0 added, "
                     "0 removed, 0 changed, 0 scaled, 0 policy only, "
                     "5 unchanged"}, r
        assert snapshot(d) == before
        log = d.stderr()
        assert DIFF[0] in log, log      # reload.c logs the outcome
        assert requested_line() not in log, log


@test
def update_asks_for_a_real_reload():
    with Daemon(KEEPER) as d:
        rc, out, err = ctl(d, "reread")
        assert rc == 0 and requested_line() not in d.stderr()
        # Only that it is asked for with dry_run false: what a reload
        # does is the supervisor's, tested with it.
        ctl(d, "update")
        wait_until(lambda: requested_line() in d.stderr(), 10,
                   what="the reload requested")
        r = d.request({"type": "reload_config", "dry_run": False})
        assert r["type"] in ("ok", "error"), r
        assert d.stderr().count(requested_line()) == 2


@test
def config_with_errors_changes_nothing():
    with Daemon(RUNNING) as d:
        wait_until(lambda: all_running(d), 15, what="all running")
        before = snapshot(d)
        bad = EDITED.replace('[[processes]]\nname = "api"',
                             '[[processes]]\nname = "api"\ncomand = "x"')
        bad = bad.replace("instances = 4", "instances = 0")
        edit(d, RUNNING, bad)
        with open(d.config_path) as f:
            lines = f.read().split("\n")
        l1 = lines.index('comand = "x"') + 1
        l2 = lines.index("instances = 0") + 1
        path = d.config_path
        want = [path + " has errors; nothing changed:",
                '%s:%d:1: processes[1]: unknown key "comand"' % (path, l1),
                "%s:%d:13: processes[2].instances: must be at least 1, "
                "got 0" % (path, l2)]
        for req in (DRY, {"type": "reload_config"}):
            r = d.request(req)
            assert r == {"type": "error", "code": "invalid_request",
                         "message": "\n".join(want)}, (req, r)
        for cmd in ("reread", "update"):
            rc, out, err = ctl(d, cmd)
            assert (rc, out) == (1, ""), (cmd, rc, out, err)
            assert err == "Error: Failed to %s: %s (InvalidRequest)\n%s\n" \
                % (cmd, want[0], "\n".join(want[1:])), (cmd, err)
        assert snapshot(d) == before


# ------------------------------------------------------------ long message

@test
def three_hundred_added_arrive_whole():
    added = "".join(process("p%03d" % i, "sleep", ["1000"], autostart=False)
                    for i in range(300))
    with Daemon(KEEPER) as d:
        with open(d.config_path, "a") as f:
            f.write(added)
        want = ["dry run: 300 added, 0 removed, 0 changed, 0 scaled, "
                "0 policy only, 1 unchanged"] + \
            ["+ p%03d (added)" % i for i in range(300)]
        r = d.request(DRY)
        assert r["type"] == "ok", r
        assert len(r["message"].encode()) > 512
        assert r["message"].split("\n") == want, r["message"][-200:]
        rc, out, err = ctl(d, "reread")
        assert rc == 0 and err == "", (rc, err)
        assert out == "\n".join(want) + "\n", out[-200:]
        rc, out, err = ctl(d, "-j", "reread")
        assert rc == 0 and json.loads(out) == r, (rc, out[-200:], err)
        # Nothing was started or added.
        procs = d.request({"type": "list_processes"})["processes"]
        assert [p["name"] for p in procs] == ["keeper"], procs


# ------------------------------------------------------------ who may ask

@test
def non_admin_is_denied():
    if not IS_ROOT:
        raise Skip("needs root to run a client as another user")
    ensure_user(OTHER)
    with Daemon(RUNNING) as d:
        wait_until(lambda: all_running(d), 15, what="all running")
        before = snapshot(d)
        edit(d, RUNNING, EDITED)
        for cmd in ("reread", "update"):
            # -j: the reply as it came, to the request apm2ctl sent.
            rc, o, e = ctl(d, "-j", cmd, user=OTHER)
            assert (rc, json.loads(o), e) == (1, DENIED, ""), (cmd, o, e)
            rc, o, e = ctl(d, cmd, user=OTHER)
            assert (rc, o) == (1, ""), (cmd, rc, o, e)
            assert e == "Error: Failed to %s: %s (PermissionDenied)\n" % (
                cmd, DENIED["message"]), (cmd, e)
        uid = pwd.getpwnam(OTHER).pw_uid
        log = d.stderr()
        assert log.count("denied reload_config to uid %d" % uid) == 4, log
        assert "dry run: " not in log, log
        assert snapshot(d) == before
        # The administrator is answered.
        assert d.request(DRY)["message"].split("\n") == DIFF


# ------------------------------------------------------------ malformed

# INV-D008: answered invalid_request, then closed like any malformed
# request; the daemon serves on, and nothing reached the supervisor.
@test
def malformed_reload_config_is_invalid_request():
    cases = [
        ({"type": "reload_config", "dry_run": "yes"},
         'field "dry_run": expected a boolean, got string'),
        ({"type": "reload_config", "x": 1}, 'unknown field "x"'),
        ({"type": "reload_config", "dry_run": None},
         'field "dry_run": expected a boolean, got null'),
        ({"type": "reload_config", "dryrun": True},
         'unknown field "dryrun"'),
    ]
    with Daemon(KEEPER) as d:
        for req, msg in cases:
            with d.client() as c:
                r = c.call(req)
                assert r == {"type": "error", "code": "invalid_request",
                             "message": msg}, (req, r)
                assert c.is_closed(), req
            with d.client() as c:
                assert c.call(DRY)["type"] == "ok"
                assert c.call({"type": "ping"})["type"] == "pong"
        log = d.stderr()
        assert requested_line() not in log, log
        assert log.count("dry run: 0 added") == len(cases), log


run()
