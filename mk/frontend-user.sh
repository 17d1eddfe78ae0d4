#!/bin/sh
# SPDX-License-Identifier: ISC
# Create an unprivileged user of apm2d (the frontend's, _apm2d, or the
# logger's, _apm2log) and the empty chroot directory when they are
# missing (root only; a no-op otherwise).
set -u
user=${1:-_apm2d}
chroot=${2:-/var/empty}
[ "$(id -u)" -eq 0 ] || exit 0
if [ ! -d "$chroot" ]; then
	mkdir -p "$chroot" && chmod 0755 "$chroot" || exit 1
fi
if ! id "$user" >/dev/null 2>&1; then
	case "$(uname -s)" in
	OpenBSD)
		useradd -d "$chroot" -s /sbin/nologin -c "apm2d $user" \
		    "$user" ;;
	*)
		useradd --system --home-dir "$chroot" --no-create-home \
		    --shell /usr/sbin/nologin --comment "apm2d $user" \
		    "$user" ;;
	esac || exit 1
	echo "created user $user"
fi
