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

/* How an output writes each event: the schema of its JSON lines. */
enum config_output_format {
	CONFIG_FORMAT_ECS,  /* ECS field names (docs/schema.md) */
	CONFIG_FORMAT_OCSF, /* OCSF class objects (docs/schema.md, "OCSF") */
};

/* How an http output puts event lines in a request body. */
enum config_http_framing {
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
#define CONFIG_STATE_DIR_DEFAULT       "/var/lib/custos"
#define CONFIG_CONTROL_SOCKET_DEFAULT  "/run/custos/agent.sock"
#define CONFIG_CONTROL_SOCKET_MAX      107 /* bytes: sun_path, its NUL aside */
#define CONFIG_SYSLOG_FACILITY_DEFAULT 10  /* authpriv: readable by root only on Debian */

struct config_output {
	enum config_output_type type;
	char *name;	      /* "stdout", "file:PATH", "syslog:URL", "http:URL" */
	uint64_t queue_bytes; /* events waiting for this output, in memory */
	bool drop_oldest;     /* when a bound is hit; else the newest are dropped */
	enum config_output_format format;
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
	enum config_http_framing framing;
	char *ca_file;
	bool tls_verify;
	uint32_t timeout_s;
	/* "FILE:LINE:COLUMN" of path (file) or url, and of ca_file, for messages after loading */
	char *at, *at_ca_file;
};

/* Network outputs keep what they cannot deliver on disk, in order, across restarts. */
struct config_spool {
	char *dir; /* "": no spool, memory only */
	uint64_t max_bytes;
	char *at_dir; /* "FILE:LINE:COLUMN" of dir; NULL: the default */
};

/* "chain": each event sealed into a hash chain (see chain.h). */
struct config_chain {
	char *key_file;	   /* NULL: no chain */
	char *at_key_file; /* "FILE:LINE:COLUMN" of key_file */
};

/*
 * Detection rules ("rules"): evaluated by the agent over the typed events
 * (rules/). A where is a conjunction of its members; a list member matches
 * when any of its entries does; an empty member matches everything.
 */
enum config_detect_kind {
	CONFIG_DETECT_THRESHOLD,  /* a measure over a sliding window reaches a value */
	CONFIG_DETECT_FIRST_SEEN, /* a key not seen before, after a learning period */
	CONFIG_DETECT_MATCH,	  /* every matching event */
	CONFIG_DETECT_SEQUENCE,	  /* steps in order, by the same group, within a time */
};

/* The fields rules group, key and count by, by their ECS names. */
enum config_field {
	CONFIG_FIELD_USER_NAME,	   /* user.name */
	CONFIG_FIELD_AUDIT_NAME,   /* user.audit.name: the login user; else user.name */
	CONFIG_FIELD_UID,	   /* user.id */
	CONFIG_FIELD_PID,	   /* process.pid */
	CONFIG_FIELD_COMM,	   /* process.name */
	CONFIG_FIELD_EXE,	   /* process.executable */
	CONFIG_FIELD_SESSION,	   /* process.session_id: the audit session */
	CONFIG_FIELD_RULE,	   /* custos.rule: the watch rule or endpoint */
	CONFIG_FIELD_FILE_PATH,	   /* file.path */
	CONFIG_FIELD_TABLE,	   /* custos.db.tables: each table of a statement */
	CONFIG_FIELD_DB_NAMESPACE, /* db.namespace */
	CONFIG_FIELD_DESTINATION,  /* destination.ip:port, or the unix socket's path */
	CONFIG_FIELD_MAX,
};

/* What a threshold rule adds up over its window. */
enum config_measure {
	CONFIG_MEASURE_COUNT,	      /* events */
	CONFIG_MEASURE_ROWS_OR_BYTES, /* rows of statements, bytes read from files and sockets */
	CONFIG_MEASURE_ROWS,	      /* db.response.returned_rows */
	CONFIG_MEASURE_BYTES_READ,    /* custos.io.bytes_read and bytes_received */
	CONFIG_MEASURE_BYTES_WRITTEN, /* custos.io.bytes_written and bytes_sent */
	CONFIG_MEASURE_DISTINCT,      /* distinct values of a field (distinct_field) */
};

/* event.category values a where may name (bits). */
#define CONFIG_CATEGORY_FILE	 (1u << 0)
#define CONFIG_CATEGORY_DATABASE (1u << 1)
#define CONFIG_CATEGORY_NETWORK	 (1u << 2)

/* Actions a where may name (bits): event.action values, and read/write. */
enum config_action {
	CONFIG_ACTION_OPEN,
	CONFIG_ACTION_CLOSE,
	CONFIG_ACTION_FLUSH,
	CONFIG_ACTION_MMAP,
	CONFIG_ACTION_TRUNCATE,
	CONFIG_ACTION_CHMOD,
	CONFIG_ACTION_CHOWN,
	CONFIG_ACTION_UNLINK,
	CONFIG_ACTION_RENAME,
	CONFIG_ACTION_QUERY,
	CONFIG_ACTION_CONNECT,
	CONFIG_ACTION_ACCEPT,
	/* An event that reads: a file opened for reading or a summary with bytes read, an
	 * mmap with PROT_READ, a statement that returns rows or is a SELECT/COPY TO, bytes
	 * received on a socket. */
	CONFIG_ACTION_READ,
	/* An event that writes: opened for writing, bytes written or sent, a statement that
	 * changes data (INSERT, UPDATE, DELETE, ...). */
	CONFIG_ACTION_WRITE,
	CONFIG_ACTION_MAX,
};

enum config_endpoint_match {
	CONFIG_ENDPOINT_ANY,
	CONFIG_ENDPOINT_WATCHED,   /* a configured endpoint */
	CONFIG_ENDPOINT_UNWATCHED, /* a connection of a session that read customer data to
				      an endpoint nobody configured (egress) */
};

struct tz;

/* Hours of the week: "08:00-19:00 Mon-Fri" in a time zone. */
struct config_hours {
	bool set;
	bool outside;		   /* outside_hours (else inside_hours) */
	uint16_t from_min, to_min; /* minutes since midnight; to < from wraps past midnight */
	uint8_t days;		   /* bit 0 Monday .. bit 6 Sunday */
	char *tz;		   /* an IANA zone ("Europe/Berlin"); NULL: the host's */
	struct tz *zone;	   /* tz loaded with the config (the host's /etc/localtime for
				      NULL, UTC without one); NULL when built by hand: the host's */
};

/*
 * Whether the instant real_ns (CLOCK_REALTIME, ns) is within h's days and
 * times in h's zone: from_min <= local minute < to_min on one of the days, or
 * when to_min < from_min, from from_min to midnight on one of the days and
 * on to to_min the next day (the night belongs to the day it starts on).
 * Ignores h->set and h->outside.
 */
bool config_hours_contains(const struct config_hours *h, int64_t real_ns);
/* What a where's hours ask of real_ns: true without hours, else contained, or not with outside. */
bool config_hours_match(const struct config_hours *h, int64_t real_ns);

struct config_where {
	uint32_t categories; /* CONFIG_CATEGORY_*; 0: any */
	uint32_t actions;    /* 1 << enum config_action; 0: any */
	char **tags;	     /* custos.tags has one of these */
	size_t n_tags;
	char **rules; /* custos.rule is one of these */
	size_t n_rules;
	char **users; /* user.name (or user.id as a number) */
	size_t n_users;
	char **login_users; /* user.audit.name (or user.audit.id) */
	size_t n_login_users;
	char **comms; /* process.name, exact */
	size_t n_comms;
	char **exes; /* process.executable: absolute paths or globs */
	size_t n_exes;
	char **tables; /* a table the statement names: names or globs, as databases.tables */
	size_t n_tables;
	char **operations; /* db.operation.name, upper case: SELECT, COPY... */
	size_t n_operations;
	enum config_endpoint_match endpoint;
	bool outside_watch; /* a file event outside every watched tree (egress) */
	bool removable;	    /* a file event on a removable device */
	struct config_hours hours;
};

/* One step of a sequence rule. */
struct config_step {
	struct config_where where;
};

#define CONFIG_DETECT_RULES_MAX	 256
#define CONFIG_DETECT_GROUP_MAX	 4 /* fields in group_by, key or by */
#define CONFIG_DETECT_STEPS_MAX	 8
#define CONFIG_DETECT_WINDOW_MAX (31LL * 86400) /* over, within: at most 31 days */
#define CONFIG_DETECT_LEARN_MAX	 (365LL * 86400)

struct config_detect_rule {
	char *name;    /* unique; also names a built-in rule it replaces */
	bool disabled; /* "enabled": false: removes the built-in rule of that name */
	enum config_detect_kind kind;
	char *description;	   /* rule.description; NULL: a default from the kind */
	char *technique;	   /* threat.technique.id: "T1213"; NULL: none */
	char *severity;		   /* "low", "medium", "high", "critical"; NULL: "medium" */
	struct config_where where; /* threshold, first_seen, match */
	enum config_field group_by[CONFIG_DETECT_GROUP_MAX]; /* threshold: group_by; first_seen:
								 key; sequence: by */
	size_t n_group_by;
	enum config_measure measure;	  /* threshold */
	enum config_field distinct_field; /* CONFIG_MEASURE_DISTINCT */
	uint64_t at_least;		  /* threshold: the value that fires */
	int64_t window_s;		  /* threshold: over; sequence: within */
	char *window_text;		  /* as configured: "10m" */
	int64_t learn_s;	   /* first_seen: keys seen in this first period are learned */
	struct config_step *steps; /* sequence */
	size_t n_steps;
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
	struct config_detect_rule *detect; /* "rules": the built-in pack merged with the config's */
	size_t n_detect;
	bool no_builtin_rules; /* "builtin_rules": false */
	char *state_dir;       /* NULL: CONFIG_STATE_DIR_DEFAULT */
	char *control_socket;  /* custos status and trace talk to the agent there; "": none */
	char **includes;       /* the include files merged in, in order */
	size_t n_includes;
};

struct config_error {
	char source[256]; /* "": the message names its file itself (a file refused as untrusted) */
	int line;	  /* 1-based; 0 when the error has no position (e.g. unreadable file) */
	int column;	  /* 1-based */
	char message[512];
};

/* "source:line:column: message", or "source: message" without a position. */
void config_error_format(const struct config_error *err, char *buf, size_t len);

/*
 * Parse and validate; NULL with *err filled (and errno set) on failure. A
 * file's include files are merged in: those of its "include_dir", by
 * default conf.d next to it (docs/config.md, "Include files").
 */
struct config *config_load_file(const char *path, struct config_error *err);

enum config_load_flags {
	/*
	 * The agent's own config: the file, its include directory and each
	 * include file must be ones only root can change (lib/trust.h).
	 */
	CONFIG_LOAD_TRUSTED = 1 << 0,
};
struct config *config_load(const char *path, unsigned int flags, struct config_error *err);
struct config *config_load_string(const char *text, const char *source, struct config_error *err);

/* The built-in detection rules ("rules" of a config is merged with them), as JSON text. */
const char *config_builtin_rules_text(void);

/* The compiled-in configuration, and its text (documented in README.md). */
const char *config_default_text(void);
struct config *config_load_default(void);

/* A one-rule config named "trace" watching paths, for `custos trace --path`. */
struct config *config_from_paths(char *const *paths, size_t n_paths);

void config_free(struct config *cfg);

#endif /* CUSTOS_CONFIG_H */
