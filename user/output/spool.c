// SPDX-License-Identifier: GPL-2.0
/*
 * Segments of event lines, oldest first: files NNNNNNNNNNNNNNNN.ndjson (hex
 * ids) in a directory, or buffers in memory. The committed position is kept
 * in the file "cursor", so a restart resends from the first line a receiver
 * may not have: at least once. Each segment this run writes knows its lines'
 * seqs, as runs of consecutive seqs: one run unless lines were dropped on
 * the way. A segment a previous run left is only bytes: its lines are
 * counted by their newlines, their seqs (that run's) are not reported.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/spool.h"

#define SEG_MIN	     (4ULL << 10)
#define SEG_MAX	     (8ULL << 20)
#define SEG_NAME_LEN 23 /* 16 hex digits and ".ndjson" */
#define CURSOR	     "cursor"

/* From line on (in its segment), the lines' seqs are seq, seq + 1, ... */
struct seq_run {
	uint64_t line, seq;
};

struct seg {
	uint64_t id;
	uint64_t size;
	char *mem; /* in memory: the bytes; on disk NULL */
	size_t mem_cap;
	bool known;	      /* written by this run: lines and runs below say what it holds */
	uint64_t lines;	      /* whole lines in it */
	struct seq_run *runs; /* by line */
	size_t n_runs, runs_cap;
};

struct spool {
	int dirfd; /* -1: in memory */
	uint64_t max_bytes, seg_max;
	bool drop_oldest;
	struct seg *segs; /* oldest first; the last one is written */
	size_t n, cap;
	uint64_t next_id; /* ids only grow: the cursor names a segment by its id */
	int tail_fd;
	struct spool_pos read, committed;
	time_t cursor_saved;
	bool cursor_dirty;
};

/* The seq of line i of a segment this run wrote; 0 for a previous run's. */
static uint64_t seg_seq(const struct seg *g, uint64_t i)
{
	size_t lo = 0, hi = g->n_runs;

	if (!g->known || !g->n_runs || i >= g->lines)
		return 0;
	/* The last run that starts at or before line i (the first starts at line 0). */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->runs[mid].line <= i)
			lo = mid;
		else
			hi = mid;
	}
	return g->runs[lo].seq + (i - g->runs[lo].line);
}

/* Room for n more runs, taken before lines are written: recording their seqs cannot fail. */
static int reserve_runs(struct seg *g, size_t n)
{
	size_t cap = g->runs_cap ? g->runs_cap : 4;
	struct seq_run *runs;

	if (g->n_runs + n <= g->runs_cap)
		return 0;
	while (cap < g->n_runs + n)
		cap *= 2;
	runs = realloc(g->runs, cap * sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	g->runs = runs;
	g->runs_cap = cap;
	return 0;
}

/* n lines with these seqs went in at the end of g (reserve_runs made room). */
static void add_seqs(struct seg *g, const uint64_t *seqs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, g->lines++) {
		const struct seq_run *last = g->n_runs ? &g->runs[g->n_runs - 1] : NULL;

		if (!last || last->seq + (g->lines - last->line) != seqs[i])
			g->runs[g->n_runs++] = (struct seq_run){.line = g->lines, .seq = seqs[i]};
	}
}

static void seg_name(char buf[SEG_NAME_LEN + 1], uint64_t id)
{
	snprintf(buf, SEG_NAME_LEN + 1, "%016" PRIx64 ".ndjson", id);
}

static ssize_t seg_read(const struct spool *s, const struct seg *g, char *buf, size_t n,
			uint64_t off)
{
	if (s->dirfd < 0) {
		memcpy(buf, g->mem + off, n);
		return n;
	}
	char name[SEG_NAME_LEN + 1];
	ssize_t r;
	int fd;

	seg_name(name, g->id);
	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = pread(fd, buf, n, off);
	close(fd);
	return r < 0 ? -errno : r;
}

static void save_cursor(struct spool *s, bool now)
{
	char text[64];
	int fd, n;

	if (s->dirfd < 0 || !s->cursor_dirty || (!now && time(NULL) == s->cursor_saved))
		return;
	n = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 "\n", s->committed.seg,
		     s->committed.off);
	fd = openat(s->dirfd, CURSOR ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, text, n) == n && close(fd) == 0)
		renameat(s->dirfd, CURSOR ".tmp", s->dirfd, CURSOR);
	else
		close(fd);
	s->cursor_saved = time(NULL);
	s->cursor_dirty = false;
}

static void drop_first_seg(struct spool *s)
{
	char name[SEG_NAME_LEN + 1];

	if (s->n == 1 && s->tail_fd >= 0) {
		close(s->tail_fd);
		s->tail_fd = -1;
	}
	free(s->segs[0].runs);
	if (s->dirfd < 0) {
		free(s->segs[0].mem);
	} else {
		seg_name(name, s->segs[0].id);
		unlinkat(s->dirfd, name, 0);
	}
	memmove(s->segs, s->segs + 1, --s->n * sizeof(*s->segs));
}

static int add_seg(struct spool *s, uint64_t id, uint64_t size)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct seg *segs = realloc(s->segs, cap * sizeof(*segs));

		if (!segs)
			return -ENOMEM;
		s->segs = segs;
		s->cap = cap;
	}
	s->segs[s->n++] = (struct seg){.id = id, .size = size};
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The segments a previous run left, and where its receiver had got to. */
static int load(struct spool *s)
{
	uint64_t *ids = NULL, id, seg = 0, off = 0;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	char text[64] = "";
	DIR *d;
	int fd, dup_fd = dup(s->dirfd), ret = 0;

	d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;

		if (strlen(de->d_name) != SEG_NAME_LEN || strcmp(de->d_name + 16, ".ndjson"))
			continue;
		id = strtoull(de->d_name, &end, 16);
		if (end != de->d_name + 16)
			continue;
		if (n == cap) {
			uint64_t *more = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof(*ids));

			if (!more) {
				ret = -ENOMEM;
				goto out;
			}
			ids = more;
		}
		ids[n++] = id;
	}
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_u64);
	fd = openat(s->dirfd, CURSOR, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, text, sizeof(text) - 1) > 0)
			sscanf(text, "%" SCNu64 " %" SCNu64, &seg, &off);
		close(fd);
	}
	for (i = 0; i < n && !ret; i++) {
		char name[SEG_NAME_LEN + 1];

		seg_name(name, ids[i]);
		if (ids[i] < seg) {
			unlinkat(s->dirfd, name, 0); /* delivered before the agent stopped */
			continue;
		}
		if (fstatat(s->dirfd, name, &st, 0) == 0)
			ret = add_seg(s, ids[i], st.st_size);
	}
	s->next_id = (n ? ids[n - 1] : 0) + 1;
	if (s->next_id <= seg)
		s->next_id = seg + 1;
	if (s->n) {
		s->committed.seg = s->segs[0].id;
		s->committed.off = s->segs[0].id == seg && off <= s->segs[0].size ? off : 0;
		s->read = s->committed;
	}
out:
	free(ids);
	closedir(d);
	return ret;
}

static int mkdir_p(const char *dir)
{
	char path[4096], *slash;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*slash = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

struct spool *spool_open(const char *dir, uint64_t max_bytes, bool drop_oldest, char *err,
			 size_t len)
{
	struct spool *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	s->dirfd = s->tail_fd = -1;
	s->max_bytes = max_bytes;
	s->drop_oldest = drop_oldest;
	s->next_id = 1;
	/* Several segments in the bound, so that dropping the oldest frees some of it. */
	s->seg_max = max_bytes / 8;
	if (s->seg_max < SEG_MIN)
		s->seg_max = SEG_MIN;
	if (s->seg_max > SEG_MAX)
		s->seg_max = SEG_MAX;
	if (!dir)
		return s;
	r = mkdir_p(dir);
	if (r == 0) {
		s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = s->dirfd < 0 ? -errno : load(s);
	}
	if (r) {
		snprintf(err, len, "spool %s: %s", dir, strerror(-r));
		spool_close(s);
		return NULL;
	}
	return s;
}

void spool_close(struct spool *s)
{
	size_t i;

	if (!s)
		return;
	save_cursor(s, true);
	for (i = 0; i < s->n; i++) {
		free(s->segs[i].mem);
		free(s->segs[i].runs);
	}
	free(s->segs);
	if (s->tail_fd >= 0)
		close(s->tail_fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s);
}

uint64_t spool_bytes(const struct spool *s)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		sum += s->segs[i].size;
	return s->n && s->segs[0].id == s->committed.seg ? sum - s->committed.off : sum;
}

uint64_t spool_unread(const struct spool *s)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->segs[i].id < s->read.seg)
			continue;
		sum += s->segs[i].size - (s->segs[i].id == s->read.seg ? s->read.off : 0);
	}
	return sum;
}

/* A previous run's segment: its lines from off on, counted by their newlines. */
static uint64_t count_lines(const struct spool *s, const struct seg *g, uint64_t off)
{
	char buf[1 << 14];
	uint64_t n = 0;

	while (off < g->size) {
		size_t want = g->size - off < sizeof(buf) ? g->size - off : sizeof(buf);
		ssize_t r = seg_read(s, g, buf, want, off);
		const char *nl;

		if (r <= 0)
			break;
		for (nl = buf; (nl = memchr(nl, '\n', buf + r - nl)); nl++)
			n++;
		off += r;
	}
	return n;
}

/* The lines of the first segment that are about to be dropped unread, for a gap event. */
static void count_lost(struct spool *s, struct spool_loss *lost)
{
	const struct seg *g = &s->segs[0];
	/* Lines already sent are with the receiver, unconfirmed: not counted as dropped. */
	bool at = g->id == s->read.seg, past = s->read.seg > g->id;
	uint64_t first;

	if (!g->known) {
		lost->count += count_lines(s, g, at ? s->read.off : past ? g->size : 0);
		return;
	}
	first = at ? s->read.line : past ? g->lines : 0;
	if (first >= g->lines)
		return;
	if (!lost->first_seq)
		lost->first_seq = seg_seq(g, first);
	lost->last_seq = seg_seq(g, g->lines - 1);
	lost->count += g->lines - first;
}

/* drop_oldest: the oldest segment goes to make room; the read position follows. */
static bool make_room(struct spool *s, size_t len, struct spool_loss *lost)
{
	while (spool_bytes(s) + len > s->max_bytes) {
		if (!s->drop_oldest || s->n < 2)
			return false;
		count_lost(s, lost);
		drop_first_seg(s);
		s->committed = (struct spool_pos){s->segs[0].id, 0, 0};
		if (s->read.seg < s->committed.seg)
			s->read = s->committed;
		s->cursor_dirty = true;
	}
	return true;
}

static int new_seg(struct spool *s)
{
	uint64_t id = s->next_id++;
	char name[SEG_NAME_LEN + 1];
	int r;

	if (s->tail_fd >= 0) {
		close(s->tail_fd);
		s->tail_fd = -1;
	}
	if (s->dirfd >= 0) {
		seg_name(name, id);
		s->tail_fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (s->tail_fd < 0)
			return -errno;
	}
	r = add_seg(s, id, 0);
	if (r)
		return r;
	s->segs[s->n - 1].known = true;
	if (s->n == 1)
		s->read = s->committed = (struct spool_pos){id, 0, 0};
	return 0;
}

static int reserve_mem(struct seg *g, size_t len)
{
	size_t cap = g->mem_cap ? g->mem_cap * 2 : 65536;
	char *mem;

	if (g->size + len <= g->mem_cap)
		return 0;
	while (cap < g->size + len)
		cap *= 2;
	mem = realloc(g->mem, cap);
	if (!mem)
		return -ENOMEM;
	g->mem = mem;
	g->mem_cap = cap;
	return 0;
}

/* Lines from..to-1 of b at the end of the tail segment; *taken counts those that went in. */
static int put_lines(struct spool *s, const struct line_batch *b, size_t from, size_t to,
		     size_t *taken)
{
	size_t start = line_batch_start(b, from), len = line_batch_bytes(b, from, to), done = 0;
	size_t whole = to;
	struct seg *tail;
	int r;

	if (from == to)
		return 0;
	tail = &s->segs[s->n - 1];
	r = reserve_runs(tail, to - from);
	if (!r && s->dirfd < 0)
		r = reserve_mem(tail, len);
	if (r)
		return r;
	if (s->dirfd < 0) {
		memcpy(tail->mem + tail->size, b->text.buf + start, len);
		done = len;
	}
	while (done < len) {
		ssize_t w = write(s->tail_fd, b->text.buf + start + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -ENOSPC;
			break;
		}
		done += w;
	}
	if (r) {
		/* Never half a line: what went in of the line cut short is taken back. */
		for (whole = from; whole < to && b->ends[whole] - start <= done; whole++)
			;
		done = line_batch_bytes(b, from, whole);
		if (ftruncate(s->tail_fd, tail->size + done) == 0)
			lseek(s->tail_fd, tail->size + done, SEEK_SET);
	}
	tail->size += done;
	add_seqs(tail, b->seqs + from, whole - from);
	*taken += whole - from;
	return r;
}

/*
 * Whether a line of len bytes, after pending bytes not yet written to the
 * tail, starts a segment: there is none, the tail is full, or it is one a
 * previous run left (never appended to: a crash may have cut it short).
 */
static bool starts_seg(const struct spool *s, uint64_t pending, size_t len)
{
	const struct seg *tail = s->n ? &s->segs[s->n - 1] : NULL;

	return !tail || (tail->size + pending && tail->size + pending + len > s->seg_max) ||
	       (s->dirfd >= 0 && s->tail_fd < 0);
}

int spool_append(struct spool *s, const struct line_batch *b, size_t from, size_t *taken,
		 struct spool_loss *lost)
{
	size_t start = from, i; /* lines start..i-1 go to the tail in one write */
	int r = 0, w;

	*taken = 0;
	for (i = from; i < b->n; i++) {
		size_t len = b->ends[i] - line_batch_start(b, i);
		uint64_t pending = line_batch_bytes(b, start, i);

		if (len > SPOOL_LINE_MAX) {
			r = -E2BIG;
			break;
		}
		if (!make_room(s, pending + len, lost)) {
			r = -ENOBUFS;
			break;
		}
		if (!starts_seg(s, pending, len))
			continue;
		r = put_lines(s, b, start, i, taken);
		start = i;
		if (!r)
			r = new_seg(s);
		if (r)
			return r;
	}
	/* The lines before one refused go in. */
	w = put_lines(s, b, start, i, taken);
	return w ? w : r;
}

static struct seg *find_seg(const struct spool *s, uint64_t id, size_t *index)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->segs[i].id == id) {
			*index = i;
			return &s->segs[i];
		}
	}
	return NULL;
}

size_t spool_peek(struct spool *s, char *buf, size_t cap, size_t *lines)
{
	size_t i, n;
	struct seg *g;
	ssize_t r;

	*lines = 0;
	for (;;) {
		g = find_seg(s, s->read.seg, &i);
		if (!g)
			return 0;
		n = g->size - s->read.off;
		if (n == 0 || (i + 1 < s->n && s->read.off >= g->size)) {
			if (i + 1 == s->n)
				return 0;
			s->read = (struct spool_pos){s->segs[i + 1].id, 0, 0};
			continue;
		}
		if (n > cap)
			n = cap;
		r = seg_read(s, g, buf, n, s->read.off);
		if (r <= 0)
			return 0;
		while (r > 0 && buf[r - 1] != '\n')
			r--;
		if (r > 0)
			break;
		/* A line a crash cut short ends this segment: skip it. */
		if (i + 1 == s->n)
			return 0;
		s->read = (struct spool_pos){s->segs[i + 1].id, 0, 0};
	}
	for (const char *nl = buf; (nl = memchr(nl, '\n', buf + r - nl)); nl++)
		(*lines)++;
	return r;
}

uint64_t spool_seq(const struct spool *s, size_t i)
{
	size_t index;
	const struct seg *g = find_seg(s, s->read.seg, &index);

	return g ? seg_seq(g, s->read.line + i) : 0;
}

struct spool_pos spool_advance(struct spool *s, size_t bytes, size_t lines)
{
	s->read.off += bytes;
	s->read.line += lines;
	return s->read;
}

void spool_commit(struct spool *s, struct spool_pos pos)
{
	if (pos.seg < s->committed.seg ||
	    (pos.seg == s->committed.seg && pos.off <= s->committed.off))
		return;
	s->committed = pos;
	s->cursor_dirty = true;
	while (s->n > 1 && s->segs[0].id < pos.seg)
		drop_first_seg(s);
	/* Everything delivered: the space goes back (a full disk frees up), the next line
	 * starts a new segment. */
	if (s->n == 1 && pos.seg == s->segs[0].id && pos.off == s->segs[0].size &&
	    s->read.seg == pos.seg && s->read.off == pos.off) {
		drop_first_seg(s);
		s->committed = s->read = (struct spool_pos){s->next_id, 0, 0};
	}
	save_cursor(s, false);
}

void spool_rewind(struct spool *s)
{
	s->read = s->committed;
}
