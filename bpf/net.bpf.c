// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets to watched endpoints. A connect to an endpoint, or an accept on a
 * listening socket bound to one, makes the socket's struct file a tracked
 * open object like a watched file: the read and write hooks count its
 * bytes, the send and receive hooks below too, and every way a file is let
 * go (close, exit, exec, dup over it) summarizes it. Why sys_exit: the
 * result of the connect, and the accepted fd, exist only then. Unwatched
 * sockets cost one lookup in the endpoints trie at connect and accept, and
 * nothing at all while no endpoint is configured.
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"
#include "open_file.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"
#include "watch.bpf.h"

#define AF_INET	    2
#define AF_INET6    10
#define EINPROGRESS 115
#define S_IFSOCK    0140000
#define MSG_PEEK    2

/* A socket's addresses, as the record carries them. */
struct net_ends {
	__u8 family; /* enum custos_net_family, 0: not an IP socket */
	__u8 transport;
	__u16 local_port, remote_port;
	__u8 local_addr[16], remote_addr[16];
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

/* Tracks the socket if it was connected or accepted (error 0 or EINPROGRESS), and reports it. */
static __always_inline void net__record(struct task_struct *task, __u64 file_addr, __s32 fd,
					__s32 error, bool accepted, __u32 rule,
					const struct net_ends *ends)
{
	struct inode *inode = KR(kptr(struct file, file_addr), f_inode);
	__u32 dev = KR(inode, i_sb, s_dev);
	struct custos_net_connect *rec;
	__u64 open_id = 0;

	if (!error || error == EINPROGRESS)
		open_id = open_file__track(task, file_addr, inode, dev, rule);
	rec = record__reserve(CUSTOS_REC_NET_CONNECT, sizeof(*rec));
	if (!rec)
		return;
	task__fill(&rec->task, task);
	rec->open_id = open_id;
	rec->ino = KR(inode, i_ino);
	rec->dev = dev;
	rec->rule = rule;
	rec->fd = fd;
	rec->error = error;
	rec->family = ends->family;
	rec->transport = ends->transport;
	rec->accepted = accepted;
	rec->pad = 0;
	rec->local_port = ends->local_port;
	rec->remote_port = ends->remote_port;
	__builtin_memcpy(rec->local_addr, ends->local_addr, 16);
	__builtin_memcpy(rec->remote_addr, ends->remote_addr, 16);
	record__submit(rec);
}

/* The destination a connect named, from the caller's struct sockaddr; false if not IP. */
static __always_inline bool net__sockaddr(__u64 uaddr, __u64 len, struct net_ends *ends)
{
	struct sockaddr_in6 sa = {};

	if (len < sizeof(struct sockaddr_in) ||
	    bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), (void *)uaddr))
		return false;
	if (sa.sin6_family == AF_INET6 &&
	    (len < sizeof(sa) || bpf_probe_read_user(&sa, sizeof(sa), (void *)uaddr)))
		return false;
	ends->remote_port = bpf_ntohs(sa.sin6_port);
	if (sa.sin6_family == AF_INET) {
		__builtin_memcpy(ends->remote_addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
		ends->family = CUSTOS_NET_IPV4;
		return true;
	}
	if (sa.sin6_family != AF_INET6)
		return false;
	ends->family = net__set_v6(ends->remote_addr, (const __u8 *)&sa.sin6_addr);
	return true;
}

/* connect(fd, addr, len): to a watched endpoint, whatever came of it. */
SEC("tracepoint/syscalls/sys_exit_connect")
int tp__syscalls__sys_exit_connect(struct syscall_trace_exit *ctx)
{
	struct task_struct *task = current_task();
	struct net_ends ends = {}, named = {};
	struct custos_endpoint_value *ep;
	struct pt_regs *regs;
	struct sock *sk;
	__u64 file_addr;
	__s64 fd;

	if (!STATE(endpoint_keys) || task__is_agent(task))
		return 0;
	regs = syscall__regs(ctx->nr);
	if (!regs)
		return 0;
	fd = syscall_arg1(regs);
	if (!net__sockaddr(syscall_arg2(regs), syscall_arg3(regs), &named))
		return 0;
	file_addr = task__fd_file(task, fd);
	if (!file_addr)
		return 0;
	sk = net__sock(kptr(struct file, file_addr));
	if (!sk)
		return 0;
	net__ends(sk, &ends);
	ep = net__endpoint(ends.transport, named.family, named.remote_addr, named.remote_port);
	if (!ep || exclude__task(task, ep->rule))
		return 0;
	/* The peer as the caller named it: a failed connect leaves the socket without one. */
	ends.family = named.family;
	ends.remote_port = named.remote_port;
	__builtin_memcpy(ends.remote_addr, named.remote_addr, 16);
	net__record(task, file_addr, fd, ctx->ret < 0 ? -ctx->ret : 0, false, ep->rule, &ends);
	return 0;
}

/* accept and accept4: the new fd's socket, if its local end is a watched endpoint. */
static __always_inline int net__accepted(long ret)
{
	struct task_struct *task = current_task();
	struct custos_endpoint_value *ep;
	struct net_ends ends = {};
	struct sock *sk;
	__u64 file_addr;

	if (ret < 0 || !STATE(endpoint_keys) || task__is_agent(task))
		return 0;
	file_addr = task__fd_file(task, ret);
	if (!file_addr)
		return 0;
	sk = net__sock(kptr(struct file, file_addr));
	if (!sk)
		return 0;
	net__ends(sk, &ends);
	if (!ends.family)
		return 0;
	ep = net__endpoint(ends.transport, ends.family, ends.local_addr, ends.local_port);
	if (!ep || exclude__task(task, ep->rule))
		return 0;
	net__record(task, file_addr, ret, 0, true, ep->rule, &ends);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp__syscalls__sys_exit_accept4(struct syscall_trace_exit *ctx)
{
	return net__accepted(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp__syscalls__sys_exit_accept(struct syscall_trace_exit *ctx)
{
	return net__accepted(ctx->ret);
}

/*
 * The send and receive families: the fd is the first argument, the return
 * the bytes. A receive with MSG_PEEK leaves the data in the socket: not
 * counted (the read that takes it is).
 */
static __always_inline int net__count(struct syscall_trace_exit *ctx, bool send, int flags_arg)
{
	struct pt_regs *regs;
	__u64 flags = 0;

	if (ctx->ret <= 0 || !file_io__tracking())
		return 0;
	regs = syscall__regs(ctx->nr);
	if (!regs)
		return 0;
	if (flags_arg == 4)
		flags = syscall_arg4(regs);
	else if (flags_arg == 3)
		flags = syscall_arg3(regs);
	if (!send && (flags & MSG_PEEK))
		return 0;
	return file_io__count(ctx->ret, syscall_arg1(regs), send);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int tp__syscalls__sys_exit_sendto(struct syscall_trace_exit *ctx)
{
	return net__count(ctx, true, 0);
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int tp__syscalls__sys_exit_recvfrom(struct syscall_trace_exit *ctx)
{
	return net__count(ctx, false, 4);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int tp__syscalls__sys_exit_sendmsg(struct syscall_trace_exit *ctx)
{
	return net__count(ctx, true, 0);
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int tp__syscalls__sys_exit_recvmsg(struct syscall_trace_exit *ctx)
{
	return net__count(ctx, false, 3);
}
