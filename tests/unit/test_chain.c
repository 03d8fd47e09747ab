// SPDX-License-Identifier: GPL-2.0
/* The hash chain: sealing lines, the key file, and finding what was done to a stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "output/chain.h"
#include "output/output.h"

#include "test.h"

#define LINE_CAP  256
#define LINES_MAX 12

static const uint8_t test_key[32] = {1,	 2,  3,	 4,  5,	 6,  7,	 8,  9,	 10, 11,
				     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
				     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t other_key[32] = {42};

/* An event line (at time stamp) with a placeholder, sealed with c unless c is NULL. */
static char *event_line(char *buf, struct chain *c, long long stamp, long long seq,
			const char *action)
{
	snprintf(buf, LINE_CAP,
		 "{\"@timestamp\":%lld,\"event\":{\"action\":\"%s\"},"
		 "\"file\":{\"path\":\"/srv/crm/a.csv\"},"
		 "\"custos\":{\"seq\":%lld,\"chain\":\"" CHAIN_PLACEHOLDER "\"}}",
		 stamp, action, seq);
	if (c)
		ASSERT_OK(chain_seal(c, buf, strlen(buf)), "chain_seal");
	return buf;
}

/* HMAC-SHA-256(test_key, prev || line) as lowercase hex, by OpenSSL's one-shot HMAC(). */
static void expected_hex(const uint8_t prev[32], const char *line, char hex[65])
{
	size_t len = strlen(line);
	unsigned char *msg = malloc(32 + len), mac[32];
	unsigned int mac_len = 0;
	int i;

	memcpy(msg, prev, 32);
	memcpy(msg + 32, line, len);
	HMAC(EVP_sha256(), test_key, sizeof(test_key), msg, 32 + len, mac, &mac_len);
	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", mac[i]);
	free(msg);
}

static const char *sealed_hex(const char *line)
{
	const char *at = strstr(line, "\"chain\":\"");

	return at ? at + strlen("\"chain\":\"") : "";
}

TEST(chain_seal_known_answer)
{
	struct chain *c = chain_new(test_key, sizeof(test_key));
	char line[LINE_CAP], want[65];
	uint8_t prev[32] = {0};
	int i;

	if (!ASSERT_OK_PTR(c, "chain_new"))
		return;
	event_line(line, NULL, 0, 1, "agent-start");
	expected_hex(prev, line, want);
	event_line(line, c, 0, 1, "agent-start");
	ASSERT_TRUE(!strncmp(sealed_hex(line), want, 64), "first record: HMAC over 32 zero bytes");
	ASSERT_EQ(sealed_hex(line)[64], '"', "the value stays 64 digits");
	for (i = 0; i < 32; i++)
		sscanf(want + 2 * i, "%2hhx", &prev[i]);

	event_line(line, NULL, 1, 2, "open");
	expected_hex(prev, line, want);
	event_line(line, c, 1, 2, "open");
	ASSERT_TRUE(!strncmp(sealed_hex(line), want, 64), "second record: over the first's value");
	chain_free(c);
}

TEST(chain_seal_needs_one_placeholder)
{
	struct chain *c = chain_new(test_key, sizeof(test_key));
	char line[512], copy[512];

	if (!ASSERT_OK_PTR(c, "chain_new"))
		return;
	strcpy(line, "{\"custos\":{\"seq\":1}}");
	ASSERT_EQ(chain_seal(c, line, strlen(line)), -EINVAL, "no placeholder");
	ASSERT_STREQ(line, "{\"custos\":{\"seq\":1}}", "left as it was");

	snprintf(line, sizeof(line), "{\"a\":{\"chain\":\"%s\"},\"custos\":{\"chain\":\"%s\"}}",
		 CHAIN_PLACEHOLDER, CHAIN_PLACEHOLDER);
	strcpy(copy, line);
	ASSERT_EQ(chain_seal(c, line, strlen(line)), -EINVAL, "two placeholders");
	ASSERT_STREQ(line, copy, "left as it was");

	/* The same text inside a string value is escaped, so never taken for the field. */
	snprintf(line, sizeof(line),
		 "{\"x\":\"\\\"chain\\\":\\\"%s\\\"\",\"custos\":{\"chain\":\"%s\"}}",
		 CHAIN_PLACEHOLDER, CHAIN_PLACEHOLDER);
	ASSERT_OK(chain_seal(c, line, strlen(line)), "one real placeholder");
	ASSERT_HAS(line, "\"x\":\"\\\"chain\\\":\\\"" CHAIN_PLACEHOLDER, "the string is untouched");
	ASSERT_TRUE(!strstr(line, "\"custos\":{\"chain\":\"" CHAIN_PLACEHOLDER), "field sealed");

	/* A placeholder cut short at the end of the line is none. */
	strcpy(line, "{\"custos\":{\"chain\":\"000000\"}}");
	ASSERT_EQ(chain_seal(c, line, strlen(line)), -EINVAL, "short value");
	chain_free(c);
}

static int write_key(char *path, const void *data, size_t len, mode_t mode)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || fchmod(fd, mode)) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	return 0;
}

TEST(chain_open_key_file)
{
	char path[] = "/tmp/custos-test-key-XXXXXX", err[1024];
	struct chain *c, *mem = chain_new(test_key, sizeof(test_key));
	char a[LINE_CAP], b[LINE_CAP];

	if (!ASSERT_EQ(geteuid(), 0, "the key tests run as root (a key must be root's)"))
		goto free_mem;
	if (!ASSERT_OK(write_key(path, test_key, sizeof(test_key), 0600), "write_key"))
		goto free_mem;
	c = chain_open(path, err, sizeof(err));
	if (ASSERT_OK_PTR(c, err)) {
		/* all of the file is the key */
		event_line(a, c, 0, 1, "agent-start");
		event_line(b, mem, 0, 1, "agent-start");
		ASSERT_STREQ(a, b, "same MAC as the key in memory");
	}
	chain_free(c);

	chmod(path, 0640);
	errno = 0;
	ASSERT_NULL(chain_open(path, err, sizeof(err)), "mode 0640");
	ASSERT_EQ(errno, EPERM, "errno");
	ASSERT_HAS(err, path, "message names the file");
	ASSERT_HAS(err, "mode 0640", "message names the mode");
	ASSERT_HAS(err, "owner root", "message names the owner");
	chmod(path, 0644);
	ASSERT_NULL(chain_open(path, err, sizeof(err)), "mode 0644");
	ASSERT_HAS(err, "mode 0644", "message names the mode");
	unlink(path);

	strcpy(path, "/tmp/custos-test-key-XXXXXX");
	if (!ASSERT_OK(write_key(path, test_key, 31, 0600), "write_key"))
		goto free_mem;
	errno = 0;
	ASSERT_NULL(chain_open(path, err, sizeof(err)), "31 bytes");
	ASSERT_EQ(errno, EINVAL, "errno");
	ASSERT_HAS(err, "31 bytes, too short (at least 32)", "message");
	ASSERT_HAS(err, "head -c 32 /dev/urandom > ", "how to make one");
	unlink(path);

	errno = 0;
	ASSERT_NULL(chain_open("/nonexistent/chain.key", err, sizeof(err)), "missing file");
	ASSERT_EQ(errno, ENOENT, "errno");
	ASSERT_HAS(err, "/nonexistent/chain.key", "message names the file");
free_mem:
	chain_free(mem);
}

/* A stream of sealed lines to verify in any order. */
struct stream {
	char lines[LINES_MAX][LINE_CAP];
	size_t n;
};

/* Each line is unlike any other, as real ones are (by time, if nothing else). */
static void add(struct stream *s, struct chain *c, long long seq, const char *action)
{
	static long long clock;

	event_line(s->lines[s->n++], c, ++clock, seq, action);
}

/* A run of n records, sealed as the agent does: agent-start, "open"s, then last_action. */
static void add_run(struct stream *s, int n, const char *last_action)
{
	struct chain *c = chain_new(test_key, sizeof(test_key));
	int i;

	if (!ASSERT_OK_PTR(c, "chain_new"))
		return;
	add(s, c, 1, "agent-start");
	for (i = 2; i < n; i++)
		add(s, c, i, "open");
	if (n > 1)
		add(s, c, n, last_action);
	chain_free(c);
}

struct outcome {
	struct chain_verify_result res;
	size_t n_cut_runs;
	int64_t cut_seq;
};

/*
 * Verifies the lines of s in order (-1 ends it), line i named "s:i+1"; -2 is a line cut short.
 * partial: the stream may begin inside a run.
 */
static struct outcome verify_order(struct stream *s, struct chain *const *keys, size_t n_keys,
				   bool partial, const int *order)
{
	struct chain_verifier *v = chain_verifier_new(keys, n_keys);
	struct outcome o = {};
	uint64_t n = 0;
	int r = 0;

	if (!ASSERT_OK_PTR(v, "chain_verifier_new"))
		return o;
	chain_verifier_set_partial(v, partial);
	for (; *order != -1 && r == 0; order++) {
		struct chain_where where = {.file = "s", .line = ++n};
		char *line = s->lines[*order >= 0 ? *order : -*order - 2];
		size_t len = strlen(line);

		if (*order >= 0)
			r = chain_verify_line(v, line, len, CHAIN_LINE_NEWLINE, &where);
		else
			r = chain_verify_line(v, line, len / 2, CHAIN_LINE_EOF, &where);
	}
	if (r == 0)
		chain_verify_end(v);
	o.res = *chain_verifier_result(v);
	o.n_cut_runs = o.res.n_cut_runs;
	o.cut_seq = o.res.n_cut_runs ? o.res.cut_runs[0].seq : 0;
	o.res.cut_runs = NULL;
	chain_verifier_free(v);
	return o;
}

#define VERIFY(s, keys, ...) \
	verify_order(s, keys, sizeof(keys) / sizeof(keys[0]), false, (const int[]){__VA_ARGS__, -1})
#define VERIFY_PARTIAL(s, keys, ...) \
	verify_order(s, keys, sizeof(keys) / sizeof(keys[0]), true, (const int[]){__VA_ARGS__, -1})

static void expect_problem(int test_line, const struct outcome *o, enum chain_problem kind,
			   uint64_t line, int64_t seq)
{
	const struct chain_report *p = &o->res.problem;

	test__check(p->kind == kind && p->where.line == line && p->seq == seq, __FILE__, test_line,
		    "problem %d at line %llu seq %lld, expected %d at line %llu seq %lld", p->kind,
		    (unsigned long long)p->where.line, (long long)p->seq, kind,
		    (unsigned long long)line, (long long)seq);
}

#define EXPECT_PROBLEM(o, kind, line, seq) expect_problem(__LINE__, &(o), kind, line, seq)

/* A stream of one run of run_len records, ending with agent-stop, and the key to verify it. */
struct fixture {
	struct chain *keys[1];
	struct stream s;
};

static bool fixture_init(struct fixture *f, int run_len)
{
	memset(f, 0, sizeof(*f));
	f->keys[0] = chain_new(test_key, sizeof(test_key));
	if (!ASSERT_OK_PTR(f->keys[0], "chain_new"))
		return false;
	add_run(&f->s, run_len, "agent-stop");
	return true;
}

static void fixture_free(struct fixture *f)
{
	chain_free(f->keys[0]);
}

TEST(chain_verify_intact)
{
	struct fixture f;
	struct outcome o;

	if (!fixture_init(&f, 5))
		goto out;
	add_run(&f.s, 3, "agent-stop");
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 4, 5, 6, 7);
	EXPECT_PROBLEM(o, CHAIN_OK, 0, 0);
	ASSERT_EQ(o.res.lines, 8, "lines");
	ASSERT_EQ(o.res.runs, 2, "runs");
	ASSERT_EQ(o.res.records, 8, "records");
	ASSERT_EQ(o.res.duplicates, 0, "duplicates");
	ASSERT_EQ(o.n_cut_runs, 0, "runs without agent-stop");
	ASSERT_EQ(o.res.last_run.seq, 3, "last run's last seq");
	ASSERT_TRUE(o.res.last_run.stopped, "last run stopped");
	ASSERT_EQ(o.res.last_run.where.line, 8, "last run's last line");
out:
	fixture_free(&f);
}

TEST(chain_verify_edited)
{
	struct fixture f;
	struct outcome o;
	char *path, *digit;

	if (!fixture_init(&f, 5))
		goto out;
	path = strstr(f.s.lines[2], "a.csv");
	*path = 'b';
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 4);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 3, 3);
	ASSERT_FALSE(o.res.problem.first_record, "records were verified before it");
	ASSERT_EQ(o.res.records, 2, "records verified before it");
	*path = 'a';
	/* the chain value itself */
	digit = f.s.lines[4] + strlen(f.s.lines[4]) - 5;
	*digit = *digit == '0' ? '1' : '0';
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 4);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 5, 5);
out:
	fixture_free(&f);
}

TEST(chain_verify_missing_reordered)
{
	struct fixture f;
	struct outcome o;

	if (!fixture_init(&f, 6))
		goto out;
	o = VERIFY(&f.s, f.keys, 0, 1, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 3, 4);
	ASSERT_EQ(o.res.problem.first_missing, 3, "first missing");
	ASSERT_EQ(o.res.problem.last_missing, 3, "last missing");
	o = VERIFY(&f.s, f.keys, 0, 1, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 3, 5);
	ASSERT_EQ(o.res.problem.first_missing, 3, "first missing");
	ASSERT_EQ(o.res.problem.last_missing, 4, "last missing");
	/* the last line but one gone */
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 5);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 5, 6);

	/* two lines swapped: the second comes after the one it should precede */
	o = VERIFY(&f.s, f.keys, 0, 1, 3, 2, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_REORDERED, 4, 3);
	ASSERT_EQ(o.res.problem.other_seq, 4, "after seq");
	/* far apart */
	o = VERIFY(&f.s, f.keys, 0, 4, 2, 3, 1, 5);
	EXPECT_PROBLEM(o, CHAIN_REORDERED, 3, 3);
	ASSERT_EQ(o.res.problem.other_seq, 5, "after seq");
	/* an old record again, not byte for byte */
	f.s.lines[6][0] = ' ';
	memcpy(f.s.lines[6] + 1, f.s.lines[1], LINE_CAP - 1);
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 6);
	EXPECT_PROBLEM(o, CHAIN_REORDERED, 4, 2);
	ASSERT_EQ(o.res.problem.other_seq, 3, "after seq");
out:
	fixture_free(&f);
}

TEST(chain_verify_duplicates)
{
	struct fixture f;
	struct outcome o;

	if (!fixture_init(&f, 5))
		goto out;
	/* a re-delivery after a restart of the output: the last records again, then the rest */
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 1, 2, 3, 4, 4, 0);
	EXPECT_PROBLEM(o, CHAIN_OK, 0, 0);
	ASSERT_EQ(o.res.lines, 10, "lines");
	ASSERT_EQ(o.res.records, 5, "records");
	ASSERT_EQ(o.res.duplicates, 5, "duplicates");
	ASSERT_EQ(o.res.runs, 1, "runs");
	/* a duplicate while a jump in seq is pending does not hide it */
	o = VERIFY(&f.s, f.keys, 0, 1, 3, 1, 4);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 3, 4);
out:
	fixture_free(&f);
}

TEST(chain_verify_runs)
{
	struct fixture f;
	struct outcome o;

	if (!fixture_init(&f, 4))
		goto out;
	add_run(&f.s, 6, "open");
	/* a run cut before its agent-stop, then a new one */
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 4, 5, 6, 7, 8, 9);
	EXPECT_PROBLEM(o, CHAIN_OK, 0, 0);
	ASSERT_EQ(o.res.runs, 2, "runs");
	ASSERT_EQ(o.n_cut_runs, 1, "runs without agent-stop");
	ASSERT_EQ(o.cut_seq, 3, "where the cut run ends");
	ASSERT_EQ(o.res.last_run.seq, 6, "last seq");
	ASSERT_FALSE(o.res.last_run.stopped, "the last run has no agent-stop");

	/* seq 1 on a record that is not an agent-start */
	add_run(&f.s, 1, NULL);
	memcpy(strstr(f.s.lines[10], "agent-start"), "agent-sta_t", 11);
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 10);
	EXPECT_PROBLEM(o, CHAIN_RESTARTED, 5, 1);
	/* after an agent-stop: a record of the run again, or of a run whose start is missing */
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 5);
	EXPECT_PROBLEM(o, CHAIN_REORDERED, 5, 2);
	ASSERT_EQ(o.res.problem.other_seq, 4, "after seq");
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 9);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 5, 6);
	ASSERT_EQ(o.res.problem.first_missing, 1, "first missing");
	ASSERT_EQ(o.res.problem.last_missing, 5, "last missing");
	/* a stream that begins inside a run */
	o = VERIFY(&f.s, f.keys, 2, 3);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 1, 3);
	ASSERT_TRUE(o.res.problem.first_record, "nothing verified before");
	ASSERT_EQ(o.res.problem.last_missing, 2, "last missing");
out:
	fixture_free(&f);
}

static void expect_partial_start(int test_line, const struct outcome *o, uint64_t line, int64_t seq)
{
	const struct chain_record_at *start = &o->res.partial_start;

	test__check(start->seq == seq && start->where.line == line, __FILE__, test_line,
		    "started inside a run at line %llu seq %lld, expected line %llu seq %lld",
		    (unsigned long long)start->where.line, (long long)start->seq,
		    (unsigned long long)line, (long long)seq);
}

#define EXPECT_PARTIAL_START(o, line, seq) expect_partial_start(__LINE__, &(o), line, seq)

/* A stream whose oldest files were deleted: it begins inside a run. */
TEST(chain_verify_partial)
{
	struct fixture f;
	struct outcome o;

	if (!fixture_init(&f, 6))
		goto out;
	o = VERIFY_PARTIAL(&f.s, f.keys, 2, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_OK, 0, 0);
	EXPECT_PARTIAL_START(o, 1, 3);
	ASSERT_EQ(o.res.lines, 4, "lines");
	ASSERT_EQ(o.res.records, 3, "records verified: not the first");
	ASSERT_EQ(o.res.runs, 1, "runs");
	ASSERT_EQ(o.res.last_run.seq, 6, "last run's last seq");
	ASSERT_TRUE(o.res.last_run.stopped, "last run stopped");
	/* without partial, as before */
	o = VERIFY(&f.s, f.keys, 2, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 1, 3);
	EXPECT_PARTIAL_START(o, 0, 0);
	/* a stream that begins with its run: nothing unchecked */
	o = VERIFY_PARTIAL(&f.s, f.keys, 0, 1, 2, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_OK, 0, 0);
	EXPECT_PARTIAL_START(o, 0, 0);
	ASSERT_EQ(o.res.records, 6, "records verified");

	/* after the start, seq must follow */
	o = VERIFY_PARTIAL(&f.s, f.keys, 2, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 2, 5);
	ASSERT_EQ(o.res.problem.first_missing, 4, "first missing");
	ASSERT_EQ(o.res.problem.last_missing, 4, "last missing");
	o = VERIFY_PARTIAL(&f.s, f.keys, 3, 2, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_REORDERED, 2, 3);
	ASSERT_EQ(o.res.problem.other_seq, 4, "after seq");
	/* only the first record can begin inside a run */
	add_run(&f.s, 3, "agent-stop");
	o = VERIFY_PARTIAL(&f.s, f.keys, 2, 3, 4, 5, 7, 8);
	EXPECT_PROBLEM(o, CHAIN_REORDERED, 5, 2);
	ASSERT_EQ(o.res.problem.other_seq, 6, "after seq");
	o = VERIFY_PARTIAL(&f.s, f.keys, 2, 3, 4, 5, 6, 7, 8);
	EXPECT_PROBLEM(o, CHAIN_OK, 0, 0);
	ASSERT_EQ(o.res.runs, 2, "runs");
	ASSERT_EQ(o.res.records, 6, "records verified");
out:
	fixture_free(&f);
}

TEST(chain_verify_partial_edited)
{
	struct chain *wrong[1] = {chain_new(other_key, sizeof(other_key))};
	struct fixture f;
	struct outcome o;
	char *path, *digit;

	if (!fixture_init(&f, 6) || !ASSERT_OK_PTR(wrong[0], "chain_new"))
		goto out;
	/* the line right after the cut */
	path = strstr(f.s.lines[3], "a.csv");
	*path = 'b';
	o = VERIFY_PARTIAL(&f.s, f.keys, 2, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 2, 4);
	ASSERT_TRUE(o.res.problem.first_record, "the first MAC checked: maybe another key");
	EXPECT_PARTIAL_START(o, 1, 3);
	*path = 'a';
	o = VERIFY_PARTIAL(&f.s, wrong, 2, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 2, 4);

	/* the chain value of the first line: the next one does not follow from it */
	digit = f.s.lines[2] + strlen(f.s.lines[2]) - 5;
	*digit = *digit == '0' ? '1' : '0';
	o = VERIFY_PARTIAL(&f.s, f.keys, 2, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 2, 4);
	*digit = *digit == '0' ? '1' : '0';

	/* the rest of the first line: not detectable, and reported as not checked */
	path = strstr(f.s.lines[2], "a.csv");
	*path = 'b';
	o = VERIFY_PARTIAL(&f.s, f.keys, 2, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_OK, 0, 0);
	EXPECT_PARTIAL_START(o, 1, 3);
	ASSERT_EQ(o.res.records, 3, "records verified: the edited one is not");
	o = VERIFY(&f.s, f.keys, 0, 1, 2, 3, 4, 5);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 3, 3);
out:
	chain_free(wrong[0]);
	fixture_free(&f);
}

TEST(chain_verify_bad_lines)
{
	struct fixture f;
	struct outcome o;
	char *letter;

	if (!fixture_init(&f, 4))
		goto out;
	o = VERIFY(&f.s, f.keys, 0, 1, -2 - 2);
	EXPECT_PROBLEM(o, CHAIN_TRUNCATED, 3, 0);
	strcpy(f.s.lines[4], "{\"custos\":{\"seq\":3,\"chain\":\"12");
	o = VERIFY(&f.s, f.keys, 0, 1, 4);
	EXPECT_PROBLEM(o, CHAIN_TRUNCATED, 3, 0);
	strcpy(f.s.lines[4], "not json");
	o = VERIFY(&f.s, f.keys, 0, 4);
	EXPECT_PROBLEM(o, CHAIN_NOT_JSON, 2, 0);
	ASSERT_HAS(o.res.problem.detail, "'[' or '{' expected near 'not' (column 3)", "detail");
	strcpy(f.s.lines[4], "");
	o = VERIFY(&f.s, f.keys, 0, 4);
	EXPECT_PROBLEM(o, CHAIN_NOT_JSON, 2, 0);
	strcpy(f.s.lines[4], "[1,2]");
	o = VERIFY(&f.s, f.keys, 0, 4);
	EXPECT_PROBLEM(o, CHAIN_NOT_JSON, 2, 0);
	strcpy(f.s.lines[4], "{\"custos\":{\"chain\":\"" CHAIN_PLACEHOLDER "\"}}");
	o = VERIFY(&f.s, f.keys, 0, 4);
	EXPECT_PROBLEM(o, CHAIN_NO_SEQ, 2, 0);
	strcpy(f.s.lines[4], "{\"custos\":{\"seq\":2}}");
	o = VERIFY(&f.s, f.keys, 0, 4);
	EXPECT_PROBLEM(o, CHAIN_NO_CHAIN, 2, 2);
	/* upper-case hex is not what custos writes */
	strcpy(f.s.lines[4], f.s.lines[1]);
	letter = strpbrk(f.s.lines[4] + (sealed_hex(f.s.lines[4]) - f.s.lines[4]), "abcdef");
	if (!ASSERT_OK_PTR(letter, "a letter in the chain value"))
		goto out;
	*letter = *letter - 'a' + 'A';
	o = VERIFY(&f.s, f.keys, 0, 4);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 2, 2);
	/* a jump in seq comes first */
	o = VERIFY(&f.s, f.keys, 0, 2, -2 - 3);
	EXPECT_PROBLEM(o, CHAIN_MISSING, 2, 3);
out:
	fixture_free(&f);
}

TEST(chain_verify_too_long)
{
	struct chain_verifier *v;
	struct chain *key = chain_new(test_key, sizeof(test_key));
	struct chain_where where = {.file = "big", .line = 1};
	char line[] = "xxxx";

	v = chain_verifier_new(&key, 1);
	if (ASSERT_OK_PTR(v, "chain_verifier_new")) {
		ASSERT_EQ(chain_verify_line(v, line, sizeof(line) - 1, CHAIN_LINE_LONG, &where), 1,
			  "a problem");
		ASSERT_EQ(chain_verifier_result(v)->problem.kind, CHAIN_TOO_LONG, "kind");
		ASSERT_EQ(chain_verify_line(v, line, sizeof(line) - 1, CHAIN_LINE_NEWLINE, &where),
			  1, "it stays found");
		ASSERT_EQ(chain_verifier_result(v)->lines, 1, "lines");
	}
	chain_verifier_free(v);
	chain_free(key);
}

TEST(chain_verify_keys)
{
	struct chain *other = chain_new(other_key, sizeof(other_key)), *both[2], *wrong[1];
	struct chain *first = chain_new(test_key, sizeof(test_key));
	struct chain *next = chain_new(other_key, sizeof(other_key));
	struct fixture f;
	struct stream s = {};
	struct outcome o;

	if (!fixture_init(&f, 3) || !ASSERT_OK_PTR(other, "chain_new") ||
	    !ASSERT_OK_PTR(first, "chain_new") || !ASSERT_OK_PTR(next, "chain_new"))
		goto out;
	wrong[0] = other;
	o = VERIFY(&f.s, wrong, 0, 1, 2);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 1, 1);
	ASSERT_TRUE(o.res.problem.first_record, "nothing verified before: maybe the key");

	/* a new key on SIGHUP: the chain goes on under it */
	add(&s, first, 1, "agent-start");
	add(&s, first, 2, "open");
	chain_continue(next, first);
	add(&s, next, 3, "agent-reload");
	add(&s, next, 4, "agent-stop");
	both[0] = other;
	both[1] = f.keys[0];
	o = VERIFY(&s, both, 0, 1, 2, 3);
	EXPECT_PROBLEM(o, CHAIN_OK, 0, 0);
	ASSERT_EQ(o.res.records, 4, "records");
	o = VERIFY(&s, f.keys, 0, 1, 2, 3);
	EXPECT_PROBLEM(o, CHAIN_EDITED, 3, 3);
out:
	chain_free(other);
	chain_free(first);
	chain_free(next);
	fixture_free(&f);
}

/* output_event seals each JSON line it writes, and only with a placeholder. */
TEST(chain_output_seals_lines)
{
	struct chain *seal = chain_new(test_key, sizeof(test_key));
	struct chain *key = chain_new(test_key, sizeof(test_key));
	struct chain_where where = {.file = "mem"};
	struct chain_verifier *v = chain_verifier_new(&key, 1);
	size_t size = 0, i;
	struct output *out;
	char *text = NULL, *line, *nl;
	FILE *f = open_memstream(&text, &size);
	static const char *const actions[] = {"agent-start", "open", "close", "agent-stop"};

	if (!ASSERT_OK_PTR(f, "open_memstream") || !ASSERT_OK_PTR(v, "verifier"))
		goto out;
	out = output_new(f, OUTPUT_JSON, NULL);
	if (!ASSERT_OK_PTR(out, "output_new"))
		goto close;
	output_set_chain(out, seal);
	for (i = 0; i < 4; i++) {
		struct event ev = {.kind = EVENT_AGENT,
				   .seq = i + 1,
				   .category = "process",
				   .type = "info",
				   .action = actions[i],
				   .host = "h",
				   .chain = CHAIN_PLACEHOLDER};

		ASSERT_OK(output_event(out, &ev), "output_event");
	}
	output_flush(out);
	output_free(out);
close:
	fclose(f);
	for (line = text; line && (nl = strchr(line, '\n')); line = nl + 1) {
		where.line++;
		ASSERT_FALSE(strstr(line, CHAIN_PLACEHOLDER), "sealed");
		ASSERT_EQ(chain_verify_line(v, line, nl - line, CHAIN_LINE_NEWLINE, &where), 0,
			  "verified");
	}
	ASSERT_EQ(where.line, 4, "lines written");
	ASSERT_EQ(chain_verify_end(v), 0, "intact");
	ASSERT_TRUE(chain_verifier_result(v)->last_run.stopped, "ends with agent-stop");
out:
	free(text);
	chain_verifier_free(v);
	chain_free(seal);
	chain_free(key);
}
