#!/bin/sh
# make run: apm2d in the foreground on the bundled demo configuration.
# Socket, pid file and logs live under one directory made for this user;
# try "apm2ctl -s <dir>/apm2.sock list" from a second terminal.
set -eu
cd "$(dirname "$0")/.."
dir=${APM2_DEMO_DIR:-/tmp/apm2-demo-$(id -u)}
mkdir -p "$dir"
chmod 0755 "$dir"
# The demo config names /tmp/apm2-demo; point it at this user's directory.
sed "s|/tmp/apm2-demo|$dir|g" etc/demo.toml >"$dir/demo.toml"
chmod 0644 "$dir/demo.toml"
if [ "$(id -u)" -eq 0 ]; then
	sh mk/frontend-user.sh _apm2d /var/empty
fi
echo "apm2d: socket $dir/apm2.sock, logs in $dir/log"
echo "try:   ./apm2ctl/apm2ctl -s $dir/apm2.sock list   (Ctrl-C here stops the daemon)"
exec ./apm2d/apm2d -d -f "$dir/demo.toml" -s "$dir/apm2.sock" \
    --pid-file "$dir/apm2.pid"
