#!/bin/sh
# Run every test program and print one summary line: "N passed, N failed".
#
# Unit tests (cmocka) and integration tests (Python) both speak TAP; the
# toml-test conformance runner prints its own "N passed, N failed" line.
# A program that dies before finishing its plan counts the missing tests
# as failures.
set -u
cd "$(dirname "$0")/.." || exit 1
out=regress/out
mkdir -p "$out"
pass=0
fail=0
failed_names=

# count FILE NAME: add a TAP transcript's results to the totals.
count() {
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
	missing=0
	if [ -n "$plan" ] && [ $((p + f)) -lt "$plan" ]; then
		missing=$((plan - p - f))
	fi
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ] && [ "$missing" -eq 0 ]; then
		missing=1	# died or failed without saying which test
	fi
	pass=$((pass + p))
	fail=$((fail + f + missing))
	if [ $((f + missing)) -ne 0 ]; then
		failed_names="$failed_names $2"
		echo "FAIL $2 ($p passed, $((f + missing)) failed):"
		grep -E '^not ok |^# ' "$1" | head -n 40
	else
		echo "ok   $2 ($p passed)"
	fi
}

filter=${REGRESS_FILTER:-}

for t in regress/unit/test_*; do
	case "$t" in *.c|*.o) continue ;; esac
	[ -x "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *"$filter"*) ;; *) continue ;; esac
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "./$t" >"$out/$name.tap" 2>"$out/$name.err"
	count "$out/$name.tap" "$name" $?
done

# TOML 1.0 conformance corpus.
case "toml-test" in *"$filter"*)
	if [ -x regress/toml/tomldec ] && [ -d regress/toml/toml-test ]; then
		timeout 600 python3 regress/toml/toml-test-run \
		    regress/toml/tomldec >"$out/toml-test.log" 2>&1
		line=$(tail -n 1 "$out/toml-test.log")
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
		f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
		if [ -z "$p" ]; then p=0; f=1; fi
		pass=$((pass + p)); fail=$((fail + f))
		if [ "$f" -ne 0 ]; then
			failed_names="$failed_names toml-test"
			echo "FAIL toml-test: $line"
			grep -i fail "$out/toml-test.log" | head -n 20
		else
			echo "ok   toml-test ($line)"
		fi
	else
		echo "FAIL toml-test: decoder or corpus (regress/toml/toml-test) missing"
		fail=$((fail + 1))
	fi
	;;
esac

# Integration tests: the real daemon with real processes.
for t in regress/integration/test_*.py; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .py)
	case "$name" in *"$filter"*) ;; *) continue ;; esac
	timeout 600 python3 "$t" >"$out/$name.tap" 2>"$out/$name.err"
	count "$out/$name.tap" "$name" $?
done

# The same integration tests again as an ordinary user: the daemon then
# runs unprivileged, and tests that need root report themselves skipped.
asuser=${REGRESS_USER:-apm2tu}
if [ "$(id -u)" -eq 0 ] && [ "${REGRESS_NO_USER:-0}" = 0 ]; then
	if ! id "$asuser" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    "$asuser" >/dev/null 2>&1 ||
		    echo "cannot create user $asuser"
	fi
	# A copy the user can read, wherever this tree lives.
	copy=$(mktemp -d "${TMPDIR:-/tmp}/apm2-regress.XXXXXX")
	mkdir -p "$copy/apm2d" "$copy/apm2ctl" "$copy/regress"
	cp apm2d/apm2d "$copy/apm2d/"
	cp apm2ctl/apm2ctl "$copy/apm2ctl/"
	cp -R regress/integration "$copy/regress/"
	chmod -R a+rX "$copy"
	for t in "$copy"/regress/integration/test_*.py; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .py)
		case "$name" in *"$filter"*) ;; *) continue ;; esac
		timeout 600 runuser -u "$asuser" -- python3 "$t" \
		    >"$out/$name.$asuser.tap" 2>"$out/$name.$asuser.err"
		count "$out/$name.$asuser.tap" "$name (as $asuser)" $?
	done
	rm -rf "$copy"
fi

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
