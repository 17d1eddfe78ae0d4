#!/bin/sh
# SPDX-License-Identifier: ISC
# make uninstall: remove what mk/install.sh put down (same arguments).
# The configuration goes only while it is still the sample; one the
# administrator changed is left, and said so.  The users and the chroot
# directory stay: files may still belong to the users, and a later user
# given the same ids would own them.
set -eu
[ $# -eq 5 ] || { echo "usage: $0 destdir bindir ctlbindir mandir" \
    "sysconfdir" >&2; exit 2; }
destdir=$1 bindir=$2 ctlbindir=$3 mandir=$4 sysconfdir=$5
conf=$destdir$sysconfdir/apm2/ecosystem.toml

rm -f "$destdir$bindir/apm2d" "$destdir$ctlbindir/apm2ctl" \
    "$destdir$mandir/man8/apm2d.8" "$destdir$mandir/man1/apm2ctl.1" \
    "$destdir$mandir/man5/ecosystem.toml.5"
if [ -f "$conf" ] && [ ! -h "$conf" ] && cmp -s etc/ecosystem.toml "$conf"
then
	rm -f "$conf"
elif [ -e "$conf" ] || [ -h "$conf" ]; then
	echo "left $conf: it is not the sample; remove it yourself"
fi
# Ours alone; the other directories are shared.
rmdir "$destdir$sysconfdir/apm2" 2>/dev/null || true
