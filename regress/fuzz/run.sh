#!/bin/sh
# SPDX-License-Identifier: ISC
# make fuzz [FUZZTIME=secs]: build every libFuzzer harness in regress/fuzz
# with clang (ASan+UBSan) against the common library and run each for a
# bounded time on a copy of its seed corpus.  Prints one summary line.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${1:-60}
[ -n "$secs" ] || secs=60
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang not found, skipping"
	exit 0
fi
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
-Icommon -I. $(pkg-config --cflags libbsd-overlay libcjson libevent_core)"
libs="$(pkg-config --libs libbsd-overlay libcjson libevent_core)"
bin=regress/fuzz/bin
mkdir -p "$bin"
pass=0
fail=0
for h in regress/fuzz/fuzz_*.c; do
	[ -f "$h" ] || continue
	name=$(basename "$h" .c)
	corpus=regress/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d "${TMPDIR:-/tmp}/apm2-fuzz.XXXXXX")
	[ -d "$corpus" ] && cp -R "$corpus/." "$work/"
	if ! clang $cflags -o "$bin/$name" "$h" common/*.c $libs \
	    >"$bin/$name.build.log" 2>&1; then
		echo "FAIL $name: does not build"
		cat "$bin/$name.build.log"
		fail=$((fail + 1))
		rm -rf "$work"
		continue
	fi
	if (cd "$bin" && "./$name" -max_total_time="$secs" -rss_limit_mb=2048 \
	    -artifact_prefix="./$name-" "$work" >"$name.log" 2>&1); then
		runs=$(grep -Eo 'Done [0-9]+ runs' "$bin/$name.log" | tail -n 1)
		echo "ok   $name: ${runs:-done} in ${secs}s, no finding"
		pass=$((pass + 1))
	else
		echo "FAIL $name: finding, see $bin/$name.log"
		tail -n 40 "$bin/$name.log"
		fail=$((fail + 1))
	fi
	rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
