/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The typed event: what a kernel record (or the agent itself) says, decoded
 * once, before it is anything else. The filters of trace, the human line
 * and the JSON encoder read it; nothing reads an event back from its JSON.
 * Pointers are borrowed: an event lives for the call that emits it.
 */
#ifndef CUSTOS_EVENT_H
#define CUSTOS_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>
#include "encode/jsonw.h"
#include "encode/sql.h"
#include "lib/uuid.h"

enum event_kind {
	EVENT_FILE_OPEN, /* an open of a watched file, or a use by a process that did not open it */
	EVENT_FILE_SUMMARY, /* what one process did through an open file since its last summary */
	EVENT_FILE_MMAP,
	EVENT_FILE_CHANGE,  /* truncate, chmod, chown, unlink, rename */
	EVENT_FILE_DENIED,  /* an open refused with EACCES or EPERM */
	EVENT_DB_STATEMENT, /* one SQL statement executed */
	EVENT_NET_CONNECT,  /* a connect to, or an accept on, a watched endpoint */
	EVENT_AGENT,	    /* the agent's own: start, heartbeat, gap, reload, stop */
	EVENT_ALERT,	    /* a detection rule fired (rules/) */
};

/*
 * Who did it: a thread's identity and the names it resolves to. Built once
 * per identity and shared by its events (encode_who()): json holds its
 * process.*, user.*, group.*, container.* members and custos_process the
 * members of custos.process, written once; ocsf_actor and ocsf_unmapped the
 * same in OCSF's shape (ocsf.h).
 */
struct event_who {
	struct custos_task task;
	char *exe; /* NULL: unknown */
	size_t exe_len;
	char *user_name, *audit_name; /* NULL: unknown */
	struct jsonw_fragment json;
	struct jsonw_fragment custos_process;
	/* OCSF: the members of actor (process, user), and those of unmapped (user, process). */
	struct jsonw_fragment ocsf_actor, ocsf_unmapped;
	bool container; /* has a container id (OCSF's container profile) */
};

/* The agent that wrote the event: agent.* of every line, and process.* of its own events. */
struct event_agent_id {
	char id[UUID_STR_LEN];		 /* agent.id: stable per host (STATE_DIR/agent-id) */
	char ephemeral_id[UUID_STR_LEN]; /* agent.ephemeral_id: new at each start */
	const char *version;
	uint32_t pid;
	char exe[256]; /* "": unknown */
};

/*
 * The rule that matched, and its tags; name NULL when the rule is unknown
 * (null in JSON), and for egress.
 */
struct event_rule {
	char *name;
	char **tags;
	size_t n_tags;
	bool endpoint;	   /* a network endpoint's, not a watch rule's */
	char *unix_path;   /* a unix socket endpoint's path */
	const char *parse; /* the database protocol its sockets are parsed as, or NULL */
	/*
	 * No configured rule: egress (CUSTOS_RULE_EGRESS) of a session that
	 * read customer data. A network event: a connection to an endpoint no
	 * rule names; a file event: a file written anew outside every watched
	 * tree. Its events say which read it followed (struct event_egress).
	 */
	bool egress;
};

/* An egress event's cause: the session's last read of customer data before it. */
struct event_egress {
	const struct event_rule *read_rule; /* the watch rule of the file it read */
	int64_t read_ns;		    /* when it opened it, since the epoch */
};

/* A socket's two ends: source.*, destination.*, network.* of its events. */
struct event_net {
	uint8_t family;	   /* enum custos_net_family */
	uint8_t transport; /* IPPROTO_TCP, IPPROTO_UDP */
	bool accepted;	   /* accepted on a listening socket (ingress); else a connect (egress) */
	bool in_progress;  /* a non-blocking connect under way (EINPROGRESS) */
	bool existing;	   /* connected before the agent started (found at start) */
	uint16_t local_port, remote_port;
	uint8_t local_addr[16], remote_addr[16];
	const char *unix_path;	/* family CUSTOS_NET_UNIX: the endpoint's socket file */
	const char *protocol;	/* network.protocol: the database protocol it is parsed as */
	bool tls;		/* the parsed protocol turned to TLS: only bytes are counted */
	const char *parse_lost; /* why the kernel stopped following the protocol, or NULL */
};

struct event_file {
	const char *path; /* bytes; path_len 0: unknown */
	size_t path_len;
	bool has_identity; /* inode and device known */
	uint64_t ino;
	uint32_t dev;
	uint32_t mode;	/* 0: type, mode and owner unknown */
	bool has_owner; /* owner_uid, owner_gid known */
	uint32_t owner_uid, owner_gid;
	const char *owner, *group; /* their names, NULL: unknown */
	bool path_truncated;
	bool deleted;
	bool has_size;
	uint64_t size;
	bool removable; /* egress: the filesystem is on a removable disk (USB stick, SD card) */
};

struct event_open {
	bool has_flags;
	uint32_t flags;
	bool has_fd;
	int32_t fd;
	uint8_t via;	 /* enum custos_open_via */
	bool shared;	 /* used by a process that did not open it */
	uint32_t opener; /* its opener's pid, when shared */
};

struct event_summary {
	struct custos_io since; /* since the previous summary */
	uint64_t total_bytes_read, total_bytes_written;
	const char *reason; /* close, exit, exec, flush, unobserved, evicted */
	bool final;
	bool incomplete;
};

struct event_mmap {
	uint64_t length, offset;
	uint32_t prot, flags;
};

struct event_change {
	uint32_t op; /* enum custos_change_op */
	uint64_t arg;
	uint32_t arg2;
	const char *rename_from; /* a rename's old name (bytes) */
	size_t rename_from_len;
	bool left_watch; /* renamed out of every watch */
};

struct event_db {
	const char *system;
	const char *text; /* the statement, redacted unless raw text is asked for; NULL: unknown */
	size_t text_len;
	bool truncated;
	const struct sql_info *info; /* operation and tables; NULL when the text is unknown */
	bool customer_data;	     /* names a configured table: tags are the databases' tags */
	char *const *tags;
	size_t n_tags;
	const char *namespace, *user, *host, *port, *socket;
	int64_t rows;	  /* -1: unknown */
	int64_t affected; /* -1: unknown */
	const char *prepared_name;
	uint64_t duration_ns; /* 0: unknown */
	const char *source;   /* custos.db.source: "library" (client probes) or "wire" */
	bool incomplete;      /* the connection ended before the statement's outcome came */
};

/* A field a rule grouped by, and its value, as text. */
struct event_alert_field {
	const char *name; /* ECS name: "user.audit.name" */
	const char *value;
};

#define EVENT_ALERT_EVIDENCE_MAX 32 /* seq numbers listed; count says how many there were */

struct event_alert {
	const char *rule_name, *rule_id, *description, *severity;
	const char *rule_kind; /* threshold, first_seen, match, sequence */
	const char *technique_id, *technique_name, *tactic_id, *tactic_name; /* NULL: none */
	int64_t start_ns, end_ns; /* the window the value was taken over (real time) */
	const char *window;	  /* as configured ("10m"); NULL: none */
	bool has_value;
	uint64_t value, threshold;
	const struct event_alert_field *group;
	size_t n_group;
	const uint64_t *evidence; /* seq numbers of the events behind it, at most
				     EVENT_ALERT_EVIDENCE_MAX */
	size_t n_evidence;
	uint64_t evidence_count;
	uint64_t suppressed; /* alerts of this rule and group not sent since the last one */
};

struct event {
	enum event_kind kind;
	uint64_t seq;
	int64_t time_ns; /* since the epoch */
	const char *category, *type /* "access,denied" */, *action, *outcome, *dataset;
	const char *ecs_kind; /* event.kind: NULL for "event"; "alert", "metric" */
	const char *host;
	const struct event_agent_id *agent_id; /* NULL: no agent.* (tests) */
	const char *chain; /* custos.chain until the output seals the line; NULL: no chain */
	const struct event_who *who;
	const struct event_rule *rule;	   /* NULL: no custos.rule */
	const struct event_egress *egress; /* rule->egress: the read it followed; NULL: unknown */
	const struct event_file *file;
	const struct event_net *net;		/* a socket's events: NULL for files */
	uint64_t open_id;			/* 0: none */
	const char *error_code, *error_message; /* error.*; message bytes */
	size_t error_message_len;
	union {
		struct event_open open;
		struct event_summary summary;
		struct event_mmap mmap;
		struct event_change change;
		struct event_db db;
		json_t *agent; /* the agent's custos.* members */
		struct event_alert alert_info;
	};
};

#endif /* CUSTOS_EVENT_H */
