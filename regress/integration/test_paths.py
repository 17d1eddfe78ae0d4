#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Files the daemon touches by path (issue 13, part 3): the demo
directory of `make run`, the control socket's and pid file's
directories, the socket's mode and group, and, as root, the
configuration file and every directory above it.

Each attack is set up as another local user would set it up (uid 65534
owns what "they" made) and must be refused before anything is written;
what used to work (private temporary directories under sticky /tmp,
a daemon running as an ordinary user in its own directories) must still
work.  Root-only cases skip themselves otherwise."""
import grp
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APM2D, IS_ROOT, SANITIZER, SLEEPER,  # noqa: E402
                     TEST_ADMIN_GROUP, TOP, Client, Daemon, Skip,
                     daemon_conf, ensure_frontend_user, ensure_group,
                     ensure_user, run, test, wait_until)

OTHER_UID = 65534       # "another user": nobody
RUN_DEMO = os.path.join(TOP, "etc", "run-demo.sh")
USER = "apm2t1"

def needs_root():
    if not IS_ROOT:
        raise Skip("needs root")


class Scratch:
    """A private temporary directory (mode 0755) under /tmp, removed at
    the end whatever it holds."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="apm2-paths-")
        os.chmod(self.path, 0o755)

    def join(self, *names):
        return os.path.join(self.path, *names)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def mkdir(path, mode, uid=None):
    os.mkdir(path)
    os.chmod(path, mode)     # exactly this mode, whatever the umask
    if uid is not None:
        os.chown(path, uid, uid)
    return path


def write(path, text, mode=0o644, uid=None):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if uid is not None:
        os.chown(path, uid, uid)
    return path


def config(tmp, sock, pid):
    """A daemon table with the socket and pid file where the test wants
    them, and log and state files in tmp."""
    return daemon_conf(socket=sock, pid_file=pid,
                       log_dir=os.path.join(tmp, "log"),
                       state_file=os.path.join(tmp, "state.json")) + \
        "\n" + SLEEPER


def answers(sock):
    try:
        with Client(sock, timeout=2) as c:
            return c.call({"type": "ping"})["type"] == "pong"
    except (OSError, EOFError, ValueError):
        return False


def stop(p):
    """SIGTERM the process we started (by its pid), bounded; then SIGKILL."""
    if p.poll() is not None:
        return
    try:
        os.kill(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)


def launch(argv, sock, env=None, timeout=20):
    """Run argv, which ends in a foreground apm2d on socket sock.  Return
    (rc, output) once it exits, or (None, output) if the daemon came up
    (it answered on sock, or was still running at the deadline); then
    it has been stopped.  Output is checked for sanitizer reports."""
    ensure_frontend_user()
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=out, env=env)
        try:
            try:
                wait_until(lambda: p.poll() is not None or answers(sock),
                           timeout=timeout, what="exit or answer")
            except AssertionError:
                pass
            rc = p.poll()
        finally:
            stop(p)
        out.seek(0)
        text = out.read().decode(errors="replace")
    m = SANITIZER.search(text)
    assert m is None, text[max(0, m.start() - 200):m.start() + 2000]
    return rc, text


def start_apm2d(conf_path, sock, timeout=20):
    return launch([APM2D, "-d", "-f", conf_path], sock, timeout=timeout)


def check_conf(conf_path):
    """apm2d -n: (rc, stdout + stderr)."""
    p = subprocess.run([APM2D, "-n", "-f", conf_path],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=40)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def refused(rc, out, *want):
    assert rc == 1, "expected exit 1, got %s: %s" % (
        "a running daemon" if rc is None else rc, out)
    for w in want:
        assert w in out, "%r not in: %s" % (w, out)


def file_state(path):
    st = os.lstat(path)
    with open(path, "rb") as f:
        return f.read(), stat.S_IMODE(st.st_mode), st.st_uid


# ------------------------------------------------------------ make run

def run_demo(demo_dir, timeout=30):
    """etc/run-demo.sh with APM2_DEMO_DIR=demo_dir: (rc, output), rc None
    if it started the daemon (stopped since)."""
    if not os.path.exists(RUN_DEMO):
        raise Skip("no etc/run-demo.sh in this copy of the tree")
    env = dict(os.environ, APM2_DEMO_DIR=demo_dir)
    # exec: the pid we start becomes the daemon's, which we may stop
    return launch(["sh", RUN_DEMO], os.path.join(demo_dir, "apm2.sock"),
                  env=env, timeout=timeout)


def demo_refused(demo, victim, want):
    before = file_state(victim)
    vdir = os.stat(os.path.dirname(victim))
    rc, out = run_demo(demo)
    assert file_state(victim) == before, (file_state(victim), before, out)
    after = os.stat(os.path.dirname(victim))
    assert (after.st_mode, after.st_uid) == (vdir.st_mode, vdir.st_uid), \
        (oct(after.st_mode), oct(vdir.st_mode))
    assert rc not in (None, 0), "the demo ran: %s" % out
    assert want in out, "%r not in: %s" % (want, out)
    assert not os.path.exists(os.path.join(os.path.dirname(victim),
                                           "apm2.sock")), out


@test
def demo_dir_made_by_another_user_refused():
    """Another user made the demo directory first and left demo.toml
    there as a link to a root-owned file: the script refuses, and the
    file keeps its content and mode (was overwritten and made 0644)."""
    needs_root()
    with Scratch() as s:
        vdir = mkdir(s.join("root-only"), 0o700)
        victim = write(os.path.join(vdir, "victim"), "precious\n", 0o600)
        demo = mkdir(s.join("demo"), 0o755, uid=OTHER_UID)
        os.symlink(victim, os.path.join(demo, "demo.toml"))
        os.lchown(os.path.join(demo, "demo.toml"), OTHER_UID, OTHER_UID)
        demo_refused(demo, victim, "is owned by uid %d, not by you"
                     % OTHER_UID)
        assert os.stat(demo).st_mode & 0o7777 == 0o755


@test
def demo_dir_that_is_a_symlink_refused():
    """The demo directory is a link to a root directory: the script
    refuses instead of writing demo.toml, socket and logs there."""
    needs_root()
    with Scratch() as s:
        vdir = mkdir(s.join("root-only"), 0o700)
        victim = write(os.path.join(vdir, "demo.toml"), "precious\n", 0o600)
        demo = s.join("demo")
        os.symlink(vdir, demo)
        demo_refused(demo, victim, "is a symbolic link")


@test
def demo_dir_writable_by_others_refused():
    """A demo directory everybody may write (somebody planted a link in
    it): refused, not chmod'ed and used."""
    needs_root()
    with Scratch() as s:
        vdir = mkdir(s.join("root-only"), 0o700)
        victim = write(os.path.join(vdir, "victim"), "precious\n", 0o600)
        demo = mkdir(s.join("demo"), 0o777)
        os.symlink(victim, os.path.join(demo, "demo.toml"))
        os.lchown(os.path.join(demo, "demo.toml"), OTHER_UID, OTHER_UID)
        demo_refused(demo, victim, "is writable by group or others")


@test
def demo_dir_fresh_or_own_still_works():
    """A directory that does not exist is made 0755 and the demo runs;
    run again, the caller's own directory is accepted."""
    needs_root()
    with Scratch() as s:
        demo = s.join("demo")
        for _ in range(2):
            rc, out = run_demo(demo)
            assert rc is None, "the demo did not start (%s): %s" % (rc, out)
            st = os.lstat(demo)
            assert stat.S_ISDIR(st.st_mode), oct(st.st_mode)
            assert stat.S_IMODE(st.st_mode) == 0o755, oct(st.st_mode)
            assert st.st_uid == os.geteuid()


# ------------------------------------------------------------ socket, pid

@test
def socket_dir_owned_by_another_user_refused():
    needs_root()
    with Scratch() as s:
        sdir = mkdir(s.join("sock"), 0o755, uid=OTHER_UID)
        sock = os.path.join(sdir, "apm2.sock")
        conf = write(s.join("c.toml"),
                     config(s.path, sock, s.join("run", "apm2.pid")))
        rc, out = start_apm2d(conf, sock)
        refused(rc, out, "socket %s: unsafe directory %s: owned by uid %d"
                % (sock, sdir, OTHER_UID))
        assert not os.path.lexists(sock)
        assert not os.path.lexists(s.join("run", "apm2.pid"))


@test
def socket_dir_writable_by_others_refused():
    """0777, 0770 and 1777 (sticky is no help for the socket's own
    directory): refused at start, nothing created there."""
    with Scratch() as s:
        for i, mode in enumerate((0o777, 0o770, 0o1777)):
            sdir = mkdir(s.join("sock%d" % i), mode)
            sock = os.path.join(sdir, "apm2.sock")
            conf = write(s.join("c%d.toml" % i),
                         config(s.path, sock, s.join("run", "apm2.pid")))
            rc, out = start_apm2d(conf, sock)
            refused(rc, out, "socket %s: unsafe directory %s: writable by "
                    "group or others (owner uid %d, mode %04o)"
                    % (sock, sdir, os.geteuid(), mode))
            assert not os.path.lexists(sock)


@test
def socket_dir_below_a_writable_dir_refused():
    """The socket's directory is fine, the one above it is 0777: whoever
    can write there can rename it away and put their own in its place."""
    with Scratch() as s:
        top = mkdir(s.join("open"), 0o777)
        sdir = mkdir(os.path.join(top, "sock"), 0o755)
        sock = os.path.join(sdir, "apm2.sock")
        conf = write(s.join("c.toml"),
                     config(s.path, sock, s.join("run", "apm2.pid")))
        rc, out = start_apm2d(conf, sock)
        refused(rc, out, "socket %s: unsafe directory %s: writable by "
                "group or others" % (sock, top))


@test
def pid_dir_owned_by_another_user_refused():
    needs_root()
    with Scratch() as s:
        pdir = mkdir(s.join("pid"), 0o755, uid=OTHER_UID)
        pid = os.path.join(pdir, "apm2.pid")
        sock = s.join("run", "apm2.sock")
        conf = write(s.join("c.toml"), config(s.path, sock, pid))
        rc, out = start_apm2d(conf, sock)
        refused(rc, out, "pid file %s: unsafe directory %s: owned by uid %d"
                % (pid, pdir, OTHER_UID))
        assert not os.path.lexists(pid)
        assert not os.path.lexists(sock)


@test
def pid_dir_writable_by_others_refused():
    with Scratch() as s:
        pdir = mkdir(s.join("pid"), 0o777)
        pid = os.path.join(pdir, "apm2.pid")
        sock = s.join("run", "apm2.sock")
        conf = write(s.join("c.toml"), config(s.path, sock, pid))
        rc, out = start_apm2d(conf, sock)
        refused(rc, out, "pid file %s: unsafe directory %s: writable by "
                "group or others (owner uid %d, mode 0777)"
                % (pid, pdir, os.geteuid()))
        assert not os.path.lexists(pid)


@test
def socket_mode_and_group_at_start():
    """The socket has exactly socket_mode (0660, 0600, the default 0666)
    and socket_group's gid."""
    if IS_ROOT:
        group = ensure_group(TEST_ADMIN_GROUP)
    else:
        group = grp.getgrgid(os.getegid())
    for mode, keys in ((0o660, {"socket_mode": "0660",
                                "socket_group": group.gr_name}),
                       (0o600, {"socket_mode": "0600"}),
                       (0o666, {})):
        with Daemon(SLEEPER, daemon=keys) as d:
            st = os.lstat(d.socket)
            assert stat.S_ISSOCK(st.st_mode), oct(st.st_mode)
            assert stat.S_IMODE(st.st_mode) == mode, \
                (oct(st.st_mode), oct(mode))
            if "socket_group" in keys:
                assert st.st_gid == group.gr_gid, (st.st_gid, group)
            else:
                assert st.st_gid == os.getegid(), st.st_gid
            assert d.request({"type": "ping"})["type"] == "pong"


# CTR-D006: the socket's parent directory is created.
@test
def private_dirs_under_tmp_still_work():
    """The everyday case: a root (or ordinary) daemon in a directory made
    by mkdtemp under sticky /tmp; the directory it makes for the socket
    is 0755 and, as root, root's."""
    with Daemon(SLEEPER) as d:
        st = os.stat(os.path.dirname(d.socket))
        assert stat.S_IMODE(st.st_mode) == 0o755, oct(st.st_mode)
        assert st.st_uid == os.geteuid()
        assert d.request({"type": "ping"})["type"] == "pong"


@test
def daemon_as_user_in_its_own_dirs_still_works():
    """Root starts a daemon as an ordinary user in directories that user
    owns: its own uid is as good as root's."""
    needs_root()
    ensure_user(USER)
    with Daemon(SLEEPER, user=USER) as d:
        assert d.request({"type": "ping"})["type"] == "pong"
        st = os.stat(os.path.dirname(d.socket))
        assert st.st_uid == pwd.getpwnam(USER).pw_uid


# ------------------------------------------------------------ the config

def conf_in(s, cdir, mode=0o644, uid=None):
    """A valid configuration in cdir, with socket and pid file in s."""
    sock = s.join("run", "apm2.sock")
    path = write(os.path.join(cdir, "c.toml"),
                 config(s.path, sock, s.join("run", "apm2.pid")),
                 mode=mode, uid=uid)
    return path, sock


@test
def config_in_dir_owned_by_another_user_refused():
    """Root's file in a directory another user owns: they could swap it
    at any time.  Refused by apm2d -n and at start (was accepted)."""
    needs_root()
    with Scratch() as s:
        cdir = mkdir(s.join("theirs"), 0o755, uid=OTHER_UID)
        path, sock = conf_in(s, cdir)
        want = "%s: unsafe directory %s: owned by uid %d (mode 0755), " \
            "not by root" % (path, cdir, OTHER_UID)
        refused(*start_apm2d(path, sock), want)
        assert not os.path.lexists(sock)
        refused(*check_conf(path), want)


@test
def config_in_writable_dir_refused():
    """0777 right above the file, or further up."""
    needs_root()
    with Scratch() as s:
        cdir = mkdir(s.join("open"), 0o777)
        path, sock = conf_in(s, cdir)
        want = "%s: unsafe directory %s: writable by group or others " \
            "(owner uid 0, mode 0777)" % (path, cdir)
        refused(*start_apm2d(path, sock), want)
        refused(*check_conf(path), want)
        sub = mkdir(os.path.join(cdir, "sub"), 0o755)
        path, sock = conf_in(s, sub)
        refused(*check_conf(path), want.replace(
            os.path.join(cdir, "c.toml"), path))


@test
def config_owned_by_another_user_refused():
    needs_root()
    with Scratch() as s:
        path, sock = conf_in(s, s.path, uid=OTHER_UID)
        want = "%s: owned by uid %d, not by root" % (path, OTHER_UID)
        refused(*check_conf(path), want)
        refused(*start_apm2d(path, sock), want)


@test
def config_writable_by_group_or_others_refused():
    needs_root()
    with Scratch() as s:
        for mode in (0o664, 0o646):
            path, sock = conf_in(s, s.path, mode=mode)
            want = "%s: writable by group or others (mode %04o)" \
                % (path, mode)
            refused(*check_conf(path), want)
            refused(*start_apm2d(path, sock), want)


@test
def config_symlink_checked_where_it_leads():
    """A link to a safe file is followed and accepted (even from a
    directory that is not safe: the link only chose the file); a link to
    a file in an unsafe directory is refused, naming that directory."""
    needs_root()
    with Scratch() as s:
        safe = mkdir(s.join("safe"), 0o755)
        path, sock = conf_in(s, safe)
        link = s.join("link.toml")
        os.symlink(path, link)
        rc, out = check_conf(link)
        assert rc == 0 and "configuration OK" in out, (rc, out)
        theirs = mkdir(s.join("theirs"), 0o755, uid=OTHER_UID)
        tlink = os.path.join(theirs, "link.toml")
        os.symlink(path, tlink)
        rc, out = check_conf(tlink)
        assert rc == 0 and "configuration OK" in out, (rc, out)
        rc, out = start_apm2d(link, sock)
        assert rc is None, "did not start (%s): %s" % (rc, out)

        bad = mkdir(s.join("theirs2"), 0o755, uid=OTHER_UID)
        bpath, _ = conf_in(s, bad)
        blink = s.join("blink.toml")
        os.symlink(bpath, blink)
        refused(*check_conf(blink), "%s: unsafe directory %s: owned by "
                "uid %d" % (blink, bad, OTHER_UID))


@test
def config_checks_not_applied_to_an_ordinary_user():
    """Not as root, the loader leaves owner, mode and directories alone:
    the file can give the daemon no more than its user already has."""
    if IS_ROOT:
        raise Skip("as an ordinary user only")
    with Scratch() as s:
        cdir = mkdir(s.join("open"), 0o777)
        path, sock = conf_in(s, cdir, mode=0o666)
        rc, out = check_conf(path)
        assert rc == 0 and "configuration OK" in out, (rc, out)


run()
