#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Log files and the rights of their process's user (issue 15): an
ordinary user whose agent's log path goes through a directory they can
write tries to make root write elsewhere -- a directory replaced by a
symbolic link, mkdir -p through a symbolic link, a hard link to another
user's file, the log directory swapped for a link during rotation with
compression -- and none of it lets a file appear or change outside what
that user could write.  A user's own log directory works, and its files
are the user's; the daemon's own processes refuse directories others
can write; an existing log file is made 0640.

The attacks need root (the daemon switches to the test user apm2t1);
the tests about the daemon's own processes also run as an ordinary
user.  Every wait is bounded."""
import gzip
import os
import shutil
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import IS_ROOT, Daemon, Skip, ensure_user, process  # noqa: E402
from harness import rd, start  # noqa: E402
from harness import run, test, wait_until  # noqa: E402

ALICE = "apm2t1"     # the attacker: owns the agent
BOB = "apm2t2"       # another user: owns a file alice would like changed
LINE = "%04d " + "x" * 94     # 100 bytes with its newline


class Scene:
    """A root-owned 0755 directory under /tmp holding alice's own 0755
    directory and root's victim directories: "victim" (0755, like /etc)
    and "vault" (0700)."""

    def __init__(self, need_root=True):
        if need_root and not IS_ROOT:
            raise Skip("needs root to run an agent as another user")
        self.base = tempfile.mkdtemp(prefix="apm2-logown-")
        os.chmod(self.base, 0o755)
        self.victim = self.mk("victim", 0o755)
        self.vault = self.mk("vault", 0o700)
        if IS_ROOT:
            self.alice = ensure_user(ALICE)
            self.home = self.mk("alice", 0o755, self.alice)

    def mk(self, name, mode, pw=None):
        p = os.path.join(self.base, name)
        os.mkdir(p)
        os.chmod(p, mode)
        if pw is not None:
            os.chown(p, pw.pw_uid, pw.pw_gid)
        return p

    def alice_symlink(self, target, name):
        """A symbolic link alice made in her directory."""
        p = os.path.join(self.home, name)
        os.symlink(target, p)
        os.lchown(p, self.alice.pw_uid, self.alice.pw_gid)
        return p

    def untouched(self):
        for d in (self.victim, self.vault):
            assert os.listdir(d) == [], (d, os.listdir(d))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.base, ignore_errors=True)


def agent(name, script, out, **keys):
    return process(name, "/bin/sh", ["-c", script], user=ALICE,
                   autostart=False,
                   log=dict({"out_file": out, "err_file": out + ".err",
                             "redact": False, "timestamp": False},
                            **keys.pop("log", {})), **keys)


def state(d, name):
    r = d.request({"type": "get_process", "name": name})
    assert r["type"] == "process_details", r
    return r["process"]["instance_details"][0]["state"]


def said(d, *words):
    """Wait until one line of the daemon's log holds every word."""
    def found():
        return any(all(w in line for w in words)
                   for line in d.stderr().splitlines())
    wait_until(found, 15, what="daemon to say %r" % (words,))


# ------------------------------------------------------------ attacks

@test
def symlinked_log_dir_writes_nothing_outside():
    with Scene() as s:
        for target in (s.victim, s.vault):
            link = s.alice_symlink(target, "logs-" +
                                   os.path.basename(target))
            conf = agent("ag", "echo pwned; exec sleep 1000",
                         os.path.join(link, "ag.log"))
            with Daemon(conf) as d:
                start(d, "ag")
                said(d, "ag.log", "Permission denied")
                assert state(d, "ag") == "Running"
            s.untouched()


@test
def mkdir_p_through_a_symlink_makes_nothing():
    with Scene() as s:
        link = s.alice_symlink(s.victim, "lnk")
        conf = agent("ag", "echo pwned; exec sleep 1000",
                     os.path.join(link, "new", "deeper", "ag.log"))
        with Daemon(conf) as d:
            start(d, "ag")
            said(d, "Permission denied")
        s.untouched()


@test
def hard_link_to_another_users_file_refused():
    bob = ensure_user(BOB) if IS_ROOT else None
    with Scene() as s:
        # protected_hardlinks would stop alice; root makes the link to
        # show apm2d does not depend on it.
        victim = os.path.join(s.victim, "bobs")
        with open(victim, "wb") as f:
            f.write(b"bob's\n")
        os.chown(victim, bob.pw_uid, bob.pw_gid)
        os.chmod(victim, 0o666)
        os.link(victim, os.path.join(s.home, "ag.log"))
        conf = agent("ag", "echo pwned; exec sleep 1000",
                     os.path.join(s.home, "ag.log"))
        with Daemon(conf) as d:
            start(d, "ag")
            said(d, "ag.log", "refused", "2 links")
        st = os.stat(victim)
        assert rd(victim) == b"bob's\n"
        assert (st.st_uid, st.st_gid) == (bob.pw_uid, bob.pw_gid), st
        assert stat.S_IMODE(st.st_mode) == 0o666, oct(st.st_mode)


@test
def dir_swapped_during_rotation_with_compression():
    with Scene() as s:
        logs = os.path.join(s.home, "logs")
        os.mkdir(logs)
        os.chown(logs, s.alice.pw_uid, s.alice.pw_gid)
        flag = os.path.join(s.base, "flag")
        script = ("i=0; while [ $i -lt 30 ]; do printf '%s\\n' $i; "
                  "i=$((i+1)); done; "
                  "n=0; while [ ! -e {flag} ] && [ $n -lt 600 ]; do "
                  "sleep 0.05; n=$((n+1)); done; "
                  "while [ $i -lt 60 ]; do printf '%s\\n' $i; "
                  "i=$((i+1)); done").format(flag=flag) % (LINE, LINE)
        conf = agent("ag", script, os.path.join(logs, "ag.log"),
                     log={"rotation": {"max_size": 1000, "max_files": 3,
                                       "compress": True}})
        with Daemon(conf) as d:
            start(d, "ag")
            gz = os.path.join(logs, "ag.log.1.gz")
            wait_until(lambda: os.path.exists(gz), 15,
                       what="a compressed generation")
            assert os.stat(gz).st_uid == s.alice.pw_uid
            # alice swaps her log directory for a link to root's.
            os.rename(logs, logs + ".old")
            s.alice_symlink(s.victim, "logs")
            with open(flag, "w"):
                pass
            wait_until(lambda: state(d, "ag") == {
                "Stopped": {"exit_code": 0}}, 30, what="agent to finish")
            said(d, "rotate", "ag.log")
        s.untouched()
        # Nothing was lost: what could not rotate stayed in the old file.
        got = b""
        old = logs + ".old"
        for name in sorted(os.listdir(old), reverse=True):
            p = os.path.join(old, name)
            if name.endswith(".gz"):
                got += gzip.decompress(rd(p))
            elif name.startswith("ag.log") and not name.endswith(
                    (".err", ".tmp")):
                got += rd(p)
        want = b"".join((LINE % i + "\n").encode() for i in range(60))
        assert sorted(got.splitlines()) == sorted(want.splitlines())


# ------------------------------------------------------------ what works

@test
def users_own_dir_works_and_files_are_theirs():
    with Scene() as s:
        mine = os.path.join(s.home, "mine")
        os.mkdir(mine)
        os.chown(mine, s.alice.pw_uid, s.alice.pw_gid)
        script = ("i=0; while [ $i -lt 40 ]; do printf '%s\\n' $i; "
                  "i=$((i+1)); done") % LINE
        conf = agent("ag", script, os.path.join(mine, "sub", "ag.log"),
                     log={"rotation": {"max_size": 1000, "max_files": 9,
                                       "compress": True}})
        conf += process("dflt", "/bin/sh", ["-c", "echo hello"],
                        user=ALICE, autostart=False)
        # A directory missing right below hers is made by her, not root.
        conf += agent("new", "echo new", os.path.join(s.home, "newlogs",
                                                        "new.log"))
        with Daemon(conf) as d:
            start(d, "ag")
            start(d, "dflt")
            start(d, "new")
            sub = os.path.join(mine, "sub")
            wait_until(lambda: state(d, "ag") == {
                "Stopped": {"exit_code": 0}}, 20, what="agent to finish")
            wait_until(lambda: len([n for n in os.listdir(sub)
                                    if n.endswith(".gz")]) == 3, 20,
                       what="three compressed generations")
            gid = s.alice.pw_gid
            for name in os.listdir(sub) + [".."]:
                st = os.stat(os.path.join(sub, name))
                assert (st.st_uid, st.st_gid) == (s.alice.pw_uid, gid), \
                    (name, st)
            for name in os.listdir(sub):
                st = os.stat(os.path.join(sub, name))
                assert stat.S_IMODE(st.st_mode) == 0o640, (name, st)
            for made in (sub, os.path.join(s.home, "newlogs")):
                st = os.stat(made)
                assert st.st_uid == s.alice.pw_uid, (made, st)
                assert stat.S_IMODE(st.st_mode) == 0o750, (made, st)
            new = os.path.join(s.home, "newlogs", "new.log")
            wait_until(lambda: os.path.exists(new) and
                       rd(new) == b"new\n", 10, what="new's log")
            dflt = os.path.join(d.log_dir, "dflt.out.log")
            wait_until(lambda: os.path.exists(dflt) and
                       rd(dflt) == b"hello\n", 10, what="dflt's log")
            st = os.stat(dflt)
            assert st.st_uid == s.alice.pw_uid, st
            assert stat.S_IMODE(st.st_mode) == 0o640, oct(st.st_mode)


@test
def daemons_own_processes_refuse_dirs_others_can_write():
    with Scene(need_root=False) as s:
        shared = s.mk("shared", 0o777)
        os.chmod(shared, 0o777)
        conf = process("mine", "/bin/sh", ["-c", "echo x; exec sleep 1000"],
                       autostart=False,
                       log={"out_file": os.path.join(shared, "m.log")})
        with Daemon(conf) as d:
            start(d, "mine")
            said(d, "m.log", "writable by others")
            assert state(d, "mine") == "Running"
        assert os.listdir(shared) == []


@test
def existing_log_file_made_private():
    conf = process("p", "/bin/sh", ["-c", "echo more"], autostart=False,
                   log={"redact": False})
    with Daemon(conf) as d:
        path = os.path.join(d.log_dir, "p.out.log")
        os.makedirs(d.log_dir, exist_ok=True)
        with open(path, "wb") as f:
            f.write(b"old\n")
        os.chmod(path, 0o666)
        start(d, "p")
        wait_until(lambda: rd(path) == b"old\nmore\n", 10, what="output")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


if __name__ == "__main__":
    run()
