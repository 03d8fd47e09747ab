#!/bin/bash
# The whole test suite: installs what it needs, builds, runs the unit tests,
# the integration tests (as root, on the real kernel), the fuzz targets for a
# bounded time (FUZZ_SECONDS each, default 8) and, alongside them, the kernel
# matrix (scripts/vmtest.sh: Debian's kernels under QEMU). The last line is "N
# passed, N failed" over everything; the exit status is 0 only if none failed.
#   scripts/test.sh [-t NAME]    only tests whose name contains NAME
set -uo pipefail
cd "$(dirname "$0")/.."

filter=()
[ "${1:-}" = "-t" ] && [ -n "${2:-}" ] && filter=(-t "$2")

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/test.sh: the integration tests load BPF programs: run as root" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
scripts/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }
make -s tests-build || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
tally() {
	# The last line of each runner is "N passed, N failed".
	local last
	last=$(tail -n 1 "$1")
	if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "scripts/test.sh: $2 did not finish (last line: $last)" >&2
		failed=$((failed + 1))
	fi
}

log=$(mktemp)
phase_start=0  # the first phase is the install and build
phase() {
	# Each phase's wall time, so that CI's time budget can be watched.
	echo "== $1  (the previous phase took $((SECONDS - phase_start)) s)"
	phase_start=$SECONDS
}
# The kernel matrix (Debian's kernels under QEMU, scripts/vmtest.sh) runs in
# the background, one guest at a time (a TCG guest keeps a core busy), while
# the host's own tests run on the other core; its output comes at the end.
# The host's kernel with the modern object is the integration suite's; the
# compat object runs on 5.10 and 6.1 (make vmtest adds this kernel with each
# object).
matrix_log=$(mktemp)
CUSTOS_VMTEST_JOBS=1 scripts/vmtest.sh -k bullseye -k bookworm -k trixie "${filter[@]}" \
	>"$matrix_log" 2>&1 &
matrix_pid=$!
phase "unit tests (the kernel matrix started in the background)"
build/tests/unit-tests "${filter[@]}" | tee "$log"
tally "$log" "unit tests"
phase "integration tests"
/usr/bin/python3 tests/integration/run.py "${filter[@]}" | tee "$log"
tally "$log" "integration tests"
phase "fuzz targets (${FUZZ_SECONDS:-8} s each)"
FUZZ_SECONDS=${FUZZ_SECONDS:-8} make -s fuzz | tee "$log"
tally "$log" "fuzz targets"
phase "kernel matrix (waiting for the background run)"
wait "$matrix_pid"
cat "$matrix_log"
tally "$matrix_log" "kernel matrix"
rm -f "$matrix_log"
rm -f "$log"
phase "end"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
