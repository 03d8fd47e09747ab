#!/bin/bash
# The kernel matrix: boots Debian's stock cloud kernels under QEMU and runs,
# on each and natively on the host's own kernel, `custos check --json` and a
# named subset of the integration tests; prints a matrix, kernel x test, and
# exits 1 if any cell is red (docs/kernel.md).
#
#   scripts/vmtest.sh                      every kernel of KERNEL_SUITES and the host
#                                          (natively, and again with the compat object)
#   scripts/vmtest.sh -k bullseye -k host  only those (a suite name, "host", "host-compat")
#   scripts/vmtest.sh -t NAME              only tests whose name contains NAME
#   scripts/vmtest.sh --shell SUITE -- CMD run one command in that kernel's guest
#   scripts/vmtest.sh --docs               rewrite the supported-kernels tables in
#                                          README.md and docs/kernel.md from the last run
#
# The guest shares the host's root file system read-only (virtiofs), with a
# tmpfs on top, so it runs the same build/custos, Python and test helpers.
# Kernels come from the suites of the Debian mirror this machine's own apt
# sources name, verified with Debian's archive keys, and are cached in
# $CUSTOS_VMTEST_CACHE (default /var/cache/custos-vmtest). QEMU uses TCG:
# guests under nested KVM hang on the development VMs. A guest's console is
# in build/vmtest/SUITE.console (CUSTOS_VMTEST_LOGLEVEL=7 for every kernel
# message).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd -P)

# Debian release -> the suite whose linux-image-cloud-amd64 is tested.
KERNEL_SUITES=(bullseye bookworm trixie)
# The slowest guest first (the modern object loads slowest under TCG), so two
# at a time finish together.
LAUNCH_ORDER=(trixie bullseye bookworm)
declare -A DISTRO=([bullseye]="Debian 11 (bullseye)" [bookworm]="Debian 12 (bookworm)"
	[trixie]="Debian 13 (trixie)")

# The tests every kernel runs (tests/integration, "file.function").
TESTS=(
	test_identity.test_login_user_through_runuser
	test_denied.test_denied_file_mode
	test_paths.test_hardlink_to_watched_file
	test_paths.test_bind_mount_of_watched_dir
	test_paths.test_deep_nesting
	test_evasion.test_evasion_sendfile
	test_evasion.test_evasion_already_open
	test_evasion.test_evasion_io_uring_read
	test_evasion.test_evasion_rename_events
	test_summaries.test_close_reason_exit
	test_summaries.test_close_range_on_watched_fd
	test_identity.test_process_started_before_agent
	test_db.test_db_sqlite
	test_db.test_db_sqlite_affected_rows
	test_net.test_net_connect_and_accept
	test_net.test_net_prefixes_ranges_ipv6_udp_nonblocking
	test_net.test_net_connected_before_start
	test_net.test_net_unix_sockets
	test_net.test_net_nonblocking_connect_ends_later
	test_net.test_net_io_uring_send_recv
	test_wire.test_wire_bulk_select_and_copy
	test_wire_mysql.test_wire_mysql_server_side_and_tls
	test_egress.test_egress_network
	test_egress.test_egress_new_files
)

CACHE=${CUSTOS_VMTEST_CACHE:-/var/cache/custos-vmtest}
OUT=$REPO/build/vmtest
VM_MEM=2G
VM_TIMEOUT=${CUSTOS_VMTEST_TIMEOUT:-1500}
# Guests at once, each with one virtual CPU: two vCPUs of a guest sharing a
# busy host core make the kernel's spinlocks wait on a descheduled holder
# (soft lockups were seen that way with two guests of two vCPUs each).
JOBS=${CUSTOS_VMTEST_JOBS:-2}
VM_CPUS=${CUSTOS_VMTEST_CPUS:-1}
VIRTIOFSD=/usr/lib/qemu/virtiofsd

die() {
	echo "vmtest: $*" >&2
	exit 2
}

# ------------------------------------------------------------- the guest side

# PID 1 of the guest, after the initramfs mounted the shared root: make the
# places tests write to private, run the check and the tests, power off.
guest_main() {
	local results=/dev/ttyS1 d
	# A checkout under one of the directories made private here (CI may
	# clone into /tmp) stays reachable at the same path.
	mkdir -p /mnt/custos-repo
	mount --bind "$REPO" /mnt/custos-repo
	for d in /tmp /run /var/tmp; do
		mount -t tmpfs -o mode=1777 tmpfs "$d"
	done
	chmod 0755 /run
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	if [ ! -d "$REPO/scripts" ]; then
		mkdir -p "$REPO"
		mount --move /mnt/custos-repo "$REPO"
	fi
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
	ln -sf /proc/self/fd /dev/fd 2>/dev/null || true
	hostname custos-vmtest
	ip link set lo up 2>/dev/null || true
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
	# TCG runs programs 10 to 50 times slower: the tests' time limits follow.
	export CUSTOS_IT_TIME_SCALE=${CUSTOS_IT_TIME_SCALE:-8}
	cd "$REPO"
	{
		echo "@@kernel $(uname -r)"
		if [ -n "${CUSTOS_VMTEST_SHELL:-}" ]; then
			echo "@@shell-begin"
			bash -c "$(printf '%s' "$CUSTOS_VMTEST_SHELL" | base64 -d)" 2>&1
			echo "@@shell-end $?"
		else
			echo "@@check-begin"
			build/custos check --json 2>&1
			echo "@@check-end $?"
			echo "@@tests-begin"
			/usr/bin/python3 tests/integration/run.py -v $(printf -- '-t %s ' ${CUSTOS_VMTEST_TESTS//,/ }) 2>&1
			echo "@@tests-end $?"
		fi
	} >"$results" 2>&1
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}

# ------------------------------------------------------------- the host side

# The Debian mirror this machine's apt sources use for its own release.
debian_mirror() {
	local codename uri
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	uri=$(awk -v c="$codename" '
		/^[[:space:]]*deb[[:space:]]/ {
			i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /\]$/ && $i ~ /^\[/ || $i ~ /\]$/) i++
			if ($(i+1) == c) { print $i; exit }
		}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	if [ -z "$uri" ]; then
		uri=$(awk -v c="$codename" '
			/^URIs:/ { u = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) { print u; exit } }
			/^$/ { u = "" }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	fi
	[ -n "$uri" ] || die "no Debian mirror for $codename in /etc/apt/sources.list{,.d}"
	echo "${uri%/}"
}

# apt-get/apt-cache with a private list of sources and state under $CACHE/apt.
APT_OPTS=()
apt_private_setup() {
	local mirror=$1 a=$CACHE/apt s
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/etc/sources.list.d" \
		"$a/etc/preferences.d"
	: >"$a/etc/sources.list"
	for s in "${KERNEL_SUITES[@]}"; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" \
			>>"$a/etc/sources.list"
	done
	APT_OPTS=(-o "Dir::Etc::SourceList=$a/etc/sources.list" -o "Dir::Etc::SourceParts=$a/etc/sources.list.d"
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache"
		-o "Dir::Etc::Preferences=$a/etc/preferences" -o "Dir::Etc::PreferencesParts=$a/etc/preferences.d"
		-o "APT::Sandbox::User=root")
}

# Downloads (once) the cloud kernel of a suite; prints its directory.
fetch_kernel() {
	local suite=$1 dir=$CACHE/kernels/$suite image pkg deb
	if [ -f "$dir/.complete" ]; then
		echo "$dir"
		return
	fi
	image=$(apt-cache "${APT_OPTS[@]}" show "linux-image-cloud-amd64/$suite" 2>/dev/null |
		sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -n 1)
	[ -n "$image" ] || die "no linux-image-cloud-amd64 in $suite"
	pkg=$image-unsigned
	apt-cache "${APT_OPTS[@]}" show "$pkg/$suite" >/dev/null 2>&1 || pkg=$image
	rm -rf "$dir" "$CACHE/deb"
	mkdir -p "$dir" "$CACHE/deb"
	(cd "$CACHE/deb" && apt-get "${APT_OPTS[@]}" -qq download "$pkg/$suite" >/dev/null) ||
		die "cannot download $pkg from $suite"
	deb=$(ls "$CACHE"/deb/*.deb)
	dpkg-deb -x "$deb" "$dir/root"
	dpkg-deb -f "$deb" Version >"$dir/version"
	ls "$dir"/root/boot/vmlinuz-* | head -n 1 | sed 's|.*/vmlinuz-||' >"$dir/release"
	rm -rf "$CACHE/deb"
	touch "$dir/.complete"
	echo "$dir"
}

# The initramfs: busybox, the modules that reach the shared root, and an
# init that mounts it read-only under a tmpfs and hands over to guest_main.
INIT_SCRIPT='#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read m; do insmod /modules/$m || echo "vmtest: insmod $m failed"; done </modules/order
mkdir -p /lower /upper /newroot
mount -t virtiofs -o ro hostroot /lower || { echo "vmtest: cannot mount the shared root"; poweroff -f; }
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot ||
	{ echo "vmtest: cannot mount the overlay"; poweroff -f; }
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$CUSTOS_VMTEST_REPO/scripts/vmtest.sh" --guest
'

build_initrd() {
	local kdir=$1 release st mods m p
	release=$(cat "$kdir/release")
	if [ -f "$kdir/initrd.gz" ] && [ "$(cat "$kdir/initrd.sum" 2>/dev/null)" = "$(echo "$INIT_SCRIPT" | md5sum)" ]; then
		return
	fi
	st=$(mktemp -d)
	mods=$st/.mods
	mkdir -p "$st/bin" "$st/modules" "$mods/lib/modules"
	cp /bin/busybox "$st/bin/busybox"
	printf '%s' "$INIT_SCRIPT" >"$st/init"
	chmod 0755 "$st/init"
	if [ -d "$kdir/root/lib/modules/$release" ]; then
		cp -r "$kdir/root/lib/modules/$release" "$mods/lib/modules/"
	else
		cp -r "$kdir/root/usr/lib/modules/$release" "$mods/lib/modules/"
	fi
	find "$mods" -name '*.ko.xz' -exec xz -d {} +
	depmod -b "$mods" "$release"
	: >"$st/modules/order"
	for m in virtio_pci virtiofs overlay; do
		modprobe -d "$mods" -S "$release" --show-depends "$m" | awk '$1 == "insmod" { print $2 }' |
			while read -r p; do
				grep -qx "$(basename "$p")" "$st/modules/order" && continue
				cp "$p" "$st/modules/"
				basename "$p" >>"$st/modules/order"
			done
	done
	rm -rf "$mods"
	(cd "$st" && find . | cpio -o -H newc --quiet | gzip -1) >"$kdir/initrd.gz"
	echo "$INIT_SCRIPT" | md5sum >"$kdir/initrd.sum"
	rm -rf "$st"
}

# Boots a kernel and runs guest_main; its result stream goes to $2.
boot_guest() {
	local kdir=$1 results=$2 console=$3 release sock vpid rc=0
	release=$(cat "$kdir/release")
	sock=$(mktemp -u /tmp/custos-vmtest-XXXXXX.sock)
	"$VIRTIOFSD" --socket-path="$sock" -o source=/ -o cache=always -o sandbox=chroot \
		-o log_level=err >>"$console" 2>&1 &
	vpid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	: >"$results"
	timeout "$VM_TIMEOUT" qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp "$VM_CPUS" -m "$VM_MEM" \
		-object "memory-backend-memfd,id=mem,size=$VM_MEM,share=on" -numa node,memdev=mem \
		-chardev "socket,id=vfs,path=$sock" -device vhost-user-fs-pci,chardev=vfs,tag=hostroot \
		-kernel "$kdir/root/boot/vmlinuz-$release" -initrd "$kdir/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet loglevel=${CUSTOS_VMTEST_LOGLEVEL:-3} CUSTOS_VMTEST_REPO=$REPO CUSTOS_VMTEST_TESTS=$(
			IFS=,
			echo "${RUN_TESTS[*]}"
		) CUSTOS_VMTEST_SHELL=${SHELL_CMD:-}" \
		-display none -monitor none -no-reboot \
		-serial "file:$console" -serial "file:$results" </dev/null >>"$console" 2>&1 || rc=$?
	kill "$vpid" 2>/dev/null || true
	wait "$vpid" 2>/dev/null || true
	rm -f "$sock"
	return $rc
}

# One guest, its results in $OUT/SUITE.results.
run_guest() {
	local suite=$1 kdir=$2 start=$SECONDS rc=0
	boot_guest "$kdir" "$OUT/$suite.results" "$OUT/$suite.console" || rc=$?
	[ $rc -eq 0 ] || echo "vmtest: $suite: QEMU exited with $rc (console: $OUT/$suite.console)" >&2
	echo "vmtest: $suite: $((SECONDS - start)) s" >&2
}

# Runs the check and the tests natively, on the host's kernel (with $2, the
# compat object: CUSTOS_BPF_OBJECT=compat, as on kernels without the newer helpers).
run_host() {
	local results=$1 object=${2:-} rc
	{
		echo "@@kernel $(uname -r)${object:+ ($object object)}"
		echo "@@check-begin"
		rc=0
		CUSTOS_BPF_OBJECT=$object build/custos check --json 2>&1 || rc=$?
		echo "@@check-end $rc"
		echo "@@tests-begin"
		rc=0
		CUSTOS_BPF_OBJECT=$object /usr/bin/python3 tests/integration/run.py -v \
			$(printf -- '-t %s ' "${RUN_TESTS[@]}") 2>&1 || rc=$?
		echo "@@tests-end $rc"
	} >"$results" 2>&1
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	local kernels=() only=() suite
	RUN_TESTS=()
	SHELL_CMD=
	while [ $# -gt 0 ]; do
		case "$1" in
		--guest)
			guest_main
			exit 0
			;;
		-k)
			only+=("$2")
			shift 2
			;;
		-t)
			RUN_TESTS+=("$2")
			shift 2
			;;
		--shell)
			only=("$2")
			shift 2
			[ "${1:-}" = "--" ] && shift
			[ $# -gt 0 ] || usage
			SHELL_CMD=$(printf '%s' "$*" | base64 -w0)
			set --
			;;
		--docs)
			exec /usr/bin/python3 scripts/vmtest_matrix.py docs "$OUT" README.md docs/kernel.md
			;;
		*) usage ;;
		esac
	done
	if [ ${#RUN_TESTS[@]} -eq 0 ]; then
		RUN_TESTS=("${TESTS[@]}")
	else
		local t want=("${RUN_TESTS[@]}")
		RUN_TESTS=()
		for t in "${TESTS[@]}"; do
			for w in "${want[@]}"; do [[ "$t" == *"$w"* ]] && RUN_TESTS+=("$t") && break; done
		done
		if [ ${#RUN_TESTS[@]} -eq 0 ]; then
			echo "vmtest: no test of the matrix matches ${want[*]}: nothing to run"
			echo "0 passed, 0 failed"
			exit 0
		fi
	fi
	[ "$(id -u)" -eq 0 ] || die "run as root: QEMU guests and the host run load BPF programs"
	[ -x build/custos ] || die "build/custos is missing: make tests-build"
	for suite in "${KERNEL_SUITES[@]}" host host-compat; do
		if [ ${#only[@]} -eq 0 ] || printf '%s\n' "${only[@]}" | grep -qx "$suite"; then
			kernels+=("$suite")
		fi
	done
	[ ${#kernels[@]} -gt 0 ] || die "no kernel matches ${only[*]} (${KERNEL_SUITES[*]} host host-compat)"
	mkdir -p "$OUT" "$CACHE"
	if printf '%s\n' "${kernels[@]}" | grep -qv '^host'; then
		[ -x "$VIRTIOFSD" ] || die "$VIRTIOFSD is missing: scripts/deps.sh vmtest"
		apt_private_setup "$(debian_mirror)"
		apt-get "${APT_OPTS[@]}" -qq update >/dev/null 2>&1 ||
			echo "vmtest: cannot update the kernel lists; using the cached kernels" >&2
	fi
	rm -f "$OUT"/*.results "$OUT"/*.console "$OUT"/*.time
	# Guests first, JOBS at a time: a TCG guest keeps about one core busy.
	local running=0
	for suite in "${LAUNCH_ORDER[@]}"; do
		printf '%s\n' "${kernels[@]}" | grep -qx "$suite" || continue
		kdir=$(fetch_kernel "$suite")
		build_initrd "$kdir"
		echo "${DISTRO[$suite]}" >"$OUT/$suite.distro"
		cat "$kdir/version" >"$OUT/$suite.version"
		echo "vmtest: $suite: Linux $(cat "$kdir/release") ($(cat "$kdir/version")) under QEMU" >&2
		run_guest "$suite" "$kdir" &
		running=$((running + 1))
		if [ "$running" -ge "$JOBS" ]; then
			wait -n || true
			running=$((running - 1))
		fi
	done
	wait
	for suite in "${kernels[@]}"; do
		[[ "$suite" == host* ]] || continue
		local start=$SECONDS
		echo "vmtest: $suite: kernel $(uname -r), natively" >&2
		run_host "$OUT/$suite.results" "$([ "$suite" = host ] || echo compat)"
		echo "this machine, natively" >"$OUT/$suite.distro"
		echo "vmtest: $suite: $((SECONDS - start)) s" >&2
	done
	if [ -n "$SHELL_CMD" ]; then
		for suite in "${kernels[@]}"; do
			sed -n '/^@@shell-begin/,/^@@shell-end/p' "$OUT/$suite.results"
		done
		return 0
	fi
	/usr/bin/python3 scripts/vmtest_matrix.py matrix "$OUT" "${kernels[@]}" -- "${RUN_TESTS[@]}"
}

main "$@"
