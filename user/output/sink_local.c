// SPDX-License-Identifier: GPL-2.0
/*
 * Local outputs: stdout, and a file rotated by size and age into
 * PATH.YYYYmmddTHHMMSS.uuuuuuZ.gz (zlib), of which the newest "keep" stay.
 * A rotated file is compressed by a thread of its own, so the events go on
 * into the new file meanwhile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "lib/log.h"

#include "sink_priv.h"

struct file_transport {
	struct transport t;
	char *path, *dir, *base;
	uint64_t rotate_bytes;
	uint32_t rotate_seconds, keep, mode;
	int fd;
	uint64_t size;
	/*
	 * Bytes at the start of the batch being sent that are in the files
	 * already (and their CRC-32): a write failed after the batch was split by
	 * a rotation. The batch comes again from its first line (it goes back to
	 * the head of the queue), and these bytes are not written twice; unless
	 * the batch that comes is another (its head was dropped meanwhile).
	 */
	size_t written_before;
	uLong written_crc;
	time_t born; /* when the live file was started */
	/* The last rotated file, compressed by a thread of its own while events go on. */
	pthread_t compressor;
	bool compressing;
	char rotated[4096], gz[4200];
};

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= w;
	}
	return 0;
}

static void set_why(struct transport *t, const char *what, int err)
{
	snprintf(t->why, sizeof(t->why), "%s: %s", what, strerror(-err));
}

/* ---------------------------------------------------------------- stdout */

static int stdout_open(struct transport *t)
{
	return 0;
}

static int stdout_send(struct transport *t, const char *buf, size_t len)
{
	int r = write_all(STDOUT_FILENO, buf, len);

	if (r == -EPIPE)
		atomic_store(&t->gone, true);
	if (r)
		set_why(t, "stdout", r);
	return r;
}

static int stdout_close(struct transport *t, bool graceful)
{
	return 0;
}

static void stdout_destroy(struct transport *t)
{
	free(t);
}

static const struct transport_ops stdout_ops = {
    .open = stdout_open,
    .send = stdout_send,
    .close = stdout_close,
    .destroy = stdout_destroy,
};

struct transport *transport_stdout(void)
{
	struct transport *t = calloc(1, sizeof(*t));

	if (t) {
		t->ops = &stdout_ops;
		t->acked = true;
	}
	return t;
}

/* ------------------------------------------------------------------ file */

/* A file the output creates gets its mode whatever the umask; an existing one keeps its own. */
static int create_or_open(struct file_transport *f)
{
	int fd =
	    open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, f->mode);

	if (fd >= 0) {
		if (fchmod(fd, f->mode))
			log_warn("output file:%s: cannot set its mode: %s", f->path,
				 strerror(errno));
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	return open(f->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
}

static int file_open(struct transport *tr)
{
	struct file_transport *f = (struct file_transport *)tr;
	struct stat st;

	if (f->fd >= 0)
		return 0;
	f->fd = create_or_open(f);
	/* /var/log/custos on a fresh machine: made for the agent alone. */
	if (f->fd < 0 && errno == ENOENT && mkdir(f->dir, 0700) == 0)
		f->fd = create_or_open(f);
	if (f->fd < 0 || fstat(f->fd, &st)) {
		int err = -errno;

		set_why(tr, f->path, err);
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		return err;
	}
	f->size = st.st_size;
	/* A file from a previous run is as old as its first change we can know of. */
	f->born = st.st_size ? st.st_mtime : time(NULL);
	if (st.st_size && st.st_ctime < f->born)
		f->born = st.st_ctime;
	return 0;
}

static int gzip_file(const char *src, const char *dst)
{
	char tmp[4300], buf[1 << 16];
	gzFile gz;
	ssize_t n;
	int in, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	gz = gzopen(tmp, "wb1");
	if (!gz) {
		close(in);
		return -EIO;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (gzwrite(gz, buf, n) != n) {
			r = -EIO;
			break;
		}
	if (n < 0)
		r = -errno;
	if (gzclose(gz) != Z_OK && !r)
		r = -EIO;
	close(in);
	if (!r && chmod(tmp, 0600) == 0 && rename(tmp, dst) == 0)
		return unlink(src) ? -errno : 0;
	unlink(tmp);
	return r ? r : -errno;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rotated files are BASE.<20-odd characters>.gz; their names sort oldest first. */
static void prune(struct file_transport *f)
{
	size_t n = 0, cap = 0, blen = strlen(f->base), i;
	char **names = NULL, path[4096];
	struct dirent *de;
	DIR *d = opendir(f->dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **more;

		if (len < blen + 4 || strncmp(de->d_name, f->base, blen) ||
		    de->d_name[blen] != '.' || strcmp(de->d_name + len - 3, ".gz") ||
		    de->d_name[blen + 1] < '0' || de->d_name[blen + 1] > '9')
			continue;
		if (n == cap) {
			more = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*names));
			if (!more)
				break;
			names = more;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i + f->keep < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		unlink(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void *compress_rotated(void *arg)
{
	struct file_transport *f = arg;
	int r = gzip_file(f->rotated, f->gz);

	if (r)
		log_warn("output file:%s: cannot compress %s: %s (left as it is)", f->path,
			 f->rotated, strerror(-r));
	prune(f);
	return NULL;
}

/* Waits for the compression of the previous rotated file, if any. */
static void finish_compression(struct file_transport *f)
{
	if (!f->compressing)
		return;
	pthread_join(f->compressor, NULL);
	f->compressing = false;
}

static int rotate(struct file_transport *f)
{
	struct timespec ts;
	struct tm tm;
	size_t o;
	int i;

	/* One compression at a time: a file rotated faster than it compresses waits here. */
	finish_compression(f);
	/* Names that sort oldest first: a name already taken waits for the next microsecond. */
	for (i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		o = snprintf(f->rotated, sizeof(f->rotated), "%s.", f->path);
		o += strftime(f->rotated + o, sizeof(f->rotated) - o, "%Y%m%dT%H%M%S", &tm);
		snprintf(f->rotated + o, sizeof(f->rotated) - o, ".%06ldZ", ts.tv_nsec / 1000);
		snprintf(f->gz, sizeof(f->gz), "%s.gz", f->rotated);
		if (access(f->gz, F_OK) && access(f->rotated, F_OK))
			break;
		usleep(1);
	}
	close(f->fd);
	f->fd = -1;
	if (rename(f->path, f->rotated))
		return -errno;
	f->compressing = pthread_create(&f->compressor, NULL, compress_rotated, f) == 0;
	if (!f->compressing)
		compress_rotated(f);
	return file_open(&f->t);
}

/*
 * How much of buf goes into the live file before it is rotated: all of it
 * without rotate_bytes or when it fits, else the whole lines that fit; at
 * least its first line into an empty file (a longer line makes a longer
 * file). 0: rotate first.
 */
static size_t file_fits(const struct file_transport *f, const char *buf, size_t len)
{
	size_t room, n = 0;

	if (!f->rotate_bytes || f->size + len <= f->rotate_bytes)
		return len;
	room = f->rotate_bytes > f->size ? f->rotate_bytes - f->size : 0;
	for (;;) {
		const char *nl = memchr(buf + n, '\n', len - n);
		size_t end = nl ? (size_t)(nl - buf) + 1 : len;

		if (end > room)
			return n || f->size ? n : end;
		n = end;
		if (n == len)
			return n;
	}
}

/* Whole lines into the live file (open); none of them when the write fails. */
static int file_write(struct file_transport *f, const char *buf, size_t len)
{
	int r = write_all(f->fd, buf, len);

	if (r) {
		/* Never half a line: what went in of this batch is taken back, and sent again. */
		if (ftruncate(f->fd, f->size) == 0)
			lseek(f->fd, f->size, SEEK_SET);
		set_why(&f->t, f->path, r);
		return r;
	}
	f->size += len;
	return 0;
}

/* A batch, split where the live file reaches rotate_bytes: no rotated file is longer. */
static int file_send(struct transport *tr, const char *buf, size_t len)
{
	struct file_transport *f = (struct file_transport *)tr;
	size_t done = 0, n;
	int r = 0;

	if (f->written_before && f->written_before <= len &&
	    crc32(0, (const Bytef *)buf, f->written_before) == f->written_crc)
		done = f->written_before;
	f->written_before = 0;
	while (done < len) {
		r = file_open(tr); /* its size decides where the batch is split */
		if (r)
			break;
		n = f->size && f->rotate_seconds && time(NULL) - f->born >= f->rotate_seconds
			? 0
			: file_fits(f, buf + done, len - done);
		if (!n) {
			r = rotate(f);
			if (r) {
				set_why(tr, "rotation", r);
				break;
			}
			continue;
		}
		r = file_write(f, buf + done, n);
		if (r)
			break;
		done += n;
	}
	if (r && done) {
		f->written_before = done;
		f->written_crc = crc32(0, (const Bytef *)buf, done);
	}
	return r;
}

static int file_close(struct transport *tr, bool graceful)
{
	struct file_transport *f = (struct file_transport *)tr;

	if (f->fd >= 0 && !graceful) {
		close(f->fd);
		f->fd = -1;
	}
	return 0;
}

static void file_destroy(struct transport *tr)
{
	struct file_transport *f = (struct file_transport *)tr;

	finish_compression(f);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f->dir);
	free(f->base);
	free(f);
}

static const struct transport_ops file_ops = {
    .open = file_open,
    .send = file_send,
    .close = file_close,
    .destroy = file_destroy,
};

struct transport *transport_file(const struct config_output *o, char *err, size_t len)
{
	struct file_transport *f = calloc(1, sizeof(*f));
	char *a = strdup(o->path), *b = strdup(o->path);

	if (!f || !a || !b) {
		free(f);
		free(a);
		free(b);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	f->t.ops = &file_ops;
	f->t.acked = true;
	f->fd = -1;
	f->path = strdup(o->path);
	f->dir = strdup(dirname(a));
	f->base = strdup(basename(b));
	free(a);
	free(b);
	f->rotate_bytes = o->rotate_bytes;
	f->rotate_seconds = o->rotate_seconds;
	f->keep = o->keep;
	f->mode = o->mode;
	if (!f->path || !f->dir || !f->base) {
		file_destroy(&f->t);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	return &f->t;
}
