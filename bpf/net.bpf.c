// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets to watched endpoints. A connect to an endpoint, or an accept on a
 * listening socket bound to one, makes the socket's struct file a tracked
 * open object like a watched file: the read and write hooks count its
 * bytes, the send and receive hooks below too, and every way a file is let
 * go (close, exit, exec, dup over it) summarizes it. Why sys_exit: the
 * result of the connect, and the accepted fd, exist only then. Unwatched
 * sockets cost one lookup in the endpoints trie at connect and accept, and
 * nothing at all while no endpoint is configured; with egress on, a connect
 * also costs one lookup of the caller's session (egress.bpf.h): an IP
 * socket of a session that read customer data, to an endpoint no rule
 * names, is tracked as egress.
 */
#include "net.bpf.h"

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

/*
 * connect(fd, addr, len): to a watched endpoint, whatever came of it; else,
 * by a session that read customer data (an IP socket), egress.
 */
SEC("tracepoint/syscalls/sys_exit_connect")
int tp__syscalls__sys_exit_connect(struct syscall_trace_exit *ctx)
{
	struct custos_endpoint_value egress = {.rule = CUSTOS_RULE_EGRESS}, *ep = NULL;
	struct task_struct *task = current_task();
	struct net_ends ends = {}, named = {};
	struct custos_egress_taint taint = {};
	__u64 file_addr, open_id, sk_addr;
	bool endpoints, tainted = false;
	struct pt_regs *regs;
	struct sock *sk;
	__s32 error;
	__s64 fd;

	/* A connect already under way, or made: asked again (polled), it is no new connection. */
	if (ctx->ret == -EALREADY || ctx->ret == -EISCONN || task__is_agent(task))
		return 0;
	/* Without endpoints, only a tainted session's connect goes on. */
	endpoints = STATE(endpoint_keys) != 0;
	if (!endpoints) {
		tainted = egress__tainted(task, &taint);
		if (!tainted)
			return 0;
	}
	regs = syscall__regs(ctx->nr);
	if (!regs)
		return 0;
	fd = syscall_arg1(regs);
	file_addr = task__fd_file(task, fd);
	if (!file_addr)
		return 0;
	sk = net__sock(kptr(struct file, file_addr));
	if (!sk)
		return 0;
	if (net__is_unix(sk)) {
		/*
		 * By the socket file its peer is bound to: a failed connect has none to
		 * identify. A unix socket stays on this host: never egress.
		 */
		ends.family = CUSTOS_NET_UNIX;
		if (ctx->ret == 0 && endpoints)
			net__watch(task, file_addr, fd, 0, false, false,
				   net__unix_endpoint(net__unix_peer(sk)), &ends, NULL);
		return 0;
	}
	if (!net__sockaddr(syscall_arg2(regs), syscall_arg3(regs), &named))
		return 0;
	net__ends(sk, &ends);
	/* The peer as the caller named it: a failed connect leaves the socket without one. */
	ends.family = named.family;
	ends.remote_port = named.remote_port;
	__builtin_memcpy(ends.remote_addr, named.remote_addr, 16);
	error = ctx->ret < 0 ? -ctx->ret : 0;
	if (error == EINPROGRESS && ends.transport == IPPROTO_TCP)
		error = net__connect_state(sk);
	if (endpoints)
		ep = net__endpoint(ends.transport, named.family, named.remote_addr,
				   named.remote_port);
	if (!ep) {
		/* Without endpoints, the taint was looked up above. */
		if (endpoints)
			tainted = egress__tainted(task, &taint);
		if (!tainted)
			return 0;
		ep = &egress;
	}
	open_id = net__watch(task, file_addr, fd, error, false, false, ep, &ends,
			     ep == &egress ? &taint : NULL);
	/* Its end comes later (tp_btf/inet_sock_set_state). */
	if (open_id && error == EINPROGRESS) {
		sk_addr = (__u64)sk;
		bpf_map_update_elem(&net_connecting, &sk_addr, &open_id, BPF_ANY);
	}
	return 0;
}

/*
 * A TCP socket leaves SYN_SENT: the end of a non-blocking connect to a
 * watched endpoint, if it is one (net_connecting), established or failed.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf__inet_sock_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	struct custos_net_connected *rec;
	__u64 key = (__u64)sk, *open_id;
	__s32 err;

	if (oldstate != TCP_SYN_SENT)
		return 0;
	open_id = bpf_map_lookup_elem(&net_connecting, &key);
	if (!open_id)
		return 0;
	rec = record__reserve(CUSTOS_REC_NET_CONNECTED, sizeof(*rec));
	if (rec) {
		err = KR(sk, sk_err);
		rec->open_id = *open_id;
		rec->error = newstate == TCP_ESTABLISHED ? 0 : err > 0 ? err : ECONNABORTED;
		rec->pad = 0;
		record__submit(rec);
	}
	bpf_map_delete_elem(&net_connecting, &key);
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
	if (net__is_unix(sk)) {
		ends.family = CUSTOS_NET_UNIX;
		ends.peer_ino = net__sock_ino(net__unix_peer(sk));
		ep = net__unix_endpoint(sk);
	} else {
		net__ends(sk, &ends);
		if (!ends.family)
			return 0;
		ep = net__endpoint(ends.transport, ends.family, ends.local_addr, ends.local_port);
	}
	net__watch(task, file_addr, ret, 0, true, false, ep, &ends, NULL);
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
static __always_inline int net__count(struct syscall_trace_exit *ctx, bool send, int flags_arg,
				      __s64 nvec)
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
	return file_io__count(ctx->ret, syscall_arg1(regs), send, syscall_arg2(regs), nvec);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int tp__syscalls__sys_exit_sendto(struct syscall_trace_exit *ctx)
{
	return net__count(ctx, true, 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int tp__syscalls__sys_exit_recvfrom(struct syscall_trace_exit *ctx)
{
	return net__count(ctx, false, 4, 0);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int tp__syscalls__sys_exit_sendmsg(struct syscall_trace_exit *ctx)
{
	return net__count(ctx, true, 0, WIRE_MSGHDR);
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int tp__syscalls__sys_exit_recvmsg(struct syscall_trace_exit *ctx)
{
	return net__count(ctx, false, 3, WIRE_MSGHDR);
}

/*
 * sendmmsg(fd, vec, vlen, flags) and recvmmsg(fd, vec, vlen, flags,
 * timeout) return how many messages went; each message's bytes are its
 * msg_len, up to NET_MMSG_MAX messages a call (one call counted). A parsed
 * socket's protocol is not walked through them: its parsing stops.
 */
static __always_inline int net__count_mmsg(struct syscall_trace_exit *ctx, bool send)
{
	long messages = ctx->ret;
	struct pt_regs *regs;
	__u64 vec, bytes = 0;
	__u32 i, len;

	if (messages <= 0 || !file_io__tracking())
		return 0;
	regs = syscall__regs(ctx->nr);
	if (!regs || (!send && (syscall_arg4(regs) & MSG_PEEK)))
		return 0;
	vec = syscall_arg2(regs);
	for (i = 0; i < NET_MMSG_MAX && i < messages; i++) {
		len = 0;
		bpf_probe_read_user(
		    &len, sizeof(len),
		    (void *)(vec + i * sizeof(struct mmsghdr) + offsetof(struct mmsghdr, msg_len)));
		bytes += len;
	}
	return file_io__count(bytes, syscall_arg1(regs), send, 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int tp__syscalls__sys_exit_sendmmsg(struct syscall_trace_exit *ctx)
{
	return net__count_mmsg(ctx, true);
}

SEC("tracepoint/syscalls/sys_exit_recvmmsg")
int tp__syscalls__sys_exit_recvmmsg(struct syscall_trace_exit *ctx)
{
	return net__count_mmsg(ctx, false);
}
