# SPDX-License-Identifier: ISC
"""Integration-test harness: run the real apm2d, talk to it, report TAP.

Everything here is bounded in time, works on Unix sockets only, and kills
only the processes it started (by pid).  Python 3 standard library only.

    from harness import Daemon, test, run, wait_until, ctl

    @test
    def ping_answers():
        with Daemon(CONFIG) as d:
            assert d.request({"type": "ping"})["type"] == "pong"

    run()
"""
import fcntl
import grp
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
APM2D = os.environ.get("APM2D", os.path.join(TOP, "apm2d", "apm2d"))
APM2CTL = os.environ.get("APM2CTL", os.path.join(TOP, "apm2ctl", "apm2ctl"))
IS_ROOT = os.geteuid() == 0
# Sanitizer findings in a daemon's stderr fail the test that ran it.
# (LeakSanitizer cannot scan the chrooted frontend: "ERROR:" lines only.)
SANITIZER = re.compile(r"ERROR: [A-Za-z]+Sanitizer|runtime error:")
TEST_USERS = ("apm2t1", "apm2t2", "apm2t3")
TEST_ADMIN_GROUP = "apm2tadm"


class Skip(Exception):
    """Raise to report a test as skipped (TAP '# SKIP reason')."""


# ---------------------------------------------------------------- users

# Tests run in parallel (and as root and as a user at once): useradd and
# friends refuse to run while another holds the password file's lock, so
# ours take turns on this one.
USERS_LOCK = os.path.join(tempfile.gettempdir(), "apm2-regress-users.lock")


class _UsersLock:
    def __enter__(self):
        self.fd = os.open(USERS_LOCK, os.O_RDWR | os.O_CREAT |
                          os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def ensure_user(name, groups=()):
    """Create a system test user (root only); return its pwd entry."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    if not IS_ROOT:
        raise Skip("needs root to create user %s" % name)
    with _UsersLock():
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", name],
                       check=True, timeout=30)
    return pwd.getpwnam(name)


def ensure_group(name):
    try:
        return grp.getgrnam(name)
    except KeyError:
        pass
    if not IS_ROOT:
        raise Skip("needs root to create group %s" % name)
    with _UsersLock():
        try:
            return grp.getgrnam(name)
        except KeyError:
            pass
        subprocess.run(["groupadd", "--system", name], check=True,
                       timeout=30)
    return grp.getgrnam(name)


def add_to_group(user, group):
    if user in grp.getgrnam(group).gr_mem:
        return
    with _UsersLock():
        subprocess.run(["usermod", "-a", "-G", group, user], check=True,
                       timeout=30)


def ensure_frontend_user():
    """The default frontend and logger users and chroot, as `make install`
    makes them."""
    if not IS_ROOT:
        return
    ensure_user("_apm2d")
    ensure_user("_apm2log")
    os.makedirs("/var/empty", mode=0o755, exist_ok=True)


# ---------------------------------------------------------------- configs

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(v):
    """v as TOML: a string quoted (JSON's escapes are TOML's), a list of
    values, a boolean or number as it is."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[%s]" % ", ".join(toml_value(x) for x in v)
    return json.dumps(v)


def _toml_keys(prefix, keys):
    """key = value lines, then each dict value as the sub-table
    [prefix.key] (TOML wants a table's own keys first)."""
    lines, subs = "", ""
    for k, v in keys.items():
        k = k if _BARE_KEY.match(k) else json.dumps(k)
        if isinstance(v, dict):
            subs += "[%s.%s]\n" % (prefix, k) + \
                _toml_keys("%s.%s" % (prefix, k), v)
        elif v is not None:
            lines += "%s = %s\n" % (k, toml_value(v))
    return lines + subs


def process(name, command, args=None, **keys):
    """One [[processes]] table: name, command, args if given, then keys in
    their order; a dict (env, log, log's rotation, restart, its backoff,
    shutdown) is a sub-table, None leaves a key out.

        process("web", "sleep", ["1000"], instances=2, autostart=False,
                shutdown={"timeout": "3s"})"""
    t = {"name": name, "command": command}
    if args is not None:
        t["args"] = list(args)
    t.update(keys)
    return "[[processes]]\n" + _toml_keys("processes", t) + "\n"


def daemon_conf(**keys):
    """A [daemon] table (socket, pid_file, log_dir, socket_mode, ...)."""
    return "[daemon]\n" + _toml_keys("daemon", keys)


def fd_links(pid):
    """What pid's open descriptors point to (readlink of /proc/PID/fd/*),
    those that closed meanwhile left out."""
    out = []
    fddir = "/proc/%d/fd" % pid
    for fd in os.listdir(fddir):
        try:
            out.append(os.readlink(os.path.join(fddir, fd)))
        except OSError:
            continue
    return out


def needs_starving():
    """Skip a test that starves apm2d of descriptors under prlimit(1)
    unless it can run: prlimit is there and we are root.  Unprivileged,
    descriptors in flight in Unix sockets count against RLIMIT_NOFILE
    too, summed over all of the user's processes (ETOOMANYREFS): here,
    the other tests' daemons."""
    if shutil.which("prlimit") is None:
        raise Skip("no prlimit")
    if not IS_ROOT:
        raise Skip("as root only: in-flight descriptors are per user")


def get(d, name):
    """get_process: the process's details (asserted to be that)."""
    r = d.request({"type": "get_process", "name": name})
    assert r["type"] == "process_details", r
    return r["process"]


def start(d, name, timeout=30):
    """start_process, asserted to answer ok."""
    r = d.request({"type": "start_process", "name": name}, timeout=timeout)
    assert r["type"] == "ok", r


def rd(path):
    """A file's bytes."""
    with open(path, "rb") as f:
        return f.read()


# One agent that waits, for tests about the daemon rather than agents:
# not started, or running from the start.
SLEEPER = process("sleeper", "sleep", ["1000"], autostart=False)
KEEPER = process("keeper", "sleep", ["1000"])


# ---------------------------------------------------------------- framing

def frame(payload):
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload, separators=(",", ":")).encode()
    elif isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">I", len(payload)) + payload


class Client:
    """A kept connection to the control socket."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def send(self, obj):
        self.sock.sendall(frame(obj))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _recvn(self, n):
        # Into one buffer: appending chunk by chunk copies a large
        # reply over and over, and 32 threads doing it under the GIL
        # can leave one of them unread for longer than the daemon's
        # drain window.
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.sock.recv_into(view[got:], n - got)
            if k == 0:
                raise EOFError("connection closed after %d of %d bytes"
                               % (got, n))
            got += k
        return bytes(buf)

    def recv_bytes(self):
        (n,) = struct.unpack(">I", self._recvn(4))
        return self._recvn(n)

    def recv(self):
        return json.loads(self.recv_bytes())

    def call(self, obj):
        self.send(obj)
        return self.recv()

    def is_closed(self, timeout=5.0):
        """True if the daemon closed the connection (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return data == b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- daemon

def wait_until(fn, timeout=10.0, interval=0.02, what="condition"):
    """Poll fn() until it returns a true value; return it or raise."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - report the last one
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s%s"
                                 % (timeout, what,
                                    " (last error: %r)" % last_exc
                                    if last_exc else ""))
        time.sleep(interval)


def cgroup_dir(pid_file):
    """The cgroup subtree a daemon run as root with this pid file uses
    (supervisor/cgroup.c: apm2d.<FNV-1a of the path> in our own cgroup
    of the unified hierarchy), or None."""
    mnt = own = None
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                head, _, tail = line.partition(" - ")
                if tail.startswith("cgroup2 "):
                    mnt = head.split()[4]
                    break
        with open("/proc/self/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    own = line[3:].strip()
    except OSError:
        return None
    if mnt is None or own is None:
        return None
    h = 2166136261
    for b in pid_file.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return os.path.join(mnt + ("" if own == "/" else own),
                        "apm2d.%08x" % h)


def remove_cgroups(pid_file):
    """What a daemon killed before its own clean-up left: empty cgroups."""
    d = cgroup_dir(pid_file)
    if d is None or not os.path.isdir(d):
        return
    for name in os.listdir(d):
        p = os.path.join(d, name)
        if os.path.isdir(p):
            try:
                os.rmdir(p)
            except OSError:
                pass
    try:
        os.rmdir(d)
    except OSError:
        pass


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def proc_children(pid):
    """Direct children of pid (Linux /proc)."""
    out = []
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            out = [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def proc_status(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            d[k] = v.strip()
    return d


class Daemon:
    """One apm2d in a private temporary directory.

    config: the TOML text for [[processes]] etc. (see process()); a
    [daemon] table with paths inside the temp dir, and the keys of the
    dict daemon (and the text daemon_extra), is prepended unless
    daemon_table=False (then use {tmp} in the text).  user: run the
    daemon as this user (root only).
    quick_stop: for agents that ignore SIGTERM on purpose, the clean-up
    follows its SIGTERM with a second one, which kills them at once
    instead of after their shutdown timeout (not what such a test checks).
    """

    def __init__(self, config="", user=None, daemon_table=True,
                 extra_args=(), foreground=True, daemon=None,
                 daemon_extra="", quick_stop=False):
        self.tmp = tempfile.mkdtemp(prefix="apm2-it-")
        os.chmod(self.tmp, 0o755)
        self.user = user
        self.socket = os.path.join(self.tmp, "run", "apm2.sock")
        self.pid_file = os.path.join(self.tmp, "run", "apm2.pid")
        self.log_dir = os.path.join(self.tmp, "log")
        self.state_file = os.path.join(self.tmp, "state.json")
        self.config_path = os.path.join(self.tmp, "ecosystem.toml")
        text = config.replace("{tmp}", self.tmp)
        if daemon_table:
            text = daemon_conf(
                socket=self.socket, pid_file=self.pid_file,
                log_dir=self.log_dir, state_file=self.state_file,
                **(daemon or {})) + daemon_extra + "\n" + text
        with open(self.config_path, "w") as f:
            f.write(text)
        os.chmod(self.config_path, 0o644)
        if user is not None:
            pw = pwd.getpwnam(user)
            for root, dirs, files in os.walk(self.tmp):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        self.extra_args = list(extra_args)
        self.foreground = foreground
        self.quick_stop = quick_stop
        self.proc = None
        self.pid = None
        self.stderr_path = os.path.join(self.tmp, "apm2d.stderr")
        self.env = {}   # set in the daemon's environment alone

    def argv(self):
        a = [APM2D, "-f", self.config_path]
        if self.foreground:
            a.append("-d")
        return a + self.extra_args

    def _popen_kwargs(self):
        kw = {}
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        return kw

    def start(self, wait=True):
        ensure_frontend_user()
        err = open(self.stderr_path, "wb")
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=err, stderr=err, env=env,
                                     **self._popen_kwargs())
        err.close()
        if not self.foreground:
            rc = self.proc.wait(timeout=40)
            if rc != 0:
                raise AssertionError("apm2d exited %d: %s"
                                     % (rc, self.stderr()))
            self.pid = int(open(self.pid_file).read())
        else:
            self.pid = self.proc.pid
        if wait:
            wait_until(self._answers, timeout=15, what="daemon to answer")
        return self

    def _answers(self):
        if self.foreground and self.proc.poll() is not None:
            raise AssertionError("apm2d exited %d: %s"
                                 % (self.proc.returncode, self.stderr()))
        with Client(self.socket, timeout=2) as c:
            return c.call({"type": "ping"})["type"] == "pong"

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def client(self, timeout=10.0):
        return Client(self.socket, timeout)

    def request(self, obj, timeout=10.0):
        with Client(self.socket, timeout) as c:
            return c.call(obj)

    def _child(self, title, flag):
        """The supervisor's child re-executed as 'apm2d <flag>'."""
        for c in proc_children(self.pid):
            try:
                with open("/proc/%d/cmdline" % c, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if cmd.startswith(b"apm2d") and (title in cmd or flag in cmd):
                return c
        return None

    def frontend_pid(self):
        return self._child(b"frontend", b"\0-F")

    def logger_pid(self):
        return self._child(b"logger", b"\0-L")

    def alive(self):
        return pid_alive(self.pid) if self.pid else False

    def wait_exit(self, timeout=20):
        if self.foreground and self.proc is not None:
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        wait_until(lambda: not pid_alive(self.pid), timeout=timeout,
                   what="daemon exit")
        return 0

    def stop(self):
        """SIGTERM the daemon, wait (bounded), SIGKILL if needed, clean."""
        if self.pid and pid_alive(self.pid):
            try:
                os.kill(self.pid, signal.SIGTERM)
                if self.quick_stop:
                    self._terminate_again()
            except ProcessLookupError:
                pass
            if self.wait_exit(timeout=20) is None and pid_alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)
                self.wait_exit(timeout=5)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def _terminate_again(self):
        """Once the first SIGTERM was taken (two at once may be one), a
        second: the daemon kills what is left (test_supervision.py,
        second_sigterm_kills_at_once)."""
        try:
            wait_until(lambda: "shutting down" in self.stderr() or
                       not pid_alive(self.pid), 10, what="shutdown begun")
        except AssertionError:
            return
        os.kill(self.pid, signal.SIGTERM)

    def cleanup(self):
        """Stop, remove the temp dir, and fail on any sanitizer report.
        Cleaning up after a failure, say what the daemon said last."""
        self.stop()
        err = self.stderr()
        if sys.exc_info()[0] not in (None, Skip):
            for line in err.splitlines()[-15:]:
                print("# apm2d: " + line, flush=True)
        remove_cgroups(self.pid_file)
        shutil.rmtree(self.tmp, ignore_errors=True)
        m = SANITIZER.search(err)
        assert m is None, err[max(0, m.start() - 200):m.start() + 2000]

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            # A daemon that did not come up is still ours to stop.
            try:
                self.cleanup()
            except AssertionError:
                pass
            raise

    def __exit__(self, *exc):
        if exc[0] is None:
            self.cleanup()
        else:
            try:
                self.cleanup()
            except AssertionError:
                pass    # the test's own failure says more


def ctl(daemon, *args, timeout=30, user=None, socket_path=None):
    """Run apm2ctl against daemon; return (rc, stdout, stderr)."""
    argv = [APM2CTL, "-s", socket_path or daemon.socket] + list(args)
    kw = {}
    if user is not None:
        pw = pwd.getpwnam(user)
        kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, **kw)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


# ---------------------------------------------------------------- TAP

_TESTS = []
# A test in a process of its own (TEST_JOBS > 1) gets this long; then it
# fails with TestTimeout (and cleans up), and 30 s later it is killed.
TEST_TIMEOUT = int(os.environ.get("TEST_TIMEOUT", "300"))


class TestTimeout(Exception):
    """A test ran past TEST_TIMEOUT."""


def test(fn):
    _TESTS.append(fn)
    return fn


def run():
    """Run the registered tests (filter with TEST_FILTER), print TAP.

    TEST_JOBS=n runs up to n tests at once, each in a forked process of
    its own: the transcript is the same, in the same order."""
    filt = os.environ.get("TEST_FILTER", "")
    tests = [t for t in _TESTS if filt in t.__name__]
    jobs = max(1, int(os.environ.get("TEST_JOBS", "") or 1))
    print("1..%d" % len(tests), flush=True)
    if jobs == 1 or len(tests) < 2:
        failed = sum(_run_one(i, t) for i, t in enumerate(tests, 1))
    else:
        failed = _run_forked(tests, jobs)
    sys.exit(1 if failed else 0)


def _run_one(i, t):
    """Run test number i and print its TAP line; 1 if it failed."""
    t0 = time.monotonic()
    try:
        t()
    except Skip as s:
        print("ok %d - %s # SKIP %s" % (i, t.__name__, s), flush=True)
        return 0
    except Exception:  # noqa: BLE001 - any failure is a test failure
        print("not ok %d - %s" % (i, t.__name__), flush=True)
        for line in traceback.format_exc().splitlines():
            print("# " + line, flush=True)
        return 1
    print("ok %d - %s (%.2fs)" % (i, t.__name__, time.monotonic() - t0),
          flush=True)
    return 0


def _alarm(sig, frame):
    raise TestTimeout("still running after %d s" % TEST_TIMEOUT)


def _child(i, t, path, wr):
    """In the forked child: test i with stdout and stderr in files, the
    verdict on the pipe wr; never returns."""
    rc = 1
    try:
        for fd, name in ((1, path), (2, path + ".err")):
            f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(f, fd)
            os.close(f)
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(TEST_TIMEOUT)
        rc = _run_one(i, t)
        signal.alarm(0)
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(wr, b"%d" % rc)
    finally:
        os._exit(rc)


def _run_forked(tests, jobs):
    """Up to jobs tests at once, each forked; print each one's transcript
    in test order as soon as it and those before it are done.  Return the
    number of failures."""
    out = tempfile.mkdtemp(prefix="apm2-tap-")
    running = {}        # read end of a child's pipe: (pid, i, deadline)
    verdict = {}        # i: (1 if test i failed, why if it did not say)
    nxt = printed = failed = 0
    try:
        while printed < len(tests):
            while nxt < len(tests) and len(running) < jobs:
                nxt += 1
                rd, wr = os.pipe()
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    os.close(rd)
                    _child(nxt, tests[nxt - 1],
                           os.path.join(out, str(nxt)), wr)
                os.close(wr)
                running[rd] = (pid, nxt, time.monotonic() + TEST_TIMEOUT
                               + 30)
            # A child's pipe is readable when it says its verdict or dies.
            left = min(d for _, _, d in running.values()) - time.monotonic()
            ready, _, _ = select.select(list(running), [], [],
                                        max(0.0, left))
            for rd, (pid, i, d) in list(running.items()):
                if rd not in ready and d <= time.monotonic():
                    # Its pipe may live on in a child of its own.
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    del running[rd]
                    os.close(rd)
                    verdict[i] = (1, "killed after %d s" % (TEST_TIMEOUT
                                                            + 30))
            for rd in ready:
                data = os.read(rd, 16)
                pid, i, _ = running.pop(rd)
                os.close(rd)
                _, status = os.waitpid(pid, 0)
                verdict[i] = (0 if data == b"0" and status == 0 else 1,
                              "" if data else
                              "died (wait status %d)" % status)
            while printed + 1 in verdict:
                printed += 1
                failed += _print_child(printed, tests[printed - 1],
                                       os.path.join(out, str(printed)),
                                       *verdict[printed])
    finally:
        for pid, _, _ in running.values():
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        shutil.rmtree(out, ignore_errors=True)
    return failed


def _print_child(i, t, path, bad, why):
    """Copy test i's transcript; a child that died unheard is not ok."""
    for name, dst in ((path, sys.stdout), (path + ".err", sys.stderr)):
        try:
            with open(name, errors="replace") as f:
                dst.write(f.read())
        except OSError:
            pass
        dst.flush()
    if why:
        print("not ok %d - %s\n# %s" % (i, t.__name__, why), flush=True)
    return bad
