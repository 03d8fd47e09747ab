// SPDX-License-Identifier: GPL-2.0
/*
 * The outputs (sink.c) on real files and sockets: a local output writes the
 * batches as they came and holds no more than its queue while it cannot
 * write; a network output spools; every drop is reported with the seqs the
 * batches carry. The lines are not JSON (and carry a decoy "seq"): nothing
 * may read a seq out of them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "config/config.h"
#include "lib/log.h"
#include "output/line_batch.h"
#include "output/sink.h"
#include "output/spool.h"

#include "test.h"

#define LINE_LEN 100

/* Runs of 5 consecutive seqs with jumps between, as when lines were dropped before. */
static uint64_t seq_of(size_t i)
{
	return 5000 + i + (i / 5) * 3;
}

static void make_line(char line[LINE_LEN], size_t i)
{
	int w = snprintf(line, LINE_LEN, "line %06zu, no JSON here \"seq\":1 ", i);

	memset(line + w, '-', LINE_LEN - 1 - w);
	line[LINE_LEN - 1] = '\n';
}

/* Lines from..from+n-1. */
static void make_batch(struct line_batch *b, size_t from, size_t n)
{
	char line[LINE_LEN];
	size_t i;

	line_batch_reset(b);
	for (i = from; i < from + n; i++) {
		make_line(line, i);
		if (line_batch_add(b, line, LINE_LEN, seq_of(i)))
			abort();
	}
}

/* The bytes of lines from..to-1. */
static char *lines_text(size_t from, size_t to, size_t *len)
{
	char *text = malloc((to - from) * LINE_LEN + 1);
	size_t i;

	for (i = from; i < to; i++)
		make_line(text + (i - from) * LINE_LEN, i);
	*len = (to - from) * LINE_LEN;
	return text;
}

static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/custos-sink-XXXXXX");
	return mkdtemp(dir);
}

static void rm_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		perror("rm");
}

/* The whole of a file, or of the segment files of a spool directory in order. */
static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *text = NULL;
	int fd = open(path, O_RDONLY);

	*len = 0;
	if (fd < 0 || fstat(fd, &st))
		goto out;
	text = malloc(st.st_size + 1);
	if (text && read(fd, text, st.st_size) == st.st_size)
		*len = st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return text;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp_spool(const char *dir, size_t *len)
{
	char *names[64], path[512], *all = NULL;
	struct dirent *de;
	size_t n = 0, i;
	DIR *d = opendir(dir);

	*len = 0;
	while (d && (de = readdir(d)) && n < 64)
		if (strstr(de->d_name, ".ndjson"))
			names[n++] = strdup(de->d_name);
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		size_t l;
		char *part;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		part = slurp(path, &l);
		all = realloc(all, *len + l + 1);
		memcpy(all + *len, part, l);
		*len += l;
		free(part);
		free(names[i]);
	}
	return all;
}

struct gaps {
	struct {
		char reason[32];
		uint64_t count, first, last;
	} v[8];
	int n;
};

static void on_gap(void *ctx, const char *output, const char *reason, uint64_t count,
		   uint64_t first, uint64_t last)
{
	struct gaps *g = ctx;
	int i;

	for (i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].reason, reason))
			break;
	if (i == g->n) {
		if (g->n == 8)
			return;
		g->n++;
		snprintf(g->v[i].reason, sizeof(g->v[i].reason), "%s", reason);
		g->v[i].first = first;
	}
	g->v[i].count += count;
	if (first && first < g->v[i].first)
		g->v[i].first = first;
	if (last > g->v[i].last)
		g->v[i].last = last;
}

static bool check_gap(struct gaps *g, const char *reason, uint64_t count, uint64_t first,
		      uint64_t last)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].reason, reason))
			break;
	if (!ASSERT_TRUE(i < g->n, reason))
		return false;
	return ASSERT_EQ(g->v[i].count, count, reason) &&
	       ASSERT_EQ(g->v[i].first, first, "first_seq") &&
	       ASSERT_EQ(g->v[i].last, last, "last_seq");
}

/* The object of the output name in the heartbeat's array of outputs, or NULL. */
static json_t *output_of(json_t *all, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(all, i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n && !strcmp(n, name))
			return o;
	}
	return NULL;
}

/* One of the output's figures, as a heartbeat has it. */
static json_int_t stat_of(struct sinks *s, const char *name, const char *key)
{
	json_t *all = sinks_stats(s);
	json_int_t v = json_integer_value(json_object_get(output_of(all, name), key));

	json_decref(all);
	return v;
}

static bool is_down(struct sinks *s, const char *name)
{
	json_t *all = sinks_stats(s);
	const char *state = json_string_value(json_object_get(output_of(all, name), "state"));
	bool down =
	    state && !strcmp(state, "down") && json_object_get(output_of(all, name), "last_error");

	json_decref(all);
	return down;
}

/* Waits up to 5 s for the output's key to reach want; whether it did. */
static bool wait_stat(struct sinks *s, const char *name, const char *key, json_int_t want)
{
	int i;

	for (i = 0; i < 500 && stat_of(s, name, key) != want; i++)
		usleep(10000);
	return ASSERT_EQ(stat_of(s, name, key), want, key);
}

static bool wait_down(struct sinks *s, const char *name)
{
	int i;

	for (i = 0; i < 500 && !is_down(s, name); i++)
		usleep(10000);
	return ASSERT_TRUE(is_down(s, name), "state down, with its last_error");
}

/* Warnings of outputs going down are expected here: not on the test's stderr. */
static bool quiet(void)
{
	bool was = log_enabled(LOG_LEVEL_INFO);

	log_set_level(LOG_LEVEL_ERROR);
	return was;
}

static void loud(bool info)
{
	log_set_level(info ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);
}

/* A file output writes the batches as they came, and has no spool. */
TEST(sink_file_writes_batches)
{
	char err[512], path[256], spool[256], *dir = tmpdir(), *text, *want;
	struct config_output o = {
	    .type = CONFIG_OUTPUT_FILE, .name = "file", .queue_bytes = 1 << 20, .mode = 0600};
	struct config cfg = {.outputs = &o, .n_outputs = 1, .spool = {.max_bytes = 1 << 20}};
	struct line_batch b = {0};
	bool info = quiet();
	struct sinks *s;
	struct stat st;
	size_t len, want_len, i;

	snprintf(path, sizeof(path), "%s/events.ndjson", dir);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	o.path = path;
	cfg.spool.dir = spool;
	s = sinks_new(&cfg, "host", err, sizeof(err));
	if (!ASSERT_TRUE(s, err))
		goto out;
	for (i = 0; i < 30; i += 10) {
		make_batch(&b, i, 10);
		sinks_write(s, CONFIG_FORMAT_ECS, &b);
	}
	wait_stat(s, "file", "out", 30);
	ASSERT_EQ(stat_of(s, "file", "in"), 30, "in");
	ASSERT_EQ(stat_of(s, "file", "queued_bytes"), 0, "queued_bytes");
	ASSERT_EQ(stat_of(s, "file", "spool_bytes"), 0, "spool_bytes: a file has no spool");
	sinks_stop(s, 1000);
	text = slurp(path, &len);
	want = lines_text(0, 30, &want_len);
	ASSERT_TRUE(len == want_len && !memcmp(text, want, len),
		    "the file has the lines, in order");
	ASSERT_TRUE(stat(spool, &st) && errno == ENOENT, "no spool directory for a file output");
	free(text);
	free(want);
out:
	loud(info);
	line_batch_free(&b);
	rm_dir(dir);
}

/* The rotated files of dir (gzip, named after base), decompressed, each checked, in name order. */
static char *slurp_rotated(const char *dir, const char *base, size_t max, size_t *len,
			   size_t *files)
{
	char *names[64], path[512], *all = NULL, buf[65536];
	struct dirent *de;
	size_t n = 0, i;
	DIR *d = opendir(dir);

	*len = 0;
	while (d && (de = readdir(d)) && n < 64)
		if (!strncmp(de->d_name, base, strlen(base)) && strstr(de->d_name, ".gz"))
			names[n++] = strdup(de->d_name);
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		gzFile gz;
		int l;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		gz = gzopen(path, "rb");
		l = gz ? gzread(gz, buf, sizeof(buf)) : -1;
		if (gz)
			gzclose(gz);
		ASSERT_TRUE(l > 0 && (size_t)l <= max && buf[l - 1] == '\n', names[i]);
		if (l > 0) {
			all = realloc(all, *len + l + 1);
			memcpy(all + *len, buf, l);
			*len += l;
		}
		free(names[i]);
	}
	*files = n;
	return all;
}

/* One batch larger than rotate_bytes is split across files: none is longer, no line is cut. */
TEST(sink_file_rotation_splits_batches)
{
	char err[512], path[256], spool[256], *dir = tmpdir(), *rotated, *live, *want, *all;
	struct config_output o = {.type = CONFIG_OUTPUT_FILE,
				  .name = "file",
				  .queue_bytes = 1 << 20,
				  .mode = 0600,
				  .rotate_bytes = 10 * LINE_LEN + LINE_LEN / 2,
				  .keep = 100};
	struct config cfg = {.outputs = &o, .n_outputs = 1, .spool = {.max_bytes = 1 << 20}};
	struct line_batch b = {0};
	bool info = quiet();
	struct sinks *s;
	size_t rlen, llen, want_len, files;

	snprintf(path, sizeof(path), "%s/events.ndjson", dir);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	o.path = path;
	cfg.spool.dir = spool;
	s = sinks_new(&cfg, "host", err, sizeof(err));
	if (!ASSERT_TRUE(s, err))
		goto out;
	make_batch(&b, 0, 35);
	sinks_write(s, CONFIG_FORMAT_ECS, &b);
	wait_stat(s, "file", "out", 35);
	sinks_stop(s, 1000);
	rotated = slurp_rotated(dir, "events.ndjson.", o.rotate_bytes, &rlen, &files);
	live = slurp(path, &llen);
	ASSERT_EQ(files, 3, "rotated files of 10 lines each");
	ASSERT_EQ(llen, 5 * LINE_LEN, "the live file: the 5 last lines");
	all = malloc(rlen + llen + 1);
	memcpy(all, rotated, rlen);
	memcpy(all + rlen, live, llen);
	want = lines_text(0, 35, &want_len);
	ASSERT_TRUE(rlen + llen == want_len && !memcmp(all, want, want_len),
		    "the rotated files and the live file have the lines, in order, once");
	free(all);
	free(want);
	free(rotated);
	free(live);
out:
	loud(info);
	line_batch_free(&b);
	rm_dir(dir);
}

/*
 * A file output that cannot write (its directory is a file) holds its queue
 * and drops the rest (drop: newest, then oldest) with their seqs; once it
 * can write, it writes what it held, in order.
 */
static void file_down(bool drop_oldest)
{
	char err[512], path[320], blocker[256], *dir = tmpdir(), *text, *want;
	struct config_output o = {.type = CONFIG_OUTPUT_FILE,
				  .name = "file",
				  .queue_bytes = 10 * 10 * LINE_LEN, /* ten batches */
				  .drop_oldest = drop_oldest,
				  .mode = 0600};
	struct config cfg = {.outputs = &o, .n_outputs = 1, .spool = {.dir = ""}};
	struct line_batch b = {0};
	struct gaps g = {0};
	size_t len, want_len, i, kept = drop_oldest ? 50 : 0;
	bool info = quiet();
	struct sinks *s;

	snprintf(blocker, sizeof(blocker), "%s/logs", dir);
	snprintf(path, sizeof(path), "%s/events.ndjson", blocker);
	close(open(blocker, O_WRONLY | O_CREAT, 0600));
	o.path = path;
	s = sinks_new(&cfg, "host", err, sizeof(err));
	if (!ASSERT_TRUE(s, err))
		goto out;
	/* The first batch fails: the next try is a second away, and every batch is in the list. */
	make_batch(&b, 0, 10);
	sinks_write(s, CONFIG_FORMAT_ECS, &b);
	if (!wait_down(s, "file"))
		goto stop;
	for (i = 10; i < 150; i += 10) {
		make_batch(&b, i, 10);
		sinks_write(s, CONFIG_FORMAT_ECS, &b);
	}
	ASSERT_EQ(stat_of(s, "file", "in"), 150, "in");
	ASSERT_EQ(stat_of(s, "file", "out"), 0, "out");
	ASSERT_EQ(stat_of(s, "file", "queued_bytes"), 100 * LINE_LEN, "queued_bytes: the bound");
	ASSERT_EQ(stat_of(s, "file", "spool_bytes"), 0, "spool_bytes");
	sinks_take_gaps(s, on_gap, &g);
	ASSERT_EQ(g.n, 1, "one reason");
	if (drop_oldest)
		check_gap(&g, "queue_full", 50, seq_of(0), seq_of(49));
	else
		check_gap(&g, "queue_full", 50, seq_of(100), seq_of(149));
	/* The directory can be made: what was held is written, in order. */
	unlink(blocker);
	if (!wait_stat(s, "file", "out", 100))
		goto stop;
	ASSERT_EQ(stat_of(s, "file", "queued_bytes"), 0, "queued_bytes once written");
	text = slurp(path, &len);
	want = lines_text(kept, kept + 100, &want_len);
	ASSERT_TRUE(len == want_len && !memcmp(text, want, len),
		    "the file has the lines held, in order");
	free(text);
	free(want);
stop:
	sinks_stop(s, 1000);
out:
	loud(info);
	line_batch_free(&b);
	rm_dir(dir);
}

TEST(sink_file_down_drops_newest_by_seq)
{
	file_down(false);
}

TEST(sink_file_down_drops_oldest_by_seq)
{
	file_down(true);
}

/*
 * A syslog output whose receiver is not there (a unix socket path nobody
 * bound): the batches go to its spool on disk, 64 KiB at most; what does
 * not fit, and a line too large for any spool, is reported by seq.
 */
static void spool_full(bool drop_oldest)
{
	char err[512], url[256], spool[256], outdir[300], *dir = tmpdir(), *text, *want;
	struct config_output o = {.type = CONFIG_OUTPUT_SYSLOG,
				  .name = "siem",
				  .queue_bytes = 4 << 20,
				  .drop_oldest = drop_oldest,
				  .facility = 10};
	struct config cfg = {.outputs = &o, .n_outputs = 1, .spool = {.max_bytes = 65536}};
	size_t len, want_len, i, kept, dropped;
	static char big[SPOOL_LINE_MAX + 2];
	struct line_batch b = {0};
	struct gaps g = {0};
	bool info = quiet();
	struct sinks *s;

	snprintf(url, sizeof(url), "unix://%s/nobody.sock", dir);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(outdir, sizeof(outdir), "%s/siem", spool);
	o.url = url;
	cfg.spool.dir = spool;
	s = sinks_new(&cfg, "host", err, sizeof(err));
	if (!ASSERT_TRUE(s, err))
		goto out;
	for (i = 0; i < 1000; i += 50) {
		make_batch(&b, i, 50);
		sinks_write(s, CONFIG_FORMAT_ECS, &b);
	}
	line_batch_reset(&b);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	line_batch_add(&b, big, sizeof(big), 777777);
	sinks_write(s, CONFIG_FORMAT_ECS, &b);
	wait_stat(s, "siem", "queued_bytes", 0); /* everything spooled, or dropped */
	ASSERT_EQ(stat_of(s, "siem", "in"), 1001, "in");
	ASSERT_EQ(stat_of(s, "siem", "out"), 0, "out");
	kept = stat_of(s, "siem", "spool_bytes") / LINE_LEN;
	dropped = 1000 - kept;
	ASSERT_TRUE(kept > 500 && kept <= 655, "spool_bytes: what fits in 64 KiB");
	sinks_take_gaps(s, on_gap, &g);
	ASSERT_EQ(g.n, 2, "two reasons");
	check_gap(&g, "too_large", 1, 777777, 777777);
	if (drop_oldest)
		check_gap(&g, "spool_full", dropped, seq_of(0), seq_of(dropped - 1));
	else
		check_gap(&g, "spool_full", dropped, seq_of(kept), seq_of(999));
	ASSERT_TRUE(is_down(s, "siem"), "state down");
	sinks_stop(s, 0);
	/* On disk for the next run: exactly the lines kept. */
	text = slurp_spool(outdir, &len);
	want = drop_oldest ? lines_text(dropped, 1000, &want_len) : lines_text(0, kept, &want_len);
	ASSERT_TRUE(len == want_len && !memcmp(text, want, len), "the spool has the lines kept");
	free(text);
	free(want);
out:
	loud(info);
	line_batch_free(&b);
	rm_dir(dir);
}

TEST(sink_spool_full_drops_newest_by_seq)
{
	spool_full(false);
}

TEST(sink_spool_full_drops_oldest_by_seq)
{
	spool_full(true);
}
