#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make install and make uninstall, and the systemd unit (issue 19).

`make install` into a DESTDIR puts down exactly what users run (apm2d,
apm2ctl), their three manual pages in their sections and the sample
configuration, at PREFIX, SYSCONFDIR, MANDIR; never over a configuration
already there, never a test build.  `make uninstall` removes the same
files and nothing else: a configuration the administrator changed stays.
etc/apm2d.service passes `systemd-analyze verify` (when the tool is
there) with the installed daemon and manual pages.

These need the source tree (its Makefile): as the ordinary user, who
runs a copy of the tests alone, they skip themselves."""
import os
import re
import stat
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TOP, Skip, run, test  # noqa: E402

SERVICE = os.path.join(TOP, "etc", "apm2d.service")
SAMPLE = os.path.join(TOP, "etc", "ecosystem.toml")
PROGS = ("apm2d/apm2d", "apm2ctl/apm2ctl")


def needs_tree():
    if not os.path.isfile(os.path.join(TOP, "Makefile")):
        raise Skip("needs the source tree (a copy of the tests runs here)")


def make(*args, check=True):
    """make ARGS in the tree; (status, stdout and stderr)."""
    p = subprocess.run(["make", "-s", "-C", TOP] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode(errors="replace")
    if check:
        assert p.returncode == 0, "make %s: %d: %s" % (
            " ".join(args), p.returncode, out)
    return p.returncode, out


def built():
    """The programs are built and up to date: install builds nothing
    then (make check built them, maybe with other flags)."""
    needs_tree()
    rc, out = make("-q", *PROGS, check=False)
    assert rc == 0, "apm2d and apm2ctl are not up to date: run make first"


def tree(root):
    """Every file and symbolic link below root: {relative path: mode}."""
    found = {}
    for d, dirs, files in os.walk(root):
        for n in files + [x for x in dirs
                          if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, n)
            found[os.path.relpath(p, root)] = stat.S_IMODE(os.lstat(p).st_mode)
    return found


def expected(prefix="/usr/local", sysconfdir="/etc", mandir=None):
    mandir = mandir or prefix + "/share/man"
    return {
        (prefix + "/sbin/apm2d")[1:]: 0o755,
        (prefix + "/bin/apm2ctl")[1:]: 0o755,
        (mandir + "/man8/apm2d.8")[1:]: 0o644,
        (mandir + "/man1/apm2ctl.1")[1:]: 0o644,
        (mandir + "/man5/ecosystem.toml.5")[1:]: 0o644,
        (sysconfdir + "/apm2/ecosystem.toml")[1:]: 0o644,
    }


class Dest:
    """A DESTDIR, removed at the end."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="apm2-destdir-")
        return self.dir

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def install_uninstall(want, *args):
    """Install with args into a DESTDIR, compare the tree with want (so
    no test program is there), check the files are the tree's own (the
    production daemon), uninstall: no file is left and neither is
    SYSCONFDIR/apm2."""
    built()
    with Dest() as d:
        make("install", "DESTDIR=" + d, *args)
        got = tree(d)
        assert got == want, "installed %r, wanted %r" % (
            sorted(got.items()), sorted(want.items()))
        for rel in got:
            src = {"apm2d": "apm2d/apm2d", "apm2ctl": "apm2ctl/apm2ctl",
                   "apm2d.8": "apm2d/apm2d.8",
                   "apm2ctl.1": "apm2ctl/apm2ctl.1",
                   "ecosystem.toml.5": "apm2d/ecosystem.toml.5",
                   "ecosystem.toml": "etc/ecosystem.toml"}[
                os.path.basename(rel)]
            with open(os.path.join(d, rel), "rb") as a, \
                    open(os.path.join(TOP, src), "rb") as b:
                data = a.read()
                assert data == b.read(), "%s is not %s" % (rel, src)
            # The production daemon, not the test build's.
            assert b"APM2D_TEST_" not in data, rel
        conf = [r for r in got if r.endswith("/apm2/ecosystem.toml")][0]
        rc, out = make("uninstall", "DESTDIR=" + d, *args)
        left = tree(d)
        assert left == {}, "left after uninstall: %r" % sorted(left)
        assert not os.path.exists(os.path.join(d, os.path.dirname(conf)))
        assert out.strip() == "", out


@test
def install_default_prefix_then_uninstall():
    install_uninstall(expected())


@test
def install_prefix_usr_then_uninstall():
    install_uninstall(expected("/usr"), "PREFIX=/usr")


@test
def install_honours_sysconfdir_and_mandir():
    install_uninstall(expected("/opt/apm2", "/opt/apm2/etc", "/opt/man"),
                      "PREFIX=/opt/apm2", "SYSCONFDIR=/opt/apm2/etc",
                      "MANDIR=/opt/man")


@test
def install_keeps_a_config_and_uninstall_leaves_a_changed_one():
    built()
    with Dest() as d:
        conf = os.path.join(d, "etc", "apm2", "ecosystem.toml")
        os.makedirs(os.path.dirname(conf))
        with open(conf, "w") as f:
            f.write("# the administrator's\n")
        rc, out = make("install", "DESTDIR=" + d)
        assert "kept " + conf in out, out
        with open(conf) as f:
            assert f.read() == "# the administrator's\n"
        rc, out = make("uninstall", "DESTDIR=" + d)
        assert tree(d) == {"etc/apm2/ecosystem.toml": 0o644}, tree(d)
        assert "left " + conf in out, out
    # Installed as the sample, then edited: also left.
    with Dest() as d:
        make("install", "DESTDIR=" + d, "PREFIX=/usr")
        conf = os.path.join(d, "etc", "apm2", "ecosystem.toml")
        with open(conf, "a") as f:
            f.write("# edited\n")
        rc, out = make("uninstall", "DESTDIR=" + d, "PREFIX=/usr")
        assert tree(d) == {"etc/apm2/ecosystem.toml": 0o644}, tree(d)
        assert "left " + conf in out, out


@test
def sysconfdir_is_compiled_in():
    """The Makefile hands SYSCONFDIR to the compiler for the daemon's and
    apm2ctl's default configuration; the default is /etc."""
    needs_tree()
    rc, out = make("-n", "-B", "apm2d/main.o", "apm2ctl/apm2ctl.o",
                   "SYSCONFDIR=/opt/x")
    cc = [ln for ln in out.splitlines() if " -c " in ln]
    assert len(cc) == 2, out
    for ln in cc:
        assert re.search(r'-DAPM2_SYSCONFDIR=\\?"/opt/x\\?"', ln), ln
    for prog, flag in (("apm2d/apm2d", "--help"), ("apm2ctl/apm2ctl", "-h")):
        p = subprocess.run([os.path.join(TOP, prog), flag],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        assert b"(default /etc/apm2/ecosystem.toml)" in p.stdout, p.stdout


def unit_settings():
    s = {}
    with open(SERVICE) as f:
        for ln in f:
            ln = ln.strip()
            if ln and not ln.startswith(("#", "[")):
                k, v = ln.split("=", 1)
                s[k] = v
    return s


@test
def service_settings():
    needs_tree()
    s = unit_settings()
    for k, v in (("Type", "notify"), ("NotifyAccess", "main"),
                 ("ExecStart", "/usr/sbin/apm2d -d"),
                 ("ExecReload", "/bin/kill -HUP $MAINPID"),
                 ("KillMode", "mixed"), ("Delegate", "yes"),
                 ("TimeoutStopSec", "90"), ("Restart", "on-failure"),
                 ("WantedBy", "multi-user.target")):
        assert s.get(k) == v, "%s=%r, wanted %r" % (k, s.get(k), v)
    assert s["Documentation"].split() == [
        "man:apm2d(8)", "man:apm2ctl(1)", "man:ecosystem.toml(5)"]


@test
def service_passes_systemd_analyze_verify():
    """verify checks the syntax, that ExecStart's program is executable
    and that each Documentation page is found by man(1).  It sees the
    unit with ExecStart pointing at the daemon installed into a
    DESTDIR (the only change), and those pages through MANPATH.  It
    exits 0 even when it ignores a bad line: any message fails."""
    built()
    tool = shutil.which("systemd-analyze")
    if tool is None:
        raise Skip("no systemd-analyze")
    with Dest() as d:
        make("install", "DESTDIR=" + d, "PREFIX=/usr")
        with open(SERVICE) as f:
            text = f.read()
        n = text.count("\nExecStart=/usr/sbin/apm2d ")
        assert n == 1, text
        text = text.replace("\nExecStart=/usr/sbin/apm2d ",
                            "\nExecStart=%s/usr/sbin/apm2d " % d)
        unit = os.path.join(d, "apm2d.service")
        with open(unit, "w") as f:
            f.write(text)
        env = dict(os.environ, MANPATH=os.path.join(d, "usr/share/man"))
        argv = [tool, "verify", unit]
        if shutil.which("man") is None:
            print("# no man(1): the Documentation pages are not checked")
            argv.insert(2, "--man=no")
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=120)
        out = p.stdout.decode(errors="replace")
        assert p.returncode == 0 and out.strip() == "", \
            "systemd-analyze verify: %d: %s" % (p.returncode, out)


@test
def debian_package_uses_the_unit_and_deps():
    """debian/apm2d.service is etc/apm2d.service, and every package the
    build needs is one mk/deps.sh installs."""
    needs_tree()
    deb = os.path.join(TOP, "debian")
    with open(os.path.join(deb, "apm2d.service")) as a, open(SERVICE) as b:
        assert a.read() == b.read()
    with open(os.path.join(TOP, "mk", "deps.sh")) as f:
        lists = re.findall(r'^pkgs="(.*?)"', f.read(), re.S | re.M)
    deps = set(" ".join(lists).replace("\\\n", " ").split()) - {"$pkgs"}
    with open(os.path.join(deb, "control")) as f:
        m = re.search(r"^Build-Depends:(.*?)^\S", f.read(), re.S | re.M)
    bd = set()
    for item in m.group(1).split(","):
        name = item.split()[0] if item.split() else ""
        if name and name != "debhelper-compat":
            bd.add(name)
    assert bd and bd <= deps, "not in mk/deps.sh: %r" % sorted(bd - deps)
    assert "debhelper" in deps


run()
