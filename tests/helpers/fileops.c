// SPDX-License-Identifier: GPL-2.0
/*
 * fileops: makes exactly the syscalls it is told to, on one current fd, so an
 * integration test knows which syscall read how much. Each argument is one
 * operation; the result of each is printed as "OP RESULT" (bytes, fd, or
 * -ERRNO). Exit status 1 if any operation failed, unless "-k" comes first.
 *
 *   open PATH | openat PATH | openat2 PATH | creat PATH | opath PATH
 *   read N | pread N OFF | readv N,N.. | preadv N,N.. OFF | preadv2 N,N.. OFF FLAGS
 *   readall      read 4096 at a time until a read returns 0
 *   close | sleep MS
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define IOV_MAX_HERE 16

static char buf[1 << 20];

static long parse_iov(const char *spec, struct iovec *iov, int *n)
{
	char *copy = strdup(spec), *tok, *save = NULL;
	size_t off = 0;

	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok && *n < IOV_MAX_HERE;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t len = strtoul(tok, NULL, 10);

		if (off + len > sizeof(buf))
			len = sizeof(buf) - off;
		iov[*n].iov_base = buf + off;
		iov[*n].iov_len = len;
		off += len;
		(*n)++;
	}
	free(copy);
	return 0;
}

static long ret_or_errno(long r)
{
	return r < 0 ? -errno : r;
}

int main(int argc, char **argv)
{
	struct iovec iov[IOV_MAX_HERE];
	int fd = -1, i = 1, n, keep_going = 0, failed = 0;
	long r;

	if (argc > 1 && !strcmp(argv[1], "-k")) {
		keep_going = 1;
		i++;
	}
	for (; i < argc; i++) {
		const char *op = argv[i];
		const char *a1 = i + 1 < argc ? argv[i + 1] : "";
		const char *a2 = i + 2 < argc ? argv[i + 2] : "";
		const char *a3 = i + 3 < argc ? argv[i + 3] : "";

		if (!strcmp(op, "open")) {
#ifdef SYS_open
			r = ret_or_errno(syscall(SYS_open, a1, O_RDONLY));
#else
			r = ret_or_errno(syscall(SYS_openat, AT_FDCWD, a1, O_RDONLY));
#endif
			i += 1;
		} else if (!strcmp(op, "openat")) {
			r = ret_or_errno(syscall(SYS_openat, AT_FDCWD, a1, O_RDONLY));
			i += 1;
		} else if (!strcmp(op, "openat2")) {
			struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};

			r = ret_or_errno(syscall(SYS_openat2, AT_FDCWD, a1, &how, sizeof(how)));
			i += 1;
		} else if (!strcmp(op, "creat")) {
#ifdef SYS_creat
			r = ret_or_errno(syscall(SYS_creat, a1, 0644));
#else
			r = ret_or_errno(
			    syscall(SYS_openat, AT_FDCWD, a1, O_CREAT | O_WRONLY | O_TRUNC, 0644));
#endif
			i += 1;
		} else if (!strcmp(op, "opath")) {
			r = ret_or_errno(syscall(SYS_openat, AT_FDCWD, a1, O_PATH));
			i += 1;
		} else if (!strcmp(op, "read")) {
			r = ret_or_errno(syscall(SYS_read, fd, buf, strtoul(a1, NULL, 10)));
			i += 1;
		} else if (!strcmp(op, "readall")) {
			long total = 0;

			while ((r = syscall(SYS_read, fd, buf, 4096)) > 0)
				total += r;
			r = r < 0 ? -errno : total;
		} else if (!strcmp(op, "pread")) {
			r = ret_or_errno(syscall(SYS_pread64, fd, buf, strtoul(a1, NULL, 10),
						 strtol(a2, NULL, 10)));
			i += 2;
		} else if (!strcmp(op, "readv")) {
			parse_iov(a1, iov, &n);
			r = ret_or_errno(syscall(SYS_readv, fd, iov, n));
			i += 1;
		} else if (!strcmp(op, "preadv")) {
			parse_iov(a1, iov, &n);
			/* The raw syscall takes the offset as two longs (low, high). */
			r = ret_or_errno(syscall(SYS_preadv, fd, iov, n, strtol(a2, NULL, 10), 0L));
			i += 2;
		} else if (!strcmp(op, "preadv2")) {
			parse_iov(a1, iov, &n);
			r = ret_or_errno(syscall(SYS_preadv2, fd, iov, n, strtol(a2, NULL, 10), 0L,
						 (int)strtol(a3, NULL, 0)));
			i += 3;
		} else if (!strcmp(op, "close")) {
			r = ret_or_errno(syscall(SYS_close, fd));
			fd = -1;
		} else if (!strcmp(op, "sleep")) {
			struct timespec ts = {.tv_sec = atoi(a1) / 1000,
					      .tv_nsec = (atoi(a1) % 1000) * 1000000L};

			nanosleep(&ts, NULL);
			r = 0;
			i += 1;
		} else {
			fprintf(stderr, "fileops: unknown operation \"%s\"\n", op);
			return 2;
		}
		if ((!strcmp(op, "open") || !strcmp(op, "openat") || !strcmp(op, "openat2") ||
		     !strcmp(op, "creat") || !strcmp(op, "opath")) &&
		    r >= 0)
			fd = r;
		printf("%s %ld\n", op, r);
		if (r < 0) {
			failed = 1;
			if (!keep_going)
				break;
		}
	}
	fflush(stdout);
	return failed;
}
