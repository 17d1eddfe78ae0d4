#!/bin/sh
# SPDX-License-Identifier: ISC
# make run: apm2d in the foreground on the bundled demo configuration.
# Socket, pid file and logs live under one directory made for this user;
# try "apm2ctl -s <dir>/apm2.sock list" from a second terminal.
#
# The daemon runs as the caller (root, for make run as root) and writes
# its configuration, socket, pid file and logs in that directory, so a
# directory somebody else made first, or can write, would hand them all
# those files.  It is therefore made fresh, or used only if it is a real
# directory of the caller's that only the caller can write, in a chain
# of directories that only root or the caller can change (apm2d applies
# the same rule to its socket and pid-file directories).
set -eu
cd "$(dirname "$0")/.."
me=$(id -u)
dir=${APM2_DEMO_DIR:-/tmp/apm2-demo-$me}

refuse() {
	echo "run-demo.sh: $*" >&2
	echo "run-demo.sh: $hint" >&2
	exit 1
}

# look DIR: mode and uid of DIR itself into $mode and $uid, from ls -ldn
# (which never follows a symbolic link given as its operand).
look() {
	out=$(ls -ldn -- "$1") || refuse "cannot look at $1"
	set -f
	# shellcheck disable=SC2086
	set -- $out
	set +f
	mode=$1
	uid=$3
}

# mine DIR: a real directory, owned by the caller, not writable by group
# or others.
mine() {
	look "$1"
	case $mode in
	l*)	refuse "$1 is a symbolic link, not a directory made for" \
		    "this demo" ;;
	d*)	;;
	*)	refuse "$1 exists and is not a directory" ;;
	esac
	[ "$uid" = "$me" ] || refuse "$1 is owned by uid $uid, not by you" \
	    "(uid $me): somebody else may have made it to catch the demo's" \
	    "files"
	case $mode in
	?????w*|????????w*)
		refuse "$1 is writable by group or others ($mode); if" \
		    "nobody else has used it, chmod go-w '$1' is enough" ;;
	esac
}

# above DIR: every directory above DIR is owned by root or the caller and
# not writable by group or others, unless sticky (/tmp).
above() {
	d=$1
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		look "$d"
		[ "$uid" = 0 ] || [ "$uid" = "$me" ] || refuse "$d (above" \
		    "$dir) is owned by uid $uid, not by root or you (uid $me)"
		case $mode in
		?????????[tT]*) ;;
		?????w*|????????w*)
			refuse "$d (above $dir) is writable by group or" \
			    "others ($mode)" ;;
		esac
	done
}

hint="remove it (rm -rf '$dir') if it is yours to remove, or set \
APM2_DEMO_DIR to a new directory"
if ! err=$(mkdir -m 0755 -- "$dir" 2>&1); then
	if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
		echo "run-demo.sh: $err" >&2
		exit 1
	fi
	mine "$dir"
fi
real=$(cd -P "$dir" && pwd -P)
mine "$real"
hint="set APM2_DEMO_DIR to a new directory in a place that only root or \
you can change, such as /tmp or your home directory"
above "$real"

# The demo config names /tmp/apm2-demo; point it at this user's directory.
# Its programs run as "nobody"; only root may do that, so anybody else
# runs them as themselves.
user=nobody
[ "$me" -eq 0 ] || user=$(id -un)
sed -e "s|/tmp/apm2-demo|$dir|g" -e "s|^user = \"nobody\"|user = \"$user\"|" \
    etc/demo.toml >"$dir/demo.toml"
chmod 0644 "$dir/demo.toml"
if [ "$me" -eq 0 ]; then
	sh mk/frontend-user.sh _apm2d /var/empty
	sh mk/frontend-user.sh _apm2log /var/empty
fi
echo "apm2d: socket $dir/apm2.sock, logs in $dir/log"
echo "try:   ./apm2ctl/apm2ctl -s $dir/apm2.sock list   (Ctrl-C here stops the daemon)"
exec ./apm2d/apm2d -d -f "$dir/demo.toml" -s "$dir/apm2.sock" \
    --pid-file "$dir/apm2.pid"
