#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench.py -- apm2d against supervisord and pm2, side by side (issue 8).

    python3 bench/bench.py [--quick]
    python3 bench/bench.py --from-json	(re-render the last full run)

Normally started by bench/run.sh (`make bench`, `make bench QUICK=1`),
which installs the tools first.  Measures, for each of apm2d, supervisord
and pm2, on identical workloads and in the same run (the peers' order
rotates from run to run):

  1. RSS of the daemon's own processes, idle and with 100 x sleep running
  2. start 100 programs via the protocol until 100 pids exist; stop them
     until all are reaped
  3. round trips on a kept connection: a trivial request and a list of 100
  4. the CLI end to end (hyperfine)
  5. restart latency after SIGKILL with each one's minimum restart delay
  6. log capture: 1 GiB of 64-byte lines until every byte is on disk, and
     completeness over 10 short-lived writers
  7. the machine's floors: raw AF_UNIX round trip, fork/exec/wait of
     /bin/true, pipe -> cat -> file

Every daemon runs in a private temporary directory, on Unix sockets only,
and is started and stopped by pid; every wait is bounded.  At the end no
process carrying this run's marker may be left: if one is, it is killed
by pid and the run fails.  Results: bench/results/latest.{md,json} and one
PNG per scenario group (a full run), or bench/results/tmp/quick/ (QUICK).
Python 3 standard library only.
"""
import datetime
import glob
import http.client
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
APM2D = os.path.join(TOP, "apm2d", "apm2d")
APM2CTL = os.path.join(TOP, "apm2ctl", "apm2ctl")
PM2_CLI = os.path.join(HERE, "node_modules", "pm2", "bin", "pm2")
PM2_JS = os.path.join(HERE, "pm2bench.js")
PEERS = ("apm2d", "supervisord", "pm2")
SERIES = PEERS + ("floor",)
PROGRAM_COMMS = ("sleep", "lw")
MIB = 1 << 20

QUICK = "--quick" in sys.argv[1:]
FROM_JSON = "--from-json" in sys.argv[1:]
P = {
    "runs": 3,
    "settle": 1.0,			# s before an RSS reading
    "ping_n": 2000 if QUICK else 10000,
    "list_n": 100 if QUICK else 500,
    "warmup": 50 if QUICK else 200,
    "kills": 5 if QUICK else 20,
    "kill_settle_ms": 20,
    "cap_bytes": (128 if QUICK else 1024) * MIB,
    "sw_writers": 10,
    "sw_lines": 10000,
    "floor_rt_n": 20000 if QUICK else 100000,
    "cli_runs": {"apm2d": 30 if QUICK else 100,
                 "supervisord": 5 if QUICK else 20,
                 "pm2": 3 if QUICK else 10,
                 "floor": 30 if QUICK else 100},
    "redact_gib": 0.0625 if QUICK else 0.25,
}


class NA(Exception):
    """A figure that cannot be measured, with the reason."""


class Noted(float):
    """A value that holds only with a caveat (e.g. a lossy capture)."""

    def __new__(cls, value, note):
        o = float.__new__(cls, value)
        o.note = note
        return o


# ------------------------------------------------------------ utilities

def log(msg):
    sys.stdout.write("bench: %s\n" % msg)
    sys.stdout.flush()


def mono_ns():
    return time.monotonic_ns()


def children(pid):
    """Children of pid from every thread's children list; None if gone."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    out = []
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(w) for w in f.read().split()]
        except OSError:
            pass
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rfind(")") + 2:][:1] != "Z"


def descendants(pid):
    out, pending = [], [pid]
    while pending:
        for c in children(pending.pop()) or []:
            out.append(c)
            pending.append(c)
    return out


def count_comm(parent, name, seen):
    kids = children(parent)
    if kids is None:
        raise RuntimeError("daemon %d is gone" % parent)
    n = 0
    for k in kids:
        if k in seen or comm(k) == name:
            seen.add(k)
            n += 1
    return n


def wait_count(parent, name, want, t0, timeout):
    """Poll until parent has want children running name (0: none left)."""
    seen = set()
    while True:
        n = count_comm(parent, name, seen)
        if (n == 0) if want == 0 else (n >= want):
            return (mono_ns() - t0) / 1e3
        if (mono_ns() - t0) / 1e9 > timeout:
            raise RuntimeError("%d children run %s after %.0f s, want %d" %
                               (n, name, timeout, want))
        time.sleep(0.0001)


def rss_mib(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024.0


def uss_mib(pids):
    """Private (unshared) memory: what the daemon costs on its own."""
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith(("Private_Clean:", "Private_Dirty:")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024.0


def set_affinity_tree(root, cpus):
    """Every thread of the daemon's own processes onto cpus."""
    for p in daemon_processes(root):
        try:
            tids = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tids:
            try:
                os.sched_setaffinity(int(t), cpus)
            except OSError:
                pass


class Pinned:
    """with Pinned(ctx, daemon_pid, cpu): the daemon on cpu, then back."""

    def __init__(self, ctx, root, cpu):
        self.ctx, self.root, self.cpu = ctx, root, cpu

    def __enter__(self):
        if self.cpu is None:
            raise NA("one CPU only")
        set_affinity_tree(self.root, {self.cpu})
        return self

    def __exit__(self, *exc):
        set_affinity_tree(self.root, set(self.ctx.cpus))
        return False


def daemon_processes(root):
    """The daemon's own processes: root and its non-program descendants."""
    return [root] + [p for p in descendants(root)
                     if comm(p) not in PROGRAM_COMMS]


def wait_gone(pid, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return not alive(pid)


def kill_pids(pids, sig=signal.SIGKILL):
    for p in pids:
        try:
            os.kill(p, sig)
        except OSError:
            pass


def percentile(values, p):
    v = sorted(values)
    if not v:
        return 0.0
    pos = p / 100.0 * (len(v) - 1)
    lo = int(pos)
    if lo >= len(v) - 1:
        return v[-1]
    return v[lo] + (v[lo + 1] - v[lo]) * (pos - lo)


def median(values):
    return percentile(values, 50)


class Ctx:
    """What every part of the run shares: paths, tools, the marker."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="apm2bench.", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.marker = "APM2BENCH=" + os.path.basename(self.root)
        self.bin = os.path.join(self.root, "bin")
        os.mkdir(self.bin)
        self.env = dict(os.environ)
        self.env["APM2BENCH"] = os.path.basename(self.root)
        for k in ("PM2_HOME", "SUPERVISOR_SERVER_URL"):
            self.env.pop(k, None)
        self.sleep = shutil.which("sleep") or "/bin/sleep"
        self.tools = {
            "supervisord": shutil.which("supervisord"),
            "supervisorctl": shutil.which("supervisorctl"),
            "node": shutil.which("node"),
            "hyperfine": shutil.which("hyperfine"),
            "gnuplot": shutil.which("gnuplot"),
            "cc": shutil.which("cc") or shutil.which("gcc"),
        }
        self.popens = []
        self.na = {}
        # Round trips run pinned: client and daemon on cpu_a ("same CPU"),
        # or the daemon on cpu_b ("2 CPUs").  Unpinned, the scheduler
        # picks either regime at will and the figures jump between them.
        self.cpus = sorted(os.sched_getaffinity(0))
        self.cpu_a = self.cpus[0]
        self.cpu_b = self.cpus[1] if len(self.cpus) > 1 else None

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def run(self, argv, timeout, env=None, check=True, cpu=None):
        pre = None
        if cpu is not None:
            def pre():
                os.sched_setaffinity(0, {cpu})
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout,
                           env=env or self.env, text=True,
                           stdin=subprocess.DEVNULL, preexec_fn=pre)
        if check and r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (
                os.path.basename(argv[0]), r.returncode,
                (r.stderr or r.stdout).strip()[-600:]))
        return r

    def run_json(self, argv, timeout, env=None, cpu=None):
        out = self.run(argv, timeout, env, cpu=cpu).stdout.strip().splitlines()
        if not out:
            raise RuntimeError("%s printed nothing" % argv[0])
        return json.loads(out[-1])

    def popen(self, argv, logname, env=None):
        logf = open(self.path(logname), "ab")
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env or self.env,
                             start_new_session=True)
        logf.close()
        self.popens.append(p)
        return p


# --------------------------------------------------------- C helpers

CFLAGS = ["-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra",
          "-Wshadow", "-Wmissing-prototypes", "-Wstrict-prototypes",
          "-Wpointer-arith", "-Wsign-compare", "-D_FORTIFY_SOURCE=2",
          "-fstack-protector-strong"]
HELPERS = {"apm2c": ["apm2c.c", "proc.c"], "floor": ["floor.c", "proc.c"],
           "killwait": ["killwait.c", "proc.c"], "lw": ["lw.c"]}


def build_helpers(ctx):
    if ctx.tools["cc"] is None:
        raise SystemExit("bench: no C compiler (cc) found")
    for name, srcs in HELPERS.items():
        ctx.run([ctx.tools["cc"]] + CFLAGS + ["-o", os.path.join(ctx.bin, name)]
                + [os.path.join(HERE, s) for s in srcs], 120)
    # The redactor's own benchmark (another module's file): optional.
    try:
        pc = ctx.run(["pkg-config", "--cflags", "--libs", "libbsd-overlay"],
                     30).stdout.split()
        ctx.run([ctx.tools["cc"], "-O2", "-I" + TOP, "-I" + os.path.join(
            TOP, "common"), "-o", os.path.join(ctx.bin, "redact_bench"),
            os.path.join(HERE, "redact_bench.c"),
            os.path.join(TOP, "logger", "liblogger.a"),
            os.path.join(TOP, "common", "libcommon.a")] + pc, 120)
    except Exception as e:			# noqa: BLE001 -- reported
        ctx.na["redact_bench"] = "redact_bench did not build: %s" % str(e)[:200]


def helper(ctx, name):
    return os.path.join(ctx.bin, name)


# ---------------------------------------------- capture (shared by all)

def files_size(paths):
    total = 0
    for p in paths:
        try:
            total += os.stat(p).st_size
        except OSError:
            pass
    return total


def wait_capture(paths_fn, expected_fn, parent, timeout, t0_fn=None,
                 t0=None, stall=2.0):
    """Poll the log file(s) until they hold expected bytes.

    Returns (seconds from t0, bytes on disk, expected); seconds is None
    when the writer is gone and the files stopped growing short of the
    goal (bytes lost) or on timeout.  t0_fn lets a client in another
    process report its request time later (CLOCK_MONOTONIC ns).
    """
    start = mono_ns()
    last, last_change, done, seen = -1, mono_ns(), None, False
    grew = None
    while True:
        size = files_size(paths_fn())
        expected = expected_fn()
        now = mono_ns()
        if expected is not None and size >= expected:
            done = now
            break
        if size != last:
            last, last_change = size, now
            grew = now
        kids = children(parent)
        writers = sum(1 for k in kids or [] if comm(k) == "lw")
        seen = seen or writers > 0 or size > 0
        # Lost bytes: the writer is gone and the file stopped growing.
        if (writers == 0 and (seen or (now - start) / 1e9 > 30) and
                (now - last_change) / 1e9 > stall):
            break
        if (now - start) / 1e9 > timeout:
            break
        time.sleep(0.001)
    if t0 is None:
        t0 = t0_fn()
    secs = (done - t0) / 1e9 if done is not None else None
    last_secs = (grew - t0) / 1e9 if grew is not None and size > 0 else None
    return secs, size, expected, last_secs


def first_line_prefix(path):
    """Bytes a timestamping daemon put before each 64-byte line."""
    try:
        with open(path, "rb") as f:
            line = f.readline(4096)
    except OSError:
        return None
    if not line.endswith(b"\n"):
        return None
    return len(line) - 64


def count_writer_lines(paths, writers, lines):
    """Distinct (pid, seq) lines of lw -l on disk; (kept, expected, bad)."""
    seen, bad = {}, 0
    for p in paths:
        with open(p, "rb") as f:
            for line in f:
                parts = line.split(b" ", 2)
                if (len(line) != 64 or len(parts) != 3 or
                        not parts[2].startswith(b"line")):
                    bad += 1
                    continue
                try:
                    seen.setdefault(int(parts[0]), set()).add(int(parts[1]))
                except ValueError:
                    bad += 1
    kept = sum(len(s) for s in seen.values())
    return kept, writers * lines, bad


def wait_writers_done(parent, timeout, quiet, paths_fn):
    """Until no lw child is left and the files were quiet for a while."""
    end = time.monotonic() + timeout
    last, last_change = -1, time.monotonic()
    while time.monotonic() < end:
        size = files_size(paths_fn())
        if size != last:
            last, last_change = size, time.monotonic()
        kids = children(parent) or []
        if (not any(comm(k) == "lw" for k in kids) and
                time.monotonic() - last_change > quiet):
            return
        time.sleep(0.01)


def unlink_quiet(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def no_log_file(paths):
    """NA when a daemon wrote no log file at all (capture unsupported)."""
    if not any(os.path.exists(p) for p in paths):
        return NA("no log file was written (log capture not supported "
                  "by this build)")
    return None


def capture_result(res, key, secs, size, expected, last_secs):
    lost = (expected or 0) - size if expected is not None else None
    if key == "cap_tput":
        res["cap_lost"] = max(lost, 0) if lost is not None else NA(
            "the log file never showed its first line")
    if secs is not None:
        res[key] = P["cap_bytes"] / MIB / secs
    elif last_secs and expected:
        # Lossy: what did arrive, over the time until it stopped arriving.
        got = P["cap_bytes"] * size / expected
        res[key] = Noted(got / MIB / last_secs, "lossy (only bytes that "
                         "reached the file, over the time to the last one)")
    else:
        res[key] = NA("incomplete: %d of %s bytes on disk after the writer "
                      "exited" % (size, expected))


# ----------------------------------------------------------------- apm2d

class Apm2d:
    name = "apm2d"

    def __init__(self, ctx):
        self.ctx = ctx
        self.proc = None
        self.dir = None

    def conf_main(self, d):
        env = 'env = { APM2BENCH = "%s" }' % self.ctx.env["APM2BENCH"]
        lw = helper(self.ctx, "lw")
        s = ['[daemon]',
             'pid_file = "%s/apm2.pid"' % d,
             'socket = "%s/apm2.sock"' % d,
             'log_dir = "%s/log"' % d,
             'state_file = "%s/state.json"' % d,
             'shutdown_timeout = "10s"', '',
             '[[processes]]', 'name = "sl"',
             'command = "%s"' % self.ctx.sleep, 'args = ["100000"]',
             'instances = 100', 'autostart = false', env, '',
             '[[processes]]', 'name = "r"',
             'command = "%s"' % self.ctx.sleep, 'args = ["100000"]',
             'autostart = false', env,
             '[processes.restart]', 'max_restarts = 1000000',
             'min_uptime = "0s"',
             '[processes.restart.backoff]', 'type = "fixed"',
             'delay = "0s"', '']
        for name, ts in (("w", "false"), ("wt", "true")):
            s += ['[[processes]]', 'name = "%s"' % name,
                  'command = "%s"' % lw, 'args = ["%d"]' % P["cap_bytes"],
                  'autostart = false', env,
                  '[processes.log]',
                  'out_file = "%s/cap/%s.log"' % (d, name),
                  'err_file = "%s/cap/%s.err.log"' % (d, name),
                  'timestamp = %s' % ts, 'redact = %s' % ts,
                  '[processes.log.rotation]',
                  'max_size = %d' % (8 * P["cap_bytes"]), 'max_files = 1', '']
        s += ['[[processes]]', 'name = "sw"', 'command = "%s"' % lw,
              'args = ["-l", "%d"]' % P["sw_lines"],
              'instances = %d' % P["sw_writers"], 'autostart = false', env,
              '[processes.log]', 'out_file = "%s/sw/sw.log"' % d,
              'err_file = "%s/sw-err/sw.err.log"' % d, '']
        return "\n".join(s)

    def conf_list(self, d):
        s = ['[daemon]',
             'pid_file = "%s/apm2.pid"' % d,
             'socket = "%s/apm2.sock"' % d,
             'log_dir = "%s/log"' % d,
             'state_file = "%s/state.json"' % d,
             'shutdown_timeout = "10s"', '']
        for i in range(100):
            s += ['[[processes]]', 'name = "b%03d"' % i,
                  'command = "%s"' % self.ctx.sleep, 'args = ["100000"]',
                  'env = { APM2BENCH = "%s" }' % self.ctx.env["APM2BENCH"],
                  '']
        return "\n".join(s)

    def start(self, kind, run):
        if not os.access(APM2D, os.X_OK):
            raise NA("apm2d/apm2d is not built")
        d = self.ctx.path("apm2d-%s-%d" % (kind, run))
        os.mkdir(d)
        for sub in ("cap", "sw", "sw-err"):
            os.mkdir(os.path.join(d, sub))
        self.dir = d
        self.sock = os.path.join(d, "apm2.sock")
        self.conf = os.path.join(d, "apm2.toml")
        with open(self.conf, "w") as f:
            f.write(self.conf_main(d) if kind == "main" else self.conf_list(d))
        self.proc = self.ctx.popen([APM2D, "-d", "-f", self.conf],
                                   "apm2d-%s-%d.log" % (kind, run))
        self.pid = self.proc.pid
        end = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("apm2d exited %d (see %s)" % (
                    self.proc.returncode, self.ctx.path(
                        "apm2d-%s-%d.log" % (kind, run))))
            try:
                if self.request({"type": "ping"})["type"] == "pong":
                    break
            except OSError:
                pass
            if time.monotonic() > end:
                raise RuntimeError("apm2d does not answer")
            time.sleep(0.01)

    def stop(self):
        if self.proc is None:
            return
        kids = descendants(self.pid)
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log("apm2d %d ignored SIGTERM for 20 s: SIGKILL" % self.pid)
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        left = [k for k in kids if alive(k)]
        for k in left:
            wait_gone(k, 5)
        left = [k for k in left if alive(k)]
        if left:
            log("apm2d left %s behind: SIGKILL" % left)
            kill_pids(left)
        self.proc = None

    def request(self, obj, timeout=30):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.sock)
            data = json.dumps(obj).encode()
            s.sendall(struct.pack(">I", len(data)) + data)
            hdr = self._recv(s, 4)
            return json.loads(self._recv(s, struct.unpack(">I", hdr)[0]))
        finally:
            s.close()

    @staticmethod
    def _recv(s, n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise OSError("connection closed")
            buf += chunk
        return buf

    def ok(self, obj):
        r = self.request(obj)
        if r.get("type") != "ok":
            raise NA("%s: %s" % (obj["type"], r.get("message", r)))
        return r

    def c(self, *args, timeout=600):
        return self.ctx.run_json([helper(self.ctx, "apm2c")] + list(args),
                                 timeout)

    def start100(self):
        return self.c("start", self.sock, "sl", str(self.pid), "100",
                      "sleep", "30000")

    def stop100(self):
        return self.c("stop", self.sock, "sl", str(self.pid), "sleep",
                      "60000")

    def rt(self, what, n, cpu):
        req = {"ping": ('{"type":"ping"}', '"type":"pong"'),
               "status": ('{"type":"status"}', '"type":"status"'),
               "list": ('{"type":"list_processes"}',
                        '"type":"process_list"')}[what]
        return self.ctx.run_json([helper(self.ctx, "apm2c"), "rt", self.sock,
                                  req[0], req[1], str(n), str(P["warmup"])],
                                 600, cpu=cpu)

    def restart(self, kills):
        self.ok({"type": "start_process", "name": "r"})
        r = self.c("restart", self.sock, "r", str(self.pid), str(kills),
                   str(P["kill_settle_ms"]), "10000")
        self.ok({"type": "stop_process", "name": "r"})
        return r

    def capture(self, name):
        path = os.path.join(self.dir, "cap", name + ".log")
        if name == "w":
            def expected():
                return P["cap_bytes"]
        else:
            def expected():
                pre = first_line_prefix(path)
                return (None if pre is None else
                        P["cap_bytes"] + P["cap_bytes"] // 64 * pre)
        t0 = mono_ns()
        self.ok({"type": "start_process", "name": name})
        r = wait_capture(lambda: [path], expected, self.pid, 600, t0=t0)
        na = no_log_file([path])
        if na is not None:
            raise na
        unlink_quiet(path)
        return r

    def short_writers(self):
        d = os.path.join(self.dir, "sw")
        self.ok({"type": "start_process", "name": "sw"})
        wait_writers_done(self.pid, 60, 1.0,
                          lambda: glob.glob(os.path.join(d, "*")))
        return glob.glob(os.path.join(d, "*"))

    def cli(self):
        return [APM2CTL, "-s", self.sock, "list"]

    def list_ready(self):
        r = self.request({"type": "list_processes"})
        ps = r.get("processes", [])
        if len(ps) != 100 or any(p.get("running") != 1 for p in ps):
            raise RuntimeError("list_processes: %d processes, not all "
                               "running" % len(ps))


# ----------------------------------------------------------- supervisord

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path
        self.connects = 0

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s
        self.connects += 1


class UnixTransport(xmlrpc.client.Transport):
    """XML-RPC over supervisord's Unix socket, one kept HTTP/1.1 connection."""

    def __init__(self, path, timeout=30):
        super().__init__()
        self.unix_path = path
        self.timeout = timeout
        self.conn = None

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        self.conn = UnixHTTPConnection(self.unix_path, self.timeout)
        self._connection = host, self.conn
        return self.conn


class Supervisord:
    name = "supervisord"

    def __init__(self, ctx):
        self.ctx = ctx
        self.proc = None

    def conf(self, d, kind):
        lw = helper(self.ctx, "lw")
        s = ["[unix_http_server]", "file=%s/sv.sock" % d, "chmod=0700", "",
             "[supervisord]", "nodaemon=true",
             "logfile=%s/supervisord.log" % d, "logfile_maxbytes=0",
             "pidfile=%s/supervisord.pid" % d,
             "childlogdir=%s/childlog" % d, "minfds=1024", "minprocs=200",
             "", "[rpcinterface:supervisor]",
             "supervisor.rpcinterface_factory = "
             "supervisor.rpcinterface:make_main_rpcinterface", "",
             "[supervisorctl]", "serverurl=unix://%s/sv.sock" % d, ""]
        if kind == "list":
            return "\n".join(s + [
                "[program:b]", "command=%s 100000" % self.ctx.sleep,
                "process_name=%(program_name)s%(process_num)03d",
                "numprocs=100", "autostart=true", "autorestart=true",
                "startsecs=0", ""])
        s += ["[program:sl]", "command=%s 100000" % self.ctx.sleep,
              "process_name=%(program_name)s_%(process_num)03d",
              "numprocs=100", "autostart=false", "autorestart=true",
              "startsecs=0", "",
              "[program:r]", "command=%s 100000" % self.ctx.sleep,
              "autostart=false", "autorestart=true", "startsecs=0",
              "startretries=1000000", "",
              "[program:w]", "command=%s %d" % (lw, P["cap_bytes"]),
              "autostart=false", "autorestart=false", "startsecs=0",
              "stdout_logfile=%s/cap/w.log" % d,
              "stdout_logfile_maxbytes=0", "stdout_logfile_backups=0",
              "stderr_logfile=%s/cap/w.err.log" % d,
              "stderr_logfile_maxbytes=0", "",
              "[program:sw]", "command=%s -l %d" % (lw, P["sw_lines"]),
              "process_name=%(program_name)s_%(process_num)02d",
              "numprocs=%d" % P["sw_writers"],
              "autostart=false", "autorestart=false", "startsecs=0",
              "stdout_logfile=%s/sw/sw_%%(process_num)02d.log" % d,
              "stdout_logfile_maxbytes=0",
              "stderr_logfile=%s/sw-err/sw_%%(process_num)02d.log" % d,
              "stderr_logfile_maxbytes=0", ""]
        return "\n".join(s)

    def start(self, kind, run):
        if self.ctx.tools["supervisord"] is None:
            raise NA("supervisord is not installed")
        d = self.ctx.path("sv-%s-%d" % (kind, run))
        for sub in ("", "childlog", "cap", "sw", "sw-err"):
            os.mkdir(os.path.join(d, sub))
        self.dir = d
        self.conf_path = os.path.join(d, "supervisord.conf")
        with open(self.conf_path, "w") as f:
            f.write(self.conf(d, kind))
        self.sock = os.path.join(d, "sv.sock")
        self.proc = self.ctx.popen([self.ctx.tools["supervisord"], "-n",
                                    "-c", self.conf_path],
                                   "sv-%s-%d.log" % (kind, run))
        self.pid = self.proc.pid
        self.transport = UnixTransport(self.sock)
        self.rpc = xmlrpc.client.ServerProxy("http://localhost/RPC2",
                                             transport=self.transport)
        end = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("supervisord exited %d" %
                                   self.proc.returncode)
            try:
                if self.rpc.supervisor.getState()["statename"] == "RUNNING":
                    break
            except (OSError, xmlrpc.client.Fault):
                self.transport.close()
            if time.monotonic() > end:
                raise RuntimeError("supervisord does not answer")
            time.sleep(0.02)

    def stop(self):
        if self.proc is None:
            return
        self.transport.close()
        kids = descendants(self.pid)
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log("supervisord %d ignored SIGTERM for 30 s: SIGKILL" % self.pid)
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        left = [k for k in kids if alive(k)]
        if left:
            log("supervisord left %s behind: SIGKILL" % left)
            kill_pids(left)
        self.proc = None

    def start100(self):
        t0 = mono_ns()
        self.rpc.supervisor.startProcessGroup("sl", False)
        reply = (mono_ns() - t0) / 1e3
        done = wait_count(self.pid, "sleep", 100, t0, 60)
        return {"reply_us": reply, "done_us": done}

    def stop100(self):
        t0 = mono_ns()
        self.rpc.supervisor.stopProcessGroup("sl", False)
        reply = (mono_ns() - t0) / 1e3
        done = wait_count(self.pid, "sleep", 0, t0, 60)
        return {"reply_us": reply, "done_us": done}

    def rt(self, what, n, cpu):
        if what not in ("ping", "list"):
            raise NA("no equivalent request")
        old = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
        try:
            return self._rt(what, n)
        finally:
            os.sched_setaffinity(0, old)

    def _rt(self, what, n):
        if what == "ping":
            def op():
                return self.rpc.supervisor.getState()["statecode"] == 1
        elif what == "list":
            def op():
                return len(self.rpc.supervisor.getAllProcessInfo()) == 100
        else:
            raise NA("no equivalent request")
        v = []
        before = self.transport.conn.connects if self.transport.conn else 0
        for i in range(P["warmup"] + n):
            t0 = time.perf_counter_ns()
            ok = op()
            t = (time.perf_counter_ns() - t0) / 1e3
            if not ok:
                raise RuntimeError("unexpected reply")
            if i >= P["warmup"]:
                v.append(t)
        if self.transport.conn.connects - before > 1:
            raise RuntimeError("the HTTP connection was not kept")
        return stats(v)

    def restart(self, kills):
        self.rpc.supervisor.startProcess("r", False)
        v = []
        for _ in range(kills):
            end = time.monotonic() + 10
            while True:
                info = self.rpc.supervisor.getProcessInfo("r")
                if (info["statename"] == "RUNNING" and info["pid"] > 0 and
                        comm(info["pid"]) == "sleep"):
                    break
                if time.monotonic() > end:
                    raise RuntimeError("r is %s" % info["statename"])
                time.sleep(0.005)
            out = self.ctx.run([helper(self.ctx, "killwait"), str(self.pid),
                                str(info["pid"]), "10000"], 20).stdout
            v.append(float(out))
            time.sleep(P["kill_settle_ms"] / 1000.0)
        self.rpc.supervisor.stopProcess("r", False)
        return stats(v, samples=True)

    def capture(self, name):
        if name != "w":
            raise NA("no timestamps or redaction")
        path = os.path.join(self.dir, "cap", "w.log")
        t0 = mono_ns()
        self.rpc.supervisor.startProcess("w", False)
        r = wait_capture(lambda: [path], lambda: P["cap_bytes"], self.pid,
                         600, t0=t0)
        na = no_log_file([path])
        if na is not None:
            raise na
        unlink_quiet(path)
        return r

    def short_writers(self):
        d = os.path.join(self.dir, "sw")
        self.rpc.supervisor.startProcessGroup("sw", False)
        wait_writers_done(self.pid, 60, 1.0,
                          lambda: glob.glob(os.path.join(d, "*")))
        return glob.glob(os.path.join(d, "*"))

    def cli(self):
        return [self.ctx.tools["supervisorctl"], "-c", self.conf_path,
                "status"]

    def list_ready(self):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            infos = self.rpc.supervisor.getAllProcessInfo()
            if (len(infos) == 100 and
                    all(i["statename"] == "RUNNING" for i in infos)):
                return
            time.sleep(0.05)
        raise RuntimeError("the 100 programs are not all RUNNING")


# ------------------------------------------------------------------- pm2

class Pm2:
    name = "pm2"

    def __init__(self, ctx):
        self.ctx = ctx
        self.god = None

    def start(self, kind, run):
        if self.ctx.tools["node"] is None or not os.path.exists(PM2_CLI):
            raise NA("node or bench/node_modules/pm2 is missing")
        d = self.ctx.path("pm2-%s-%d" % (kind, run))
        for sub in ("", "home", "cap", "sw", "sw-err"):
            os.mkdir(os.path.join(d, sub))
        self.dir = d
        self.env = dict(self.ctx.env)
        self.env.update(PM2_HOME=os.path.join(d, "home"),
                        PM2_DISCRETE_MODE="true",
                        PM2_DISABLE_VERSION_CHECK="true")
        self.ctx.run([self.ctx.tools["node"], PM2_CLI, "ping"], 60, self.env)
        with open(os.path.join(d, "home", "pm2.pid")) as f:
            self.god = int(f.read().strip())
        if not alive(self.god):
            raise RuntimeError("pm2's God daemon %d is not running" % self.god)
        if kind == "list":
            self.js("start100", name="sl", n=100, god=self.god,
                    timeout_ms=60000)

    def stop(self):
        if self.god is None:
            return
        kids = descendants(self.god)
        try:
            self.ctx.run([self.ctx.tools["node"], PM2_CLI, "kill"], 120,
                         self.env)
        except Exception as e:		# noqa: BLE001 -- then by pid
            log("pm2 kill failed (%s); killing the daemon by pid" % e)
        if not wait_gone(self.god, 15):
            log("pm2 God daemon %d still there: SIGKILL" % self.god)
            kill_pids([self.god])
            wait_gone(self.god, 5)
        left = [k for k in kids if alive(k)]
        if left:
            log("pm2 left %s behind: SIGKILL" % left)
            kill_pids(left)
        self.god = None

    def js(self, cmd, timeout=900, cpu=None, **arg):
        arg.setdefault("sleep", self.ctx.sleep)
        arg.setdefault("env", {"APM2BENCH": self.ctx.env["APM2BENCH"]})
        return self.ctx.run_json([self.ctx.tools["node"], PM2_JS, cmd,
                                  json.dumps(arg)], timeout, self.env,
                                 cpu=cpu)

    @property
    def pid(self):
        return self.god

    def start100(self):
        return self.js("start100", name="sl", n=100, god=self.god,
                       timeout_ms=60000)

    def stop100(self):
        r = self.js("stop100", name="sl", god=self.god, timeout_ms=120000)
        self.js("delete", name="sl")
        return r

    def rt(self, what, n, cpu):
        if what == "status":
            raise NA("no equivalent request")
        return self.js("rt", cpu=cpu, what=what, n=n, warmup=P["warmup"],
                       expect=100)

    def restart(self, kills):
        return self.js("restart", name="r", god=self.god, kills=kills,
                       settle_ms=P["kill_settle_ms"], timeout_ms=10000,
                       killwait=helper(self.ctx, "killwait"))

    def _startapp_async(self, app):
        arg = {"app": app, "env": {"APM2BENCH": self.ctx.env["APM2BENCH"]}}
        logf = open(self.ctx.path("pm2-startapp.log"), "ab")
        p = subprocess.Popen([self.ctx.tools["node"], PM2_JS, "startapp",
                              json.dumps(arg)], stdout=subprocess.PIPE,
                             stderr=logf, stdin=subprocess.DEVNULL,
                             env=self.env)
        logf.close()
        self.ctx.popens.append(p)
        return p

    @staticmethod
    def _t0(p):
        out, _ = p.communicate(timeout=120)
        if p.returncode != 0:
            raise RuntimeError("pm2bench startapp failed")
        return int(json.loads(out.decode().strip().splitlines()[-1])["t0_ns"])

    def capture(self, name):
        if name != "w":
            raise NA("no redaction")
        path = os.path.join(self.dir, "cap", "w.log")
        p = self._startapp_async({
            "name": "w", "script": helper(self.ctx, "lw"),
            "args": [str(P["cap_bytes"])], "out_file": path,
            "error_file": os.path.join(self.dir, "cap", "w.err.log"),
            "merge_logs": True})
        r = wait_capture(lambda: [path], lambda: P["cap_bytes"], self.god,
                         600, t0_fn=lambda: self._t0(p))
        if p.poll() is None:
            self._t0(p)
        self.js("delete", name="w")
        na = no_log_file([path])
        if na is not None:
            raise na
        unlink_quiet(path)
        return r

    def short_writers(self):
        d = os.path.join(self.dir, "sw")
        p = self._startapp_async({
            "name": "sw", "script": helper(self.ctx, "lw"),
            "args": ["-l", str(P["sw_lines"])],
            "instances": P["sw_writers"],
            "out_file": os.path.join(d, "sw.log"),
            "error_file": os.path.join(self.dir, "sw-err", "sw.err.log")})
        self._t0(p)
        wait_writers_done(self.god, 60, 1.0,
                          lambda: glob.glob(os.path.join(d, "*")))
        self.js("delete", name="sw")
        return glob.glob(os.path.join(d, "*"))

    def cli(self):
        return [self.ctx.tools["node"], PM2_CLI, "jlist"]

    def list_ready(self):
        pass				# start100 waited for the 100 pids


# ------------------------------------------------------------- scenarios

def stats(v, samples=False):
    s = sorted(v)
    r = {"unit": "us", "n": len(s), "median": median(s),
         "p99": percentile(s, 99), "min": s[0], "max": s[-1],
         "mean": sum(s) / len(s)}
    if samples:
        r["samples"] = v
    return r


def hyperfine(ctx, argv, runs, env, name):
    if ctx.tools["hyperfine"] is None:
        raise NA("hyperfine is not installed")
    out = ctx.path("hf-%s.json" % name)
    cmd = " ".join(shlex.quote(a) for a in argv)
    ctx.run([ctx.tools["hyperfine"], "-N", "-i", "--style", "basic",
             "--warmup", "3", "--runs", str(runs), "--export-json", out, cmd],
            1200, env)
    with open(out) as f:
        r = json.load(f)["results"][0]
    os.unlink(out)
    if r.get("exit_codes") and any(c not in (0, None) for c in
                                   r["exit_codes"]) and name != "supervisord":
        raise RuntimeError("%s exited non-zero under hyperfine" % cmd)
    return r["median"] * 1e3


def attempt(res, key, fn):
    """res[key] = fn(), or NA(reason) when it cannot be measured."""
    try:
        res[key] = fn()
    except NA as e:
        res[key] = e
    except Exception as e:			# noqa: BLE001 -- recorded as n/a
        res[key] = NA("failed: %s" % str(e).strip().splitlines()[-1][:300]
                      if str(e).strip() else "failed: %r" % e)
        log("%s: %s" % (key, res[key]))
        if os.environ.get("BENCH_DEBUG"):
            traceback.print_exc()


def run_peer(ctx, peer, run):
    res = {}
    log("run %d: %s" % (run, peer.name))
    try:
        peer.start("main", run)
    except Exception as e:			# noqa: BLE001 -- all n/a
        reason = e if isinstance(e, NA) else NA("did not start: %s" % e)
        log("%s: %s" % (peer.name, reason))
        peer.stop()
        return {k: reason for k in FIGURE_IDS}
    try:
        time.sleep(P["settle"])
        attempt(res, "rss_idle", lambda: rss_mib(daemon_processes(peer.pid)))
        attempt(res, "uss_idle", lambda: uss_mib(daemon_processes(peer.pid)))
        st = {}
        attempt(st, "s", peer.start100)
        res["start100"] = (st["s"] if isinstance(st["s"], NA)
                           else st["s"]["done_us"] / 1e3)
        if not isinstance(st["s"], NA):
            time.sleep(P["settle"])
            attempt(res, "rss_100", lambda: rss_mib(daemon_processes(peer.pid)))
            attempt(res, "uss_100", lambda: uss_mib(daemon_processes(peer.pid)))
            sp = {}
            attempt(sp, "s", peer.stop100)
            res["stop100"] = (sp["s"] if isinstance(sp["s"], NA)
                              else sp["s"]["done_us"] / 1e3)
        else:
            res["rss_100"] = res["uss_100"] = res["stop100"] = NA(
                "start of 100 failed")
        rt = {}

        def pinned_rt(what, cpu_daemon):
            with Pinned(ctx, peer.pid, cpu_daemon):
                return peer.rt(what, P["ping_n"], ctx.cpu_a)
        attempt(rt, "ping", lambda: pinned_rt("ping", ctx.cpu_a))
        for k, f in (("rt_ping", "median"), ("rt_ping_p99", "p99")):
            res[k] = rt["ping"] if isinstance(rt["ping"], NA) else rt["ping"][f]
        attempt(rt, "status", lambda: pinned_rt("status", ctx.cpu_a))
        res["rt_status"] = (rt["status"] if isinstance(rt["status"], NA)
                            else rt["status"]["median"])
        attempt(rt, "x", lambda: pinned_rt("ping", ctx.cpu_b))
        res["rt_ping_x"] = (rt["x"] if isinstance(rt["x"], NA)
                            else rt["x"]["median"])
        rs = {}
        attempt(rs, "r", lambda: peer.restart(P["kills"]))
        if isinstance(rs["r"], NA):
            res["restart"] = rs["r"]
        else:
            res["restart"] = rs["r"]["median"] / 1e3
            res["_restart_samples_us"] = rs["r"].get("samples")
        for key, name in (("cap_tput", "w"), ("cap_tput_ts", "wt")):
            cap = {}
            attempt(cap, "c", lambda: peer.capture(name))
            if isinstance(cap["c"], NA):
                res[key] = cap["c"]
                if key == "cap_tput":
                    res["cap_lost"] = cap["c"]
            else:
                capture_result(res, key, *cap["c"])
        sw = {}
        attempt(sw, "files", peer.short_writers)
        if isinstance(sw["files"], NA):
            res["sw_lost"] = sw["files"]
        elif not sw["files"]:
            res["sw_lost"] = no_log_file([])
        else:
            kept, expected, bad = count_writer_lines(
                sw["files"], P["sw_writers"], P["sw_lines"])
            res["sw_lost"] = expected - kept
            res["_sw"] = {"kept": kept, "expected": expected, "bad": bad}
    finally:
        peer.stop()
    try:
        peer.start("list", run)
    except Exception as e:			# noqa: BLE001
        reason = e if isinstance(e, NA) else NA("did not start: %s" % e)
        peer.stop()
        for k in ("rt_list", "rt_list_p99", "cli_list"):
            res[k] = reason
        return res
    try:
        rl = {}
        attempt(rl, "ready", peer.list_ready)
        if isinstance(rl["ready"], NA):
            for k in ("rt_list", "rt_list_p99", "cli_list"):
                res[k] = rl["ready"]
        else:
            def pinned_list():
                with Pinned(ctx, peer.pid, ctx.cpu_a):
                    return peer.rt("list", P["list_n"], ctx.cpu_a)
            attempt(rl, "l", pinned_list)
            for k, f in (("rt_list", "median"), ("rt_list_p99", "p99")):
                res[k] = rl["l"] if isinstance(rl["l"], NA) else rl["l"][f]
            env = getattr(peer, "env", ctx.env)
            attempt(res, "cli_list", lambda: hyperfine(
                ctx, peer.cli(), P["cli_runs"][peer.name], env, peer.name))
    finally:
        peer.stop()
    return res


def run_floor(ctx, run):
    log("run %d: floors" % run)
    res = {}

    def rt(cpu_child):
        if cpu_child is None:
            raise NA("one CPU only")
        return ctx.run_json([helper(ctx, "floor"), "rt", str(P["floor_rt_n"]),
                             "1000", str(ctx.cpu_a), str(cpu_child)], 300)
    f = {}
    attempt(f, "rt", lambda: rt(ctx.cpu_a))
    for k, s in (("rt_ping", "median"), ("rt_ping_p99", "p99"),
                 ("rt_status", "median")):
        res[k] = f["rt"] if isinstance(f["rt"], NA) else f["rt"][s]
    attempt(f, "x", lambda: rt(ctx.cpu_b))
    res["rt_ping_x"] = f["x"] if isinstance(f["x"], NA) else f["x"]["median"]
    # The floor is what the machine can do: the median of 5 tries.
    attempt(res, "start100", lambda: median([ctx.run_json(
        [helper(ctx, "floor"), "spawn", "100"], 120)["total_us"] / 1e3
        for _ in range(5)]))

    def pipe():
        out = ctx.path("pipe.out")
        cmd = "%s %d | cat > %s" % (shlex.quote(helper(ctx, "lw")),
                                    P["cap_bytes"], shlex.quote(out))
        t0 = mono_ns()
        ctx.run(["/bin/sh", "-c", cmd], 600)
        secs = (mono_ns() - t0) / 1e9
        size = os.stat(out).st_size
        os.unlink(out)
        if size != P["cap_bytes"]:
            raise RuntimeError("cat wrote %d bytes" % size)
        return P["cap_bytes"] / MIB / secs
    attempt(res, "cap_tput", pipe)
    attempt(res, "cli_list", lambda: hyperfine(
        ctx, ["/bin/true"], P["cli_runs"]["floor"], ctx.env, "floor"))
    return res


def run_redact_bench(ctx):
    if "redact_bench" in ctx.na:
        return NA(ctx.na["redact_bench"])
    try:
        out = ctx.run([helper(ctx, "redact_bench"), str(P["redact_gib"])],
                      600).stdout
    except Exception as e:			# noqa: BLE001
        return NA("redact_bench failed: %s" % str(e)[:200])
    for line in out.splitlines():
        if line.startswith("redact_feed:"):
            return float(line.split()[1])
    return NA("redact_bench printed no redact_feed line")


# --------------------------------------------------------------- figures

CAP_TXT = ("%d GiB" % (P["cap_bytes"] >> 30) if P["cap_bytes"] % (1 << 30) == 0
           else "%d MiB" % (P["cap_bytes"] >> 20))

# id, group, label, unit, better
FIGURES = [
    ("rss_idle", "memory", "idle RSS of the daemon's processes", "MiB",
     "low"),
    ("rss_100", "memory", "RSS with 100 × sleep running (daemon only)",
     "MiB", "low"),
    ("uss_idle", "memory", "idle private memory (USS: RSS less shared "
     "pages)", "MiB", "low"),
    ("uss_100", "memory", "private memory with 100 running", "MiB", "low"),
    ("start100", "lifecycle", "start 100 programs → 100 pids", "ms", "low"),
    ("stop100", "lifecycle", "stop 100 → all reaped", "ms", "low"),
    ("restart", "lifecycle", "restart after SIGKILL → new pid (median)",
     "ms", "low"),
    ("rt_ping", "latency", "trivial request round trip, median", "µs",
     "low"),
    ("rt_ping_p99", "latency", "trivial request round trip, p99", "µs",
     "low"),
    ("rt_status", "latency", "apm2d status round trip (crosses to the "
     "supervisor), median", "µs", "low"),
    ("rt_ping_x", "latency", "trivial request round trip, client and "
     "daemon on 2 CPUs, median", "µs", "low"),
    ("rt_list", "latency", "list of 100 round trip, median", "µs", "low"),
    ("rt_list_p99", "latency", "list of 100 round trip, p99", "µs", "low"),
    ("cli_list", "cli", "CLI list of 100, end to end", "ms", "low"),
    ("cap_tput", "logs", "log capture, %s of 64-byte lines" % CAP_TXT,
     "MiB/s", "high"),
    ("cap_tput_ts", "logs", "log capture with timestamps + redaction",
     "MiB/s", "high"),
    ("cap_lost", "logs", "bytes lost of the %s" % CAP_TXT, "bytes", "low"),
    ("sw_lost", "logs", "lines lost, %d short-lived writers × %d lines" % (
        P["sw_writers"], P["sw_lines"]), "lines", "low"),
    ("redact", "logs", "redactor alone (redact_bench, redact_feed)",
     "MiB/s", "high"),
]
FIGURE_IDS = [f[0] for f in FIGURES]
FLOOR_NAMES = {
    "rt_ping": "raw 64-byte AF_UNIX round trip",
    "rt_ping_p99": "raw 64-byte AF_UNIX round trip, p99",
    "rt_status": "raw 64-byte AF_UNIX round trip",
    "rt_ping_x": "raw 64-byte AF_UNIX round trip, 2 CPUs",
    "start100": "fork/exec/wait /bin/true × 100",
    "cap_tput": "lw | cat > file",
    "cli_list": "exec /bin/true (hyperfine)",
}
GROUPS = [
    ("memory", "Memory of the supervisor's own processes (RSS and "
     "private)", "MiB"),
    ("lifecycle", "Process lifecycle (100 × sleep; restart after SIGKILL)",
     "ms"),
    ("latency", "Control round trips on a kept connection", "µs"),
    ("cli", "CLI end to end: apm2ctl list / supervisorctl status / "
     "pm2 jlist (100 programs)", "ms"),
    ("logs", "Log capture throughput (64-byte lines)", "MiB/s"),
]
CHART_FIGS = {"memory": ["rss_idle", "rss_100", "uss_idle", "uss_100"],
              "lifecycle": ["start100", "stop100", "restart"],
              "latency": ["rt_ping", "rt_ping_p99", "rt_status",
                          "rt_ping_x", "rt_list", "rt_list_p99"],
              "cli": ["cli_list"],
              "logs": ["cap_tput", "cap_tput_ts", "redact"]}
SHORT = {"rss_idle": "RSS idle", "rss_100": "RSS, 100 running",
         "uss_idle": "private idle", "uss_100": "private, 100 running",
         "start100": "start 100", "stop100": "stop 100",
         "restart": "restart (median)", "rt_ping": "ping median",
         "rt_ping_p99": "ping p99", "rt_status": "status median",
         "rt_ping_x": "ping, 2 CPUs",
         "rt_list": "list 100 median", "rt_list_p99": "list 100 p99",
         "cli_list": "list of 100", "cap_tput": "plain",
         "cap_tput_ts": "timestamps+redaction",
         "redact": "redactor alone"}


def aggregate(runs):
    """runs: list of {series: {fig: value|NA}} -> {fig: {series: agg}}.

    A figure some runs could not measure keeps the others' values and says
    how many runs failed and why; so does a value with a caveat (Noted):
    both give "partial".  No value at all gives "na".
    """
    out = {}
    for fig in FIGURE_IDS:
        out[fig] = {}
        for s in SERIES:
            vals, reasons, caveats = [], [], []
            for r in runs:
                v = r.get(s, {}).get(fig)
                if isinstance(v, NA):
                    reasons.append(str(v))
                elif v is not None:
                    vals.append(float(v))
                    if isinstance(v, Noted):
                        caveats.append(v.note)
            n = len(runs)
            if vals:
                e = {"median": median(vals), "min": min(vals),
                     "max": max(vals), "runs": vals}
                notes = []
                if reasons:
                    notes.append("%d of %d runs not measured: %s" % (
                        len(reasons), n, reasons[0]))
                if caveats:
                    notes.append("%d of %d runs %s" % (len(caveats), n,
                                                       caveats[0]))
                if notes:
                    e["partial"] = "; ".join(notes)
                out[fig][s] = e
            elif reasons:
                out[fig][s] = {"na": reasons[0], "runs": []}
    return out


def fmt(v, unit):
    if unit == "bytes" or unit == "lines":
        return "%d" % round(v)
    if v >= 1000:
        return "%.0f" % v
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    if v >= 1:
        return "%.2f" % v
    return "%.3f" % v


def compact(v, unit):
    """A chart label: 16147 -> 16.1k, so neighbouring labels fit."""
    if v >= 10000:
        return "%.1fk" % (v / 1000)
    return fmt(v, unit)


def cell(a, unit, note):
    """Median [min–max]; note(text) gives a footnote mark for text."""
    if a is None:
        return "—"
    if "na" in a:
        return "n/a" + note(a["na"])
    txt = fmt(a["median"], unit)
    if len(a["runs"]) > 1 and a["min"] != a["max"]:
        txt += " [%s–%s]" % (fmt(a["min"], unit), fmt(a["max"], unit))
    if "partial" in a:
        txt += note(a["partial"])
    return txt


def ratio(a, b):
    if (a is None or b is None or "na" in a or "na" in b or
            "partial" in a or "partial" in b or b["median"] == 0):
        return None
    return a["median"] / b["median"]


def best_peer(agg, fig, better):
    cands = [agg[fig][p] for p in ("supervisord", "pm2")
             if p in agg[fig] and "na" not in agg[fig][p] and
             "partial" not in agg[fig][p]]
    if not cands:
        return None
    key = (lambda a: a["median"])
    return min(cands, key=key) if better == "low" else max(cands, key=key)


def fmt_ratio(r):
    if r is None:
        return "—"
    if r >= 10:
        return "%.0f×" % r
    if r >= 0.1:
        return "%.2f×" % r
    return "%.3f×" % r


def targets(agg):
    """Issue 4/5/6 targets: (text, limit text, apm2d text, met, note)."""
    def med(fig, s="apm2d"):
        a = agg[fig].get(s)
        if a is None or "na" in a:
            return None
        # Losses: the worst run counts ("zero lost in every run").
        return a["max"] if fig in ("cap_lost", "sw_lost") else a["median"]
    rows = []

    def add(text, fig, limit, unit, better="low", floor=None, factor=None):
        v = med(fig)
        if floor is not None:
            fv = med(fig, "floor")
            if fv is None:
                rows.append((text, "n/a", "n/a", None, "floor missing"))
                return
            limit = fv * factor
            ltxt = "%s %s (%.4g × floor %s)" % (fmt(limit, unit), unit,
                                                 factor, fmt(fv, unit))
        else:
            ltxt = "%s %s" % (fmt(limit, unit), unit)
        if v is None:
            a = agg[fig].get("apm2d")
            rows.append((text, ltxt, "n/a", None,
                         a["na"] if a else "not measured"))
            return
        met = v <= limit if better == "low" else v >= limit
        partial = agg[fig]["apm2d"].get("partial")
        if partial:
            met = False
        if limit == 0:
            note = "none lost" if met else "%s %s lost" % (fmt(v, unit), unit)
        elif better == "low":
            note = ("%.0f%% of the limit" % (100 * v / limit) if met else
                    "misses by %.2f× (+%s %s)" % (v / limit,
                                                 fmt(v - limit, unit), unit))
        else:
            note = ("%.2f× the limit" % (v / limit) if met else
                    "misses: %.0f%% of the limit (−%s %s)" % (
                        100 * v / limit, fmt(limit - v, unit), unit))
        if partial:
            note += "; " + partial
        rows.append((text, ltxt, "%s %s" % (fmt(v, unit), unit), met, note))
    add("restart after SIGKILL, zero backoff (median)", "restart", 2.0, "ms")
    add("start 100 ≤ 1.5 × spawn floor", "start100", None, "ms",
        floor=True, factor=1.5)
    add("stop 100", "stop100", 20.0, "ms")
    add("list of 100, median", "rt_list", 250.0, "µs")
    add("ping ≤ 1.5 × raw round trip", "rt_ping", None, "µs", floor=True,
        factor=1.5)
    add("status ≤ 3 × raw round trip", "rt_status", None, "µs",
        floor=True, factor=3.0)
    add("idle RSS (supervisor + frontend)", "rss_idle", 3.0, "MiB")
    add("RSS with 100 running", "rss_100", 4.0, "MiB")
    add("capture ≥ 90% of pipe → cat → file", "cap_tput", None, "MiB/s",
        better="high", floor=True, factor=0.9)
    add("capture with timestamps + redaction", "cap_tput_ts", 500.0,
        "MiB/s", better="high")
    add("zero lost bytes (%s), worst run" % CAP_TXT, "cap_lost", 0,
        "bytes")
    add("zero lost lines (short-lived writers), worst run", "sw_lost", 0,
        "lines")
    return rows


def cpu_busy(secs=1.0):
    """Share of all CPUs busy (any process) over secs, in percent."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)		# idle + iowait, total
    i0, t0 = snap()
    time.sleep(secs)
    i1, t1 = snap()
    return round(100.0 * (1 - (i1 - i0) / max(1, t1 - t0)), 1)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024 / 1024
    try:
        with open("/etc/debian_version") as f:
            distro = "Debian " + f.read().strip()
    except OSError:
        distro = platform.system()
    return "%s, %d CPUs, %.0f GiB RAM, %s, Linux %s" % (
        cpu, os.cpu_count() or 0, mem, distro, platform.release())


def versions(ctx):
    v = {}

    def grab(key, argv):
        try:
            r = ctx.run(argv, 30, check=False)
            v[key] = (r.stdout or r.stderr).strip().splitlines()[0]
        except Exception:			# noqa: BLE001
            v[key] = "unknown"
    grab("apm2d", [APM2D, "--version"])
    if ctx.tools["supervisord"]:
        grab("supervisord", [ctx.tools["supervisord"], "--version"])
    try:
        with open(os.path.join(HERE, "node_modules", "pm2",
                               "package.json")) as f:
            v["pm2"] = json.load(f)["version"]
    except OSError:
        v["pm2"] = "not installed"
    if ctx.tools["node"]:
        grab("node", [ctx.tools["node"], "--version"])
    if ctx.tools["hyperfine"]:
        grab("hyperfine", [ctx.tools["hyperfine"], "--version"])
    return v


# ------------------------------------------------------------- reporting

def write_table(agg, meta, notes):
    units = {f[0]: f[3] for f in FIGURES}
    lines = ["| figure | apm2d | supervisord | pm2 | floor | "
             "apm2d ÷ best peer | apm2d ÷ floor |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for fig, _g, label, unit, better in FIGURES:
        a = agg[fig]
        arrow = "lower is better" if better == "low" else "higher is better"
        lab = "%s (%s, %s)" % (label, unit, arrow)
        row = [lab]

        def note(text):
            if text not in notes:
                notes.append(text)
            return sup(notes.index(text) + 1)
        for s in SERIES:
            row.append(cell(a.get(s), unit, note))
        if unit in ("bytes", "lines"):
            row += ["—", "—"]
        else:
            row.append(fmt_ratio(ratio(a.get("apm2d"),
                                       best_peer(agg, fig, better))))
            row.append(fmt_ratio(ratio(a.get("apm2d"), a.get("floor"))))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def sup(n):
    return "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(d)] for d in str(n))


def render_md(agg, meta, chart_prefix, title=True):
    notes = []
    out = []
    if title:
        out += ["# apm2d benchmarks", ""]
    out += ["Run %s (%s, %d runs of each scenario, peers in rotating order) "
            "on %s. %s, supervisord %s, pm2 %s (node %s), %s." % (
                meta["date"], "QUICK" if meta["quick"] else "full",
                meta["runs"], meta["machine"], meta["versions"].get("apm2d"),
                meta["versions"].get("supervisord", "n/a"),
                meta["versions"].get("pm2"), meta["versions"].get("node"),
                meta["versions"].get("hyperfine", "no hyperfine")),
            "",
            "Each cell: median over the runs [min–max]. Round trips: each "
            "run's median (or p99) over %d pings / %d lists on one kept "
            "connection, clients in C (apm2d), Python xmlrpc "
            "(supervisord) and pm2's own node API; client and daemon "
            "pinned to one CPU (the '2 CPUs' row: to different CPUs, where "
            "every round trip also pays two cross-CPU wake-ups). Restart: median over %d "
            "kills per run, seen from outside (the daemon's children list, "
            "polled every 20 µs). Capture: %d MiB per run. Floors: what "
            "this machine does without any supervisor. Other work on the "
            "machine: %s%% of the CPUs busy just before the run, %s%% just "
            "after%s." % (
                meta["params"]["ping_n"], meta["params"]["list_n"],
                meta["params"]["kills"], meta["params"]["cap_bytes"] // MIB,
                meta["cpu_busy_before_pct"], meta["cpu_busy_after_pct"],
                " (a busy machine: expect wider ranges)" if max(
                    meta["cpu_busy_before_pct"],
                    meta["cpu_busy_after_pct"]) > 15 else ""),
            ""]
    out += write_table(agg, meta, notes)
    out += [""]
    if notes:
        out += ["Notes: " + "; ".join("%s %s" % (sup(i + 1), n)
                                    for i, n in enumerate(notes)), ""]
    out += ["Floors: " + "; ".join("%s = %s" % (SHORT[k], v) for k, v in
                                   FLOOR_NAMES.items()
                                   if k not in ("rt_status", "rt_ping_p99",
                                                "rt_ping_x"))
            + ".", ""]
    out += ["### Targets (issues 4, 5, 6)", "",
            "| target | limit | apm2d | met | note |",
            "|---|---:|---:|:-:|---|"]
    for text, limit, val, met, note in targets(agg):
        out.append("| %s | %s | %s | %s | %s |" % (
            text, limit, val, {True: "yes", False: "**no**",
                               None: "n/a"}[met], note))
    out += ["", "### Charts", ""]
    for g, gtitle, _u in GROUPS:
        out.append("![%s](%s%s.png)" % (gtitle, chart_prefix, g))
    out.append("")
    return out


def gnuplot_charts(ctx, agg, outdir):
    if ctx.tools["gnuplot"] is None:
        log("gnuplot is not installed: no charts")
        return []
    made = []
    colors = {"apm2d": "#1f77b4", "supervisord": "#ff7f0e",
              "pm2": "#2ca02c", "floor": "#7f7f7f"}
    units = {f[0]: f[3] for f in FIGURES}
    for g, gtitle, unit in GROUPS:
        figs = [f for f in CHART_FIGS[g] if f in agg and any(
            s in agg[f] and "na" not in agg[f][s] for s in SERIES)]
        if not figs:
            continue
        series = [s for s in SERIES if any(
            s in agg[f] and "na" not in agg[f][s] for f in figs)]
        dat = os.path.join(ctx.root, "chart-%s.dat" % g)
        vals = []
        starred = False
        with open(dat, "w") as f:
            for fig in figs:
                row = [SHORT[fig]]
                for s in series:
                    a = agg[fig].get(s)
                    if a is None or "na" in a:
                        row += ["NaN", "NaN", "NaN", '""']
                    else:
                        star = "*" if "partial" in a else ""
                        starred = starred or bool(star)
                        row += ["%.6g" % a["median"], "%.6g" % a["min"],
                                "%.6g" % a["max"],
                                '"%s%s"' % (compact(a["median"], units[fig]),
                                            star)]
                        vals += [a["min"], a["max"]]
                f.write("\t".join(row) + "\n")
        lo, hi = min(v for v in vals if v > 0), max(vals)
        logscale = hi / lo > 20
        n = len(series)
        gap = 1.5
        plots, labels = [], []
        for j, s in enumerate(series):
            c = 2 + 4 * j
            plots.append("'%s' using %d:%d:%d%s title '%s' lc rgb '%s'" % (
                dat, c, c + 1, c + 2, ":xtic(1)" if j == 0 else "", s,
                colors[s]))
            off = (j - (n - 1) / 2.0) / (n + gap)
            labels.append("'%s' using ($0+%.4f):%d:%d with labels "
                          "offset 0,0.7 font ',8' notitle" % (
                              dat, off, c + 2, c + 3))
        png = os.path.join(outdir, "%s.png" % g)
        script = [
            "set terminal pngcairo size 1000,500 font 'DejaVu Sans,10'",
            "set output '%s'" % png,
            "set title \"%s\" noenhanced" % gtitle.replace('"', "'"),
            "set datafile separator '\\t'",
            "set datafile missing 'NaN'",
            "set style data histogram",
            "set style histogram errorbars gap %.1f lw 1" % gap,
            "set style fill solid 0.85 border -1",
            "set boxwidth 0.95",
            "set grid ytics",
            "set key top left noenhanced",
            "set xtics noenhanced",
            "set ylabel '%s%s'" % (unit, " (log scale)" if logscale else ""),
        ]
        if logscale:
            script += ["set logscale y",
                       "set yrange [%g:%g]" % (lo / 3, hi * 6)]
        else:
            script += ["set yrange [0:%g]" % (hi * 1.25)]
        if len(figs) == 1:
            script.append("set xrange [-1.2:1.2]")
        if starred:
            script += ["set bmargin 4",
                       "set label 1 '* with a caveat: see the notes under "
                       "the table' at screen 0.98,0.025 right font ',8'"]
        script.append("plot " + ", \\\n  ".join(plots + labels))
        gp = os.path.join(ctx.root, "chart-%s.gp" % g)
        with open(gp, "w") as f:
            f.write("\n".join(script) + "\n")
        try:
            ctx.run([ctx.tools["gnuplot"], gp], 60)
            made.append(png)
        except Exception as e:			# noqa: BLE001
            log("gnuplot %s: %s" % (g, e))
    return made


def clean(v):
    """Results as JSON can hold them: an NA becomes {"na": why}."""
    if isinstance(v, NA):
        return {"na": str(v)}
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v


def to_json(agg, meta, runs):
    figs = {}
    for fig, group, label, unit, better in FIGURES:
        figs[fig] = {"group": group, "label": label, "unit": unit,
                     "better": better, "floor": FLOOR_NAMES.get(fig),
                     "series": agg[fig]}
    return {"meta": meta, "figures": figs,
            "targets": [{"target": t, "limit": l, "apm2d": v, "met": m,
                         "note": n} for t, l, v, m, n in targets(agg)],
            "runs": clean(runs)}


# ------------------------------------------------------------------ main

def leftovers(ctx):
    """Every process that carries this run's marker or temp dir."""
    me = os.getpid()
    mark = ctx.marker.encode()
    root = ctx.root.encode()
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == me:
            continue
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                env = f.read().split(b"\0")
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if mark in env or root in cmd:
            if alive(int(p)):
                found.append((int(p), cmd.replace(b"\0", b" ").decode(
                    errors="replace").strip()))
    return found


def rerender():
    """--from-json: the tables, charts and README section again from
    bench/results/latest.json (e.g. after editing bench/analysis.md)."""
    src = os.path.join(HERE, "results", "latest.json")
    with open(src) as f:
        data = json.load(f)
    agg = {fig: d["series"] for fig, d in data["figures"].items()}
    for fig in FIGURE_IDS:
        agg.setdefault(fig, {})
    ctx = Ctx()
    try:
        outdir = os.path.join(HERE, "results")
        charts = gnuplot_charts(ctx, agg, outdir)
        with open(os.path.join(outdir, "latest.md"), "w") as f:
            f.write("\n".join(render_md(agg, data["meta"], "")))
        write_readme_section(agg, data["meta"])
        log("re-rendered from %s (%d charts)" % (src, len(charts)))
    finally:
        shutil.rmtree(ctx.root, ignore_errors=True)
    return 0


def main():
    if FROM_JSON:
        return rerender()
    ctx = Ctx()
    ctx.busy_before = cpu_busy()
    started = datetime.datetime.now(datetime.timezone.utc)
    log("%s run in %s" % ("QUICK" if QUICK else "full", ctx.root))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    peers = {"apm2d": Apm2d(ctx), "supervisord": Supervisord(ctx),
             "pm2": Pm2(ctx)}
    failed = aborted = False
    runs = []
    try:
        build_helpers(ctx)
        order = ["floor"] + list(PEERS)
        for run in range(P["runs"]):
            r = {}
            rot = order[run % len(order):] + order[:run % len(order)]
            for s in rot:
                r[s] = run_floor(ctx, run) if s == "floor" else run_peer(
                    ctx, peers[s], run)
            r["apm2d"]["redact"] = run_redact_bench(ctx)
            for s in ("supervisord", "pm2"):
                r[s]["redact"] = NA("no redaction")
                r[s]["rt_status"] = r[s].get("rt_status", NA(
                    "no equivalent request"))
            runs.append(r)
    except BaseException as e:		# noqa: BLE001 -- cleanup below
        failed = aborted = True
        log("aborted: %r" % e)
        traceback.print_exc()
    finally:
        for p in peers.values():
            try:
                p.stop()
            except Exception as e:		# noqa: BLE001
                log("stopping %s: %s" % (p.name, e))
        for p in ctx.popens:
            if p.poll() is None:
                log("helper %d still running: SIGKILL" % p.pid)
                kill_pids([p.pid])
                p.wait(timeout=10)
        left = leftovers(ctx)
        if left:
            failed = True
            log("LEFT BEHIND (killing by pid):")
            for pid, cmd in left:
                log("  %d %s" % (pid, cmd))
            kill_pids([pid for pid, _ in left])
            time.sleep(0.5)
            if leftovers(ctx):
                log("STILL LEFT after SIGKILL: %s" % leftovers(ctx))

    try:
        if runs and not aborted:
            report(ctx, runs, started)
    except Exception:			# noqa: BLE001 -- still clean up
        failed = True
        traceback.print_exc()
    finally:
        shutil.rmtree(ctx.root, ignore_errors=True)
    if os.path.exists(ctx.root):
        log("could not remove %s" % ctx.root)
        failed = True
    if failed:
        log("FAILED (see above)")
    return 1 if failed else 0


def report(ctx, runs, started):
    for r in runs:
        for s in SERIES:
            for fig in FIGURE_IDS:
                r[s].setdefault(fig, None)
    agg = aggregate(runs)
    meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"),
            "quick": QUICK, "runs": len(runs), "machine": machine(),
            "versions": versions(ctx), "params": P,
            "cpu_busy_before_pct": ctx.busy_before,
            "cpu_busy_after_pct": cpu_busy(),
            "loadavg_end": open("/proc/loadavg").read().split()[:3],
            "duration_s": round((datetime.datetime.now(
                datetime.timezone.utc) - started).total_seconds())}
    outdir = (os.path.join(HERE, "results", "tmp", "quick") if QUICK
              else os.path.join(HERE, "results"))
    os.makedirs(outdir, exist_ok=True)
    charts = gnuplot_charts(ctx, agg, outdir)
    md = render_md(agg, meta, "")
    with open(os.path.join(outdir, "latest.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(outdir, "latest.json"), "w") as f:
        json.dump(to_json(agg, meta, runs), f, indent=1, default=str)
        f.write("\n")
    if not QUICK:
        write_readme_section(agg, meta)
    sys.stdout.write("\n" + "\n".join(md) + "\n")
    log("results in %s (%d charts), %d s" % (outdir, len(charts),
                                             meta["duration_s"]))


def write_readme_section(agg, meta):
    out = ["## Performance", ""]
    out += render_md(agg, meta, "bench/results/", title=False)
    extra = os.path.join(HERE, "analysis.md")
    if os.path.exists(extra):
        with open(extra) as f:
            out += [f.read().rstrip(), ""]
    out += ["Re-run with `make bench` (about %d minutes here for these "
            "figures, then the scale ladder; installs supervisor, s6, "
            "hyperfine, gnuplot-nox and the pinned pm2 when missing) or "
            "`make bench QUICK=1` (under 3 minutes, then a short ladder; "
            "results in bench/results/tmp/quick/)." % max(1, round(
                meta["duration_s"] / 60)), ""]
    path = os.path.join(HERE, "README-performance.md")
    # The scale ladder's section is bench/scale.py's: kept as it is.
    begin, end = ("<!-- scale ladder: written by bench/scale.py -->",
                  "<!-- end of the scale ladder -->")
    try:
        with open(path) as f:
            old = f.read()
        if begin in old and end in old:
            out += [old[old.index(begin):old.index(end) + len(end)], ""]
    except OSError:
        pass
    with open(path, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
