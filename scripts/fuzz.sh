#!/bin/bash
# make fuzz: runs each fuzz target (tests/fuzz) for FUZZ_SECONDS (default 30)
# from its seeds in tests/fuzz/corpus/NAME, in a working corpus under
# build/fuzz/corpus (the seeds are never changed). A target fails when it
# finds an input that breaks its property or trips a sanitizer; the input
# is kept in build/fuzz/crash-NAME-*. The last line is "N passed, N failed".
#   scripts/fuzz.sh build/fuzz/fuzz_sql ...
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-30}
passed=0
failed=0
for target in "$@"; do
	name=$(basename "$target")
	work=build/fuzz/corpus/$name
	mkdir -p "$work"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
	log=build/fuzz/$name.log
	if "$target" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="build/fuzz/crash-$name-" "$work" >"$log" 2>&1; then
		echo "ok   $name  ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
			grep -o '[0-9]*$') runs in $seconds s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		grep -E "ERROR|SUMMARY|planted|abort|runtime error|Test unit written" "$log" | head -n 20 | sed 's/^/     /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
