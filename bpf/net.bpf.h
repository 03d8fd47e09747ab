/* SPDX-License-Identifier: GPL-2.0 */
/* Sockets to watched endpoints: matching a socket's ends, and tracking and reporting it. */
#ifndef CUSTOS_NET_BPF_H
#define CUSTOS_NET_BPF_H

#include "common.bpf.h"
#include <bpf/bpf_endian.h>
#include "egress.bpf.h"
#include "maps.bpf.h"
#include "open_file.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"
#include "watch.bpf.h"

#define AF_UNIX	     1
#define AF_INET	     2
#define AF_INET6     10
#define EINPROGRESS  115
#define EALREADY     114
#define EISCONN	     106
#define ECONNREFUSED 111
#define ECONNABORTED 103
#define IPPROTO_TCP  6
#define S_IFSOCK     0140000
#define MSG_PEEK     2
/* Messages of one sendmmsg or recvmmsg whose bytes are counted. */
#define NET_MMSG_MAX 64

/* Non-blocking connects under way to watched endpoints: struct sock address -> open id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} net_connecting SEC(".maps");

/* A socket's addresses, as the record carries them. */
struct net_ends {
	__u8 family; /* enum custos_net_family, 0: not an IP socket */
	__u8 transport;
	__u16 local_port, remote_port;
	__u8 local_addr[16], remote_addr[16];
	__u64 peer_ino; /* an accepted unix socket's client: its socket's inode */
};

/* Is the 16-byte IPv6 address an IPv4-mapped one (::ffff:a.b.c.d)? */
static __always_inline bool net__v4_mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

/* An IPv6 address into addr and its family: an IPv4-mapped one becomes IPv4. */
static __always_inline __u8 net__set_v6(__u8 *addr, const __u8 *v6)
{
	if (net__v4_mapped(v6)) {
		__builtin_memcpy(addr, v6 + 12, 4);
		return CUSTOS_NET_IPV4;
	}
	__builtin_memcpy(addr, v6, 16);
	return CUSTOS_NET_IPV6;
}

/* The endpoint rule of (transport, family, addr, port): by its port first, then any port. */
static __always_inline struct custos_endpoint_value *net__endpoint(__u8 transport, __u8 family,
								   const __u8 *addr, __u16 port)
{
	struct custos_endpoint_key key = {
	    .prefixlen = CUSTOS_ENDPOINT_KEY_FIXED_BITS + (family == CUSTOS_NET_IPV4 ? 32 : 128),
	    .transport = transport,
	    .family = family,
	    .port = port,
	};
	struct custos_endpoint_value *v;

	__builtin_memcpy(key.addr, addr, 16);
	v = bpf_map_lookup_elem(&endpoints, &key);
	if (v || !port)
		return v;
	key.port = 0;
	return bpf_map_lookup_elem(&endpoints, &key);
}

/* The struct sock behind a socket's file, or NULL if the file is no socket. */
static __always_inline struct sock *net__sock(struct file *file)
{
	struct socket *sock;

	if ((KR(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = kptr(struct socket, (__u64)KR(file, private_data));
	return KR(sock, sk);
}

/* An abstract name's bytes, read at once for hashing. */
struct net_unix_name {
	char path[128]; /* sun_path's 108 bytes, and room for a masked index */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct net_unix_name);
} net_unix_names SEC(".maps");

/*
 * The endpoint of an abstract unix socket name sk is bound to (no file: a
 * NUL, then the name, in its address), by the FNV-1a hash of the name.
 */
static __always_inline struct custos_endpoint_value *net__unix_abstract(struct sock *sk)
{
	struct custos_inode_key key = {.dev = CUSTOS_UNIX_ABSTRACT_DEV};
	struct unix_address *addr = KR(kptr(struct unix_sock, (__u64)sk), addr);
	__u64 hash = CUSTOS_FNV_OFFSET;
	struct net_unix_name *name;
	__u32 zero = 0, n, i;
	int len;

	name = bpf_map_lookup_elem(&net_unix_names, &zero);
	if (!addr || !name)
		return NULL;
	/* len counts sun_family (2 bytes) and sun_path: a NUL, then the name. */
	len = KR(addr, len);
	if (len < 4 || len > 2 + CUSTOS_UNIX_NAME_MAX + 1 ||
	    bpf_probe_read_kernel(name->path, CUSTOS_UNIX_NAME_MAX + 1, &addr->name[0].sun_path) ||
	    name->path[0])
		return NULL;
	n = len - 3;
	for (i = 0; i < CUSTOS_UNIX_NAME_MAX; i++) {
		if (i >= n)
			break;
		hash = (hash ^ (__u8)name->path[(i + 1) & 127]) * CUSTOS_FNV_PRIME;
	}
	key.ino = hash;
	return bpf_map_lookup_elem(&unix_endpoints, &key);
}

/*
 * The unix socket endpoint sk is bound to (an accepted socket carries its
 * listener's path), by its socket file's identity, or an abstract name's.
 */
static __always_inline struct custos_endpoint_value *net__unix_endpoint(struct sock *sk)
{
	struct custos_inode_key key = {};
	struct dentry *dentry;

	if (!sk)
		return NULL;
	dentry = KR(kptr(struct unix_sock, (__u64)sk), path.dentry);
	if (!dentry)
		return net__unix_abstract(sk);
	key.ino = KR(dentry, d_inode, i_ino);
	key.dev = KR(dentry, d_sb, s_dev);
	return bpf_map_lookup_elem(&unix_endpoints, &key);
}

/* The peer of a connected unix socket. */
static __always_inline struct sock *net__unix_peer(struct sock *sk)
{
	return KR(kptr(struct unix_sock, (__u64)sk), peer);
}

/* The inode of the socket file sk belongs to (0 if none yet: not accepted). */
static __always_inline __u64 net__sock_ino(struct sock *sk)
{
	struct socket *sock;
	struct file *file;

	if (!sk)
		return 0;
	sock = KR(sk, sk_socket);
	if (!sock)
		return 0;
	file = KR(sock, file);
	return file ? KR(file, f_inode, i_ino) : 0;
}

static __always_inline bool net__is_unix(struct sock *sk)
{
	return KR(sk, __sk_common.skc_family) == AF_UNIX;
}

/* The socket's own addresses (local, and the peer's once it has one). */
static __always_inline void net__ends(struct sock *sk, struct net_ends *ends)
{
	__u16 family = KR(sk, __sk_common.skc_family);
	__u8 v6[16];

	ends->transport = KR(sk, sk_protocol);
	ends->local_port = KR(sk, __sk_common.skc_num);
	ends->remote_port = bpf_ntohs(KR(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		__u32 local = KR(sk, __sk_common.skc_rcv_saddr),
		      remote = KR(sk, __sk_common.skc_daddr);

		ends->family = CUSTOS_NET_IPV4;
		__builtin_memcpy(ends->local_addr, &local, 4);
		__builtin_memcpy(ends->remote_addr, &remote, 4);
	} else if (family == AF_INET6) {
		bpf_probe_read_kernel(v6, sizeof(v6), &sk->__sk_common.skc_v6_rcv_saddr);
		ends->family = net__set_v6(ends->local_addr, v6);
		bpf_probe_read_kernel(v6, sizeof(v6), &sk->__sk_common.skc_v6_daddr);
		net__set_v6(ends->remote_addr, v6);
	}
}

/*
 * Tracks the socket if it was connected or accepted (error 0 or
 * EINPROGRESS), and reports it. A connection of this run to or from an
 * endpoint marked "parse" is followed from its first byte (wire.bpf.h); one
 * open before the agent started is in mid-stream, and is only counted.
 * taint: for egress (rule CUSTOS_RULE_EGRESS), the read it follows.
 */
static __always_inline __u64 net__record(struct task_struct *task, __u64 file_addr, __s32 fd,
					 __s32 error, bool accepted, bool existing,
					 const struct custos_endpoint_value *ep,
					 const struct net_ends *ends,
					 const struct custos_egress_taint *taint)
{
	struct inode *inode = KR(kptr(struct file, file_addr), f_inode);
	__u32 dev = KR(inode, i_sb, s_dev), rule = ep->rule;
	__u32 parse = existing ? 0 : ep->parse;
	struct custos_net_connect *rec;
	__u64 open_id = 0;

	if (!error || error == EINPROGRESS) {
		open_id = open_file__track(task, file_addr, inode, dev, rule, parse);
		if (parse)
			wire__start(file_addr, open_id, parse, accepted);
	}
	rec = record__reserve(CUSTOS_REC_NET_CONNECT, sizeof(*rec));
	if (!rec)
		return open_id;
	task__fill(&rec->task, task);
	rec->open_id = open_id;
	rec->ino = KR(inode, i_ino);
	rec->peer_ino = ends->peer_ino;
	rec->egress_read_ns = taint ? taint->ktime_ns : 0;
	rec->egress_read_rule = taint ? taint->rule : 0;
	rec->pad = 0;
	rec->dev = dev;
	rec->rule = rule;
	rec->fd = fd;
	rec->error = error;
	rec->family = ends->family;
	rec->transport = ends->transport;
	rec->accepted = accepted;
	rec->existing = existing;
	rec->local_port = ends->local_port;
	rec->remote_port = ends->remote_port;
	__builtin_memcpy(rec->local_addr, ends->local_addr, 16);
	__builtin_memcpy(rec->remote_addr, ends->remote_addr, 16);
	record__submit(rec);
	return open_id;
}

/*
 * Tracks and reports the socket if ep is an endpoint the task is not
 * excluded from: its open id, 0 if not tracked.
 */
static __always_inline __u64 net__watch(struct task_struct *task, __u64 file_addr, __s32 fd,
					__s32 error, bool accepted, bool existing,
					const struct custos_endpoint_value *ep,
					const struct net_ends *ends,
					const struct custos_egress_taint *taint)
{
	if (ep && !exclude__task(task, ep->rule))
		return net__record(task, file_addr, fd, error, accepted, existing, ep, ends, taint);
	return 0;
}

/*
 * A TCP connect that returned EINPROGRESS, as it stands at the syscall's
 * exit: over loopback the handshake is often over already (0), or refused
 * (its error); else still under way (EINPROGRESS).
 */
static __always_inline __s32 net__connect_state(struct sock *sk)
{
	__s32 err;

	switch (KR(sk, __sk_common.skc_state)) {
	case TCP_ESTABLISHED:
		return 0;
	case TCP_CLOSE:
		err = KR(sk, sk_err);
		return err > 0 ? err : ECONNREFUSED;
	}
	return EINPROGRESS;
}

/*
 * A socket open before the agent started (the task_file iterator): watched
 * if its peer is an endpoint (it was connected there) or else its local end
 * is (it was accepted there). A listening socket is no connection; a socket
 * another task was seen with first is that task's.
 */
static __always_inline void net__existing(struct task_struct *task, struct file *file, __s32 fd)
{
	struct custos_endpoint_value *ep;
	struct net_ends ends = {};
	bool accepted = true;
	struct sock *sk;

	if (!STATE(endpoint_keys))
		return;
	sk = net__sock(file);
	if (!sk || KR(sk, __sk_common.skc_state) == TCP_LISTEN)
		return;
	if (net__is_unix(sk)) {
		/* Accepted: bound to the endpoint's path as its listener is; connected: its peer.
		 */
		ends.family = CUSTOS_NET_UNIX;
		ep = net__unix_endpoint(sk);
		if (!ep) {
			accepted = false;
			ep = net__unix_endpoint(net__unix_peer(sk));
		}
	} else {
		net__ends(sk, &ends);
		if (!ends.family || !ends.remote_port)
			return;
		accepted = false;
		ep = net__endpoint(ends.transport, ends.family, ends.remote_addr, ends.remote_port);
		if (!ep) {
			accepted = true;
			ep = net__endpoint(ends.transport, ends.family, ends.local_addr,
					   ends.local_port);
		}
	}
	if (!bpf_map_lookup_elem(&open_files, &(__u64){(__u64)file}))
		net__watch(task, (__u64)file, fd, 0, accepted, true, ep, &ends, NULL);
}

#endif /* CUSTOS_NET_BPF_H */
