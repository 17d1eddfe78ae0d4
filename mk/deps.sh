#!/bin/sh
# SPDX-License-Identifier: ISC
# Install (or name) the packages apm2d needs to build and test.
#   deps.sh install   install what is missing (as root), else print the command
#   deps.sh ensure    like install, but silent when nothing is missing
set -u
mode=${1:-install}

os=$(uname -s)
if [ "$os" = OpenBSD ]; then
	missing=
	for p in libcjson cmocka python3; do
		pkg_info -e "$p-*" >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && exit 0
	echo "missing packages:$missing"
	echo "install them with: pkg_add$missing"
	[ "$(id -u)" -eq 0 ] && exec pkg_add $missing
	exit 1
fi

# Debian: the -dev packages, pkg-config, python3 (test runner, toml-test),
# clang (fuzz harnesses), procps (ps in tests), gzip (log rotation),
# python3-prometheus-client (test_metrics parses the exposition format).
pkgs="libevent-dev libcjson-dev libbsd-dev libcmocka-dev libseccomp-dev \
pkg-config make bmake gcc clang python3 procps gzip passwd \
python3-prometheus-client"
# The Debian package: its build (dpkg-buildpackage, debhelper, fakeroot),
# lintian, and adduser for its postinst (regress/pkg/run.sh installs it).
pkgs="$pkgs dpkg-dev debhelper fakeroot lintian adduser"
missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	[ "$mode" = install ] && echo "all build dependencies are installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages:$missing" >&2
	echo "install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
apt-get install -y -qq --no-install-recommends $missing || exit 1
