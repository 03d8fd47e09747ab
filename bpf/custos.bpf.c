// SPDX-License-Identifier: GPL-2.0
/*
 * The one BPF source, built twice: the modern object, and with CUSTOS_COMPAT
 * the compat object for kernels without the newer helpers (common.bpf.h
 * says what differs). The hook families live in their own files but are
 * compiled as one unit: the static linker of Debian 12's libbpf 1.1
 * (bpftool gen object) cannot link the kfunc extern bpf_rdonly_cast
 * across objects ("failed to resolve size of underlying type").
 */
#include "file_open.bpf.c"
#include "file_io.bpf.c"
#include "process.bpf.c"
#include "file_change.bpf.c"
#include "io_uring.bpf.c"
#include "db.bpf.c"
#include "net.bpf.c"

char LICENSE[] SEC("license") = "GPL";
