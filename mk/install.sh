#!/bin/sh
# SPDX-License-Identifier: ISC
# make install: apm2d, apm2ctl, their manual pages and the sample
# configuration (never over one already there); on the real system as
# root, also the frontend's and the logger's users and their chroot.
#   install.sh DESTDIR BINDIR CTLBINDIR MANDIR SYSCONFDIR
# mk/uninstall.sh takes the same arguments and removes the same files.
set -eu
[ $# -eq 5 ] || { echo "usage: $0 destdir bindir ctlbindir mandir" \
    "sysconfdir" >&2; exit 2; }
destdir=$1 bindir=$2 ctlbindir=$3 mandir=$4 sysconfdir=$5
for d in "$bindir" "$ctlbindir" "$mandir" "$sysconfdir"; do
	case "$d" in
	/*) ;;
	*) echo "$0: not an absolute path: '$d'" >&2; exit 2 ;;
	esac
done
conf=$destdir$sysconfdir/apm2/ecosystem.toml

install -d "$destdir$bindir" "$destdir$ctlbindir" "$destdir$mandir/man1" \
    "$destdir$mandir/man5" "$destdir$mandir/man8" "$destdir$sysconfdir/apm2"
install -m 0755 apm2d/apm2d "$destdir$bindir/apm2d"
install -m 0755 apm2ctl/apm2ctl "$destdir$ctlbindir/apm2ctl"
install -m 0644 apm2d/apm2d.8 "$destdir$mandir/man8/apm2d.8"
install -m 0644 apm2ctl/apm2ctl.1 "$destdir$mandir/man1/apm2ctl.1"
install -m 0644 apm2d/ecosystem.toml.5 \
    "$destdir$mandir/man5/ecosystem.toml.5"
if [ -e "$conf" ] || [ -h "$conf" ]; then
	echo "kept $conf (the sample is etc/ecosystem.toml)"
else
	install -m 0644 etc/ecosystem.toml "$conf"
fi

# Only on the real system, not into a staging directory.
if [ -z "$destdir" ]; then
	sh mk/frontend-user.sh _apm2d /var/empty
	sh mk/frontend-user.sh _apm2log /var/empty
fi
