#!/bin/sh
# SPDX-License-Identifier: ISC
# make portcheck: compile every source of the programs as OpenBSD would
# see it (__OpenBSD__ and not __linux__, OpenBSD's default namespace and
# none of glibc's GNU extensions), with -fsyntax-only, against the shadow
# headers in regress/openbsd/include: they declare what OpenBSD has and
# glibc lacks (pledge, unveil, getpeereid, sysctl and kinfo_proc, ...),
# hide what only Linux has (RLIMIT_AS, SO_PEERGROUPS, struct ucred, ...),
# and refuse the Linux-only headers.  No OpenBSD host is needed, so the
# OpenBSD branches cannot rot unseen.  Then the port's copy of the rc.d
# script must be the script.  Exit 1 if anything fails.
#
# OpenBSD's compiler is clang: each file is compiled by clang when it is
# installed, and by $CC (make's CC) too when that is another compiler.
set -u
cd "$(dirname "$0")/../.." || exit 1
cc=${CC:-cc}		# a command: make's CC may carry flags (cc -pipe)
inc=regress/openbsd/include
pkg=$(pkg-config --cflags libcjson libevent_core 2>/dev/null) || pkg=
# The OpenBSD build's flags (Makefile, mk/OpenBSD.mk: no _GNU_SOURCE).
# OpenBSD's headers show POSIX, XSI and BSD whatever -std says; glibc's
# do with _DEFAULT_SOURCE and _XOPEN_SOURCE.
flags="-std=c11 -fsyntax-only -Werror -Wall -Wextra -Wshadow
    -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wsign-compare
    -Wno-unused-parameter -U__linux__ -U__linux -Ulinux -U__gnu_linux__
    -D__OpenBSD__ -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -I$inc $pkg -I.
    -Icommon"
srcs=$(ls common/*.c supervisor/*.c logger/*.c apm2d/*.c apm2ctl/*.c \
    regress/toml/tomldec.c regress/integration/*.c 2>/dev/null)
# The test build of the daemon (apm2d-hooks) compiles more code.
hooks=$(ls supervisor/*.c logger/*.c apm2d/*.c 2>/dev/null)
n=0
failed=

# check CC: every file compiled by the command CC.
check() {
	for f in $srcs; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		$1 $flags "$f" || failed="$failed $f($1)"
	done
	for f in $hooks; do
		grep -q APM2D_TEST_HOOKS "$f" || continue
		n=$((n + 1))
		# shellcheck disable=SC2086
		$1 $flags -DAPM2D_TEST_HOOKS "$f" ||
		    failed="$failed $f($1, hooks)"
	done
}

used=
if command -v clang >/dev/null 2>&1; then
	check clang
	used=clang
fi
case "$cc" in
clang|"clang "*) ;;
*)	check "$cc"
	used="${used:+$used and }$cc" ;;
esac
if [ -n "$failed" ]; then
	echo "portcheck: these do not compile for OpenBSD:$failed" >&2
	exit 1
fi
# The port carries the rc.d script as pkg/apm2d.rc: the same file.
if ! sh -n etc/rc.d/apm2d ||
    ! cmp -s etc/rc.d/apm2d pkg/openbsd/pkg/apm2d.rc; then
	echo "portcheck: pkg/openbsd/pkg/apm2d.rc must be a copy of" \
	    "etc/rc.d/apm2d (and parse)" >&2
	exit 1
fi
echo "portcheck: $n compilations for OpenBSD ($used), all clean"
