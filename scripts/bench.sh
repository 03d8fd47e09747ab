#!/bin/bash
# make bench: what the agent costs the syscalls it hooks, as ratios against no
# agent measured round by round in the same run, and what it writes and drops
# at 50,000 watched opens a second. Numbers, never pass/fail. Needs root.
#
# The measuring and the agent's start and stop are in tests/bench/bench.c
# (custos-bench suite); this script checks, passes the settings on and makes
# sure nothing is left behind: no agent, no /tmp/custos-bench.
#
#   BENCH_ROUNDS   rounds of without/with measurements (default 5)
#   BENCH_N        operations per workload and round (default 500000)
#   BENCH_RATE     watched opens a second in the drop test (default 50000)
#   BENCH_SECONDS  length of the drop test (default 5)
#   BENCH_CPU      pin the measuring thread to this CPU (default: not pinned)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=/tmp/custos-bench
bench=build/tests/bench/custos-bench
agent=build/custos

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/bench.sh: the benchmark runs the agent, which loads BPF programs: run as root" >&2
	exit 1
fi
for f in "$bench" "$agent"; do
	if [ ! -x "$f" ]; then
		echo "scripts/bench.sh: $f is missing: run make bench" >&2
		exit 1
	fi
done

# One benchmark at a time: a second one would skew the first, and its cleanup
# would stop the first one's agent. The lock is on this script: nothing to remove.
exec 9<"$0"
if ! flock -n 9; then
	echo "scripts/bench.sh: another benchmark is running" >&2
	exit 1
fi

# custos-bench stops its agent itself on SIGINT, SIGTERM, SIGHUP and failures,
# and the agent gets SIGTERM if custos-bench dies (PR_SET_PDEATHSIG). This is
# the last resort: the agent whose pid custos-bench recorded, and nothing else.
stop_agent() {
	local pid

	[ -s "$dir/agent.pid" ] || return 0
	pid=$(cat "$dir/agent.pid")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = custos ] || return 0
	# A zombie (killed by PR_SET_PDEATHSIG, not yet reaped) needs nothing.
	[[ "$(cat "/proc/$pid/stat" 2>/dev/null)" =~ \)\ [^ZX] ]] || return 0
	echo "scripts/bench.sh: stopping the agent custos-bench left running (pid $pid)" >&2
	kill -INT "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	stop_agent
	rm -rf "$dir"
}

# A previous run killed hard may have left its directory (and agent) behind.
cleanup
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

args=(suite --agent "$agent" --dir "$dir")
if [ -n "${BENCH_ROUNDS:-}" ]; then args+=(--rounds "$BENCH_ROUNDS"); fi
if [ -n "${BENCH_N:-}" ]; then args+=(--n "$BENCH_N"); fi
if [ -n "${BENCH_RATE:-}" ]; then args+=(--rate "$BENCH_RATE"); fi
if [ -n "${BENCH_SECONDS:-}" ]; then args+=(--seconds "$BENCH_SECONDS"); fi
if [ -n "${BENCH_CPU:-}" ]; then args+=(--cpu "$BENCH_CPU"); fi

"$bench" "${args[@]}"
