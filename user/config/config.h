/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's configuration: JSON, parsed with jansson. Every error names
 * the source, line and column and says what was expected. A default
 * configuration is compiled in.
 */
#ifndef CUSTOS_CONFIG_H
#define CUSTOS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits a config must respect. */
#define CONFIG_RULES_MAX     63 /* one bit each in the kernel's exclusion masks */
#define CONFIG_RULE_NAME_MAX 64
#define CONFIG_COMM_MAX	     15 /* the kernel keeps 15 bytes of a process name */

#define CONFIG_FLUSH_INTERVAL_DEFAULT	  30 /* seconds */
#define CONFIG_HEARTBEAT_INTERVAL_DEFAULT 60 /* seconds; 0 turns heartbeats off */
#define CONFIG_RING_BUFFER_MB_DEFAULT	  16
#define CONFIG_QUEUE_MB_DEFAULT		  256
#define CONFIG_EGRESS_WINDOW_DEFAULT	  3600	  /* seconds; 0 turns egress off */
#define CONFIG_EGRESS_WINDOW_MAX	  2592000 /* 30 days */

struct config_exclude {
	char **comms; /* process names (comm), exact */
	size_t n_comms;
	char **exes; /* absolute paths or globs of executables */
	size_t n_exes;
	uint32_t *uids;
	size_t n_uids;
};

struct config_rule {
	char *name;
	char **tags;
	size_t n_tags;
	char **paths; /* absolute paths or globs; a directory covers its subtree */
	size_t n_paths;
	struct config_exclude exclude; /* applies to this rule only */
};

/* One address prefix an endpoint resolved to. */
struct config_prefix {
	uint16_t family; /* AF_INET or AF_INET6 */
	uint8_t bits;	 /* prefix length: 32 or 128 for one address */
	uint8_t addr[16];
};

#define CONFIG_ENDPOINT_PREFIXES_MAX 16 /* addresses a host name may resolve to */

/*
 * A network endpoint ("endpoints"): sockets connected to it, or accepted
 * from a listening socket bound to it, are watched like files. Endpoint i
 * is rule n_rules + i of the kernel's tables (watch rules and endpoints
 * together at most CONFIG_RULES_MAX).
 */
struct config_endpoint {
	char *name; /* unique among watch rules and endpoints */
	char **tags;
	size_t n_tags;
	char *address;	 /* as configured: an IP address, a CIDR prefix or a host name */
	char *unix_path; /* or a unix socket, matched by the identity of its socket file */
	struct config_prefix prefixes[CONFIG_ENDPOINT_PREFIXES_MAX]; /* resolved at load */
	size_t n_prefixes;
	uint16_t port_lo, port_hi; /* inclusive; 0-65535 when the config names no port */
	uint8_t transport;	   /* IPPROTO_TCP (default) or IPPROTO_UDP */
	uint8_t parse;		   /* enum config_wire: the database protocol to follow */
};

enum config_wire {
	CONFIG_WIRE_NONE = 0,
	CONFIG_WIRE_POSTGRESQL = 1, /* the kernel's CUSTOS_WIRE_POSTGRESQL */
	CONFIG_WIRE_MYSQL = 2,	    /* the kernel's CUSTOS_WIRE_MYSQL */
};

/* Database client probes (issue: every SQL statement, with the human behind it). */
struct config_databases {
	bool postgresql, mysql, sqlite; /* which client libraries to probe */
	bool sqlite_rows;		/* count SQLite rows: a probe per row */
	bool raw_text;			/* query text as sent: literals not redacted */
	bool only_tables;		/* report only statements on the tables below */
	char **tables;			/* customer-data tables: names or globs, schema or not */
	size_t n_tables;
	char **tags; /* tags of statements on those tables */
	size_t n_tags;
};

/* Where events go ("outputs"); several at once, each with its own thread and queue. */
enum config_output_type {
	CONFIG_OUTPUT_STDOUT,
	CONFIG_OUTPUT_FILE,
	CONFIG_OUTPUT_SYSLOG,
	CONFIG_OUTPUT_HTTP,
};

enum config_http_format {
	CONFIG_HTTP_NDJSON, /* the event lines as they are */
	CONFIG_HTTP_HEC,    /* Splunk HTTP Event Collector: {"event": EVENT, ...} */
	CONFIG_HTTP_BULK,   /* Elasticsearch _bulk: {"create": {}} before each event */
};

#define CONFIG_OUTPUT_QUEUE_DEFAULT    (64ULL << 20)
#define CONFIG_FILE_ROTATE_DEFAULT     (100ULL << 20)
#define CONFIG_FILE_ROTATE_S_DEFAULT   86400
#define CONFIG_FILE_KEEP_DEFAULT       10
#define CONFIG_FILE_MODE_DEFAULT       0600
#define CONFIG_HTTP_TIMEOUT_DEFAULT    10
#define CONFIG_SPOOL_DIR_DEFAULT       "/var/lib/custos/spool"
#define CONFIG_SPOOL_MAX_DEFAULT       (1ULL << 30)
#define CONFIG_SYSLOG_FACILITY_DEFAULT 10 /* authpriv: readable by root only on Debian */

struct config_output {
	enum config_output_type type;
	char *name;	      /* "stdout", "file:PATH", "syslog:URL", "http:URL" */
	uint64_t queue_bytes; /* events waiting for this output, in memory */
	bool drop_oldest;     /* when a bound is hit; else the newest are dropped */
	/* file */
	char *path;
	uint64_t rotate_bytes;	 /* 0: never by size */
	uint32_t rotate_seconds; /* 0: never by age */
	uint32_t keep;		 /* rotated files kept */
	uint32_t mode;
	/* syslog, http */
	char *url;
	uint32_t facility; /* syslog */
	/* http */
	char **headers; /* "Name: value" */
	size_t n_headers;
	enum config_http_format format;
	char *ca_file;
	bool tls_verify;
	uint32_t timeout_s;
};

/* Network outputs keep what they cannot deliver on disk, in order, across restarts. */
struct config_spool {
	char *dir; /* "": no spool, memory only */
	uint64_t max_bytes;
};

/* "chain": each event sealed into a hash chain (see chain.h). */
struct config_chain {
	char *key_file; /* NULL: no chain */
};

struct config {
	char *source;	 /* file name, "<built-in>" or "<command line>" (trace --path) */
	char digest[65]; /* SHA-256 of the text, hex; "" for trace --path */
	struct config_rule *rules;
	size_t n_rules;
	struct config_endpoint *endpoints;
	size_t n_endpoints;
	struct config_exclude exclude; /* applies to every rule */
	uint32_t flush_interval_s;     /* summaries of files held open this long */
	uint32_t heartbeat_interval_s;
	uint32_t ring_buffer_mb; /* a power of two, 1..1024 */
	uint32_t queue_mb;	 /* records waiting to become events, 1..65536 */
	/*
	 * "egress": how long after a session read a watched file its connects
	 * to unwatched endpoints and the files it writes anew outside the
	 * watched trees are reported; 0: never.
	 */
	uint32_t egress_window_s;
	struct config_databases databases;
	struct config_output *outputs; /* none: stdout */
	size_t n_outputs;
	struct config_spool spool;
	struct config_chain chain;
};

struct config_error {
	char source[256];
	int line;   /* 1-based; 0 when the error has no position (e.g. unreadable file) */
	int column; /* 1-based */
	char message[512];
};

/* "source:line:column: message", or "source: message" without a position. */
void config_error_format(const struct config_error *err, char *buf, size_t len);

/* Parse and validate; NULL with *err filled (and errno set) on failure. */
struct config *config_load_file(const char *path, struct config_error *err);
struct config *config_load_string(const char *text, const char *source, struct config_error *err);

/* The compiled-in configuration, and its text (documented in README.md). */
const char *config_default_text(void);
struct config *config_load_default(void);

/* A one-rule config named "trace" watching paths, for `custos trace --path`. */
struct config *config_from_paths(char *const *paths, size_t n_paths);

void config_free(struct config *cfg);

#endif /* CUSTOS_CONFIG_H */
