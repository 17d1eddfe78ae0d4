#!/bin/sh
# SPDX-License-Identifier: ISC
# make install: binaries, manual pages, sample configuration, and the
# frontend's user and chroot directory.
set -eu
destdir=$1 bindir=$2 ctlbindir=$3 mandir=$4
install -d "$destdir$bindir" "$destdir$ctlbindir" "$destdir$mandir/man8" \
    "$destdir$mandir/man5" "$destdir/etc/apm2"
install -m 0755 apm2d/apm2d "$destdir$bindir/apm2d"
install -m 0755 apm2ctl/apm2ctl "$destdir$ctlbindir/apm2ctl"
for m in apm2d/apm2d.8 apm2ctl/apm2ctl.8; do
	[ -f "$m" ] && install -m 0644 "$m" "$destdir$mandir/man8/"
done
[ -f apm2d/ecosystem.toml.5 ] &&
    install -m 0644 apm2d/ecosystem.toml.5 "$destdir$mandir/man5/"
if [ ! -f "$destdir/etc/apm2/ecosystem.toml" ]; then
	install -m 0644 etc/ecosystem.toml "$destdir/etc/apm2/ecosystem.toml"
fi
# Only on the real system, not into a staging directory.
if [ -z "$destdir" ]; then
	sh mk/frontend-user.sh _apm2d /var/empty
	sh mk/frontend-user.sh _apm2log /var/empty
fi
