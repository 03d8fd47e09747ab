// SPDX-License-Identifier: GPL-2.0
/*
 * uring: reads and opens files through io_uring, with raw syscalls (no
 * liburing), so an integration test knows exactly which io_uring operations
 * read how much. Requests go one at a time: each is submitted and waited for
 * before the next, so completions arrive in submission order.
 *
 *   uring [OPTS] read FILE CHUNK COUNT       open(2), then COUNT x IORING_OP_READ of
 *                                            CHUNK bytes at offsets 0, CHUNK, 2*CHUNK..
 *   uring [OPTS] readv FILE CHUNK COUNT      likewise with IORING_OP_READV (two iovecs
 *                                            of CHUNK/2 and CHUNK - CHUNK/2 bytes)
 *   uring [OPTS] read-fixed FILE CHUNK COUNT likewise with IORING_OP_READ_FIXED
 *                                            (one registered buffer)
 *   uring [OPTS] openat-read FILE CHUNK      IORING_OP_OPENAT, IORING_OP_READ to EOF,
 *                                            close(2)
 *   uring [OPTS] openat2-read FILE CHUNK     likewise with IORING_OP_OPENAT2
 *   uring [OPTS] openat-direct FILE CHUNK    IORING_OP_OPENAT into a direct descriptor
 *                                            (file_index = IORING_FILE_INDEX_ALLOC,
 *                                            no fd), IORING_OP_READ with
 *                                            IOSQE_FIXED_FILE to EOF, IORING_OP_CLOSE
 *   uring [OPTS] openat-close FILE           IORING_OP_OPENAT, then IORING_OP_CLOSE
 *   uring [OPTS] send-recv PORT              connect(2) to 127.0.0.1:PORT, then
 *                                            IORING_OP_SEND of 600 bytes,
 *                                            IORING_OP_SENDMSG of 424 (one iovec),
 *                                            IORING_OP_RECV to 500 bytes received
 *
 * Reads stop early at EOF (a read returning 0). Options:
 *   -a      set IOSQE_ASYNC on every request (always punted to io-wq workers)
 *   -s      create the ring with IORING_SETUP_SQPOLL (a kernel thread submits)
 *   -w MS   sleep MS milliseconds after the last request (ring still open)
 *
 * Prints one line on success, e.g.
 *   op=read bytes=8192 fd=3 pid=1234
 * where fd is the file descriptor read from (-1 for a direct descriptor, then
 * slot=N follows) and pid is getpid(). The read modes open(2) FILE before
 * creating the ring, so it is normally fd 3; in the openat modes the ring is
 * fd 3 and the file normally fd 4. Exit status: 0 success, 1 an operation
 * failed (the line then has error=-ERRNO and says which step), 2 usage,
 * 77 io_uring is not available here (ENOSYS, EPERM: kernel.io_uring_disabled).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

#define RING_ENTRIES 8
#define MAX_CHUNK    (1 << 20)
#define NR_SLOTS     4

struct ring {
	int fd;
	unsigned int setup_flags;
	unsigned char sqe_flags; /* added to every request (IOSQE_ASYNC) */
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_flags, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	struct io_uring_cqe *cqes;
};

struct result {
	const char *op;
	long long bytes;
	int fd;
	int slot;
};

static char buf[MAX_CHUNK];

static int sys_io_uring_setup(unsigned int entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_io_uring_enter(int fd, unsigned int to_submit, unsigned int min_complete,
			      unsigned int flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

static int sys_io_uring_register(int fd, unsigned int opcode, void *arg, unsigned int nr_args)
{
	return (int)syscall(__NR_io_uring_register, fd, opcode, arg, nr_args);
}

static void *at(void *base, unsigned int off)
{
	return (char *)base + off;
}

/* Returns 0, or -errno. */
static int ring_init(struct ring *r, unsigned int flags)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	memset(r, 0, sizeof(*r));
	p.flags = flags;
	if (flags & IORING_SETUP_SQPOLL)
		p.sq_thread_idle = 1000;
	r->fd = sys_io_uring_setup(RING_ENTRIES, &p);
	if (r->fd < 0)
		return -errno;
	r->setup_flags = flags;

	r->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	r->cq_map_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_map_len > r->sq_map_len)
			r->sq_map_len = r->cq_map_len;
		r->cq_map_len = r->sq_map_len;
	}
	r->sq_map = mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED)
		return -errno;
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		r->cq_map = r->sq_map;
	} else {
		r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED)
			return -errno;
	}
	r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		       IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return -errno;

	r->sq_head = at(r->sq_map, p.sq_off.head);
	r->sq_tail = at(r->sq_map, p.sq_off.tail);
	r->sq_mask = at(r->sq_map, p.sq_off.ring_mask);
	r->sq_flags = at(r->sq_map, p.sq_off.flags);
	r->sq_array = at(r->sq_map, p.sq_off.array);
	r->cq_head = at(r->cq_map, p.cq_off.head);
	r->cq_tail = at(r->cq_map, p.cq_off.tail);
	r->cq_mask = at(r->cq_map, p.cq_off.ring_mask);
	r->cqes = at(r->cq_map, p.cq_off.cqes);
	return 0;
}

static void ring_exit(struct ring *r)
{
	munmap(r->sqes, r->sqes_len);
	if (r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_map_len);
	munmap(r->sq_map, r->sq_map_len);
	close(r->fd);
}

static struct io_uring_sqe *get_sqe(struct ring *r)
{
	unsigned int tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->flags = r->sqe_flags;
	sqe->user_data = tail + 1;
	r->sq_array[idx] = idx;
	return sqe;
}

/* Submits the one SQE from get_sqe() and waits for its CQE. Returns its res. */
static int submit_wait(struct ring *r)
{
	unsigned int head, enter_flags = IORING_ENTER_GETEVENTS;
	int ret, res;

	__atomic_store_n(r->sq_tail, *r->sq_tail + 1, __ATOMIC_RELEASE);
	if (r->setup_flags & IORING_SETUP_SQPOLL) {
		if (__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP)
			enter_flags |= IORING_ENTER_SQ_WAKEUP;
		do {
			ret = sys_io_uring_enter(r->fd, 0, 1, enter_flags);
		} while (ret < 0 && errno == EINTR);
	} else {
		do {
			ret = sys_io_uring_enter(r->fd, 1, 1, enter_flags);
		} while (ret < 0 && errno == EINTR);
	}
	if (ret < 0)
		return -errno;

	for (;;) {
		head = *r->cq_head;
		if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
			break;
		/* SQPOLL: the thread may not have picked the SQE up yet. */
		ret = sys_io_uring_enter(r->fd, 0, 1, IORING_ENTER_GETEVENTS);
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

static int uring_openat(struct ring *r, const char *path, int two, unsigned int file_index)
{
	struct io_uring_sqe *sqe = get_sqe(r);
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY;
	sqe->opcode = two ? IORING_OP_OPENAT2 : IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = (uintptr_t)path;
	sqe->file_index = file_index;
	if (two) {
		sqe->addr2 = (uintptr_t)&how;
		sqe->len = sizeof(how);
	} else {
		sqe->open_flags = O_RDONLY;
	}
	return submit_wait(r);
}

static int uring_close(struct ring *r, int fd, int slot)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	sqe->opcode = IORING_OP_CLOSE;
	if (slot >= 0)
		sqe->file_index = slot + 1;
	else
		sqe->fd = fd;
	return submit_wait(r);
}

/* fd is a slot number when fixed. */
static int uring_read(struct ring *r, int opcode, int fd, int fixed, size_t chunk,
		      unsigned long long off)
{
	struct io_uring_sqe *sqe = get_sqe(r);
	static struct iovec iov[2];

	sqe->opcode = opcode;
	sqe->fd = fd;
	if (fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	sqe->off = off;
	if (opcode == IORING_OP_READV) {
		iov[0].iov_base = buf;
		iov[0].iov_len = chunk / 2;
		iov[1].iov_base = buf + chunk / 2;
		iov[1].iov_len = chunk - chunk / 2;
		sqe->addr = (uintptr_t)iov;
		sqe->len = 2;
	} else {
		sqe->addr = (uintptr_t)buf;
		sqe->len = chunk;
		/* READ_FIXED: buf_index 0 is the buffer registered in main(). */
	}
	return submit_wait(r);
}

/* IORING_OP_SEND, IORING_OP_SENDMSG or IORING_OP_RECV of len bytes of buf on fd. */
static int uring_sendrecv(struct ring *r, int opcode, int fd, size_t len)
{
	struct io_uring_sqe *sqe = get_sqe(r);
	static struct iovec iov;
	static struct msghdr msg;

	sqe->opcode = opcode;
	sqe->fd = fd;
	if (opcode == IORING_OP_SENDMSG) {
		iov.iov_base = buf;
		iov.iov_len = len;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		sqe->addr = (uintptr_t)&msg;
		sqe->len = 1;
	} else {
		sqe->addr = (uintptr_t)buf;
		sqe->len = len;
	}
	return submit_wait(r);
}

/* A TCP connection to 127.0.0.1:port: 1,024 bytes sent, 500 received, through io_uring. */
static int send_recv(struct ring *r, struct result *res, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int ret;

	res->fd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (res->fd < 0 || connect(res->fd, (struct sockaddr *)&sin, sizeof(sin)))
		return -errno;
	memset(buf, 'u', 1024);
	ret = uring_sendrecv(r, IORING_OP_SEND, res->fd, 600);
	if (ret != 600)
		return ret < 0 ? ret : -EIO;
	ret = uring_sendrecv(r, IORING_OP_SENDMSG, res->fd, 424);
	if (ret != 424)
		return ret < 0 ? ret : -EIO;
	res->bytes = 0;
	while (res->bytes < 500) {
		ret = uring_sendrecv(r, IORING_OP_RECV, res->fd, 500 - res->bytes);
		if (ret <= 0)
			return ret < 0 ? ret : -EPIPE;
		res->bytes += ret;
	}
	close(res->fd);
	return 0;
}

static int fail(const struct result *res, const char *step, int err)
{
	printf("op=%s bytes=%lld fd=%d pid=%d step=%s error=%d\n", res->op, res->bytes, res->fd,
	       (int)getpid(), step, err);
	return 1;
}

/* Reads COUNT chunks (0: until EOF) at increasing offsets; 0 or -errno. */
static int read_loop(struct ring *r, int opcode, int fd, int fixed, size_t chunk,
		     unsigned long count, long long *total)
{
	unsigned long i;
	int ret;

	for (i = 0; count == 0 || i < count; i++) {
		ret = uring_read(r, opcode, fd, fixed, chunk, (unsigned long long)*total);
		if (ret < 0)
			return ret;
		if (ret == 0)
			break;
		*total += ret;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: uring [-a] [-s] [-w MS] read|readv|read-fixed FILE CHUNK COUNT\n"
			"       uring [-a] [-s] [-w MS] openat-read|openat2-read|openat-direct "
			"FILE CHUNK\n"
			"       uring [-a] [-s] [-w MS] openat-close FILE\n"
			"       uring [-a] [-s] [-w MS] send-recv PORT\n");
	exit(2);
}

static size_t parse_chunk(const char *s)
{
	unsigned long v = strtoul(s, NULL, 10);

	if (v == 0 || v > MAX_CHUNK) {
		fprintf(stderr, "uring: CHUNK must be 1..%d\n", MAX_CHUNK);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct result res = {.fd = -1, .slot = -1};
	unsigned int setup_flags = 0;
	unsigned char sqe_flags = 0;
	long wait_ms = 0;
	const char *cmd, *path;
	struct ring ring;
	size_t chunk = 0;
	unsigned long count = 0;
	int opt, ret, is_read;

	while ((opt = getopt(argc, argv, "+asw:")) != -1) {
		switch (opt) {
		case 'a':
			sqe_flags |= IOSQE_ASYNC;
			break;
		case 's':
			setup_flags |= IORING_SETUP_SQPOLL;
			break;
		case 'w':
			wait_ms = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 2)
		usage();
	cmd = argv[optind];
	path = argv[optind + 1];
	res.op = cmd;

	is_read = !strcmp(cmd, "read") || !strcmp(cmd, "readv") || !strcmp(cmd, "read-fixed");
	if (is_read) {
		if (argc - optind != 4)
			usage();
		chunk = parse_chunk(argv[optind + 2]);
		count = strtoul(argv[optind + 3], NULL, 10);
	} else if (!strcmp(cmd, "openat-read") || !strcmp(cmd, "openat2-read") ||
		   !strcmp(cmd, "openat-direct")) {
		if (argc - optind != 3)
			usage();
		chunk = parse_chunk(argv[optind + 2]);
	} else if (!strcmp(cmd, "openat-close") || !strcmp(cmd, "send-recv")) {
		if (argc - optind != 2)
			usage();
	} else {
		usage();
	}

	/* open(2) before the ring exists, so the file is fd 3 as in a plain program */
	if (is_read) {
		res.fd = open(path, O_RDONLY);
		if (res.fd < 0)
			return fail(&res, "open", -errno);
	}
	ret = ring_init(&ring, setup_flags);
	if (ret == -ENOSYS || ret == -EPERM) {
		printf("op=%s bytes=0 fd=-1 pid=%d step=setup error=%d unavailable=1\n", cmd,
		       (int)getpid(), ret);
		return 77;
	}
	if (ret < 0)
		return fail(&res, "setup", ret);
	ring.sqe_flags = sqe_flags;

	if (is_read) {
		int opcode = IORING_OP_READ;

		if (!strcmp(cmd, "readv")) {
			opcode = IORING_OP_READV;
		} else if (!strcmp(cmd, "read-fixed")) {
			struct iovec reg = {.iov_base = buf, .iov_len = sizeof(buf)};

			opcode = IORING_OP_READ_FIXED;
			if (sys_io_uring_register(ring.fd, IORING_REGISTER_BUFFERS, &reg, 1) < 0)
				return fail(&res, "register-buffers", -errno);
		}
		if (count == 0)
			count = 1;
		ret = read_loop(&ring, opcode, res.fd, 0, chunk, count, &res.bytes);
		if (ret < 0)
			return fail(&res, "read", ret);
		close(res.fd);
	} else if (!strcmp(cmd, "openat-read") || !strcmp(cmd, "openat2-read")) {
		ret = uring_openat(&ring, path, cmd[6] == '2', 0);
		if (ret < 0)
			return fail(&res, "openat", ret);
		res.fd = ret;
		ret = read_loop(&ring, IORING_OP_READ, res.fd, 0, chunk, 0, &res.bytes);
		if (ret < 0)
			return fail(&res, "read", ret);
		close(res.fd);
	} else if (!strcmp(cmd, "openat-direct")) {
		int fds[NR_SLOTS] = {-1, -1, -1, -1};

		if (sys_io_uring_register(ring.fd, IORING_REGISTER_FILES, fds, NR_SLOTS) < 0)
			return fail(&res, "register-files", -errno);
		ret = uring_openat(&ring, path, 0, IORING_FILE_INDEX_ALLOC);
		if (ret < 0)
			return fail(&res, "openat", ret);
		res.slot = ret;
		ret = read_loop(&ring, IORING_OP_READ, res.slot, 1, chunk, 0, &res.bytes);
		if (ret < 0)
			return fail(&res, "read", ret);
		ret = uring_close(&ring, -1, res.slot);
		if (ret < 0)
			return fail(&res, "close", ret);
	} else if (!strcmp(cmd, "send-recv")) {
		ret = send_recv(&ring, &res, atoi(path));
		if (ret < 0)
			return fail(&res, "send-recv", ret);
	} else {
		ret = uring_openat(&ring, path, 0, 0);
		if (ret < 0)
			return fail(&res, "openat", ret);
		res.fd = ret;
		ret = uring_close(&ring, res.fd, -1);
		if (ret < 0)
			return fail(&res, "close", ret);
	}

	if (wait_ms > 0) {
		struct timespec ts = {.tv_sec = wait_ms / 1000,
				      .tv_nsec = (wait_ms % 1000) * 1000000};

		nanosleep(&ts, NULL);
	}
	ring_exit(&ring);
	if (res.slot >= 0)
		printf("op=%s bytes=%lld fd=-1 pid=%d slot=%d\n", cmd, res.bytes, (int)getpid(),
		       res.slot);
	else
		printf("op=%s bytes=%lld fd=%d pid=%d\n", cmd, res.bytes, res.fd, (int)getpid());
	return 0;
}
