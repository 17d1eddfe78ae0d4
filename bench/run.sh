#!/bin/sh
# SPDX-License-Identifier: ISC
# make bench [QUICK=1]: install what the benchmarks need, build apm2d and
# run bench/bench.py (apm2d against supervisord and pm2, side by side),
# then bench/reloadbench.py (a reload of 1,000 processes, one changed),
# then the scale ladder, bench/scale.py (apm2d, s6, supervisord and pm2
# at N = 100, 1,000, 5,000, 9,000).
#
#   sh bench/run.sh	full run: results in bench/results/ and
#			bench/README-performance.md (about 6 minutes, then
#			the ladder: an hour or more on a small VM)
#   sh bench/run.sh 1	QUICK: fewer calls, 128 MiB instead of 1 GiB, the
#			slow peers capped at 1,000 in the ladder; results in
#			bench/results/tmp/quick/
#   sh bench/run.sh scale [1] [ARGS]
#			the scale ladder alone (make bench-scale); ARGS go
#			to scale.py
#
# Installs when missing: Debian's supervisor, s6, hyperfine and gnuplot-nox
# (apt-get as root, else it prints the command and those peers/charts are
# reported n/a), node and npm, and pm2 at the version pinned in
# bench/package-lock.json into bench/node_modules (npm ci).  The system
# supervisor service is never started: the install runs under a
# policy-rc.d that forbids starting services, and the benchmark runs its
# own supervisord in a temporary directory.
set -u
cd "$(dirname "$0")/.." || exit 1
scale=
if [ "${1:-}" = scale ]; then
	scale=1
	shift
fi
quick=
if [ "${1:-}" = 1 ]; then
	quick=1
	shift
fi

if [ "$(uname -s)" != Linux ]; then
	echo "bench: the benchmarks read /proc and need Linux" >&2
	exit 1
fi

missing_debs() {
	for p in "$@"; do
		s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
		case "$s" in
		*"install ok installed"*) ;;
		*) printf ' %s' "$p" ;;
		esac
	done
}

command -v node >/dev/null 2>&1 || node_pkgs="nodejs"
command -v npm >/dev/null 2>&1 || node_pkgs="${node_pkgs:-} npm"
need=$(missing_debs supervisor s6 hyperfine gnuplot-nox)${node_pkgs:+ $node_pkgs}
if [ -n "$need" ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "bench: installing:$need"
		policy=/usr/sbin/policy-rc.d
		made_policy=
		if [ ! -e "$policy" ]; then
			printf '#!/bin/sh\nexit 101\n' >"$policy" &&
			    chmod 0755 "$policy" && made_policy=1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq &&
		    apt-get install -y -qq --no-install-recommends $need
		rc=$?
		[ -n "$made_policy" ] && rm -f "$policy"
		[ $rc -eq 0 ] || { echo "bench: apt-get failed" >&2; exit 1; }
	else
		echo "bench: missing packages:$need" >&2
		echo "bench: install them with: sudo apt-get install -y" \
		    "--no-install-recommends$need" >&2
		echo "bench: going on; what needs them is reported n/a" >&2
	fi
fi

# pm2, pinned by the committed lock file; reinstalled when the lock changed.
if command -v npm >/dev/null 2>&1; then
	stamp=bench/node_modules/.package-lock.json
	if [ ! -f bench/node_modules/pm2/package.json ] ||
	    [ ! -f "$stamp" ] || [ bench/package-lock.json -nt "$stamp" ]; then
		echo "bench: npm ci (pm2 from bench/package-lock.json)"
		(cd bench && npm ci --ignore-scripts --no-audit --no-fund \
		    --loglevel=error) || { echo "bench: npm ci failed" >&2; exit 1; }
	fi
fi

# apm2d itself, and its frontend's user when root (as make run does).
sh mk/deps.sh ensure || exit 1
if ! make all; then
	# Another engineer's half-done edit must not stop a benchmark of the
	# binaries that are there.
	[ -x apm2d/apm2d ] && [ -x apm2ctl/apm2ctl ] || exit 1
	echo "bench: make all failed; measuring the existing binaries" >&2
fi
if [ "$(id -u)" -eq 0 ]; then
	sh mk/frontend-user.sh _apm2d /var/empty || exit 1
	sh mk/frontend-user.sh _apm2log /var/empty || exit 1
fi

# make bench: the side-by-side figures, then the scale ladder;
# make bench-scale: the ladder alone.
if [ -z "$scale" ]; then
	if [ "$quick" = 1 ]; then
		python3 bench/bench.py --quick || exit 1
	else
		python3 bench/bench.py || exit 1
	fi
	# Issue 18: a reload of 1,000 processes, one of them changed.
	mkdir -p bench/results
	python3 bench/reloadbench.py 1000 5 > bench/results/reload.json.new &&
	    mv bench/results/reload.json.new bench/results/reload.json &&
	    echo "bench: reload of 1,000, one changed: bench/results/reload.json" ||
	    exit 1
fi
if [ "$quick" = 1 ]; then
	exec python3 bench/scale.py --quick "$@"
fi
exec python3 bench/scale.py "$@"
