#!/bin/sh
# SPDX-License-Identifier: ISC
# The Debian package end to end (issue 19): build it from a copy of the
# tree, lintian it, install it with dpkg -i, start the installed daemon
# (outside systemd) on a small configuration put in /etc/apm2, drive it
# through the installed apm2ctl, stop it with "apm2ctl kill", purge the
# package and check that nothing of it is left.  As root, on Debian.
#
#   regress/pkg/run.sh [-o]
#
# The host may be shared.  Nothing is built beside the tree: the copy
# and the packages are in a temporary directory, removed at the end.
# The script refuses to start when the package's files, or the
# directories its purge would remove (/var/lib/apm2, /var/log/apm2,
# /run/apm2), are there and are not this package's; it stops only the
# daemon it started, and on any failure or interrupt it still stops
# that daemon and purges what it installed.
#
# -o: do the install, the smoke test and the purge in a private overlay
# of / (a mount namespace of this script's own: dpkg's database, the
# users and every file of the host stay as they were), after hiding the
# directories and users that the tests of a shared host leave there, so
# that the package meets what a fresh host has.  The build is the same.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
self=$top/regress/pkg/run.sh
PYTHON=${PYTHON:-python3}
nok=0
stage=main
work=
deb=
overlay=0

say() { echo "pkg: $*"; }
ok() { nok=$((nok + 1)); echo "ok $nok - $*"; }
fail() { echo "not ok $((nok + 1)) - $*"; exit 1; }

# The package's files and the directories the purge removes: an
# existing one must be this package's.
PKG_PATHS="/usr/sbin/apm2d /usr/bin/apm2ctl /etc/apm2
/lib/systemd/system/apm2d.service /usr/lib/systemd/system/apm2d.service"
STATE_DIRS="/var/lib/apm2 /var/log/apm2 /run/apm2"
# Gone after the purge (the /var/empty made by postinst, if it made it,
# is checked apart).
DSH=/var/lib/systemd/deb-systemd-helper
GONE="$PKG_PATHS $STATE_DIRS /usr/share/doc/apm2d
/usr/share/man/man8/apm2d.8.gz /usr/share/man/man1/apm2ctl.1.gz
/usr/share/man/man5/ecosystem.toml.5.gz
/etc/systemd/system/multi-user.target.wants/apm2d.service
$DSH-enabled/apm2d.service.dsh-also
$DSH-enabled/multi-user.target.wants/apm2d.service
$DSH-masked/apm2d.service"
TESTCONF=/etc/apm2/pkgtest.toml

# ------------------------------------------------------------ the build

# build: copy what git tracks (and new files not ignored) to
# $work/src/apm2d-VERSION and run dpkg-buildpackage there; its
# ../apm2d_*.deb lands in $work/src.
build() {
	git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
	    fail "$top is not a git checkout"
	v=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version) ||
	    fail "debian/changelog"
	src=$work/src/apm2d-$v
	mkdir -p "$src" || fail "mkdir $src"
	(cd "$top" && git ls-files -z -co --exclude-standard |
	    xargs -0 sh -c 'for f; do
		[ -e "$f" ] || [ -h "$f" ] && printf "%s\0" "$f"; done' sh |
	    tar --null -T - -cf -) | tar -C "$src" -xf - ||
	    fail "copy of the tree"
	say "building in $src"
	if ! (cd "$src" && timeout 1800 dpkg-buildpackage -b -us -uc) \
	    >"$work/build.log" 2>&1; then
		tail -n 40 "$work/build.log"
		fail "dpkg-buildpackage -b -us -uc"
	fi
	deb=$(ls "$work"/src/apm2d_"$v"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || fail "no apm2d_${v}_*.deb"
	ok "dpkg-buildpackage -b -us -uc: $(basename "$deb")"
	# regress/run.sh's last line, or its name in a command.
	grep -Eq '^[0-9]+ passed, [0-9]+ failed|regress/run\.sh' \
	    "$work/build.log" && fail "the package build ran the test suite"
	ok "the build ran no test suite"
}

# contents: the .deb holds exactly these files.
contents() {
	dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sort \
	    >"$work/contents" || fail "dpkg-deb -c"
	sort >"$work/contents.want" <<-EOF
	./etc/apm2/ecosystem.toml
	./lib/systemd/system/apm2d.service
	./usr/bin/apm2ctl
	./usr/sbin/apm2d
	./usr/share/doc/apm2d/changelog.gz
	./usr/share/doc/apm2d/copyright
	./usr/share/man/man1/apm2ctl.1.gz
	./usr/share/man/man5/ecosystem.toml.5.gz
	./usr/share/man/man8/apm2d.8.gz
	EOF
	if ! cmp -s "$work/contents" "$work/contents.want"; then
		diff "$work/contents.want" "$work/contents"
		fail "the package's files"
	fi
	ok "the package holds apm2d, apm2ctl, three manual pages, the" \
	    "sample configuration and the unit"
	dpkg-deb -f "$deb" Depends | grep -q 'adduser' ||
	    fail "Depends has no adduser"
	[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" = \
	    /etc/apm2/ecosystem.toml ] || fail "conffiles"
	ok "/etc/apm2/ecosystem.toml is its one conffile"
}

# lint: lintian as nobody (it unpacks and parses the package; root
# would only earn its warning that it should not run as root).
lint() {
	out=$(cd "$work/src" && timeout 600 runuser -u nobody -- \
	    lintian --fail-on error "$(basename "$deb")" 2>&1)
	rc=$?
	[ -n "$out" ] && echo "$out" | sed 's/^/pkg: lintian: /'
	[ "$rc" -eq 0 ] || fail "lintian: errors"
	ok "lintian: no errors ($(echo "$out" | grep -c '^W:') warnings)"
}

# ------------------------------------------------------------ on the host

# installed: dpkg knows the package (in any state but not-installed).
installed() {
	st=$(dpkg-query -W -f='${Status}' apm2d 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st##* }" != not-installed ]
}

# refuse_foreign: refuse to touch what is not this package's.
refuse_foreign() {
	for p in $PKG_PATHS; do
		[ -e "$p" ] || [ -h "$p" ] || continue
		o=$(dpkg-query -S "$p" 2>/dev/null | sed -n 's/: .*//p')
		[ "$o" = apm2d ] && continue
		fail "refusing: $p exists and is not the apm2d package's" \
		    "(${o:-no package's}); remove it, or run with -o"
	done
	for p in $STATE_DIRS; do
		[ -e "$p" ] || [ -h "$p" ] || continue
		installed && continue
		fail "refusing: $p exists and the apm2d package is not" \
		    "installed: the purge would remove it (another apm2d's" \
		    "state or logs?); run with -o"
	done
}

# preflight: nothing in the way; what is there before the install.
preflight() {
	refuse_foreign
	ok "nothing of another apm2d where the package goes"
	had_var_empty=0
	[ -d /var/empty ] && had_var_empty=1
	had_users=0
	getent passwd _apm2d >/dev/null && getent passwd _apm2log >/dev/null &&
	    had_users=1
	find /etc /usr /lib /var /run -xdev -name '*apm2*' \
	    -not -path '/var/lib/apm2*' -not -path '/var/log/apm2*' \
	    2>/dev/null | sort >"$work/before"
}

# owner PATH: "user:group mode" of PATH.
owner() { stat -c '%U:%G %a' "$1"; }

check_installed() {
	installed || fail "dpkg -i: not installed"
	for f in /usr/sbin/apm2d /usr/bin/apm2ctl; do
		[ "$(owner "$f")" = "root:root 755" ] || fail "$f: $(owner "$f")"
	done
	for m in man8/apm2d.8 man1/apm2ctl.1 man5/ecosystem.toml.5; do
		[ -f "/usr/share/man/$m.gz" ] || fail "no $m.gz"
	done
	[ ! -e /usr/share/man/man8/apm2ctl.8.gz ] || fail "apm2ctl.8.gz"
	[ "$(owner /etc/apm2/ecosystem.toml)" = "root:root 644" ] ||
	    fail "/etc/apm2/ecosystem.toml: $(owner /etc/apm2/ecosystem.toml)"
	dpkg-query -W -f='${Conffiles}\n' apm2d |
	    grep -q '^ /etc/apm2/ecosystem.toml ' || fail "not a conffile"
	ok "installed: programs, manual pages, conffile"
	for u in _apm2d _apm2log; do
		e=$(getent passwd "$u") || fail "no user $u"
		uid=$(echo "$e" | cut -d: -f3)
		shell=$(echo "$e" | cut -d: -f7)
		[ "$uid" -lt 1000 ] || fail "$u: uid $uid is not a system uid"
		case "$shell" in
		*/nologin|*/false) ;;
		*) fail "$u: shell $shell" ;;
		esac
		# Made by postinst: as it makes them.
		[ "$had_users" -eq 1 ] ||
		    [ "$(echo "$e" | cut -d: -f6)" = /nonexistent ] ||
		    fail "$u: home $(echo "$e" | cut -d: -f6)"
		[ "$had_users" -eq 1 ] || [ "$(id -gn "$u")" = "$u" ] ||
		    fail "$u: group $(id -gn "$u")"
	done
	ok "system users _apm2d and _apm2log, no login"
	[ "$(owner /var/lib/apm2)" = "root:root 700" ] ||
	    fail "/var/lib/apm2: $(owner /var/lib/apm2)"
	[ "$(owner /var/log/apm2)" = "root:root 755" ] ||
	    fail "/var/log/apm2: $(owner /var/log/apm2)"
	[ -d /var/empty ] && [ -z "$(ls -A /var/empty)" ] ||
	    fail "/var/empty: missing or not empty"
	ok "/var/lib/apm2 root 0700, /var/log/apm2 root 0755, /var/empty"
	cmp -s /lib/systemd/system/apm2d.service "$top/etc/apm2d.service" ||
	    fail "the installed unit is not etc/apm2d.service"
	l=/etc/systemd/system/multi-user.target.wants/apm2d.service
	[ "$(readlink "$l")" = /lib/systemd/system/apm2d.service ] ||
	    fail "the unit is not enabled ($l)"
	ok "the unit installed and enabled"
}

# sample: every program of the installed sample has a user other than
# root, and the daemon accepts the file as it is installed.
sample() {
	"$PYTHON" - /etc/apm2/ecosystem.toml <<-'EOF' || fail "the sample"
	import sys, tomllib
	with open(sys.argv[1], "rb") as f:
	    procs = tomllib.load(f).get("processes", [])
	bad = [p["name"] for p in procs
	       if str(p.get("user", "root")) in ("root", "0")]
	for n in bad:
	    print("pkg: %s would run as root" % n)
	sys.exit(1 if bad else 0)
	EOF
	ok "every program of the sample configuration has a user, not root"
	out=$(/usr/sbin/apm2d -n 2>&1)
	echo "$out" | grep -q "configuration OK" ||
	    fail "apm2d -n on the sample: $out"
	ok "apm2d -n accepts the installed sample"
}

# ctl ARGS: the installed apm2ctl, with its defaults (it finds the
# socket through /etc/apm2/ecosystem.toml).
ctl() { timeout 60 /usr/bin/apm2ctl "$@"; }

# until_ok SECS CMD...: run CMD every 0.1 s until it succeeds.
until_ok() {
	tries=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

pkgtest_running() { ctl -j list | grep -q '"name":"pkgtest".*"running":1'; }
logs_say_up() { ctl logs pkgtest | grep -q 'pkgtest up'; }
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

smoke() {
	[ ! -e "$TESTCONF" ] || fail "$TESTCONF exists"
	: >"$work/wrote-testconf"
	install -m 0644 /dev/null "$TESTCONF" || fail "$TESTCONF"
	cat >"$TESTCONF" <<-'EOF'
	# regress/pkg/run.sh: the defaults of [daemon] (socket, state and
	# logs where the package made room for them), one program as nobody.
	[[processes]]
	name = "pkgtest"
	user = "nobody"
	command = "/bin/sh"
	args = ["-c", "echo pkgtest up; exec sleep 600"]
	EOF
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/apm2d \
	    -f "$TESTCONF" || fail "apm2d -f $TESTCONF did not start"
	dpid=$(cat /run/apm2/apm2.pid 2>/dev/null)
	[ -n "$dpid" ] || fail "no /run/apm2/apm2.pid"
	echo "$dpid" >"$work/daemon.pid"
	[ "$(readlink "/proc/$dpid/exe")" = /usr/sbin/apm2d ] ||
	    fail "pid $dpid is not /usr/sbin/apm2d"
	ok "the installed apm2d started (pid $dpid)"
	until_ok 30 ctl ping || fail "apm2ctl ping: $(ctl ping 2>&1)"
	ok "apm2ctl ping: $(ctl ping)"
	until_ok 30 pkgtest_running || fail "pkgtest not running: $(ctl list)"
	ctl list | sed 's/^/pkg: /'
	ok "apm2ctl list: pkgtest running"
	ppid=$(ctl -j status pkgtest | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
	[ -n "$ppid" ] || fail "apm2ctl status: $(ctl status pkgtest)"
	uid=$(awk '/^Uid:/ { print $2 "," $3 "," $4 "," $5 }' \
	    "/proc/$ppid/status")
	n=$(id -u nobody)
	[ "$uid" = "$n,$n,$n,$n" ] || fail "pkgtest runs as uids $uid"
	ok "apm2ctl status: pkgtest pid $ppid runs as nobody"
	until_ok 30 logs_say_up || fail "apm2ctl logs: $(ctl logs pkgtest)"
	f=/var/log/apm2/pkgtest.out.log
	[ "$(stat -c %U "$f")" = nobody ] && grep -q 'pkgtest up' "$f" ||
	    fail "$f"
	ok "apm2ctl logs pkgtest, and $f as nobody"
	helpers
	ctl kill >/dev/null || fail "apm2ctl kill"
	until_ok 60 pid_gone "$dpid" || fail "apm2d $dpid still there"
	until_ok 30 pid_gone "$ppid" || fail "pkgtest $ppid still there"
	rm -f "$work/daemon.pid"
	[ "$(owner /var/lib/apm2/state.json)" = "root:root 600" ] ||
	    fail "no state file in /var/lib/apm2"
	ok "apm2ctl kill: the daemon and its program are gone, state kept"
	rm -f "$TESTCONF" "$work/wrote-testconf"
}

# helpers: the frontend and the logger run as their users, chrooted.
helpers() {
	for c in "frontend _apm2d" "logger _apm2log"; do
		set -- $c
		hp=
		for s in /proc/[0-9]*/stat; do
			p=${s#/proc/}
			p=${p%/stat}
			[ "$(awk '{ print $4 }' "$s" 2>/dev/null)" = "$dpid" ] ||
			    continue
			# Its title (setproctitle): "apm2d: frontend".
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
			    grep -q "^apm2d: $1" && hp=$p && break
		done
		[ -n "$hp" ] || fail "no apm2d $1 below apm2d $dpid"
		[ "$(stat -c %U "/proc/$hp")" = "$2" ] ||
		    fail "apm2d $1 runs as $(stat -c %U "/proc/$hp")"
		[ "$(readlink "/proc/$hp/root")" = /var/empty ] ||
		    fail "apm2d $1 in $(readlink "/proc/$hp/root")"
	done
	ok "frontend as _apm2d and logger as _apm2log, in /var/empty"
}

purge() {
	out=$(dpkg --purge apm2d 2>&1)
	rc=$?
	echo "$out" | sed 's/^/pkg: /'
	[ "$rc" -eq 0 ] || fail "dpkg --purge apm2d"
	echo "$out" | grep -qi warning && fail "dpkg --purge warned"
	installed && fail "still known to dpkg after the purge"
	for p in $GONE; do
		[ -e "$p" ] || [ -h "$p" ] && fail "left after the purge: $p"
	done
	if [ "$had_var_empty" -eq 0 ] && [ -e /var/empty ]; then
		fail "left after the purge: /var/empty (made by postinst)"
	elif [ "$had_var_empty" -eq 1 ] && [ ! -d /var/empty ]; then
		fail "the purge removed /var/empty, not the package's"
	fi
	find /etc /usr /lib /var /run -xdev -name '*apm2*' \
	    -not -path '/var/lib/apm2*' -not -path '/var/log/apm2*' \
	    2>/dev/null | sort >"$work/after"
	left=$(comm -13 "$work/before" "$work/after")
	[ -z "$left" ] || fail "left after the purge: $left"
	ok "dpkg --purge: nothing of the package is left"
	getent passwd _apm2d >/dev/null && getent passwd _apm2log >/dev/null ||
	    fail "the users are gone"
	ok "the users _apm2d and _apm2log stay (Debian's practice)"
	rm -f "$work/ran-dpkg-i"
}

# stop_daemon: the daemon we started, if it still runs (its pid in
# $work/daemon.pid; from outside the overlay its executable's path
# ends in /usr/sbin/apm2d).
stop_daemon() {
	[ -s "$work/daemon.pid" ] || return 0
	p=$(cat "$work/daemon.pid")
	case "$(readlink "/proc/$p/exe" 2>/dev/null)" in
	*/usr/sbin/apm2d)
		say "stopping apm2d $p"
		kill -TERM "$p" 2>/dev/null
		until_ok 60 pid_gone "$p" || kill -KILL "$p" ;;
	esac
	rm -f "$work/daemon.pid"
}

# cleanup: on any exit, undo what this run did: the daemon, the test
# configuration, the package it installed, the temporary directory.
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	stop_daemon
	# Outside the overlay, what the overlay's stage did is not here.
	if [ "$stage" = host ] || [ "$overlay" -eq 0 ]; then
		[ -f "$work/wrote-testconf" ] && rm -f "$TESTCONF"
		if [ -f "$work/ran-dpkg-i" ] && installed; then
			say "purging the package"
			dpkg --purge apm2d >/dev/null 2>&1
		fi
	fi
	rm -f "$work/wrote-testconf" "$work/ran-dpkg-i"
	[ "$stage" = main ] && [ -n "$work" ] && rm -rf "$work"
	[ "$rc" -ne 0 ] && say "FAILED"
	exit "$rc"
}

host() {
	preflight
	: >"$work/ran-dpkg-i"
	out=$(dpkg -i "$deb" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/pkg: /'
	[ "$rc" -eq 0 ] || fail "dpkg -i $(basename "$deb")"
	ok "dpkg -i $(basename "$deb")"
	check_installed
	sample
	smoke
	purge
}

# ------------------------------------------------------------ overlay

# In a mount namespace of our own: the host's / below a tmpfs upper
# layer, the kernel's file systems and $work bound in; then the host
# stage inside it, chrooted.
overlay_ns() {
	o=$work/ovl
	mkdir -p "$o" && mount -t tmpfs -o mode=0755 apm2pkg "$o" &&
	    mkdir "$o/up" "$o/wk" "$o/root" &&
	    mount -t overlay -o "lowerdir=/,upperdir=$o/up,workdir=$o/wk" \
	    apm2pkg "$o/root" || fail "overlay of /"
	for m in /proc /sys /dev; do
		mount --rbind "$m" "$o/root$m" || fail "bind $m"
	done
	mount --bind "$work" "$o/root$work" || fail "bind $work"
	exec chroot "$o/root" sh "$self" -H "$work" "$deb" "$nok"
}

# In the overlay: hide what a shared host's tests leave (the package
# must meet a fresh host), only once sure that / is the overlay.
hide() {
	[ "$(stat -f -c %T /)" = overlayfs ] || fail "/ is not the overlay"
	rm -rf /var/lib/apm2 /var/log/apm2 /run/apm2 /var/empty
	for f in /etc/passwd /etc/shadow /etc/group /etc/gshadow; do
		[ -f "$f" ] && sed -i '/^_apm2d:/d; /^_apm2log:/d' "$f"
	done
	# Their names in other groups' member lists too.
	sed -i -e 's/\([:,]\)_apm2\(d\|log\)\(,\|$\)/\1/' \
	    -e 's/,$//' /etc/group /etc/gshadow
	ok "in a private overlay of /: no apm2 users or directories"
}

# ------------------------------------------------------------ main

case "${1:-}" in
-H)	# the host stage, chrooted into the overlay
	stage=host work=$2 deb=$3 nok=$4
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP
	hide
	host
	exit 0 ;;
-N)	# the new mount namespace
	stage=ns work=$2 deb=$3 nok=$4
	overlay_ns ;;
-o)	overlay=1 ;;
"")	;;
*)	echo "usage: $0 [-o]" >&2; exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || { say "needs root"; exit 1; }
for t in dpkg-buildpackage dh lintian fakeroot adduser git "$PYTHON"; do
	command -v "$t" >/dev/null 2>&1 ||
	    { say "no $t: run sh mk/deps.sh"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/apm2-pkg.XXXXXX") || exit 1
chmod 0755 "$work"
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# Before the long build; preflight checks again before the install.
[ "$overlay" -eq 1 ] || refuse_foreign
build
contents
lint
if [ "$overlay" -eq 1 ]; then
	unshare --mount --propagation private \
	    sh "$self" -N "$work" "$deb" "$nok" || exit 1
else
	host
fi
say "all passed"
