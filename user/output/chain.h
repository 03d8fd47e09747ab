/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tamper evidence: every event line carries custos.chain (an OCSF line:
 * unmapped.custos.chain, its stream sealed by a chain of its own under the
 * same key), 64 lowercase hex digits of
 *
 *   chain[i] = HMAC-SHA-256(key, chain[i-1] || line[i])
 *
 * where chain[i-1] is the previous record's value (32 raw bytes; 32 zero
 * bytes for the agent-start that opens each agent run, custos.seq 1) and
 * line[i] is the line as written, without its newline, with 64 '0' in place
 * of its own chain value. The key is a file of at least 32 bytes that only
 * root can read. Changing, removing, reordering or inserting a record
 * breaks the chain from there on for anyone without the key.
 */
#ifndef CUSTOS_CHAIN_H
#define CUSTOS_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHAIN_KEY_MIN  32   /* bytes: as strong as the MAC */
#define CHAIN_KEY_MAX  4096 /* bytes: a key file, not a data file */
#define CHAIN_MAC_LEN  32
#define CHAIN_HEX_LEN  (2 * CHAIN_MAC_LEN)
#define CHAIN_LINE_MAX (16 << 20) /* longer lines are not events */

/* custos.chain of an event until its line is sealed. */
#define CHAIN_PLACEHOLDER "0000000000000000000000000000000000000000000000000000000000000000"

struct chain;

/*
 * The key in key_file: all its bytes, CHAIN_KEY_MIN to CHAIN_KEY_MAX of
 * them. It must be a secret only root can read and change (file_trusted()
 * with TRUST_SECRET: owned by root, no group or other permissions, in
 * directories only root can change). NULL with errno set and a message
 * naming the file in err.
 */
struct chain *chain_open(const char *key_file, char *err, size_t len);
/* A key in memory; NULL with errno set. */
struct chain *chain_new(const void *key, size_t key_len);
void chain_free(struct chain *c);

/* Another chain with c's key, where c is: for a second stream of the same records. NULL: ENOMEM. */
struct chain *chain_dup(const struct chain *c);

/* Go on from where another chain is: a new key seals the records after from's last one. */
void chain_continue(struct chain *c, const struct chain *from);

/*
 * Seals a serialized event: writes the chain value over the placeholder
 * (the only "chain":"<CHAIN_PLACEHOLDER>" in line) and makes it the previous
 * value of the next line. -EINVAL if line has no placeholder or more than
 * one; -ENOMEM or -EIO if the MAC cannot be computed.
 */
int chain_seal(struct chain *c, char *line, size_t len);

/* HMAC-SHA-256(key, prev || line). 0, or -EIO. */
int chain_mac(const struct chain *c, const uint8_t prev[CHAIN_MAC_LEN], const char *line,
	      size_t len, uint8_t mac[CHAIN_MAC_LEN]);

/* Offset of the hex digits of the only "chain":"<64 lowercase hex digits>" in line, or -1. */
ssize_t chain_find(const char *line, size_t len);

/*
 * Verifying a stored stream, line after line. Runs begin at an agent-start
 * with custos.seq 1, where the chain restarts; within a run, seq goes up by
 * one from line to line and each line's chain value must be the MAC of the
 * previous one and the line. A line identical to one verified before (among
 * at least the last CHAIN_SEEN_MIN records) is a re-delivery: skipped and
 * counted. The first problem stops the verification.
 *
 * A stream whose oldest files were deleted (by rotation) begins inside a
 * run. With partial, its first record is taken as the starting point when
 * it is not an agent-start: its own chain value cannot be checked (the
 * previous one is gone), so a change to that line goes unnoticed; every
 * record after it is verified as usual.
 */
#define CHAIN_SEEN_MIN (1 << 20)

enum chain_problem {
	CHAIN_OK,
	CHAIN_EDITED,	 /* the MAC does not match: the line was changed (or another key) */
	CHAIN_MISSING,	 /* seq jumped: records first_missing..last_missing are not there */
	CHAIN_REORDERED, /* seq is not above the previous record's (other_seq) */
	CHAIN_RESTARTED, /* seq 1 on a record that is not an agent-start */
	CHAIN_TRUNCATED, /* the line is cut short */
	CHAIN_TOO_LONG,	 /* longer than CHAIN_LINE_MAX */
	CHAIN_NOT_JSON,
	CHAIN_NO_SEQ,
	CHAIN_NO_CHAIN,
};

/* A line of the stream: the caller's name for its file (borrowed), and its number there. */
struct chain_where {
	const char *file;
	uint64_t line;
};

struct chain_report {
	enum chain_problem kind;
	struct chain_where where;
	int64_t seq; /* of that line, 0 if it has none */
	int64_t other_seq;
	int64_t first_missing, last_missing;
	bool first_record; /* nothing was verified before it (nor is a partial start) */
	char detail[200];  /* CHAIN_NOT_JSON: what the parser says */
};

/* A record of the stream, by where it is. */
struct chain_record_at {
	struct chain_where where;
	int64_t seq;
};

/* The last record of a run. */
struct chain_run_end {
	struct chain_where where;
	int64_t seq;
	bool stopped; /* it is the agent-stop */
};

struct chain_verify_result {
	uint64_t lines, runs, records, duplicates;
	struct chain_report problem;	/* the first one; kind CHAIN_OK while there is none */
	struct chain_run_end *cut_runs; /* runs before the last one that end without agent-stop */
	size_t n_cut_runs;
	struct chain_run_end last_run; /* seq 0 while there is none */
	/* With partial: the first record, inside a run, its MAC not checked; seq 0 if none. */
	struct chain_record_at partial_start;
};

enum chain_line_end {
	CHAIN_LINE_NEWLINE, /* the line ends with a newline */
	CHAIN_LINE_EOF,	    /* the stream ends in the middle of the line */
	CHAIN_LINE_LONG,    /* the line goes on past CHAIN_LINE_MAX */
};

struct chain_verifier;

/* Verifies with keys (borrowed), trying each in turn when a record does not match. */
struct chain_verifier *chain_verifier_new(struct chain *const *keys, size_t n_keys);
void chain_verifier_free(struct chain_verifier *v);
/* The stream may begin inside a run (see above); before the first line. */
void chain_verifier_set_partial(struct chain_verifier *v, bool partial);

/*
 * The next line (without its newline; changed while it is checked, then
 * restored). 0 to go on, 1 once a problem is found (see the result), or
 * -ENOMEM.
 */
int chain_verify_line(struct chain_verifier *v, char *line, size_t len, enum chain_line_end end,
		      const struct chain_where *where);
/* The stream is over: 1 if a problem remains to report about its last lines, else 0. */
int chain_verify_end(struct chain_verifier *v);
const struct chain_verify_result *chain_verifier_result(const struct chain_verifier *v);

#endif /* CUSTOS_CHAIN_H */
