#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Log capture end to end with the real daemon and real processes: bytes
on disk exactly as written, streams separate and merged, nothing lost
from short-lived processes, long lines, rotation and compression,
redaction (patterns, injected values, split writes, the false
positive), tail_logs of one and all, follow (also across rotation), a
follower that stops reading, timestamps, and memory.

Every wait is bounded; the only processes signalled are the daemon and
the apm2ctl clients the tests start (agents are stopped through the
daemon)."""
import atexit
import gzip
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import APM2CTL, APM2D, Daemon, process  # noqa: E402
from harness import fd_links, get, rd, start  # noqa: E402
from harness import Skip, ctl, run, test, wait_until  # noqa: E402

DATA = tempfile.mkdtemp(prefix="apm2-logs-")
os.chmod(DATA, 0o755)
atexit.register(shutil.rmtree, DATA, True)


def sanitized():
    """True when the daemon under test is an ASan build (RSS is moot)."""
    try:
        with open(APM2D, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False



# ------------------------------------------------------------ helpers

def proc(name, script, autostart=False, log=None, rotation=None, **keys):
    """A [[processes]] running /bin/sh -c script (the tests start it);
    rotation is log's sub-table."""
    if rotation is not None:
        log = dict(log or {}, rotation=rotation)
    return process(name, "/bin/sh", ["-c", script], autostart=autostart,
                   log=log, **keys)


RAW = {"redact": False, "timestamp": False}


def stopped0(d, name, n=1):
    st = [i["state"] for i in get(d, name)["instance_details"]]
    return all(s == {"Stopped": {"exit_code": 0}} for s in st[:n])


def run_once(d, name, n=1, timeout=20):
    """Start name and wait until its instances exited with 0."""
    start(d, name)
    wait_until(lambda: stopped0(d, name, n), timeout=timeout,
               what="%s to exit" % name)


def logp(d, display, stream="out"):
    return os.path.join(d.log_dir, "%s.%s.log" % (display, stream))


def tail(d, name, lines, follow=False):
    r = d.request({"type": "tail_logs", "name": name, "lines": lines,
                   "follow": follow}, timeout=20)
    assert r["type"] == "log_lines", r
    return r["lines"]


def data_file(name, content):
    p = os.path.join(DATA, name)
    with open(p, "wb") as f:
        f.write(content)
    os.chmod(p, 0o644)
    return p


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Follower:
    """A tail_logs follow stream on its own connection."""

    def __init__(self, d, name, lines=0):
        self.c = d.client(timeout=10)
        self.c.send({"type": "tail_logs", "name": name, "lines": lines,
                     "follow": True})
        self.first = self.frame()

    def frame(self, timeout=10):
        self.c.sock.settimeout(timeout)
        r = self.c.recv()
        assert r["type"] == "log_lines", r
        return r["lines"]

    def collect(self, pred, timeout=15):
        """Lines until pred(all lines so far) holds."""
        got = list(self.first)
        deadline = time.monotonic() + timeout
        while not pred(got):
            left = deadline - time.monotonic()
            assert left > 0, "follow: timed out with %d lines" % len(got)
            got += self.frame(timeout=left)
        return got

    def close(self):
        self.c.close()


# ------------------------------------------------------------ capture

@test
def binary_and_text_output_is_kept_byte_for_byte():
    blob = data_file("blob.bin", os.urandom(3 * 1024 * 1024 + 17))
    text = data_file("text.txt", b"".join(
        b"line %d: \xc3\xa9t\xc3\xa9 \x1b[1mbold\x1b[0m\t tab\r\n" % i
        for i in range(20000)) + b"no newline at the end")
    cfg = proc("bin", "cat %s; cat %s >&2" % (blob, text), log=RAW)
    with Daemon(cfg) as d:
        run_once(d, "bin")
        # Stopped means its pipes were drained and written: no waiting.
        assert rd(logp(d, "bin")) == rd(blob)
        assert rd(logp(d, "bin", "err")) == rd(text)
        # A second run appends.
        run_once(d, "bin")
        assert rd(logp(d, "bin")) == rd(blob) * 2


@test
def files_and_directories_belong_to_the_daemon():
    cfg = proc("perm", "echo hi",
               log={"out_file": "deep/er/perm.out"})
    with Daemon(cfg) as d:
        run_once(d, "perm")
        p = os.path.join(d.log_dir, "deep", "er", "perm.out")
        st = os.stat(p)
        assert stat.S_IMODE(st.st_mode) == 0o640, oct(st.st_mode)
        assert st.st_uid == os.geteuid()
        for sub in ("deep", "deep/er"):
            st = os.stat(os.path.join(d.log_dir, sub))
            assert stat.S_IMODE(st.st_mode) == 0o750, (sub,
                                                       oct(st.st_mode))
        assert rd(p) == b"hi\n"
        # No stderr file was asked for: none is made.
        assert sorted(os.listdir(os.path.join(d.log_dir, "deep", "er"))) \
            == ["perm.out"]


@test
def stdout_and_stderr_separate_merged_and_combined():
    script = ("i=0; while [ $i -lt 300 ]; do echo out $i; echo err $i >&2;"
              " i=$((i+1)); done")
    want_o = "".join("out %d\n" % i for i in range(300))
    want_e = "".join("err %d\n" % i for i in range(300))
    cfg = (proc("sep", script, log=RAW) +
           proc("mrg", script, log=dict(RAW, merge_stderr=True)) +
           proc("cmb", script, log={"combined_file": "cmb.log",
                                    "timestamp": True}))
    with Daemon(cfg) as d:
        for n in ("sep", "mrg", "cmb"):
            run_once(d, n)
        assert rd(logp(d, "sep")).decode() == want_o
        assert rd(logp(d, "sep", "err")).decode() == want_e
        # Merged: one file, each stream in its own order.
        m = rd(logp(d, "mrg")).decode().splitlines()
        assert not os.path.exists(logp(d, "mrg", "err"))
        assert sorted(m) == sorted(want_o.splitlines() +
                          want_e.splitlines())
        assert [l for l in m if l.startswith("out")] == want_o.splitlines()
        assert [l for l in m if l.startswith("err")] == want_e.splitlines()
        # combined_file with timestamps: each line says its stream.
        c = rd(os.path.join(d.log_dir, "cmb.log")).decode().splitlines()
        assert len(c) == 600
        for l in c:
            m2 = re.match(r"^\[[^]]+\] \[(stdout|stderr)\] (out|err) \d+$",
                          l)
            assert m2 and (m2.group(1) == "stdout") == \
                (m2.group(2) == "out"), l


# Programs that name one file write into one file, among many that do
# not: the daemon finds a path it already has open by its name (a hash
# index since issue 17, no longer a scan of every file).
@test
def programs_naming_one_file_share_it():
    cfg = (proc("sha", "echo from-a", log=dict(RAW, out_file="both.log")) +
           proc("shb", "echo from-b", log=dict(RAW, out_file="both.log")) +
           "".join(proc("own%d" % i, "echo own %d" % i, log=RAW)
                   for i in range(80)))
    with Daemon(cfg) as d:
        run_once(d, "sha")
        run_once(d, "shb")
        for i in range(80):
            run_once(d, "own%d" % i)
        both = os.path.join(d.log_dir, "both.log")
        assert rd(both) == b"from-a\nfrom-b\n", rd(both)
        for i in range(80):
            assert rd(logp(d, "own%d" % i)) == b"own %d\n" % i, i
        fds = [l for l in fd_links(d.logger_pid())
               if l.endswith("/both.log")]
        assert len(fds) <= 1, fds


# Issue 17: merged, the process's stdout and stderr are one pipe, so
# that an instance costs the logger two descriptors, not four; its lines
# come in the order written.
@test
def merged_streams_share_one_pipe():
    cfg = proc("one", "echo a; echo b >&2; echo c; exec sleep 1000",
               log=dict(RAW, merge_stderr=True))
    with Daemon(cfg) as d:
        r = d.request({"type": "start_process", "name": "one"})
        assert r["type"] == "ok", r
        r = d.request({"type": "get_process", "name": "one"})
        pid = r["process"]["instance_details"][0]["pid"]
        out = os.readlink("/proc/%d/fd/1" % pid)
        assert out.startswith("pipe:"), out
        assert os.readlink("/proc/%d/fd/2" % pid) == out
        wait_until(lambda: os.path.exists(logp(d, "one")) and
                   rd(logp(d, "one")) == b"a\nb\nc\n", 10,
                   what="the three lines in order")


@test
def short_lived_processes_lose_nothing():
    # One process started 100 times, and 100 instances at once; each
    # run writes its lines and exits at once.
    cfg = (proc("once", "seq 1 300", log=RAW) +
           proc("many", "seq -f \"$APM2_INSTANCE %g\" 1 500",
                instances=100, log={"timestamp": True}))
    with Daemon(cfg) as d:
        for _ in range(100):
            run_once(d, "once")
        want = "".join("%d\n" % i for i in range(1, 301)) * 100
        assert rd(logp(d, "once")).decode() == want
        run_once(d, "many", n=100, timeout=40)
        for i in range(100):
            lines = rd(logp(d, "many-%d" % i)).decode().splitlines()
            body = [l.split("] [stdout] ", 1)[1] for l in lines]
            assert body == ["%d %d" % (i, k) for k in range(1, 501)], i


@test
def long_lines_are_split_and_complete():
    big = b"".join(bytes([97 + (i % 26)]) for i in range(200 * 1024))
    src = data_file("long.txt", big + b"\nshort\n" + big)
    cfg = (proc("lraw", "cat %s" % src, log=RAW) +
           proc("lred", "cat %s" % src) +
           proc("lts", "cat %s" % src, log={"timestamp": True}))
    with Daemon(cfg) as d:
        for n in ("lraw", "lred", "lts"):
            run_once(d, n)
        # Without timestamps the cut pieces join up again on disk.
        assert rd(logp(d, "lraw")) == rd(src)
        assert rd(logp(d, "lred")) == rd(src)
        # With timestamps every piece is a line of at most 64 KiB.
        pieces = [l.split(b"] [stdout] ", 1)[1]
                  for l in rd(logp(d, "lts")).split(b"\n") if l]
        assert all(len(p) <= 65536 for p in pieces)
        assert b"".join(pieces) == big + b"short" + big
        assert pieces.count(b"short") == 1
        # tail shows pieces too, all bytes present.
        for n in ("lraw", "lred"):
            got = tail(d, n, 100)
            assert all(len(e["content"]) <= 65536 for e in got)
            assert "".join(e["content"] for e in got) == \
                (big + b"short" + big).decode()


@test
def rotation_by_size_keeps_max_files():
    line = "%05d " + "r" * 43  # 50 bytes with the newline
    script = ("i=0; while [ $i -lt 400 ]; do printf '%05d %s\\n' $i "
              "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr; i=$((i+1)); "
              "done")
    cfg = proc("rot", script, log=RAW,
               rotation={"max_size": 1000, "max_files": 3})
    with Daemon(cfg) as d:
        run_once(d, "rot")
        base = logp(d, "rot")
        names = sorted(os.listdir(d.log_dir))
        assert "rot.out.log.3" in names and "rot.out.log.4" not in names, \
            names
        parts = [rd(base + ".3"), rd(base + ".2"), rd(base + ".1"),
                 rd(base)]
        for p in parts[:-1]:
            assert 0 < len(p) <= 1000 and p.endswith(b"\n"), len(p)
        joined = b"".join(parts).decode().splitlines()
        want = [(line % i) for i in range(400)]
        assert joined == want[len(want) - len(joined):]
        assert len(joined) >= 40


@test
def rotated_generations_are_compressed():
    script = ("i=0; while [ $i -lt 200 ]; do echo compress line $i "
              "cccccccccccccccccccccccccccccc; i=$((i+1)); done")
    cfg = proc("gz", script, log=RAW,
               rotation={"max_size": 2000, "max_files": 4,
                         "compress": True})
    with Daemon(cfg) as d:
        run_once(d, "gz")
        base = logp(d, "gz")
        wait_until(lambda: all(os.path.exists("%s.%d.gz" % (base, i))
                               for i in range(1, 5)) and
                   not any(os.path.exists("%s.%d" % (base, i))
                           for i in range(1, 5)),
                   timeout=20, what="compressed generations")
        parts = [gzip.decompress(rd("%s.%d.gz" % (base, i)))
                 for i in (4, 3, 2, 1)] + [rd(base)]
        joined = b"".join(parts).decode().splitlines()
        want = ["compress line %d %s" % (i, "c" * 30) for i in range(200)]
        assert joined == want[len(want) - len(joined):]
        assert len(joined) > 50


@test
def a_failing_file_is_reported_once_and_blocks_nothing():
    cfg = (proc("full", "i=0; while [ $i -lt 2000 ]; do echo x $i; "
                "i=$((i+1)); done", log={"out_file": "/dev/full"}) +
           proc("fine", "echo fine"))
    with Daemon(cfg) as d:
        run_once(d, "full")
        run_once(d, "fine")
        assert rd(logp(d, "fine")) == b"fine\n"
        err = d.stderr()
        assert err.count("/dev/full: cannot write") == 1, err
        # The lines are still there for a client.
        got = tail(d, "full", 3)
        assert [e["content"] for e in got] == ["x 1997", "x 1998",
                                               "x 1999"]


@test
def partial_lines_and_pre_shutdown_output_reach_the_file():
    cfg = proc("part", "printf 'no newline yet'; exec sleep 30",
               log={"timestamp": True},
               shutdown={"timeout": "5s", "pre_shutdown_commands": [
                   "echo pre-stop says bye"]})
    with Daemon(cfg) as d:
        start(d, "part")
        wait_until(lambda: tail(d, "part", 5) == [] and
                   get(d, "part")["instance_details"][0]["state"] ==
                   "Running", what="running")
        r = d.request({"type": "stop_process", "name": "part"},
                      timeout=30)
        assert r["type"] == "ok", r

        def body():
            lines = rd(logp(d, "part")).decode().splitlines()
            return sorted(l.split("] [stdout] ", 1)[1] for l in lines)
        wait_until(lambda: body() == ["no newline yet",
                                      "pre-stop says bye"],
                   timeout=15, what="both lines")


# ------------------------------------------------------------ redaction

REDACT_CASES = [
    ("Using key: sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
     "Using key: [REDACTED]"),
    ("OPENAI_API_KEY=sk-proj-1234567890abcdefghij", "OPENAI_[REDACTED]"),
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
     "AWS_ACCESS_KEY_ID=[REDACTED]"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
     "Authorization: [REDACTED]"),
    ("password=hunter2hunter2 next", "[REDACTED] next"),
    ("db_password: 'abc12345' ok", "db_[REDACTED] ok"),
    ("secret=short", "secret=short"),
    ("Keys: sk-ant-abc123xyz456789012345 and ghp_" + "x" * 36,
     "Keys: [REDACTED] and [REDACTED]"),
    ("the bearer of bad news", "the bearer of bad news"),
    ("Normal log message with no secrets",
     "Normal log message with no secrets"),
    ("bare project key sk-proj-abcdefghijklmnopqrstuvwxyz12 here",
     "bare project key [REDACTED] here"),
    ("slack xoxb-1234567890-1234567890-abcdefghijklmnopqrstuvwx",
     "slack [REDACTED]"),
    ("google AIzaSyA1234567890abcdefghijklmnopqrstuv",
     "google [REDACTED]"),
    ("key -----BEGIN RSA PRIVATE KEY-----", "key [REDACTED]"),
    ("MIIEowIBAAKCAQEAv2xN4qNbzKzZ", "[REDACTED]"),
    ("-----END RSA PRIVATE KEY----- after", "[REDACTED] after"),
    ("after the key", "after the key"),
]


@test
def redaction_patterns_end_to_end():
    src = data_file("secrets.txt", "".join(
        i + "\n" for i, _ in REDACT_CASES).encode())
    cfg = (proc("red", "cat %s" % src) +
           proc("redts", "cat %s >&2" % src, log={"timestamp": True}) +
           proc("plain", "cat %s" % src, log={"redact": False}))
    with Daemon(cfg) as d:
        for n in ("red", "redts", "plain"):
            run_once(d, n)
        want = [o for _, o in REDACT_CASES]
        assert rd(logp(d, "red")).decode().splitlines() == want
        ts = rd(logp(d, "redts", "err")).decode().splitlines()
        assert [l.split("] [stderr] ", 1)[1] for l in ts] == want
        # redact = false: the file keeps the bytes ...
        assert rd(logp(d, "plain")) == rd(src)
        # ... but no client ever sees a secret.
        for n in ("red", "plain"):
            got = [e["content"] for e in tail(d, n, 100)]
            assert got == want, (n, got)


@test
def injected_environment_secrets_are_masked():
    env = {"MY_SERVICE_TOKEN": "tok-9f8e7d6c5b4a", "GREETING":
           "hello-visible-value", "ANTHROPIC_API_KEY": "zz-anthropic-42-q"}
    script = ("echo token=$MY_SERVICE_TOKEN greeting=$GREETING; "
              "echo \"in a sentence $ANTHROPIC_API_KEY.\"")
    want = ["token=[REDACTED] greeting=hello-visible-value",
            "in a sentence [REDACTED]."]
    cfg = (proc("env", script, env=env) +
           proc("envraw", script, env=env, log=RAW))
    with Daemon(cfg) as d:
        run_once(d, "env")
        run_once(d, "envraw")
        assert rd(logp(d, "env")).decode().splitlines() == want
        assert b"tok-9f8e7d6c5b4a" in rd(logp(d, "envraw"))
        for n in ("env", "envraw"):
            assert [e["content"] for e in tail(d, n, 10)] == want


@test
def secrets_split_across_writes_are_caught():
    script = ("printf 'key: sk-ant-api03-abcdef'; sleep 0.3; "
              "printf 'ghijklmnopqrstuvwxyz0123 end\\n'; "
              "printf 'value %s' $MY_SECRET_A; sleep 0.3; printf '%s!\\n' "
              "$MY_SECRET_B")
    env = {"MY_SECRET_A": "first-half-", "MY_SECRET_B": "second-half",
           "MY_SECRET": "first-half-second-half"}
    cfg = proc("split", script, env=env)
    with Daemon(cfg) as d:
        run_once(d, "split")
        assert rd(logp(d, "split")).decode().splitlines() == [
            "key: [REDACTED] end", "value [REDACTED]!"]


@test
def a_key_cut_by_the_ring_is_still_masked_for_clients():
    # A PEM key longer than the ring keeps: with redact = false the ring
    # starts inside the key, and a tail must still mask it up to END.
    body = b"".join(b"K" + (b"%04d" % i) * 374 + b"A\n" for i in range(900))
    src = data_file("key.txt", b"-----BEGIN PRIVATE KEY-----\n" + body +
                    b"-----END PRIVATE KEY-----\nafter the key\n")
    cfg = (proc("keyraw", "cat %s; exec sleep 30" % src, log=RAW) +
           proc("keyred", "cat %s" % src))
    with Daemon(cfg) as d:
        start(d, "keyraw")
        run_once(d, "keyred")
        wait_until(lambda: tail(d, "keyraw", 1) and
                   tail(d, "keyraw", 1)[0]["content"] == "after the key",
                   what="the key written")
        assert rd(logp(d, "keyraw")) == rd(src)
        red = [e["content"] for e in tail(d, "keyred", 10000)]
        raw = [e["content"] for e in tail(d, "keyraw", 10000)]
        assert red[-1] == "after the key" and raw[-1] == "after the key"
        assert 100 < len(raw) < 900, len(raw)
        leaked = [l[:40] for l in raw[:-1] if l != "[REDACTED]"]
        assert not leaked, "%d lines unmasked: %r" % (len(leaked),
                                                      leaked[:3])
        assert raw == red[len(red) - len(raw):]
        # A follower's live lines are masked the same way.
        f = Follower(d, "keyraw", lines=3)
        assert [e["content"] for e in f.first] == [
            "[REDACTED]", "[REDACTED]", "after the key"]
        f.close()


# ------------------------------------------------------------ tail

# Each writer waits for the test's word before each line ({tmp}/go.LINE),
# so the lines come in a known order however loaded the machine is.
WAIT_GO = "w() { while [ ! -e {tmp}/go.$1 ]; do sleep 0.01; done; }; "
TAIL_ORDER = [
    ("ta", 0, "stdout", "ta0-first"),
    ("tb", 0, "stdout", "tb-only"),
    ("ta", 1, "stdout", "ta1-first"),
    ("ta", 0, "stderr", "ta0-second"),
    ("tb", 0, "stdout", "tb-late"),
    ("ta", 1, "stderr", "ta1-second")]


def tail_cfg():
    return (proc("ta", WAIT_GO + "w ta$APM2_INSTANCE-first; "
                 "echo ta$APM2_INSTANCE-first; w ta$APM2_INSTANCE-second; "
                 "echo ta$APM2_INSTANCE-second >&2", instances=2) +
            proc("tb", WAIT_GO + "w tb-only; echo tb-only; w tb-late; "
                 "echo tb-late"))


@test
def tail_of_one_and_of_all():
    with Daemon(tail_cfg()) as d:
        start(d, "ta")
        start(d, "tb")
        for k, (_, _, _, line) in enumerate(TAIL_ORDER):
            open(os.path.join(d.tmp, "go." + line), "w").close()
            wait_until(lambda: len(tail(d, None, 100)) == k + 1, 10,
                       what="line %r" % line)
        wait_until(lambda: stopped0(d, "ta", 2) and stopped0(d, "tb"),
                   timeout=20, what="writers to finish")
        allx = tail(d, None, 100)
        order = [(e["process_name"], e["instance"], e["stream"],
                  e["content"]) for e in allx]
        assert order == TAIL_ORDER, order
        stamps = [e["timestamp"] for e in allx]
        assert stamps == sorted(stamps)
        for s in stamps:
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", s)
        # One process, and the last n lines only.
        one = tail(d, "ta", 100)
        assert [e["content"] for e in one] == [
            "ta0-first", "ta1-first", "ta0-second", "ta1-second"]
        assert [e["content"] for e in tail(d, None, 2)] == [
            "tb-late", "ta1-second"]
        assert tail(d, "tb", 0) == []
        # Unknown process.
        r = d.request({"type": "tail_logs", "name": "nope", "lines": 5,
                       "follow": False})
        assert r == {"type": "error", "code": "process_not_found",
                     "message": "Process 'nope' not found"}, r
        # The CLI, text and JSON.
        rc, out, err = ctl(d, "logs", "ta", "-n", "3")
        assert rc == 0, err
        lines = out.splitlines()
        assert len(lines) == 3
        for l, (inst, stream, content) in zip(lines, [
                (1, "stdout", "ta1-first"), (0, "stderr", "ta0-second"),
                (1, "stderr", "ta1-second")]):
            assert re.match(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] "
                            r"\[ta:%d\] \[%s\] %s$" % (inst, stream,
                                                       content), l), l
        rc, out, err = ctl(d, "-j", "logs", "-n", "1")
        assert rc == 0, err
        j = [json.loads(l) for l in out.splitlines()]
        assert len(j) == 1 and j[0]["type"] == "log_lines"
        assert j[0]["lines"][0]["content"] == "ta1-second"
        rc, out, err = ctl(d, "logs", "nope")
        assert rc == 1 and "Process 'nope' not found" in err, (rc, err)


# INV-D007: no reply is larger than 16 MiB either.
@test
def a_large_tail_is_one_bounded_frame():
    # Three instances keep about 1000 lines each of 1000 control bytes
    # (6 bytes each in JSON): more than a frame may hold.  The reply is
    # one frame of the newest lines, and the follow stream's first
    # frames carry the same lines.
    src = data_file("ctl.txt", b"".join(
        b"%06d " % i + b"\x01" * 993 + b"\n" for i in range(1, 2001)))
    cfg = proc("big", "cat %s" % src, instances=3, log=RAW)
    with Daemon(cfg) as d:
        run_once(d, "big", n=3, timeout=40)
        with d.client(timeout=20) as c:
            c.send({"type": "tail_logs", "name": None, "lines": 10000,
                    "follow": False})
            raw = c.recv_bytes()
        assert len(raw) <= 16 * 1024 * 1024
        got = json.loads(raw)["lines"]
        assert 500 < len(got) < 2000, len(got)
        stamps = [e["timestamp"] for e in got]
        assert stamps == sorted(stamps)
        for k in range(3):
            nums = [int(e["content"][:6]) for e in got
                    if e["instance"] == k]
            assert nums == list(range(2001 - len(nums), 2001)), k
        f = Follower(d, None, lines=10000)
        lines = f.collect(lambda g: len(g) >= len(got), timeout=20)
        assert lines == got
        f.close()
        # The daemon still answers.
        assert d.request({"type": "status"})["type"] == "status"


# ------------------------------------------------------------ follow

@test
def follow_receives_new_lines_in_order():
    script = ("i=0; while [ $i -lt 100000 ]; do echo tick $i $FOLLOW_TOKEN;"
              " i=$((i+1)); sleep 0.02; done")
    cfg = proc("fl", script, env={"FOLLOW_TOKEN": "never-shown-1234"},
               log={"redact": False})
    with Daemon(cfg) as d:
        start(d, "fl")
        wait_until(lambda: len(tail(d, "fl", 5)) >= 3, what="ticks")
        f = Follower(d, "fl", lines=2)
        assert len(f.first) == 2
        got = f.collect(lambda g: len(g) >= 30)
        n = [int(e["content"].split()[1]) for e in got]
        assert n == list(range(n[0], n[0] + len(n))), n
        assert all(e["process_name"] == "fl" and e["instance"] == 0 and
                   e["stream"] == "stdout" and
                   e["content"].endswith(" [REDACTED]") for e in got), got
        # Another client is served meanwhile.
        assert d.request({"type": "list_processes"})["type"] == \
            "process_list"
        f.close()
        # The follower is gone; following all works too.
        f = Follower(d, None, lines=0)
        assert f.first == []
        got = f.collect(lambda g: len(g) >= 5)
        assert all(e["content"].startswith("tick ") for e in got)
        f.close()
        # The CLI follows until interrupted.
        out = ""
        try:
            ctl(d, "logs", "fl", "-n", "1", "-F", timeout=1.5)
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode()
        assert len(re.findall(r"\[fl:0\] \[stdout\] tick \d+ \[REDACTED\]",
                              out)) >= 5, out
        assert "never-shown" not in out


@test
def the_cli_follows_until_its_reader_or_the_daemon_goes():
    cfg = proc("tk", "i=0; while [ $i -lt 100000 ]; do echo tk $i; "
               "i=$((i+1)); sleep 0.02; done", autostart=True)
    with Daemon(cfg) as d:
        argv = [APM2CTL, "-s", d.socket, "logs", "tk", "-n", "1", "-F"]
        # The reader goes away: the CLI notices and exits.
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        try:
            for _ in range(3):
                assert re.match(rb"^\[.*\] \[tk:0\] \[stdout\] tk \d+\n$",
                                p.stdout.readline())
            p.stdout.close()
            assert p.wait(timeout=10) != 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # The daemon goes: the stream ends and the CLI exits 0.
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            assert p.stdout.readline().startswith(b"[")
            d.stop()
            out, err = p.communicate(timeout=20)
            assert p.returncode == 0, err
            assert err == b"", err
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


@test
def follow_across_rotation():
    script = ("i=0; while [ $i -lt 100000 ]; do echo rot-follow $i "
              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; "
              "i=$((i+1)); sleep 0.002; done")
    cfg = proc("fr", script, log={"timestamp": True},
               rotation={"max_size": 3000, "max_files": 2})
    with Daemon(cfg) as d:
        start(d, "fr")
        f = Follower(d, "fr", lines=0)
        got = f.collect(lambda g: len(g) >= 400, timeout=30)
        n = [int(e["content"].split()[1]) for e in got]
        assert n == list(range(n[0], n[0] + len(n)))
        assert os.path.exists(logp(d, "fr") + ".2")
        f.close()


@test
def a_follower_that_stops_reading_is_cut_and_memory_stays_bounded():
    cfg = proc("chatty", "exec yes 'a chatty agent writes this line over "
               "and over again, as fast as it can'",
               rotation={"max_size": 1048576, "max_files": 2})
    with Daemon(cfg) as d:
        start(d, "chatty")
        stuck = d.client(timeout=10)
        stuck.send({"type": "tail_logs", "name": "chatty", "lines": 10,
                    "follow": True})
        fe = d.frontend_pid()
        peak_sup = peak_fe = 0
        t0 = time.monotonic()
        # Past the frontend's write timeout (10 s), never reading.
        while time.monotonic() - t0 < 12:
            # Others are served promptly all along.
            t1 = time.monotonic()
            r = d.request({"type": "list_processes"}, timeout=5)
            assert r["type"] == "process_list"
            assert time.monotonic() - t1 < 2.5
            peak_sup = max(peak_sup, vmrss_kib(d.pid))
            if fe:
                try:
                    peak_fe = max(peak_fe, vmrss_kib(fe))
                except OSError:
                    pass
            time.sleep(0.5)
        # The stream was cut: what is buffered ends in EOF, although
        # the agent never stops writing.
        stuck.sock.settimeout(5)
        deadline = time.monotonic() + 10
        n = 0
        while True:
            assert time.monotonic() < deadline, \
                "the stuck follower was never cut (%d bytes)" % n
            try:
                chunk = stuck.sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            n += len(chunk)
        stuck.close()
        assert n > 0
        if not sanitized():
            assert peak_sup < 48 * 1024, "supervisor VmRSS %d KiB" % peak_sup
            assert peak_fe < 64 * 1024, "frontend VmRSS %d KiB" % peak_fe
        # A fresh follower gets its tail (live lines of a flood may well
        # cut it again: that is the point).
        f = Follower(d, "chatty", lines=5)
        assert [e["content"][:14] for e in f.first] == \
            ["a chatty agent"] * 5
        f.close()


@test
def a_follower_that_falls_behind_gets_an_error():
    cfg = proc("flood", "exec yes 'flooding the log with one more line'",
               rotation={"max_size": 1048576, "max_files": 1})
    with Daemon(cfg) as d:
        start(d, "flood")
        c = d.client(timeout=10)
        c.send({"type": "tail_logs", "name": "flood", "lines": 0,
                "follow": True})
        time.sleep(1)   # not reading: the backlog overflows
        deadline = time.monotonic() + 20
        frames = 0
        while True:
            assert time.monotonic() < deadline, "no error after %d" % frames
            r = c.recv()
            if r["type"] != "log_lines":
                break
            frames += 1
        assert r["type"] == "error" and r["code"] == "internal_error", r
        assert r["message"].startswith("log follower too slow"), r
        assert frames >= 1
        assert c.is_closed(timeout=5)
        c.close()
        assert d.request({"type": "status"})["type"] == "status"


# ------------------------------------------------------------ the rest

@test
def timestamps_are_utc_in_the_configured_format():
    cfg = (proc("tsd", "echo hello", log={"timestamp": True}) +
           proc("tsc", "echo hello >&2",
                log={"timestamp": True,
                     "timestamp_format": "%H:%M:%S%.6f %Z"}))
    with Daemon(cfg) as d:
        before = time.time()
        run_once(d, "tsd")
        run_once(d, "tsc")
        after = time.time()
        l = rd(logp(d, "tsd")).decode()
        m = re.match(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3})\] "
                     r"\[stdout\] hello\n$", l)
        assert m, l
        t = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) - \
            time.timezone
        assert before - 2 <= t <= after + 1, (t, before)
        l = rd(logp(d, "tsc", "err")).decode()
        assert re.match(r"^\[\d\d:\d\d:\d\d\.\d{6} UTC\] \[stderr\] "
                        r"hello\n$", l), l


@test
def idle_instances_cost_little_memory():
    if sanitized():
        raise Skip("RSS of a sanitizer build means nothing")
    cfg = proc("idle", "exec sleep 60", instances=100, autostart=True)
    with Daemon(cfg) as d:
        wait_until(lambda: all(i["state"] == "Running" for i in
                               get(d, "idle")["instance_details"]),
                   timeout=30, what="100 instances")
        time.sleep(0.5)
        rss = vmrss_kib(d.pid)
        assert rss < 8 * 1024, "supervisor VmRSS %d KiB" % rss
        # The logger holds 200 files and pipes: no buffer before output.
        rss = vmrss_kib(wait_until(d.logger_pid, 10, what="the logger"))
        assert rss < 8 * 1024, "logger VmRSS %d KiB" % rss
        assert len(os.listdir(d.log_dir)) == 200


if __name__ == "__main__":
    run()
