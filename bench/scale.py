#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""scale.py -- the scale ladder (issue 17): apm2d, s6, supervisord and pm2
with N = 100, 1,000, 5,000 and 9,000 instances of `sleep`, side by side.

    python3 bench/scale.py [--quick] [--ladder 100,1000] [--peers apm2d,s6]
                           [--cap 1000] [--timeout S]

Normally started by bench/run.sh (`sh bench/run.sh scale`, `make
bench-scale [QUICK=1]`), which installs the peers first.  Series:

  apm2d 1×N   one [[processes]] with instances = N
  apm2d N×1   N [[processes]] with one instance each
  s6          s6-svscan -c N+10 over a scan directory of N service dirs
  supervisord one [program] with numprocs = N
  pm2         one app with instances = N (fork mode)
  floor       bench/floor.c launch: the least a supervisor can be (N
              posix_spawns back to back, respawn on exit, SIGUSR1 stops
              all, SIGTERM stops all and exits): what this machine can
              do at best, so that a figure can be read against it

Figures for each N and series, on one launch (A) and a second (B):
  launch     A: from starting the supervisor until all N run (apm2d: its
             status request's running_instances; the others: N `sleep`
             processes under the supervisor; pm2: from the start request
             to its God daemon, already running, to N pids)
  idle CPU   A: utime+stime of the supervisor's own processes over 5 s,
             after a 1 s settle
  USS        A: private memory of the supervisor's own processes
  list       A: median round trip of a list of all N (apm2d: the C client
             on a kept connection; supervisord: getAllProcessInfo over
             Python xmlrpc; pm2: pm2.list on its API; s6: none)
  restart    A: median over KILLS SIGKILLs of distinct instances, each
             until its parent has a new child (bench/scalekw.c)
  stop all   A: until every `sleep` is reaped (apm2d: `apm2ctl stop all`;
             s6: "d" into every service's supervise/control, as s6-svc -d
             does; supervisord: stopAllProcesses; pm2: pm2.stop)
  shutdown   B: SIGTERM to the supervisor until it and every descendant
             are gone
A series that does not finish a step in time is recorded n/a with the
reason, and is not run at larger N.  RLIMIT_NOFILE is raised to the hard
limit; at N > 5,000 apm2d runs with merge_stderr = true (one pipe an
instance instead of two; the logger holds at most max_open_log_files,
1,024, log files whatever N is).  Every process is started and
killed by pid; every wait is bounded.  Results: bench/results/scale.md,
scale.json and scale.png (full run), or bench/results/tmp/quick/ (QUICK).
"""
import datetime
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402

HERE = B.HERE
TOP = B.TOP
ARGS = sys.argv[1:]
QUICK = "--quick" in ARGS


def opt(name, default):
    if name in ARGS:
        i = ARGS.index(name)
        if i + 1 < len(ARGS):
            return ARGS[i + 1]
    return default


LADDER = [int(x) for x in opt("--ladder", "100,1000,5000,9000").split(",")]
SERIES = ["apm2d 1×N", "apm2d N×1", "s6", "supervisord", "pm2", "floor"]
ONLY = opt("--peers", None)
# The slow peers stop at CAP (QUICK: 1,000) and at the first N they do not
# finish in time.
CAP = int(opt("--cap", "1000" if QUICK else "0")) or None
P = {
    "kills": 5 if QUICK else 10,
    "kill_gap_ms": 50,
    "list_n": 5 if QUICK else 20,
    "list_warmup": 2 if QUICK else 5,
    "idle_s": 5.0,
    "settle_s": 1.0,
    "launch_timeout": 90 if QUICK else 240,
    "stop_timeout": 90 if QUICK else 240,
    "shutdown_timeout": 60 if QUICK else 120,
    "merge_stderr_above": 5000,
}
if opt("--timeout", None):			# s, for launch, stop and shutdown
    P["launch_timeout"] = P["stop_timeout"] = P["shutdown_timeout"] = int(
        opt("--timeout", None))
CLK_TCK = os.sysconf("SC_CLK_TCK")
FIGS = [("launch", "launch → all N running", "s"),
        ("restart", "restart after SIGKILL, median", "ms"),
        ("stop_all", "stop all → all reaped", "s"),
        ("shutdown", "SIGTERM → supervisor and children gone", "s"),
        ("list", "list of N, round trip median", "ms"),
        ("idle_cpu", "idle CPU over 5 s (supervisor's processes)", "ms"),
        ("uss", "private memory (USS) of the supervisor's processes",
         "MiB")]

log = B.log
NA = B.NA


def cpu_ticks(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        v = st[st.rfind(")") + 2:].split()
        t += int(v[11]) + int(v[12])
    return t


def sleepers(parents):
    """pids running sleep among the children of parents."""
    out = []
    for par in parents:
        for k in B.children(par) or []:
            if B.comm(k) == "sleep":
                out.append(k)
    return out


class Base:
    """One series at one N: launch, measure, clean up, all by pid."""

    def __init__(self, ctx, n, tag):
        self.ctx, self.n, self.tag = ctx, n, tag
        self.proc = None
        self.root = None
        self.known = set()
        self.dir = ctx.path("%s-%d-%s" % (self.key, n, tag))
        os.makedirs(self.dir)

    # what a series provides
    def launch(self):
        raise NotImplementedError

    def sleep_parents(self):
        return [self.root]

    def own(self):
        return [self.root] + [p for p in B.descendants(self.root)
                              if B.comm(p) != "sleep"]

    def running(self, seen):
        n = 0
        for par in self.sleep_parents():
            for k in B.children(par) or []:
                if k in seen or B.comm(k) == "sleep":
                    seen.add(k)
                    n += 1
        return n

    def list_rt(self):
        raise NA("no list request")

    def stop_all_request(self):
        raise NotImplementedError

    # shared
    def remember(self):
        if self.root is not None:
            self.known.add(self.root)
            self.known.update(B.descendants(self.root))

    def wait_running(self, t0):
        seen = set()
        end = t0 + P["launch_timeout"] * 1e9
        while True:
            if self.root is not None and not B.alive(self.root):
                raise RuntimeError("the supervisor exited")
            if self.running(seen) >= self.n:
                return (B.mono_ns() - t0) / 1e9
            if B.mono_ns() > end:
                self.remember()
                raise NA("did not finish in %d s (%d of %d running)" % (
                    P["launch_timeout"], self.running(set()), self.n))
            time.sleep(0.005)

    def restart(self, kills):
        kids = sleepers(self.sleep_parents())
        if len(kids) < kills:
            raise RuntimeError("only %d running" % len(kids))
        v = []
        for victim in random.Random(self.n).sample(kids, kills):
            try:
                with open("/proc/%d/stat" % victim) as f:
                    st = f.read()
            except OSError:
                continue
            parent = int(st[st.rfind(")") + 2:].split()[1])
            out = self.ctx.run([B.helper(self.ctx, "scalekw"), str(parent),
                                str(victim), "10000"], 30).stdout
            v.append(float(out) / 1e3)
            time.sleep(P["kill_gap_ms"] / 1e3)
        return B.median(v), v

    def stop_all(self):
        t0 = B.mono_ns()
        self.stop_all_request()
        end = t0 + P["stop_timeout"] * 1e9
        while sleepers(self.sleep_parents()):
            if B.mono_ns() > end:
                raise NA("did not finish in %d s" % P["stop_timeout"])
            time.sleep(0.005)
        return (B.mono_ns() - t0) / 1e9

    def shutdown(self):
        """SIGTERM the supervisor; seconds until it and all below are gone."""
        self.remember()
        pids = set(self.known)
        t0 = B.mono_ns()
        os.kill(self.root, signal.SIGTERM)
        end = t0 + P["shutdown_timeout"] * 1e9
        while True:
            if self.proc is not None:
                self.proc.poll()
            pids = {p for p in pids if B.alive(p)}
            if not pids:
                return (B.mono_ns() - t0) / 1e9
            if B.mono_ns() > end:
                raise NA("did not finish in %d s (%d processes left)" % (
                    P["shutdown_timeout"], len(pids)))
            time.sleep(0.002)

    def cleanup(self):
        self.remember()
        left = [p for p in self.known if B.alive(p)]
        if self.root is not None and B.alive(self.root):
            B.kill_pids([self.root], signal.SIGTERM)
            B.wait_gone(self.root, 10)
            left = [p for p in left if B.alive(p)]
        if left:
            B.kill_pids(left)
            for p in left:
                B.wait_gone(p, 5)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                B.kill_pids([self.proc.pid])
                self.proc.wait(timeout=10)
        self.proc = self.root = None
        shutil.rmtree(self.dir, ignore_errors=True)


class Apm2d(Base):
    key = "apm2d"

    def __init__(self, ctx, n, tag, shape):
        self.shape = shape
        super().__init__(ctx, n, tag)

    def conf(self):
        d = self.dir
        env = 'env = { APM2BENCH = "%s" }' % self.ctx.env["APM2BENCH"]
        s = ['[daemon]', 'pid_file = "%s/apm2.pid"' % d,
             'socket = "%s/apm2.sock"' % d, 'log_dir = "%s/log"' % d,
             'state_file = "%s/state.json"' % d,
             'shutdown_timeout = "30s"', '']
        blocks = ([("s", self.n)] if self.shape == "1xN" else
                  [("p%05d" % i, 1) for i in range(self.n)])
        for name, inst in blocks:
            s += ['[[processes]]', 'name = "%s"' % name,
                  'command = "%s"' % self.ctx.sleep, 'args = ["100000"]',
                  'instances = %d' % inst, env,
                  '[processes.restart]', 'max_restarts = 1000000',
                  'min_uptime = "0s"', '[processes.restart.backoff]',
                  'type = "fixed"', 'delay = "0s"']
            if self.n > P["merge_stderr_above"]:
                s += ['[processes.log]', 'merge_stderr = true']
            s.append('')
        return "\n".join(s)

    def status(self):
        a = B.Apm2d(self.ctx)
        a.sock = self.sock
        return a.request({"type": "status"}, timeout=30)

    def launch(self):
        if not os.access(B.APM2D, os.X_OK):
            raise NA("apm2d/apm2d is not built")
        self.sock = os.path.join(self.dir, "apm2.sock")
        cf = os.path.join(self.dir, "apm2.toml")
        with open(cf, "w") as f:
            f.write(self.conf())
        t0 = B.mono_ns()
        self.proc = self.ctx.popen([B.APM2D, "-d", "-f", cf],
                                   "apm2d-%d-%s.log" % (self.n, self.tag))
        self.root = self.proc.pid
        return t0

    def running(self, seen):
        try:
            return int(self.status().get("running_instances", 0))
        except (OSError, ValueError):
            return 0

    def list_rt(self):
        r = self.ctx.run_json([B.helper(self.ctx, "apm2c"), "rt", self.sock,
                               '{"type":"list_processes"}',
                               '"type":"process_list"', str(P["list_n"]),
                               str(P["list_warmup"])], 600)
        return r["median"] / 1e3

    def stop_all_request(self):
        self.ctx.run([B.APM2CTL, "-s", self.sock, "stop", "all"],
                     P["stop_timeout"])


class S6(Base):
    key = "s6"

    def launch(self):
        exe = shutil.which("s6-svscan")
        if exe is None:
            raise NA("s6 is not installed")
        self.scan = os.path.join(self.dir, "scan")
        os.mkdir(self.scan)
        self.svcs = []
        for i in range(self.n):
            sd = os.path.join(self.scan, "s%05d" % i)
            os.mkdir(sd)
            with open(os.path.join(sd, "run"), "w") as f:
                f.write("#!/bin/sh\nexec %s 100000\n" % self.ctx.sleep)
            os.chmod(os.path.join(sd, "run"), 0o755)
            self.svcs.append(sd)
        t0 = B.mono_ns()
        self.proc = self.ctx.popen([exe, "-c", str(self.n + 10), self.scan],
                                   "s6-%d-%s.log" % (self.n, self.tag))
        self.root = self.proc.pid
        return t0

    def sleep_parents(self):
        return B.children(self.root) or []

    def stop_all_request(self):
        # What `s6-svc -d DIR` does, for every DIR in one loop (s6-svc
        # takes one service directory per call).
        for sd in self.svcs:
            fd = os.open(os.path.join(sd, "supervise", "control"),
                         os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(fd, b"d")
            finally:
                os.close(fd)


class Supervisord(Base):
    key = "supervisord"

    def launch(self):
        exe = self.ctx.tools["supervisord"]
        if exe is None:
            raise NA("supervisord is not installed")
        d = self.dir
        os.mkdir(os.path.join(d, "childlog"))
        conf = os.path.join(d, "supervisord.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                "[unix_http_server]", "file=%s/sv.sock" % d, "chmod=0700",
                "[supervisord]", "nodaemon=true",
                "logfile=%s/supervisord.log" % d, "logfile_maxbytes=0",
                "pidfile=%s/supervisord.pid" % d,
                "childlogdir=%s/childlog" % d, "minfds=1024",
                "minprocs=200", "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = "
                "supervisor.rpcinterface:make_main_rpcinterface",
                "[program:sl]", "command=%s 100000" % self.ctx.sleep,
                "process_name=%(program_name)s_%(process_num)05d",
                "numprocs=%d" % self.n, "autostart=true",
                "autorestart=true", "startsecs=0",
                "startretries=1000000", ""]))
        self.transport = B.UnixTransport(os.path.join(d, "sv.sock"), 120)
        self.rpc = xmlrpc.client.ServerProxy("http://localhost/RPC2",
                                             transport=self.transport)
        t0 = B.mono_ns()
        self.proc = self.ctx.popen([exe, "-n", "-c", conf],
                                   "sv-%d-%s.log" % (self.n, self.tag))
        self.root = self.proc.pid
        return t0

    def list_rt(self):
        v = []
        for i in range(P["list_warmup"] + P["list_n"]):
            t0 = time.perf_counter_ns()
            r = self.rpc.supervisor.getAllProcessInfo()
            t = (time.perf_counter_ns() - t0) / 1e6
            if len(r) != self.n:
                raise RuntimeError("getAllProcessInfo: %d entries" % len(r))
            if i >= P["list_warmup"]:
                v.append(t)
        return B.median(v)

    def stop_all_request(self):
        self.rpc.supervisor.stopAllProcesses(False)

    def cleanup(self):
        try:
            self.transport.close()
        except Exception:			# noqa: BLE001
            pass
        super().cleanup()


class Pm2(Base):
    key = "pm2"

    def launch(self):
        if self.ctx.tools["node"] is None or not os.path.exists(B.PM2_CLI):
            raise NA("node or bench/node_modules/pm2 is missing")
        self.env = dict(self.ctx.env)
        home = os.path.join(self.dir, "home")
        os.mkdir(home)
        self.env.update(PM2_HOME=home, PM2_DISCRETE_MODE="true",
                        PM2_DISABLE_VERSION_CHECK="true")
        self.ctx.run([self.ctx.tools["node"], B.PM2_CLI, "ping"], 120,
                     self.env)
        with open(os.path.join(home, "pm2.pid")) as f:
            self.root = int(f.read().strip())
        self.remember()
        t0 = B.mono_ns()
        self.startp = subprocess.Popen(
            [self.ctx.tools["node"], B.PM2_JS, "start100", json.dumps({
                "name": "sl", "n": self.n, "god": self.root,
                "timeout_ms": P["launch_timeout"] * 1000,
                "sleep": self.ctx.sleep,
                "env": {"APM2BENCH": self.ctx.env["APM2BENCH"]}})],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, env=self.env)
        self.ctx.popens.append(self.startp)
        return t0

    def own(self):
        return [self.root] + [p for p in B.descendants(self.root)
                              if B.comm(p) != "sleep"]

    def js(self, cmd, timeout, **arg):
        arg.setdefault("sleep", self.ctx.sleep)
        arg.setdefault("env", {"APM2BENCH": self.ctx.env["APM2BENCH"]})
        return self.ctx.run_json([self.ctx.tools["node"], B.PM2_JS, cmd,
                                  json.dumps(arg)], timeout, self.env)

    def list_rt(self):
        return self.js("rt", 600, what="list", n=P["list_n"],
                       warmup=P["list_warmup"], expect=self.n)["median"] / 1e3

    def stop_all(self):
        r = self.js("stop100", P["stop_timeout"] + 30, name="sl",
                    god=self.root, timeout_ms=P["stop_timeout"] * 1000)
        return r["done_us"] / 1e6

    def cleanup(self):
        if getattr(self, "startp", None) is not None:
            if self.startp.poll() is None:
                B.kill_pids([self.startp.pid])
            self.startp.wait(timeout=10)
        super().cleanup()


class Floor(Base):
    key = "floor"

    def launch(self):
        t0 = B.mono_ns()
        self.proc = self.ctx.popen([B.helper(self.ctx, "floor"), "launch",
                                    str(self.n), self.ctx.sleep, "100000"],
                                   "floor-%d-%s.log" % (self.n, self.tag))
        self.root = self.proc.pid
        return t0

    def stop_all_request(self):
        os.kill(self.root, signal.SIGUSR1)


def make(ctx, series, n, tag):
    if series == "apm2d 1×N":
        return Apm2d(ctx, n, tag, "1xN")
    if series == "apm2d N×1":
        return Apm2d(ctx, n, tag, "Nx1")
    return {"s6": S6, "supervisord": Supervisord, "pm2": Pm2,
            "floor": Floor}[series](
        ctx, n, tag)


def step(res, key, fn):
    try:
        res[key] = fn()
    except NA as e:
        res[key] = e
    except Exception as e:			# noqa: BLE001 -- recorded
        msg = str(e).strip().splitlines()[-1][:300] if str(e).strip() \
            else repr(e)
        res[key] = NA("failed: %s" % msg)
        log("%s: %s" % (key, res[key]))
        if os.environ.get("BENCH_DEBUG"):
            traceback.print_exc()


def run_case(ctx, series, n):
    """Launch A: every figure but shutdown; launch B: shutdown."""
    res = {}
    log("%s, N = %d" % (series, n))
    p = make(ctx, series, n, "a")
    try:
        try:
            t0 = p.launch()
            res["launch"] = p.wait_running(t0)
        except NA as e:
            return {k: e for k, _l, _u in FIGS}
        except Exception as e:			# noqa: BLE001
            e = NA("failed: %s" % str(e)[:300])
            log("%s launch: %s" % (series, e))
            return {k: e for k, _l, _u in FIGS}
        p.remember()
        log("  launch %.2f s" % res["launch"])
        time.sleep(P["settle_s"])

        def idle():
            own = p.own()
            c0 = cpu_ticks(own)
            time.sleep(P["idle_s"])
            return (cpu_ticks(own) - c0) * 1000.0 / CLK_TCK
        step(res, "idle_cpu", idle)
        step(res, "uss", lambda: B.uss_mib(p.own()))
        step(res, "list", p.list_rt)
        rs = {}
        step(rs, "r", lambda: p.restart(P["kills"]))
        if isinstance(rs["r"], NA):
            res["restart"] = rs["r"]
        else:
            res["restart"], res["_restart_ms"] = rs["r"]
        p.remember()
        step(res, "stop_all", p.stop_all)
        log("  " + ", ".join("%s %s" % (k, fmtv(res.get(k), u))
                             for k, _l, u in FIGS if k in res))
    finally:
        p.cleanup()
    q = make(ctx, series, n, "b")
    try:
        try:
            t0 = q.launch()
            res["launch_b"] = q.wait_running(t0)
            q.remember()
            step(res, "shutdown", q.shutdown)
        except NA as e:
            res["shutdown"] = e
        except Exception as e:			# noqa: BLE001
            res["shutdown"] = NA("failed: %s" % str(e)[:300])
        log("  launch B %s, shutdown %s" % (
            fmtv(res.get("launch_b"), "s"), fmtv(res.get("shutdown"), "s")))
    finally:
        q.cleanup()
    return res


def fmtv(v, unit):
    if v is None:
        return "—"
    if isinstance(v, NA):
        return "n/a"
    return B.fmt(v, unit)


# ------------------------------------------------------------ reporting

def render(results, meta):
    notes = []
    pp = meta.get("params", P)

    def note(text):
        if text not in notes:
            notes.append(text)
        return B.sup(notes.index(text) + 1)
    series = [s for s in SERIES if any(s in results[str(n)]
                                       for n in meta["ladder"])]
    out = ["# apm2d scale ladder", "",
           "Run %s (%s) on %s; %s; s6 %s, supervisord %s, pm2 %s. "
           "RLIMIT_NOFILE %s (soft raised to the hard limit). Agent: "
           "`sleep 100000`; apm2d with default log files (log_dir in the "
           "temporary directory), `merge_stderr = true` above %d instances "
           "(one pipe an instance instead of two). One run per "
           "cell, on a shared 2-core VM with other work on it (%s%% of the "
           "CPUs busy before, %s%% after): expect noise of tens of percent." % (
               meta["date"], "QUICK" if meta["quick"] else "full",
               meta["machine"], meta["apm2d"], meta["s6"],
               meta["supervisord"], meta["pm2"], meta["nofile"],
               pp["merge_stderr_above"], meta["busy_before"],
               meta["busy_after"]),
           "",
           ] + ["Cells at N = %s are from a second run (%s, %s, "
                "timeouts %d s, %s%% / %s%% of the CPUs busy before / "
                "after) and replace the first run's." % (
                    ", ".join("{:,}".format(x) for x in m["ladder"]),
                    m["date"], "QUICK" if m["quick"] else "full",
                    m["params"]["launch_timeout"], m["busy_before"],
                    m["busy_after"]) for m in meta.get("merged", [])] + [
           "",
           "Series: apm2d 1×N = one program with N instances; apm2d N×1 = "
           "N programs; s6 = N service dirs under `s6-svscan -c N+10` "
           "(run = `#!/bin/sh` exec sleep); supervisord = numprocs = N; "
           "pm2 = one app, N instances (launch timed from the start "
           "request to pm2's already running daemon); floor = "
           "bench/floor.c launch, N posix_spawns and a respawn on exit, "
           "no state, logs or socket: the machine's best. Restart: median "
           "over %d SIGKILLs of distinct instances until the parent has a "
           "new child. Idle CPU: ms of CPU the supervisor's own processes "
           "used in 5 s, 1 s after all were running. s6's stop all writes "
           "`d` into every supervise/control (what `s6-svc -d` does). "
           "apm2d's list is list_processes, one entry a program: 1×N "
           "lists 1 entry of N instances, N×1 lists N; supervisord "
           "(getAllProcessInfo, a Python xmlrpc client) and pm2 "
           "(pm2.list) list N." %
           pp["kills"], ""]
    out += ["| N | figure | " + " | ".join(series) + " |",
            "|---:|---|" + "---:|" * len(series)]
    for n in meta["ladder"]:
        row = results[str(n)]
        for k, label, unit in FIGS:
            cells = []
            for s in series:
                v = row.get(s, {}).get(k) if s in row else None
                if s not in row:
                    cells.append("—" + note(meta["skipped"].get(
                        "%s/%d" % (s, n), "capped at 1000 in this run"
                        if meta["quick"] and s in ("supervisord", "pm2")
                        else "not run")))
                elif isinstance(v, dict) and "na" in v:
                    cells.append("n/a" + note(v["na"]))
                elif v is None:
                    cells.append("—")
                else:
                    cells.append(B.fmt(v, unit))
            out.append("| %s | %s (%s) | %s |" % (
                "{:,}".format(n), label, unit, " | ".join(cells)))
    out.append("")
    if notes:
        out += ["Notes: " + "; ".join("%s %s" % (B.sup(i + 1), t)
                                    for i, t in enumerate(notes)), ""]
    if meta.get("chart"):
        out += ["![scale ladder](%s)" % meta["chart"], ""]
    return out


def chart(ctx, results, meta, outdir):
    gp = ctx.tools["gnuplot"]
    if gp is None:
        log("gnuplot is not installed: no chart")
        return None
    figs = [f for f in FIGS]
    series = [s for s in SERIES if any(s in results[str(n)]
                                       for n in meta["ladder"])]
    png = os.path.join(outdir, "scale.png")
    colors = {"apm2d 1×N": "#1f77b4", "apm2d N×1": "#17becf",
              "s6": "#d62728", "supervisord": "#ff7f0e", "pm2": "#2ca02c",
              "floor": "#7f7f7f"}
    script = ["set terminal pngcairo size 1500,900 font 'DejaVu Sans,9'",
              "set output '%s'" % png,
              "set multiplot layout 2,4 title 'Scale ladder (log scales, "
              "idle CPU linear; lower is better)'",
              "set logscale xy", "set grid", "set key top left font ',8'",
              "set xlabel 'instances N'", "set datafile missing 'NaN'",
              "set xrange [%g:%g]" % (min(meta["ladder"]) * 0.8,
                                      max(meta["ladder"]) * 1.25)]
    for k, label, unit in figs:
        dat = os.path.join(ctx.root, "scale-%s.dat" % k)
        have = False
        with open(dat, "w") as f:
            for n in meta["ladder"]:
                row = [str(n)]
                for s in series:
                    v = results[str(n)].get(s, {}).get(k)
                    if isinstance(v, (int, float)) and (
                            v > 0 or k == "idle_cpu"):
                        row.append("%.6g" % v)
                        have = True
                    else:
                        row.append("NaN")
                f.write("\t".join(row) + "\n")
        if not have:
            continue
        plots = ["'%s' using 1:%d with linespoints lw 2 pt 7 lc rgb '%s' "
                 "title '%s'" % (dat, j + 2, colors[s], s)
                 for j, s in enumerate(series)]
        # Idle CPU is often 0: a linear axis, so zeros show.
        script += ["unset logscale y" if k == "idle_cpu" else
                   "set logscale y",
                   "set yrange [0:*]" if k == "idle_cpu" else
                   "set yrange [*:*]"]
        script += ["set title \"%s (%s)\" noenhanced" % (label, unit),
                   "set ylabel '%s'" % unit,
                   "plot " + ", ".join(plots)]
    script.append("unset multiplot")
    gpf = os.path.join(ctx.root, "scale.gp")
    with open(gpf, "w") as f:
        f.write("\n".join(script) + "\n")
    try:
        ctx.run([gp, gpf], 60)
    except Exception as e:			# noqa: BLE001
        log("gnuplot: %s" % e)
        return None
    return png


clean = B.clean


def ver(ctx, argv):
    try:
        r = ctx.run(argv, 30, check=False)
        return ((r.stdout or r.stderr).strip().splitlines() or ["?"])[0]
    except Exception:			# noqa: BLE001
        return "unknown"


def publish(ctx, res, meta, outdir, readme):
    """scale.{md,json,png} into outdir; the section of
    bench/README-performance.md too when readme."""
    os.makedirs(outdir, exist_ok=True)
    meta.pop("chart", None)
    png = chart(ctx, res, meta, outdir)
    if png:
        meta["chart"] = os.path.basename(png)
    md = render(res, meta)
    with open(os.path.join(outdir, "scale.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(outdir, "scale.json"), "w") as f:
        json.dump({"meta": meta, "results": res}, f, indent=1, default=str)
        f.write("\n")
    if readme:
        readme_section(res, meta, outdir)
    sys.stdout.write("\n" + "\n".join(md) + "\n")


BEGIN = "<!-- scale ladder: written by bench/scale.py -->"
END = "<!-- end of the scale ladder -->"


def readme_section(res, meta, outdir):
    """Replace (or append) the scale section of README-performance.md."""
    if meta.get("chart"):
        meta = dict(meta, chart=os.path.relpath(
            os.path.join(outdir, meta["chart"]), TOP))
    md = render(res, meta)
    md[0] = "### Scale ladder (issue 17)"
    extra = os.path.join(HERE, "scale-analysis.md")
    if os.path.exists(extra):
        with open(extra) as f:
            md += [f.read().rstrip(), ""]
    sec = [BEGIN] + md + ["Re-run with `make bench-scale` (the whole "
                          "ladder) or `make bench-scale QUICK=1` (the "
                          "slow peers capped at 1,000; results in "
                          "bench/results/tmp/quick/).", END]
    path = os.path.join(HERE, "README-performance.md")
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    if BEGIN in text and END in text:
        a = text.index(BEGIN)
        b = text.index(END) + len(END)
        text = text[:a] + "\n".join(sec) + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(sec) + "\n"
    with open(path, "w") as f:
        f.write(text)


def rerender(src):
    """--from-json FILE[,FILE2...]: scale.{md,png} and the README-performance.md
    section again into bench/results/ from a run's scale.json (e.g. a
    QUICK run's, to publish it); a later FILE's cells replace the
    earlier ones' (e.g. a re-run of N = 9,000 with a longer --timeout)."""
    data = None
    for path in src.split(","):
        with open(path) as f:
            d = json.load(f)
        if data is None:
            data = d
            data["meta"]["merged"] = []
        else:
            # A later run's cells replace the earlier run's.
            m = data["meta"]
            for n, row in d["results"].items():
                data["results"].setdefault(n, {}).update(row)
                for sname in row:
                    m["skipped"].pop("%s/%s" % (sname, n), None)
            for k, v in d["meta"]["skipped"].items():
                sname, n = k.rsplit("/", 1)
                if sname not in data["results"].get(n, {}):
                    m["skipped"][k] = v
            m["ladder"] = sorted(set(m["ladder"]) |
                                 set(d["meta"]["ladder"]))
            m["merged"].append({k: d["meta"][k] for k in (
                "date", "quick", "ladder", "params", "busy_before",
                "busy_after", "duration_s") if k in d["meta"]})
    ctx = B.Ctx()
    try:
        publish(ctx, data["results"], data["meta"],
                os.path.join(HERE, "results"), readme=True)
    finally:
        shutil.rmtree(ctx.root, ignore_errors=True)
    return 0


def main():
    if opt("--from-json", None):
        return rerender(opt("--from-json", None))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = B.Ctx()
    busy_before = B.cpu_busy()
    started = datetime.datetime.now(datetime.timezone.utc)
    log("scale ladder %s in %s: N = %s; RLIMIT_NOFILE %d -> %d" % (
        "QUICK" if QUICK else "full", ctx.root, LADDER, soft, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = {str(n): {} for n in LADDER}
    skipped = {}
    stopped = {}			# series -> reason it is not run further
    failed = False
    series = [s for s in SERIES if ONLY is None or any(
        s.startswith(o) for o in ONLY.split(","))]
    try:
        B.HELPERS["scalekw"] = ["scalekw.c", "proc.c"]
        B.build_helpers(ctx)
        for n in LADDER:
            for s in series:
                if s in stopped:
                    skipped["%s/%d" % (s, n)] = stopped[s]
                    continue
                if CAP and s in ("supervisord", "pm2") and n > CAP:
                    skipped["%s/%d" % (s, n)] = (
                        "capped at %d in this run" % CAP)
                    continue
                r = run_case(ctx, s, n)
                results[str(n)][s] = r
                if isinstance(r.get("launch"), NA):
                    stopped[s] = "not run: n/a at N = %d (%s)" % (
                        n, r["launch"])
    except BaseException as e:		# noqa: BLE001 -- cleanup below
        failed = True
        log("aborted: %r" % e)
        traceback.print_exc()
    finally:
        for p in ctx.popens:
            if p.poll() is None:
                B.kill_pids([p.pid])
                p.wait(timeout=10)
        left = B.leftovers(ctx)
        if left:
            failed = True
            log("LEFT BEHIND (killing by pid): %d processes" % len(left))
            B.kill_pids([pid for pid, _ in left])
            time.sleep(0.5)
    try:
        meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"),
                "quick": QUICK, "ladder": LADDER, "params": P,
                "machine": B.machine(), "nofile": "%d/%d" % (hard, hard),
                "nofile_before": [soft, hard],
                "apm2d": ver(ctx, [B.APM2D, "--version"]),
                "s6": ver(ctx, ["dpkg-query", "-W", "-f=${Version}", "s6"]),
                "supervisord": ver(ctx, [ctx.tools["supervisord"] or "true",
                                         "--version"]),
                "pm2": "n/a", "skipped": skipped,
                "busy_before": busy_before, "busy_after": B.cpu_busy(),
                "duration_s": round((datetime.datetime.now(
                    datetime.timezone.utc) - started).total_seconds())}
        try:
            with open(os.path.join(HERE, "node_modules", "pm2",
                                   "package.json")) as f:
                meta["pm2"] = json.load(f)["version"]
        except OSError:
            pass
        outdir = (os.path.join(HERE, "results", "tmp", "quick") if QUICK
                  else os.path.join(HERE, "results"))
        publish(ctx, clean(results), meta, outdir, readme=not QUICK)
        log("results in %s, %d s" % (outdir, meta["duration_s"]))
    except Exception:			# noqa: BLE001
        failed = True
        traceback.print_exc()
    finally:
        shutil.rmtree(ctx.root, ignore_errors=True)
    if failed:
        log("FAILED (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
