#!/bin/bash
# Installs, from Debian's packages, what custos needs and is missing.
#   scripts/deps.sh build   what `make` needs
#   scripts/deps.sh test    and what the test suite, the kernel matrix and benchmarks need
#   scripts/deps.sh vmtest  what the kernel matrix needs
set -euo pipefail

build_pkgs=(make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libjansson-dev
	libssl-dev libcurl4-openssl-dev)
# The time zones of detection rules' hours (/usr/share/zoneinfo): read by the agent and the unit tests.
build_pkgs+=(tzdata)
# Real database servers and clients: the database probes are tested against them.
test_pkgs=(python3 util-linux coreutils procps curl postgresql postgresql-client mariadb-server
	mariadb-client sqlite3 python3-psycopg2 python3-mysqldb libpq-dev libmariadb-dev
	libsqlite3-dev rsyslog dpkg-dev groff-base man-db)
# Clients that load no probed library, for the wire protocol tests: pure-Python
# pg8000 and PyMySQL, Go's lib/pq, PgJDBC (node's pg and mysql2 come from the npm
# registry, below).
test_pkgs+=(python3-pg8000 python3-pymysql golang-go golang-github-lib-pq-dev libpostgresql-jdbc-java
	default-jdk-headless)
# The fuzz targets: clang's libFuzzer and sanitizer runtimes.
test_pkgs+=(libclang-rt-14-dev)
# The kernel matrix (scripts/vmtest.sh): QEMU and its virtiofsd, the initramfs.
vmtest_pkgs=(qemu-system-x86 busybox-static kmod cpio xz-utils debian-archive-keyring)

case "${1:-build}" in
build) pkgs=("${build_pkgs[@]}") ;;
test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${vmtest_pkgs[@]}") ;;
vmtest) pkgs=("${vmtest_pkgs[@]}") ;;
*)
	echo "usage: $0 [build|test|vmtest]" >&2
	exit 2
	;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm from Debian, unless a node is installed already (NodeSource's has its npm).
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "custos: missing packages: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "custos: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# node-postgres and mysql2 for test_wire_node_pg and test_wire_mysql_node,
# where the tests look for them. Without the registry they say they are skipped.
node_modules=/var/tmp/custos-it-node
for module in pg@8 mysql2@3; do
	if [ "${1:-build}" = test ] && [ ! -d "$node_modules/node_modules/${module%@*}" ]; then
		mkdir -p "$node_modules"
		npm install --silent --no-audit --no-fund --prefix "$node_modules" "$module" \
			>/dev/null || echo "custos: npm install $module failed: its test will be skipped" >&2
	fi
done
