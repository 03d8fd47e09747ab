#!/bin/bash
# make bench: what the agent costs the syscalls it hooks, as ratios against no
# agent measured round by round in the same run, and what it writes and drops
# at 100,000 watched opens a second; then what its database client probes cost
# libpq and SQLite statements, and how much of that the probe hits themselves
# are; then the outputs' throughput, and how fast SQL text is redacted and
# described (custos-sqlbench; alone, without root: make bench-sql), and how
# fast custos report reads stored events (custos-reportbench; alone: make
# bench-report). Numbers, never pass/fail. Needs root.
#
# The measuring and the agent's start and stop are in tests/bench/bench.c and
# dbbench.c (custos-bench suite); this script checks, passes the settings on,
# runs a PostgreSQL server of its own for the libpq queries (a unix socket in
# the bench directory, never the system's cluster) and makes sure nothing is
# left behind: no agent, no server, no /tmp/custos-bench.
#
#   BENCH_ROUNDS   rounds of without/with measurements (default 5)
#   BENCH_N        operations per workload and round (default 500000)
#   BENCH_RATE     watched opens a second in the drop test (default 100000)
#   BENCH_SECONDS  length of the drop test (default 5)
#   BENCH_CPU      pin the measuring thread to this CPU (default: not pinned)
#   BENCH_WALL     1: time the file workloads by the wall clock, not the measuring thread's CPU time
#   BENCH_DB       0: no database part (default 1)
#   BENCH_DB_ONLY  1: the database part alone, no file workloads, drop test or outputs
#   BENCH_DB_ROUNDS   rounds of the database part (default: BENCH_ROUNDS)
#   BENCH_DB_QUERIES  libpq queries and SQLite lookups per round and phase (default 10000)
#   BENCH_SINK_EVENTS events through each output in the outputs' part (default 300000)
#   BENCH_REPORT_MB   megabytes of stored events custos report reads (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=/tmp/custos-bench
bench=build/tests/bench/custos-bench
agent=build/custos
pg_dir=$dir/pg # the server's data, socket and log, owned by postgres
pg_port=54987  # the socket file's name, and the TCP port on 127.0.0.1 (for TLS)

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/bench.sh: the benchmark runs the agent, which loads BPF programs: run as root" >&2
	exit 1
fi
for f in "$bench" "$agent" build/tests/bench/custos-sinkbench build/tests/bench/custos-sqlbench \
	build/tests/bench/custos-reportbench; do
	if [ ! -x "$f" ]; then
		echo "scripts/bench.sh: $f is missing: run make bench" >&2
		exit 1
	fi
done

# The newest PostgreSQL server installed (Debian: /usr/lib/postgresql/VERSION/bin).
pg_bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
if [ "${BENCH_DB:-1}" != 0 ] && [ ! -x "$pg_bin/initdb" ]; then
	echo "scripts/bench.sh: no PostgreSQL server: scripts/deps.sh test, or BENCH_DB=0" >&2
	exit 1
fi

# One benchmark at a time: a second one would skew the first, and its cleanup
# would stop the first one's agent. The lock is on this script: nothing to remove.
exec 9<"$0"
if ! flock -n 9; then
	echo "scripts/bench.sh: another benchmark is running" >&2
	exit 1
fi

# Whether pid runs (a zombie, killed and not yet reaped, does not).
running() {
	[[ "$(cat "/proc/$1/stat" 2>/dev/null)" =~ \)\ [^ZX] ]]
}

# custos-bench stops its agent itself on SIGINT, SIGTERM, SIGHUP and failures,
# and the agent gets SIGTERM if custos-bench dies (PR_SET_PDEATHSIG). This is
# the last resort: the agent whose pid custos-bench recorded, and nothing else.
stop_agent() {
	local pid

	[ -s "$dir/agent.pid" ] || return 0
	pid=$(cat "$dir/agent.pid")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = custos ] || return 0
	running "$pid" || return 0 # killed by PR_SET_PDEATHSIG, not yet reaped
	echo "scripts/bench.sh: stopping the agent custos-bench left running (pid $pid)" >&2
	kill -INT "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		running "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# As postgres, from a directory it may enter, without the lock: the server must not hold it.
pg_ctl() {
	(cd / && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" "$@") 9<&-
}

# The server in $pg_dir, if one runs: its postmaster.pid names it.
stop_server() {
	local pid

	[ -s "$pg_dir/data/postmaster.pid" ] || return 0
	pid=$(head -n 1 "$pg_dir/data/postmaster.pid")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-D $pg_dir/data " || return 0
	pg_ctl -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	for _ in $(seq 50); do
		running "$pid" || return 0
		sleep 0.1
	done
	echo "scripts/bench.sh: the bench's PostgreSQL server (pid $pid) ignored pg_ctl stop: SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	stop_agent
	stop_server
	rm -rf "$dir"
}

# A previous run killed hard may have left its directory (and agent) behind.
cleanup
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# initdb and a server as postgres, on a unix socket in $pg_dir and on 127.0.0.1 with TLS (a
# self-signed certificate); fsync off, it is scratch.
start_server() {
	mkdir -p -m 0755 "$dir"
	install -d -o postgres -g postgres -m 0700 "$pg_dir"
	if ! (cd / && runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres \
		--no-locale -E UTF8 -N --no-instructions) >"$dir/initdb.log" 2>&1 9<&-; then
		cat "$dir/initdb.log" >&2
		echo "scripts/bench.sh: initdb failed" >&2
		exit 1
	fi
	if ! openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-keyout "$pg_dir/data/server.key" -out "$pg_dir/data/server.crt" >/dev/null 2>&1; then
		echo "scripts/bench.sh: openssl could not make the server's certificate" >&2
		exit 1
	fi
	chown postgres: "$pg_dir/data/server.key" "$pg_dir/data/server.crt"
	chmod 0600 "$pg_dir/data/server.key"
	if ! pg_ctl -w -t 60 -l "$pg_dir/server.log" -o "-k $pg_dir -c listen_addresses=127.0.0.1 \
		-p $pg_port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on" \
		start >/dev/null; then
		cat "$pg_dir/server.log" >&2
		echo "scripts/bench.sh: the PostgreSQL server did not start" >&2
		exit 1
	fi
}

args=(suite --agent "$agent" --dir "$dir")
if [ -n "${BENCH_ROUNDS:-}" ]; then args+=(--rounds "$BENCH_ROUNDS"); fi
if [ -n "${BENCH_N:-}" ]; then args+=(--n "$BENCH_N"); fi
if [ -n "${BENCH_RATE:-}" ]; then args+=(--rate "$BENCH_RATE"); fi
if [ -n "${BENCH_SECONDS:-}" ]; then args+=(--seconds "$BENCH_SECONDS"); fi
if [ -n "${BENCH_CPU:-}" ]; then args+=(--cpu "$BENCH_CPU"); fi
if [ "${BENCH_WALL:-0}" = 1 ]; then args+=(--wall); fi
if [ "${BENCH_DB:-1}" = 0 ] && [ "${BENCH_DB_ONLY:-0}" = 1 ]; then
	echo "scripts/bench.sh: BENCH_DB=0 and BENCH_DB_ONLY=1: nothing to run" >&2
	exit 1
fi
if [ "${BENCH_DB:-1}" = 0 ]; then
	args+=(--no-db)
else
	start_server
	if [ "${BENCH_DB_ONLY:-0}" = 1 ]; then args+=(--db-only); fi
	args+=(--pg "host=$pg_dir port=$pg_port user=postgres dbname=postgres")
	args+=(--pg-tls "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres sslmode=require")
	if [ -n "${BENCH_DB_ROUNDS:-}" ]; then args+=(--db-rounds "$BENCH_DB_ROUNDS"); fi
	if [ -n "${BENCH_DB_QUERIES:-}" ]; then args+=(--db-queries "$BENCH_DB_QUERIES"); fi
fi

"$bench" "${args[@]}"
if [ "${BENCH_DB_ONLY:-0}" = 1 ]; then exit 0; fi

# The outputs: events a second through the file and TCP syslog outputs on one core.
echo
build/tests/bench/custos-sinkbench -n "${BENCH_SINK_EVENTS:-300000}" -d "$dir/sinks"

# SQL redaction and description on one core, against the two passes they replaced.
echo
build/tests/bench/custos-sqlbench

# custos report on a stream of stored events, plain and gzip.
echo
mkdir -p "$dir"
build/tests/bench/custos-reportbench -a "$agent" -d "$dir/report" -m "${BENCH_REPORT_MB:-256}"
