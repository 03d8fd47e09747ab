#!/bin/bash
# Installs, from Debian's packages, what custos needs and is missing.
#   scripts/deps.sh build   what `make` needs
#   scripts/deps.sh test    and what the test suite, the kernel matrix and benchmarks need
#   scripts/deps.sh vmtest  what the kernel matrix needs
set -euo pipefail

build_pkgs=(make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libjansson-dev
	libssl-dev libcurl4-openssl-dev)
# Real database servers and clients: the database probes are tested against them.
test_pkgs=(python3 util-linux coreutils procps postgresql postgresql-client mariadb-server
	mariadb-client sqlite3 python3-psycopg2 python3-mysqldb libpq-dev libmariadb-dev
	libsqlite3-dev rsyslog dpkg-dev groff-base man-db)
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
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "custos: missing packages: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "custos: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
