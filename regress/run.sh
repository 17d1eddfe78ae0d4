#!/bin/sh
# SPDX-License-Identifier: ISC
# Run every test program and print one summary line:
# "N passed, N failed, N skipped".
#
# The programs: the cmocka unit tests, the fuzz harnesses replaying their
# seed corpora, the TOML conformance corpus, and the Python integration
# tests, these once as root and once more as an ordinary user (the daemon
# then runs unprivileged, and tests that need root skip themselves).
# They are independent, so REGRESS_JOBS of them run at once (the
# integration files also run TEST_JOBS of their tests at once); each one's
# output is kept in regress/out/ and the results are printed in a fixed
# order as they come in.  A program that dies before finishing its plan
# counts the missing tests as failures; a TAP "# SKIP" counts as skipped.
#
# REGRESS_FILTER=substring runs only the programs whose name has it;
# REGRESS_NO_USER=1 leaves out the pass as an ordinary user.
set -u
cd "$(dirname "$0")/.." || exit 1
out=regress/out
mkdir -p "$out"
rm -f "$out"/*.rc "$out"/*.time "$out"/*.pid "$out/.pool"
filter=${REGRESS_FILTER:-}
asuser=${REGRESS_USER:-apm2tu}
# The interpreter itself, not a wrapper that picks one on every start
# (pyenv's shim costs a second each time).
python=${PYTHON:-python3}
python=$("$python" -c 'import sys; print(sys.executable)' 2>/dev/null ||
    echo "$python")
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
# A sanitizer build is several times slower: beside other tests its
# frontend misses its heartbeat deadline under the flood tests, and two
# flood tests at once miss their latency bounds.
if grep -q __asan_init apm2d/apm2d 2>/dev/null; then
	jobs=${REGRESS_JOBS:-$ncpu}
	tjobs=${TEST_JOBS:-1}
else
	jobs=${REGRESS_JOBS:-$((ncpu * 2 + 2))}
	tjobs=${TEST_JOBS:-4}
fi
pass=0
fail=0
skip=0
cpu_total=0
start=$(date +%s)
failed_names=
njobs=0
copy=

# add KIND NAME ARG FILE: one more program to run, job number $njobs;
# its output goes to $out/FILE.tap (and .err).
add() {
	case "$2" in *"$filter"*) ;; *) return ;; esac
	njobs=$((njobs + 1))
	eval "kind_$njobs=\$1 name_$njobs=\$2 arg_$njobs=\$3 file_$njobs=\$4"
}

# runjob N: run program N (in the background): its exit status goes to
# FILE.rc, its wall and CPU time (its own and its descendants', as far as
# they were waited for) to FILE.time, its pid meanwhile to FILE.pid for
# the clean-up.
runjob() {
	eval "k=\$kind_$1 n=\$name_$1 a=\$arg_$1 b=\$out/\$file_$1"
	case "$k" in
	unit)	set -- env CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "./$a" ;;
	replay)	set -- timeout 300 "./$a" "regress/fuzz/corpus/${n#fuzz_}" ;;
	toml)	set -- timeout 600 "$python" regress/toml/toml-test-run \
		    regress/toml/tomldec ;;
	py)	set -- env TEST_JOBS="$tjobs" timeout 900 "$python" "$a" ;;
	user)	set -- timeout 900 runuser -u "$asuser" -- \
		    env TEST_JOBS="$tjobs" python3 "$a" ;;
	esac
	t0=$(date +%s)
	"$@" >"$b.tap" 2>"$b.err" 3>&- &
	echo $! >"$b.pid"
	wait $!
	echo $? >"$b.rc"
	# times' second line: the children's user and system time.
	times >"$b.time"
	cpu=$(sed -n 2p "$b.time")
	echo $(($(date +%s) - t0)) $cpu | awk '
	    function s(t) { split(t, a, "m"); return a[1] * 60 + a[2] }
	    { printf "%d %.1f\n", $1, s($2) + s($3) }' >"$b.time"
	rm -f "$b.pid"
}

# count FILE NAME STATUS: add a TAP transcript's results to the totals.
# A "# SKIP" test is skipped, whether cmocka says "ok" or "not ok" of it.
count() {
	s=$(grep -Eic '^(not )?ok [^#]*# *skip' "$1")
	p=$(($(grep -Ec '^ok ' "$1") - $(grep -Eic '^ok [^#]*# *skip' "$1")))
	f=$(($(grep -Ec '^not ok ' "$1") - $(grep -Eic '^not ok [^#]*# *skip' \
	    "$1")))
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
	missing=0
	if [ -n "$plan" ] && [ $((p + f + s)) -lt "$plan" ]; then
		missing=$((plan - p - f - s))
	fi
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ] && [ "$missing" -eq 0 ]; then
		missing=1	# died or failed without saying which test
	fi
	tally "$2" "$p" $((f + missing)) "$s" "${1%.tap}"
}

# tally NAME PASSED FAILED SKIPPED FILE: add to the totals, say how it
# went and how long it took.
tally() {
	pass=$((pass + $2))
	fail=$((fail + $3))
	skip=$((skip + $4))
	sk=
	[ "$4" -ne 0 ] && sk=", $4 skipped"
	read -r secs cpu <"$5.time"
	cpu_total=$(echo "$cpu_total $cpu" | awk '{ print $1 + $2 }')
	if [ "$3" -ne 0 ]; then
		failed_names="$failed_names $1"
		echo "FAIL $1 ($2 passed, $3 failed$sk; ${secs}s, ${cpu}s CPU):"
		grep -E '^not ok |^# |^FAIL ' "$5.tap" | head -n 40
		tail -n 5 "$5.err"
	else
		echo "ok   $1 ($2 passed$sk; ${secs}s, ${cpu}s CPU)"
	fi
}

# report N: program N is done: count its results.
report() {
	eval "k=\$kind_$1 n=\$name_$1 b=\$out/\$file_$1"
	rc=$(cat "$b.rc")
	if [ "$k" != toml ]; then
		count "$b.tap" "$n" "$rc"
		return
	fi
	# The conformance runner's last line: "N passed, N failed".
	line=$(tail -n 1 "$b.tap")
	tp=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p')
	tf=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p')
	if [ -z "$tp" ]; then
		tp=0
		tf=1
	elif [ "$rc" -ne 0 ] && [ "$tf" -eq 0 ]; then
		tf=1
	fi
	tally "$n" "$tp" "$tf" 0 "$b"
}

# On an interrupt: stop the programs still running (timeout(1) passes
# the signal on to each one's process group), remove the user's copy.
cleanup() {
	for f in "$out"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	[ -n "$copy" ] && rm -rf "$copy"
	rm -f "$out/.pool" "$out"/*.pid
}
trap 'cleanup; exit 1' INT TERM HUP

# The programs, in the order they are reported.
for t in regress/unit/test_*; do
	case "$t" in *.c|*.o) continue ;; esac
	n=$(basename "$t")
	[ -x "$t" ] && add unit "$n" "$t" "$n"
done
for t in regress/fuzz/fuzz_*.c; do
	n=$(basename "$t" .c)
	[ -f "$t" ] && add replay "$n" "regress/fuzz/bin/replay_${n#fuzz_}" "$n"
done
add toml toml-test - toml-test
first_py=$((njobs + 1))
for t in regress/integration/test_*.py; do
	n=$(basename "$t" .py)
	[ -f "$t" ] && add py "$n" "$t" "$n"
done
if [ "$(id -u)" -eq 0 ] && [ "${REGRESS_NO_USER:-0}" = 0 ]; then
	if ! id "$asuser" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    "$asuser" >/dev/null 2>&1 ||
		    echo "cannot create user $asuser"
	fi
	# A copy the user can read, wherever this tree lives (with the
	# times: chkchild is rebuilt when it looks older than its source).
	copy=$(mktemp -d "${TMPDIR:-/tmp}/apm2-regress.XXXXXX")
	mkdir -p "$copy/apm2d" "$copy/apm2ctl" "$copy/regress/unit"
	cp -p apm2d/apm2d apm2d/ecosystem.toml.5 "$copy/apm2d/"
	cp -p apm2ctl/apm2ctl "$copy/apm2ctl/"
	cp -Rp regress/integration "$copy/regress/"
	cp -p regress/unit/*.c "$copy/regress/unit/"	# test_keys reads them
	chmod -R a+rX "$copy"
	for t in "$copy"/regress/integration/test_*.py; do
		n=$(basename "$t" .py)
		[ -f "$t" ] && add user "$n (as $asuser)" "$t" "$n.$asuser"
	done
fi

# Start order: the integration tests first, each file as root beside the
# same file as the user (they take longest, and wait more than they
# compute), then the rest.
order=
nuser=0
i=$first_py
while [ "$i" -le "$njobs" ]; do
	eval "k=\$kind_$i"
	[ "$k" = user ] && nuser=$((nuser + 1))
	i=$((i + 1))
done
i=$first_py
while [ "$i" -le $((njobs - nuser)) ]; do
	order="$order $i"
	[ "$nuser" -ne 0 ] && order="$order $((i + nuser))"
	i=$((i + 1))
done
i=1
while [ "$i" -lt "$first_py" ]; do
	order="$order $i"
	i=$((i + 1))
done

# A finished job writes its number to the pool FIFO; reading it frees a
# slot.  Results are printed in job order once all before them are in.
mkfifo "$out/.pool" || exit 1
exec 3<>"$out/.pool"
running=0
next=1
for i in $order; do
	if [ "$running" -ge "$jobs" ]; then
		read -r d <&3
		running=$((running - 1))
		eval "done_$d=1"
	fi
	( runjob "$i"; echo "$i" >&3 ) &
	running=$((running + 1))
	while [ "$next" -le "$njobs" ] && eval "[ -n \"\${done_$next:-}\" ]"; do
		report "$next"
		next=$((next + 1))
	done
done
while [ "$next" -le "$njobs" ]; do
	while eval "[ -z \"\${done_$next:-}\" ]"; do
		read -r d <&3
		eval "done_$d=1"
	done
	report "$next"
	next=$((next + 1))
done
exec 3>&-
cleanup

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "took $(($(date +%s) - start))s, ${cpu_total}s CPU," \
    "$jobs programs and $tjobs tests of a file at once"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
