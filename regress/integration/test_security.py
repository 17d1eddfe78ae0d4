#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Multi-user security: who may do what (decided by the supervisor from
the client's credentials), the socket's mode keeping users out, and the
frontend's sandbox (seccomp, NO_NEW_PRIVS, Landlock, rlimits, chroot,
uid) including a forbidden system call killing it and the supervisor
respawning it.

Needs root: it creates the users apm2t1 (owner of t1proc), apm2t2
(another user, owner of t2proc), apm2t3 (member of the admin group
apm2tadm) and runs clients as each of them."""
import ctypes
import errno
import grp
import json
import os
import pwd
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APM2D, IS_ROOT, TEST_ADMIN_GROUP, TOP, Client,  # noqa: E402
                     Daemon, Skip, add_to_group, ensure_frontend_user,
                     ensure_group, ensure_user, frame, pid_alive,
                     proc_status, process, run, test, wait_until)

HOOKS = os.environ.get("APM2D_HOOKS", os.path.join(
    TOP, "regress", "integration", "apm2d-hooks"))
OWNER, OTHER, ADMIN = "apm2t1", "apm2t2", "apm2t3"
FORBIDDEN = b'{"type":"ping","__apm2d_test_forbidden_syscall":true}'
SYSLOG_CALLS = b'{"type":"ping","__apm2d_test_syslog_syscalls":true}'
# The system python: the test's own interpreter may live under /root.
CLIENT_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable
FRONTEND_MAX_CONNS = 512

CONFIG = (process("t1proc", "sleep", ["1000"], user=OWNER)
          + process("t2proc", "sleep", ["1000"], user=OTHER)
          + process("rootproc", "sleep", ["1000"]))

# For the sandbox tests, which also run as an ordinary user.
PLAIN = process("agent", "sleep", ["1000"])

ADMIN_TABLE = {"admin_group": TEST_ADMIN_GROUP}

# Every request type, naming t1proc where a process is named.
REQUESTS = [
    ("ping", {"type": "ping"}),
    ("status", {"type": "status"}),
    ("list_processes", {"type": "list_processes"}),
    ("get_process", {"type": "get_process", "name": "t1proc"}),
    ("stop_process", {"type": "stop_process", "name": "t1proc"}),
    ("start_process", {"type": "start_process", "name": "t1proc"}),
    ("restart_process", {"type": "restart_process", "name": "t1proc"}),
    ("reload_process", {"type": "reload_process", "name": "t1proc"}),
    ("tail_logs", {"type": "tail_logs", "name": "t1proc", "lines": 5,
                   "follow": False}),
    ("list_credentials", {"type": "list_credentials"}),
    ("get_credential", {"type": "get_credential", "profile_id": "p"}),
    ("add_credential", {"type": "add_credential", "profile_id": "p",
                        "provider": "claude", "auth_method": "api_key"}),
    ("remove_credential", {"type": "remove_credential", "profile_id": "p"}),
    ("refresh_credential", {"type": "refresh_credential",
                            "profile_id": "p"}),
    ("switch_credential", {"type": "switch_credential",
                           "process_name": "t1proc", "profile_id": "p"}),
    ("shutdown", {"type": "shutdown"}),
]
assert len(REQUESTS) == 16

ANYONE = {"ping", "status", "list_processes"}
OWNER_OK = ANYONE | {"get_process", "stop_process", "start_process",
                     "restart_process", "reload_process", "tail_logs"}

# Runs as the test user: one connection per request, answers as JSON.
CLIENT = r"""
import json, socket, struct, sys
args = json.load(sys.stdin)
out = []
for req in args["requests"]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    try:
        s.connect(args["socket"])
    except OSError as e:
        out.append({"__connect_errno": e.errno})
        s.close()
        continue
    p = req.encode() if isinstance(req, str) else json.dumps(req).encode()
    s.sendall(struct.pack(">I", len(p)) + p)
    def rd(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b
    try:
        (n,) = struct.unpack(">I", rd(4))
        out.append(json.loads(rd(n)))
    except (EOFError, OSError):
        out.append({"__closed": True})
    s.close()
print(json.dumps(out))
"""


def setup_users():
    if not IS_ROOT:
        raise Skip("needs root to create test users and switch to them")
    ensure_group(TEST_ADMIN_GROUP)
    for u in (OWNER, OTHER, ADMIN):
        ensure_user(u)
    add_to_group(ADMIN, TEST_ADMIN_GROUP)


def as_user(user, sock, requests, groups=None, gid=None):
    """Send each request on its own connection as user (with the user's
    login groups unless groups is given); return the answers."""
    kw = {}
    if user is not None:
        pw = pwd.getpwnam(user)
        if gid is None:
            gid = pw.pw_gid
        if groups is None:
            groups = os.getgrouplist(user, pw.pw_gid)
        kw = {"user": pw.pw_uid, "group": gid, "extra_groups": groups}
    p = subprocess.run([CLIENT_PYTHON, "-c", CLIENT],
                       input=json.dumps({"socket": sock,
                                         "requests": requests}).encode(),
                       capture_output=True, timeout=60, **kw)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return json.loads(p.stdout)


def denied(r):
    return r.get("type") == "error" and r.get("code") == "permission_denied"


def uid_of(user):
    return pwd.getpwnam(user).pw_uid


def landlock_abi():
    """The kernel's Landlock ABI version, or None."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        v = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint(1))
    except (OSError, AttributeError):
        return None
    return v if v > 0 else None


def proc_limits(pid):
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        next(f)
        for line in f:
            name = line[:26].strip()
            soft, hard = line[26:].split()[:2]
            out[name] = (soft, hard)
    return out


class VerboseDaemon(Daemon):
    """The daemon (or the hooks build) with -v, for the debug lines."""

    def __init__(self, config, binary=APM2D, **kw):
        super().__init__(config, **kw)
        self.binary = binary

    def argv(self):
        a = super().argv()
        a[0] = self.binary
        return a + ["-v"]


class PipeDaemon(VerboseDaemon):
    """stderr through a pipe: a frontend logging to a pipe gets
    RLIMIT_FSIZE 0 (to a regular file it keeps its limit)."""

    def start(self, wait=True):
        ensure_frontend_user()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.pump = threading.Thread(target=self._copy, daemon=True)
        self.pump.start()
        if wait:
            wait_until(self._answers, timeout=15, what="daemon to answer")
        return self

    def _copy(self):
        with open(self.stderr_path, "ab") as f:
            while True:
                b = self.proc.stdout.read1(65536)
                if not b:
                    break
                f.write(b)
                f.flush()

    def cleanup(self):
        super().cleanup()
        self.pump.join(timeout=5)
        self.proc.stdout.close()


# ------------------------------------------------------------ authorization

# CTR-D009: every request, allowed or refused, gets exactly one answer.
@test
def authorization_matrix():
    """root, an admin-group member, the owner of t1proc and another user
    against every request type: allowed, or permission_denied."""
    setup_users()
    d = Daemon(CONFIG, daemon=ADMIN_TABLE)
    try:
        d.start()
        wait_until(lambda: d.request({"type": "get_process",
                                      "name": "t1proc"})["process"]
                   ["instance_details"][0]["state"] == "Running", 10,
                   what="t1proc running")
        # Shutdown last, by the admin member, once everything else ran.
        reqs = [r for n, r in REQUESTS if n != "shutdown"]
        names = [n for n, r in REQUESTS if n != "shutdown"]
        cases = [("root", None, lambda n: True),
                 ("admin", ADMIN, lambda n: True),
                 ("owner", OWNER, lambda n: n in OWNER_OK),
                 ("other", OTHER, lambda n: n in ANYONE)]
        bad = []
        for who, user, allowed in cases:
            ask = reqs + [{"type": "shutdown"}] \
                if who in ("owner", "other") else reqs
            answers = as_user(user, d.socket, ask)
            assert len(answers) == len(ask), (who, answers)
            for n, r in zip(names + ["shutdown"], answers):
                ok = allowed(n)
                if "__connect_errno" in r or "__closed" in r:
                    bad.append((who, n, r))
                elif ok and (denied(r) or r.get("code") ==
                             "invalid_request"):
                    bad.append((who, n, "refused", r))
                elif not ok and not denied(r):
                    bad.append((who, n, "let through", r))
            if who in ("owner", "other"):
                assert d.alive(), "a refused shutdown stopped the daemon"
        assert not bad, "\n".join(map(repr, bad))

        # What the allowed answers are, where that is settled already.
        cred = [r for n, r in REQUESTS if "credential" in n]
        for user in (None, ADMIN):
            out = as_user(user, d.socket, cred)
            assert all(r.get("code") == "not_supported" for r in out), out
        for user in (None, ADMIN, OWNER):
            r = as_user(user, d.socket, [{"type": "get_process",
                                          "name": "t1proc"}])[0]
            assert r["type"] == "process_details", (user, r)
            assert r["process"]["command"] == "sleep", r

        # Shutdown by the admin-group member is obeyed.
        r = as_user(ADMIN, d.socket, [{"type": "shutdown"}])[0]
        assert r == {"type": "ok", "message": "Daemon shutting down"}, r
        assert d.wait_exit(20) == 0
        log = d.stderr()
        assert ("denied shutdown to uid %d" % uid_of(OTHER)) in log, log
        assert ("denied get_process t1proc to uid %d" % uid_of(OTHER)) \
            in log, log
        assert ("stop_process t1proc requested by uid %d" %
                uid_of(OWNER)) in log, log
        assert ("shutdown requested by uid %d" % uid_of(ADMIN)) in log, log
    finally:
        d.cleanup()


@test
def owner_scope_and_list_details():
    """A user manages only processes running as that user; list shows
    everybody every name and state, details only where allowed; unknown
    names are not_found for everyone; tail_logs of all is for admins."""
    setup_users()
    with Daemon(CONFIG, daemon=ADMIN_TABLE) as d:
        def all_running():
            ps = d.request({"type": "list_processes"})["processes"]
            return all(p["status"] == "Running" for p in ps)
        wait_until(all_running, 10, what="processes running")
        lst = {"type": "list_processes"}
        tail_all = {"type": "tail_logs", "name": None, "lines": 5,
                    "follow": False}
        o = as_user(OWNER, d.socket, [
            lst, {"type": "get_process", "name": "t2proc"},
            {"type": "stop_process", "name": "rootproc"},
            {"type": "get_process", "name": "nope"}, tail_all,
            {"type": "tail_logs", "name": "rootproc", "lines": 1,
             "follow": False}])
        procs = {p["name"]: p for p in o[0]["processes"]}
        assert list(procs) == ["t1proc", "t2proc", "rootproc"], procs
        for n, p in procs.items():
            assert p["status"] == "Running", p
            assert list(p) == ["name", "instances", "running", "status",
                               "cpu_percent", "memory_bytes", "uptime_secs",
                               "restart_count"], p
            mine = n == "t1proc"
            for k in ("cpu_percent", "memory_bytes", "uptime_secs"):
                assert (p[k] is not None) == mine, (n, k, p)
        assert denied(o[1]) and denied(o[2]), o
        assert "t2proc" in o[1]["message"], o[1]
        assert o[3]["code"] == "process_not_found", o[3]
        assert denied(o[4]) and "administrators" in o[4]["message"], o[4]
        assert denied(o[5]), o[5]

        # The admin and root see every detail and may tail everything.
        for user in (ADMIN, None):
            a = as_user(user, d.socket, [lst, tail_all])
            for p in a[0]["processes"]:
                assert p["memory_bytes"] is not None, (user, p)
            assert not denied(a[1]), (user, a[1])

        # The owner's own stop/start act on its process.
        r = as_user(OWNER, d.socket, [
            {"type": "stop_process", "name": "t1proc"},
            {"type": "get_process", "name": "t1proc"},
            {"type": "start_process", "name": "t1proc"}])
        assert r[0]["type"] == "ok", r
        st = r[1]["process"]["instance_details"][0]["state"]
        assert st != "Running", r[1]
        assert r[2]["type"] == "ok", r
        # rootproc is untouched by all this.
        g = d.request({"type": "get_process", "name": "rootproc"})
        assert g["process"]["instance_details"][0]["state"] == "Running", g


@test
def admin_is_judged_by_the_connecting_process_groups():
    """Membership counts as the kernel recorded it at connect(2): the
    admin member without the group in its process is not an admin, a
    process whose gid is the admin group is."""
    setup_users()
    with Daemon(CONFIG, daemon=ADMIN_TABLE) as d:
        q = [{"type": "list_credentials"}]
        r = as_user(ADMIN, d.socket, q, groups=[])[0]
        assert denied(r), r
        agid = grp.getgrnam(TEST_ADMIN_GROUP).gr_gid
        r = as_user(OTHER, d.socket, q, groups=[], gid=agid)[0]
        assert r.get("code") == "not_supported", r
        r = as_user(ADMIN, d.socket, q)[0]
        assert r.get("code") == "not_supported", r


@test
def socket_mode_keeps_a_user_out():
    """socket_mode 0660 with socket_group apm2tadm: apm2t2 cannot even
    connect (EACCES) for any request; a member can; root may shut down."""
    setup_users()
    d = Daemon(CONFIG, daemon=dict(ADMIN_TABLE, socket_mode="0660",
                                   socket_group=TEST_ADMIN_GROUP))
    try:
        d.start()
        st = os.stat(d.socket)
        assert st.st_mode & 0o777 == 0o660, oct(st.st_mode)
        assert st.st_gid == grp.getgrnam(TEST_ADMIN_GROUP).gr_gid
        out = as_user(OTHER, d.socket, [r for n, r in REQUESTS])
        assert out == [{"__connect_errno": errno.EACCES}] * 16, out
        r = as_user(ADMIN, d.socket, [{"type": "ping"}])[0]
        assert r["type"] == "pong", r
        assert d.request({"type": "shutdown"}) == {
            "type": "ok", "message": "Daemon shutting down"}
        assert d.wait_exit(20) == 0
    finally:
        d.cleanup()


# ------------------------------------------------------------ the sandbox

@test
def frontend_sandbox_in_proc():
    """Seccomp filter mode, NO_NEW_PRIVS, the unprivileged uid, the
    chroot, the rlimits and Landlock, as /proc and the log show them."""
    d = PipeDaemon(PLAIN)
    try:
        d.start()
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        st = proc_status(fe)
        assert st["Seccomp"] == "2", st["Seccomp"]
        assert st["NoNewPrivs"] == "1", st["NoNewPrivs"]
        assert st["CapEff"] == "0000000000000000", st["CapEff"]
        if IS_ROOT:
            pw = pwd.getpwnam("_apm2d")
            assert st["Uid"].split() == [str(pw.pw_uid)] * 4, st["Uid"]
            assert st["Gid"].split() == [str(pw.pw_gid)] * 4, st["Gid"]
            assert os.readlink("/proc/%d/root" % fe) == "/var/empty"
        else:
            # An ordinary user's daemon cannot chroot: Landlock instead.
            assert st["Uid"].split()[0] == str(os.getuid()), st["Uid"]
        lim = proc_limits(fe)
        assert lim["Max processes"] == ("0", "0"), lim
        assert lim["Max file size"] == ("0", "0"), lim
        assert lim["Max core file size"] == ("0", "0"), lim
        # One per client plus its copy on the way to the supervisor.
        n = 2 * FRONTEND_MAX_CONNS + 16
        hard = proc_limits(d.pid)["Max open files"][1]
        if hard != "unlimited":
            n = min(n, int(hard))
        assert lim["Max open files"] == (str(n), str(n)), lim
        # The log reaches the file through the pump thread: wait for it.
        abi = landlock_abi()
        want = "Landlock is not available" if abi is None else \
            "Landlock ABI %d ruleset applied" % abi
        for line in (want, "seccomp allow-list loaded"):
            wait_until(lambda: line in d.stderr(), 5, what=line)
        # The supervisor has none of it: agents would inherit it.
        sst = proc_status(d.pid)
        assert sst["Seccomp"] == "0" and sst["NoNewPrivs"] == "0", sst
        for k in ("Max processes", "Max file size"):
            assert proc_limits(d.pid)[k] != ("0", "0"), k
        # And it still serves.
        assert d.request({"type": "list_processes"})["type"] == \
            "process_list"
    finally:
        d.cleanup()


@test
def frontend_logging_to_a_file_keeps_its_file_size_limit():
    """apm2d -d 2>file: the frontend's log lines must still land."""
    with VerboseDaemon(PLAIN) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        assert proc_limits(fe)["Max file size"] != ("0", "0")
        wait_until(lambda: "RLIMIT_FSIZE not lowered" in d.stderr(), 5,
                   what="log line")
        assert proc_status(fe)["Seccomp"] == "2"


@test
def forbidden_syscall_kills_frontend_and_it_is_respawned():
    """The hooks build runs execve(2) on a magic request: seccomp kills
    the frontend (SIGSYS), the supervisor logs it and starts another,
    agents keep running."""
    with VerboseDaemon(PLAIN, binary=HOOKS) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        before = d.request({"type": "get_process", "name": "agent"})
        apid = before["process"]["instance_details"][0]["pid"]
        with Client(d.socket, timeout=5) as c:
            c.send_raw(frame(FORBIDDEN))
            assert c.is_closed(5), "the connection survived"
        wait_until(lambda: not pid_alive(fe), 5, what="frontend death")
        wait_until(lambda: "frontend %d killed by signal 31" % fe
                   in d.stderr(), 5, what="SIGSYS logged")
        log = d.stderr()
        assert "test hook: execve /bin/sh" in log, log
        assert "execve returned" not in log, log
        assert "frontend lost" in log, log

        def respawned():
            n = d.frontend_pid()
            return n if n not in (None, fe) and d.request(
                {"type": "ping"}, timeout=2)["type"] == "pong" else None
        nfe = wait_until(respawned, 10, what="respawned frontend")
        assert proc_status(nfe)["Seccomp"] == "2"
        assert d.alive() and pid_alive(apid)
        after = d.request({"type": "get_process", "name": "agent"})
        assert after["process"]["instance_details"][0]["pid"] == apid


@test
def syslog_reconnect_calls_fail_without_killing():
    """glibc's syslog(3) reconnect path (socket, connect) gets EACCES in
    the sandbox instead of death."""
    with VerboseDaemon(PLAIN, binary=HOOKS) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        with Client(d.socket, timeout=5) as c:
            r = c.call(SYSLOG_CALLS.decode())
        assert r["type"] == "pong", r
        wait_until(lambda: "test hook: socket: Permission denied"
                   in d.stderr(), 5, what="EACCES logged")
        assert d.frontend_pid() == fe and pid_alive(fe)
        assert d.request({"type": "ping"})["type"] == "pong"


@test
def production_binary_has_no_syscall_hook():
    """The forbidden-syscall trigger exists only in the test build."""
    with open(APM2D, "rb") as f:
        prod = f.read()
    with open(HOOKS, "rb") as f:
        hooks = f.read()
    for magic in (b"__apm2d_test_forbidden_syscall",
                  b"__apm2d_test_syslog_syscalls"):
        assert magic in hooks, magic
        assert magic not in prod, magic
    # And the production frontend answers the magic like any ping.
    with Daemon(PLAIN) as d:
        fe = wait_until(d.frontend_pid, 5, what="frontend")
        with Client(d.socket, timeout=5) as c:
            assert c.call(FORBIDDEN.decode())["type"] == "pong"
        assert d.frontend_pid() == fe


run()
