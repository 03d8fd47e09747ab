// SPDX-License-Identifier: GPL-2.0
/*
 * "rules" and "builtin_rules": the detection rules the agent evaluates over
 * its events (user/rules/), and the built-in pack they are merged with.
 *
 * The pack is JSON text parsed by this same grammar (an error in it is a
 * bug, which a unit test would catch). A rule of the config named like a
 * built-in rule replaces it in place, "enabled": false removes it,
 * "builtin_rules": false drops the pack; cfg->detect is the built-in rules
 * in pack order, then the config's others in config order.
 *
 * Besides each value, a rule is checked as a whole: conditions that no
 * event can meet together (an "endpoint" where only file events are
 * allowed, a sum of rows over file events, steps that are all the same...)
 * are refused, so a rule that can never fire is an error rather than a
 * silence. Every error names the element: rules[2].steps[1].where.tags[0].
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "lib/tz.h"

#define N_OF(a)		(sizeof(a) / sizeof((a)[0]))
#define CATEGORIES_ALL	(CONFIG_CATEGORY_FILE | CONFIG_CATEGORY_DATABASE | CONFIG_CATEGORY_NETWORK)
#define DESCRIPTION_MAX 1024
#define ITEM_MAX	255 /* bytes of a tag or a table pattern */
#define USER_NAME_MAX	32  /* as useradd allows */
#define OPERATION_MAX	31  /* the bytes of db.operation.name the agent keeps */
#define UID_MAX_VALID	4294967294LL
#define DURATION_DIGITS 9
#define MATCH_OVER	"10m" /* a match rule's default suppression window */
#define LEARN_DEFAULT	(7 * 86400)

/* The built-in pack (docs/config.md, "Built-in rules"). */
static const char builtin_text[] =
    "{\n"
    "  \"rules\": [\n"
    "    {\n"
    "      \"name\": \"bulk-read-rows\",\n"
    "      \"kind\": \"threshold\",\n"
    "      \"description\": \"One person read at least 10,000 rows of customer-data tables within "
    "10 minutes\",\n"
    "      \"technique\": \"T1213\",\n"
    "      \"severity\": \"high\",\n"
    "      \"where\": {\"tags\": [\"customer-data\"], \"category\": \"database\", \"action\": "
    "\"read\"},\n"
    "      \"group_by\": [\"user.audit.name\"],\n"
    "      \"sum\": \"db.response.returned_rows\",\n"
    "      \"over\": \"10m\",\n"
    "      \"at_least\": 10000\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"bulk-read-bytes\",\n"
    "      \"kind\": \"threshold\",\n"
    "      \"description\": \"One person read at least 100 MiB of customer-data files and "
    "endpoints within 10 minutes\",\n"
    "      \"technique\": \"T1005\",\n"
    "      \"severity\": \"high\",\n"
    "      \"where\": {\"tags\": [\"customer-data\"], \"category\": [\"file\", \"network\"], "
    "\"action\": \"read\"},\n"
    "      \"group_by\": [\"user.audit.name\"],\n"
    "      \"sum\": \"custos.io.bytes_read\",\n"
    "      \"over\": \"10m\",\n"
    "      \"at_least\": 104857600\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"many-files\",\n"
    "      \"kind\": \"threshold\",\n"
    "      \"description\": \"One person read at least 100 different customer-data files within 5 "
    "minutes\",\n"
    "      \"technique\": \"T1119\",\n"
    "      \"severity\": \"medium\",\n"
    "      \"where\": {\"tags\": [\"customer-data\"], \"category\": \"file\", \"action\": "
    "\"read\"},\n"
    "      \"group_by\": [\"user.audit.name\"],\n"
    "      \"distinct\": \"file.path\",\n"
    "      \"over\": \"5m\",\n"
    "      \"at_least\": 100\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"new-reader\",\n"
    "      \"kind\": \"first_seen\",\n"
    "      \"description\": \"A program read customer data under a watch rule for the first time, "
    "after 7 days of learning\",\n"
    "      \"technique\": \"T1005\",\n"
    "      \"severity\": \"low\",\n"
    "      \"where\": {\"tags\": [\"customer-data\"], \"action\": \"read\"},\n"
    "      \"key\": [\"process.executable\", \"custos.rule\"],\n"
    "      \"learn\": \"7d\"\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"read-then-send\",\n"
    "      \"kind\": \"sequence\",\n"
    "      \"description\": \"A session read customer data, then within 2 minutes talked to an "
    "endpoint nobody configured\",\n"
    "      \"technique\": \"T1048\",\n"
    "      \"severity\": \"high\",\n"
    "      \"by\": [\"process.session_id\"],\n"
    "      \"within\": \"2m\",\n"
    "      \"steps\": [\n"
    "        {\"where\": {\"tags\": [\"customer-data\"], \"action\": \"read\"}},\n"
    "        {\"where\": {\"category\": \"network\", \"endpoint\": \"unwatched\"}}\n"
    "      ]\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"copy-out\",\n"
    "      \"kind\": \"sequence\",\n"
    "      \"description\": \"A session read customer data, then within 10 minutes wrote a file "
    "outside every watched tree\",\n"
    "      \"technique\": \"T1074\",\n"
    "      \"severity\": \"medium\",\n"
    "      \"by\": [\"process.session_id\"],\n"
    "      \"within\": \"10m\",\n"
    "      \"steps\": [\n"
    "        {\"where\": {\"tags\": [\"customer-data\"], \"action\": \"read\"}},\n"
    "        {\"where\": {\"category\": \"file\", \"outside_watch\": true, \"action\": "
    "\"write\"}}\n"
    "      ]\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"removable-media\",\n"
    "      \"kind\": \"match\",\n"
    "      \"description\": \"A file outside every watched tree was written on a removable "
    "device\",\n"
    "      \"technique\": \"T1052\",\n"
    "      \"severity\": \"high\",\n"
    "      \"where\": {\"category\": \"file\", \"outside_watch\": true, \"removable\": true, "
    "\"action\": \"write\"}\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"db-dump-statement\",\n"
    "      \"kind\": \"match\",\n"
    "      \"description\": \"A COPY statement read a table out of the database\",\n"
    "      \"technique\": \"T1213\",\n"
    "      \"severity\": \"medium\",\n"
    "      \"where\": {\"category\": \"database\", \"operation\": \"COPY\", \"action\": \"read\"}\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"db-dump-tool\",\n"
    "      \"kind\": \"match\",\n"
    "      \"description\": \"A database dump tool (pg_dump, mysqldump...) sent statements\",\n"
    "      \"technique\": \"T1213\",\n"
    "      \"severity\": \"medium\",\n"
    "      \"where\": {\"category\": \"database\", \"comm\": [\"pg_dump\", \"pg_dumpall\", "
    "\"mysqldump\", \"mariadb-dump\"]}\n"
    "    }\n"
    "  ]\n"
    "}\n";

static const char *const detect_rule_keys[] = {
    "name",	"kind",	 "description", "technique", "severity", "enabled",  "where",
    "group_by", "count", "sum",		"distinct",  "over",	 "at_least", "key",
    "learn",	"by",	 "within",	"steps",     NULL,
};
/* Every kind takes these; the others depend on the kind. */
static const char *const common_keys[] = {"name",     "kind",	 "description", "technique",
					  "severity", "enabled", NULL};
static const char *const threshold_keys[] = {"where",	 "group_by", "count",	 "sum",
					     "distinct", "over",     "at_least", NULL};
static const char *const first_seen_keys[] = {"where", "key", "learn", NULL};
static const char *const match_keys[] = {"where", "group_by", "over", NULL};
static const char *const sequence_keys[] = {"by", "within", "steps", NULL};
static const char *const step_keys[] = {"where", NULL};
static const char *const where_keys[] = {
    "category",	 "action",	  "tags",	  "rule",      "user",	   "login_user",
    "comm",	 "exe",		  "table",	  "operation", "endpoint", "outside_watch",
    "removable", "outside_hours", "inside_hours", "tz",	       NULL,
};

static const char *const kind_names[] = {
    [CONFIG_DETECT_THRESHOLD] = "threshold",
    [CONFIG_DETECT_FIRST_SEEN] = "first_seen",
    [CONFIG_DETECT_MATCH] = "match",
    [CONFIG_DETECT_SEQUENCE] = "sequence",
};
static const char *const *const kind_keys[] = {
    [CONFIG_DETECT_THRESHOLD] = threshold_keys,
    [CONFIG_DETECT_FIRST_SEEN] = first_seen_keys,
    [CONFIG_DETECT_MATCH] = match_keys,
    [CONFIG_DETECT_SEQUENCE] = sequence_keys,
};

static const char *const severities[] = {"low", "medium", "high", "critical"};

/* Bit i of CONFIG_CATEGORY_*. */
static const char *const category_names[] = {"file", "database", "network"};

static const char *const action_names[CONFIG_ACTION_MAX] = {
    [CONFIG_ACTION_OPEN] = "open",	   [CONFIG_ACTION_CLOSE] = "close",
    [CONFIG_ACTION_FLUSH] = "flush",	   [CONFIG_ACTION_MMAP] = "mmap",
    [CONFIG_ACTION_TRUNCATE] = "truncate", [CONFIG_ACTION_CHMOD] = "chmod",
    [CONFIG_ACTION_CHOWN] = "chown",	   [CONFIG_ACTION_UNLINK] = "unlink",
    [CONFIG_ACTION_RENAME] = "rename",	   [CONFIG_ACTION_QUERY] = "query",
    [CONFIG_ACTION_CONNECT] = "connect",   [CONFIG_ACTION_ACCEPT] = "accept",
    [CONFIG_ACTION_READ] = "read",	   [CONFIG_ACTION_WRITE] = "write",
};

/* The categories of the events that have each action (user/events/). */
static const uint32_t action_categories[CONFIG_ACTION_MAX] = {
    /* a socket, as a file descriptor, is opened, summarised and closed like a file */
    [CONFIG_ACTION_OPEN] = CONFIG_CATEGORY_FILE | CONFIG_CATEGORY_NETWORK,
    [CONFIG_ACTION_CLOSE] = CONFIG_CATEGORY_FILE | CONFIG_CATEGORY_NETWORK,
    [CONFIG_ACTION_FLUSH] = CONFIG_CATEGORY_FILE | CONFIG_CATEGORY_NETWORK,
    [CONFIG_ACTION_MMAP] = CONFIG_CATEGORY_FILE,
    [CONFIG_ACTION_TRUNCATE] = CONFIG_CATEGORY_FILE,
    [CONFIG_ACTION_CHMOD] = CONFIG_CATEGORY_FILE,
    [CONFIG_ACTION_CHOWN] = CONFIG_CATEGORY_FILE,
    [CONFIG_ACTION_UNLINK] = CONFIG_CATEGORY_FILE,
    [CONFIG_ACTION_RENAME] = CONFIG_CATEGORY_FILE,
    [CONFIG_ACTION_QUERY] = CONFIG_CATEGORY_DATABASE,
    [CONFIG_ACTION_CONNECT] = CONFIG_CATEGORY_NETWORK,
    [CONFIG_ACTION_ACCEPT] = CONFIG_CATEGORY_NETWORK,
    [CONFIG_ACTION_READ] = CATEGORIES_ALL,
    [CONFIG_ACTION_WRITE] = CATEGORIES_ALL,
};

static const char *const endpoint_names[] = {
    [CONFIG_ENDPOINT_ANY] = "any",
    [CONFIG_ENDPOINT_WATCHED] = "watched",
    [CONFIG_ENDPOINT_UNWATCHED] = "unwatched",
};

static const char *const day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

/* What "sum" adds up, and the events that have it. */
static const struct {
	const char *name;
	enum config_measure measure;
	uint32_t categories;
} sums[] = {
    {"rows_or_bytes", CONFIG_MEASURE_ROWS_OR_BYTES, CATEGORIES_ALL},
    {"db.response.returned_rows", CONFIG_MEASURE_ROWS, CONFIG_CATEGORY_DATABASE},
    {"custos.io.bytes_read", CONFIG_MEASURE_BYTES_READ,
     CONFIG_CATEGORY_FILE | CONFIG_CATEGORY_NETWORK},
    {"custos.io.bytes_written", CONFIG_MEASURE_BYTES_WRITTEN,
     CONFIG_CATEGORY_FILE | CONFIG_CATEGORY_NETWORK},
};

/* Fields by their ECS names, and the events that have them. */
static const struct {
	const char *name;
	enum config_field field;
	uint32_t categories;
} fields[] = {
    {"user.name", CONFIG_FIELD_USER_NAME, CATEGORIES_ALL},
    {"user.audit.name", CONFIG_FIELD_AUDIT_NAME, CATEGORIES_ALL},
    {"user.id", CONFIG_FIELD_UID, CATEGORIES_ALL},
    {"process.pid", CONFIG_FIELD_PID, CATEGORIES_ALL},
    {"process.name", CONFIG_FIELD_COMM, CATEGORIES_ALL},
    {"process.executable", CONFIG_FIELD_EXE, CATEGORIES_ALL},
    {"process.session_id", CONFIG_FIELD_SESSION, CATEGORIES_ALL},
    {"custos.rule", CONFIG_FIELD_RULE, CATEGORIES_ALL},
    {"file.path", CONFIG_FIELD_FILE_PATH, CONFIG_CATEGORY_FILE},
    {"custos.db.tables", CONFIG_FIELD_TABLE, CONFIG_CATEGORY_DATABASE},
    {"db.collection.name", CONFIG_FIELD_TABLE, CONFIG_CATEGORY_DATABASE}, /* ECS's name */
    {"db.namespace", CONFIG_FIELD_DB_NAMESPACE, CONFIG_CATEGORY_DATABASE},
    /* a statement read from a database protocol has its server's address too */
    {"destination.address", CONFIG_FIELD_DESTINATION,
     CONFIG_CATEGORY_NETWORK | CONFIG_CATEGORY_DATABASE},
};

static const char categories_expected[] = "\"file\", \"database\" or \"network\"";
static const char fields_expected[] =
    "user.name, user.audit.name, user.id, process.pid, process.name, process.executable, "
    "process.session_id, custos.rule, file.path, custos.db.tables (or db.collection.name), "
    "db.namespace, destination.address";
static const char duration_expected[] =
    "a whole number and a unit, s, m, h or d: \"30s\", \"10m\", \"2h\", \"7d\"";
static const char hours_expected[] =
    "\"HH:MM-HH:MM\", optionally followed by days: \"08:00-19:00 Mon-Fri\", \"22:00-06:00 "
    "Sat,Sun\"";
static const char name_expected[] =
    "1 to " STR(CONFIG_RULE_NAME_MAX) " characters from A-Z, a-z, 0-9, '.', '_' and '-'";

struct detect_ctx {
	struct parser *p;
	/* The config whose watch rules, endpoints and tags a where may name; NULL for the
	 * built-in pack, which names none of them. */
	const struct config *cfg;
};

/* The categories of events a where allows, and which keys narrowed them, for messages. */
struct narrowing {
	uint32_t categories;
	char by[96];	/* "\"category\", \"action\"" */
	char where[64]; /* "rules[2].steps[1].where" */
};

const char *config_builtin_rules_text(void)
{
	return builtin_text;
}

static bool valid_name(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= CONFIG_RULE_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
		   len;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

/* "\"a\", \"b\" or \"c\"" of the names (NULL ones skipped), cut to fit. */
static const char *join_names(char *buf, size_t size, const char *const *names, size_t n)
{
	size_t i, o = 0, k = 0, count = 0;

	for (i = 0; i < n; i++)
		count += names[i] != NULL;
	buf[0] = '\0';
	for (i = 0; i < n && o < size; i++) {
		if (!names[i])
			continue;
		o += snprintf(buf + o, size - o, "%s\"%s\"",
			      k == 0	       ? ""
			      : k == count - 1 ? " or "
					       : ", ",
			      names[i]);
		k++;
	}
	return buf;
}

/* "file", "file or network", "file, database or network". */
static const char *categories_text(char *buf, size_t size, uint32_t categories)
{
	const char *names[N_OF(category_names)] = {0};
	size_t i, o = 0, k = 0, count = 0;

	for (i = 0; i < N_OF(category_names); i++)
		if (categories & 1u << i)
			names[count++] = category_names[i];
	buf[0] = '\0';
	for (i = 0; i < count && o < size; i++, k++)
		o += snprintf(buf + o, size - o, "%s%s",
			      k == 0	       ? ""
			      : k == count - 1 ? " or "
					       : ", ",
			      names[i]);
	return buf;
}

/* An error about element index of w's member key (or the member): its label, then fmt:
 * "rules[0].where.tags[1]" ": \"x\" is ..." or " is empty ...". */
static int __attribute__((format(printf, 5, 6)))
fail_item(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
	  const char *fmt, ...)
{
	char label[96], msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(c->p, w, key, index, false, "%s%s",
		    item_label(label, sizeof(label), w, key, index), msg);
}

static int missing(struct detect_ctx *c, const struct where *w, const char *key,
		   const char *expected)
{
	return fail(c->p, w, NULL, NO_INDEX, false, "missing key \"%s\" in %s (expected %s)", key,
		    w->label, expected);
}

/* s: 1 to max bytes without control characters. */
static int check_text(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
		      const char *s, size_t max, const char *expected)
{
	char q[QUOTE_MAX];

	if (!*s)
		return fail_item(c, w, key, index, " is empty (expected %s)", expected);
	if (has_control(s))
		return fail_item(c, w, key, index,
				 ": %s contains a control character (expected %s without control "
				 "characters)",
				 quote(q, s), expected);
	if (strlen(s) > max)
		return fail_item(c, w, key, index,
				 ": %s is %zu bytes long (expected %s, at most %zu bytes)",
				 quote(q, s), strlen(s), expected, max);
	return 0;
}

/* A string member, one of names (NULL entries skipped), by index. */
static int parse_choice(struct detect_ctx *c, const struct where *w, json_t *obj, const char *key,
			const char *const *names, size_t n, int *value)
{
	json_t *v = json_object_get(obj, key);
	char label[192], q[QUOTE_MAX], expected[256];
	size_t i;

	if (!v)
		return 0;
	join_names(expected, sizeof(expected), names, n);
	if (!json_is_string(v))
		return fail(c->p, w, key, NO_INDEX, false,
			    "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, key), type_name(v), expected);
	for (i = 0; i < n; i++) {
		if (names[i] && !strcmp(names[i], json_string_value(v))) {
			*value = i;
			return 0;
		}
	}
	return fail(c->p, w, key, NO_INDEX, false, "%s is %s (expected %s)",
		    key_label(label, sizeof(label), w, key), quote(q, json_string_value(v)),
		    expected);
}

/* Where lists: strings, or (users) uids; each checked, and kept when strv is not NULL. */

typedef int (*item_check)(struct detect_ctx *c, const struct where *w, const char *key,
			  size_t index, char *s, void *arg);

/* The member key of obj: a string, or a non-empty array of them; check() sees each. */
static int each_item(struct detect_ctx *c, const struct where *w, json_t *obj, const char *key,
		     const char *expected, bool uids, item_check check, void *arg, char ***strv,
		     size_t *n)
{
	json_t *v = json_object_get(obj, key), *e;
	char label[192], uid_text[16];
	size_t i, count, index;
	json_int_t uid;
	bool one;
	char *s;
	int r;

	if (!v)
		return 0;
	one = json_is_string(v) || (uids && json_is_integer(v));
	if (!one && !json_is_array(v))
		return fail(c->p, w, key, NO_INDEX, false,
			    "%s must be a string or an array of strings, not %s (expected %s)",
			    key_label(label, sizeof(label), w, key), type_name(v), expected);
	count = one ? 1 : json_array_size(v);
	if (count == 0)
		return fail(c->p, w, key, NO_INDEX, false,
			    "%s is empty (expected %s: at least one, or no \"%s\")",
			    key_label(label, sizeof(label), w, key), expected, key);
	if (strv) {
		*strv = calloc(count, sizeof(**strv));
		if (!*strv)
			return fail_nomem(c->p);
	}
	for (i = 0; i < count; i++) {
		index = one ? NO_INDEX : i;
		e = one ? v : json_array_get(v, i);
		if (uids && json_is_integer(e)) {
			uid = json_integer_value(e);
			if (uid < 0 || uid > UID_MAX_VALID)
				return fail_item(
				    c, w, key, index,
				    ": %lld is out of range (expected %s; a uid from 0 "
				    "to 4294967294)",
				    (long long)uid, expected);
			snprintf(uid_text, sizeof(uid_text), "%lld", (long long)uid);
			s = strdup(uid_text);
		} else if (json_is_string(e)) {
			s = strdup(json_string_value(e));
		} else {
			return fail_item(c, w, key, index,
					 " must be a string, not %s (expected %s)", type_name(e),
					 expected);
		}
		if (!s)
			return fail_nomem(c->p);
		r = check(c, w, key, index, s, arg);
		if (r < 0 || !strv) {
			free(s);
			if (r < 0)
				return r;
			continue;
		}
		(*strv)[(*n)++] = s;
	}
	return 0;
}

static int check_category(struct detect_ctx *c, const struct where *w, const char *key,
			  size_t index, char *s, void *arg)
{
	uint32_t *categories = arg;
	char q[QUOTE_MAX];
	size_t i;

	for (i = 0; i < N_OF(category_names); i++)
		if (!strcmp(s, category_names[i]))
			break;
	if (i == N_OF(category_names))
		return fail_item(c, w, key, index, ": %s is not a category (expected %s)",
				 quote(q, s), categories_expected);
	if (*categories & 1u << i)
		return fail_item(c, w, key, index,
				 ": %s is listed twice (expected each category once)", quote(q, s));
	*categories |= 1u << i;
	return 0;
}

struct action_arg {
	uint32_t actions;
	uint32_t categories; /* of "category", 0 without */
};

static int check_action(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
			char *s, void *arg)
{
	const char *fit[CONFIG_ACTION_MAX] = {0};
	char q[QUOTE_MAX], list[320], have[48], of[48];
	struct action_arg *a = arg;
	size_t i, j;

	for (i = 0; i < CONFIG_ACTION_MAX; i++)
		if (!strcmp(s, action_names[i]))
			break;
	if (i == CONFIG_ACTION_MAX)
		return fail_item(c, w, key, index, ": %s is not an action (expected %s)",
				 quote(q, s),
				 join_names(list, sizeof(list), action_names, CONFIG_ACTION_MAX));
	if (a->actions & 1u << i)
		return fail_item(c, w, key, index,
				 ": %s is listed twice (expected each action once)", quote(q, s));
	if (a->categories && !(action_categories[i] & a->categories)) {
		for (j = 0; j < CONFIG_ACTION_MAX; j++)
			if (action_categories[j] & a->categories)
				fit[j] = action_names[j];
		categories_text(have, sizeof(have), a->categories);
		return fail_item(
		    c, w, key, index,
		    ": %s is an action of %s events, and \"category\" of %s allows only "
		    "%s events: it can never match (expected an action of %s events: "
		    "%s)",
		    quote(q, s), categories_text(of, sizeof(of), action_categories[i]), w->label,
		    have, have, join_names(list, sizeof(list), fit, CONFIG_ACTION_MAX));
	}
	a->actions |= 1u << i;
	return 0;
}

/* Whether tags has tag; else each of tags not in list yet appended to it ("\"a\", \"b\""). */
static bool has_tag(char *const *tags, size_t n, const char *tag, char *list, size_t size)
{
	char quoted[QUOTE_MAX + 2];
	size_t i, o;

	for (i = 0; i < n; i++) {
		if (!strcmp(tags[i], tag))
			return true;
		snprintf(quoted, sizeof(quoted), "\"%s\"", tags[i]);
		o = strlen(list);
		if (!strstr(list, quoted) && o + strlen(quoted) + 3 < size)
			snprintf(list + o, size - o, "%s%s", o ? ", " : "", quoted);
	}
	return false;
}

/* The tags an event may carry: those of the watch rules, the endpoints and databases.tags. */
static bool tag_known(const struct config *cfg, const char *tag, char *list, size_t size)
{
	size_t i;

	list[0] = '\0';
	for (i = 0; i < cfg->n_rules; i++)
		if (has_tag(cfg->rules[i].tags, cfg->rules[i].n_tags, tag, list, size))
			return true;
	for (i = 0; i < cfg->n_endpoints; i++)
		if (has_tag(cfg->endpoints[i].tags, cfg->endpoints[i].n_tags, tag, list, size))
			return true;
	return has_tag(cfg->databases.tags, cfg->databases.n_tags, tag, list, size);
}

static int check_tag(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
		     char *s, void *arg)
{
	char q[QUOTE_MAX], list[256];
	int r = check_text(c, w, key, index, s, ITEM_MAX, "a tag");

	if (r < 0 || !c->cfg || tag_known(c->cfg, s, list, sizeof(list)))
		return r;
	return fail_item(c, w, key, index,
			 ": %s is a tag of no watch rule, endpoint or databases.tags, so no event "
			 "carries it (expected one of the tags configured: %s)",
			 quote(q, s), list[0] ? list : "there are none");
}

static int check_rule_name(struct detect_ctx *c, const struct where *w, const char *key,
			   size_t index, char *s, void *arg)
{
	char q[QUOTE_MAX], list[256];
	size_t i, o = 0;

	if (!valid_name(s))
		return fail_item(c, w, key, index, ": %s is not a rule name (expected %s)",
				 quote(q, s), name_expected);
	if (!c->cfg)
		return 0;
	list[0] = '\0';
	for (i = 0; i < c->cfg->n_rules; i++) {
		if (!strcmp(c->cfg->rules[i].name, s))
			return 0;
		if (o < sizeof(list))
			o += snprintf(list + o, sizeof(list) - o, "%s\"%s\"", o ? ", " : "",
				      c->cfg->rules[i].name);
	}
	for (i = 0; i < c->cfg->n_endpoints; i++) {
		if (!strcmp(c->cfg->endpoints[i].name, s))
			return 0;
		if (o < sizeof(list))
			o += snprintf(list + o, sizeof(list) - o, "%s\"%s\"", o ? ", " : "",
				      c->cfg->endpoints[i].name);
	}
	return fail_item(c, w, key, index,
			 ": %s is the name of no watch rule or endpoint, so no event has it in "
			 "custos.rule (expected one of: %s)",
			 quote(q, s), list);
}

static int check_user(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
		      char *s, void *arg)
{
	static const char expected[] = "a user name or a uid";
	char q[QUOTE_MAX];
	int r = check_text(c, w, key, index, s, USER_NAME_MAX, expected);

	if (r == 0 && strpbrk(s, " :/"))
		return fail_item(
		    c, w, key, index,
		    ": %s is not a user name (expected %s; a name has no spaces, ':' or "
		    "'/')",
		    quote(q, s), expected);
	return r;
}

static int check_comm(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
		      char *s, void *arg)
{
	return check_text(c, w, key, index, s, CONFIG_COMM_MAX,
			  "a process name as the kernel keeps it");
}

static int check_exe(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
		     char *s, void *arg)
{
	char q[QUOTE_MAX];
	int r = check_text(c, w, key, index, s, PATH_MAX - 1, "an absolute path or glob");

	if (r == 0 && s[0] != '/')
		return fail_item(c, w, key, index,
				 ": %s is not an absolute path (expected a path or glob starting "
				 "with \"/\")",
				 quote(q, s));
	return r;
}

static int check_table(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
		       char *s, void *arg)
{
	return check_text(c, w, key, index, s, ITEM_MAX,
			  "a table name or pattern (\"customers\", \"crm.*\")");
}

/* An SQL keyword, kept upper case as db.operation.name has it. */
static int check_operation(struct detect_ctx *c, const struct where *w, const char *key,
			   size_t index, char *s, void *arg)
{
	static const char expected[] = "an SQL keyword such as \"SELECT\" or \"COPY\"";
	char q[QUOTE_MAX];
	size_t len = strlen(s), i;

	if (len == 0 || len > OPERATION_MAX ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != len)
		return fail_item(c, w, key, index,
				 ": %s is not an SQL keyword (expected %s: 1 to %d letters)",
				 quote(q, s), expected, OPERATION_MAX);
	for (i = 0; i < len; i++)
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] -= 'a' - 'A';
	return 0;
}

/* "HH:MM", 00:00 to 23:59, or 24:00 for an end. */
static bool clock_time(const char **s, bool end, uint16_t *minutes)
{
	const char *p = *s;
	int h, m;

	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] != ':' || p[3] < '0' ||
	    p[3] > '9' || p[4] < '0' || p[4] > '9')
		return false;
	h = (p[0] - '0') * 10 + p[1] - '0';
	m = (p[3] - '0') * 10 + p[4] - '0';
	if (m > 59 || h > 24 || (h == 24 && (m || !end)))
		return false;
	*minutes = h * 60 + m;
	*s = p + 5;
	return true;
}

/* "Mon" (any case) to 0, ... "Sun" to 6; -1 if none. */
static int day_index(const char *s)
{
	size_t i;

	for (i = 0; i < N_OF(day_names); i++)
		if (!strncasecmp(s, day_names[i], 3))
			return i;
	return -1;
}

/* "Mon-Fri", "Sat,Sun", "Mon,Wed-Fri", "Fri-Mon" (a range may wrap past Sunday). */
static bool week_days(const char *s, uint8_t *days)
{
	int from, to, d;

	*days = 0;
	for (;;) {
		from = to = day_index(s);
		if (from < 0)
			return false;
		s += 3;
		if (*s == '-') {
			to = day_index(s + 1);
			if (to < 0)
				return false;
			s += 4;
		}
		for (d = from;; d = (d + 1) % 7) {
			*days |= 1u << d;
			if (d == to)
				break;
		}
		if (!*s)
			return true;
		if (*s++ != ',')
			return false;
		while (*s == ' ')
			s++;
	}
}

/* "outside_hours" or "inside_hours", and "tz", into h. */
static int parse_hours(struct detect_ctx *c, const struct where *w, json_t *obj,
		       struct config_hours *h)
{
	json_t *outside = json_object_get(obj, "outside_hours"),
	       *inside = json_object_get(obj, "inside_hours"), *v = outside ?: inside,
	       *tz = json_object_get(obj, "tz");
	const char *key = outside ? "outside_hours" : "inside_hours", *s, *p;
	char label[192], q[QUOTE_MAX], why[256];

	if (outside && inside)
		return fail(c->p, w, "inside_hours", NO_INDEX, true,
			    "%s has both \"outside_hours\" and \"inside_hours\" (expected one of "
			    "them)",
			    w->label);
	if (!v) {
		if (tz)
			return fail(c->p, w, "tz", NO_INDEX, true,
				    "\"tz\" of %s without \"outside_hours\" or \"inside_hours\" "
				    "(expected the hours the time zone is for, or no \"tz\")",
				    w->label);
		return 0;
	}
	if (!json_is_string(v))
		return fail(c->p, w, key, NO_INDEX, false,
			    "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, key), type_name(v), hours_expected);
	p = s = json_string_value(v);
	h->days = 0x7f;
	if (!clock_time(&p, false, &h->from_min) || *p++ != '-' ||
	    !clock_time(&p, true, &h->to_min) || (*p && (*p++ != ' ' || !week_days(p, &h->days))))
		return fail_item(c, w, key, NO_INDEX, ": %s is not hours of the week (expected %s)",
				 quote(q, s), hours_expected);
	if (h->from_min == h->to_min)
		return fail_item(
		    c, w, key, NO_INDEX,
		    ": %s starts and ends at the same time (expected a start and an end "
		    "that differ; \"00:00-24:00\" for whole days)",
		    quote(q, s));
	h->set = true;
	h->outside = outside != NULL;

	if (!tz) {
		h->zone = tz_load(NULL, why, sizeof(why));
		if (!h->zone)
			return errno == ENOMEM ? fail_nomem(c->p)
					       : fail_item(c, w, key, NO_INDEX,
							   ": the host's time zone cannot be used: "
							   "%s (expected \"tz\" with a zone name "
							   "such as \"Europe/Berlin\")",
							   why);
		return 0;
	}
	if (!json_is_string(tz))
		return fail(c->p, w, "tz", NO_INDEX, false,
			    "%s must be a string, not %s (expected a time zone name such as "
			    "\"Europe/Berlin\")",
			    key_label(label, sizeof(label), w, "tz"), type_name(tz));
	h->tz = strdup(json_string_value(tz));
	if (!h->tz)
		return fail_nomem(c->p);
	h->zone = tz_load(h->tz, why, sizeof(why));
	if (!h->zone)
		return errno == ENOMEM ? fail_nomem(c->p)
				       : fail_item(c, w, "tz", NO_INDEX,
						   ": %s: %s (expected an IANA time zone name such "
						   "as \"Europe/Berlin\", from " TZ_DIR ")",
						   quote(q, h->tz), why);
	return 0;
}

/*
 * A condition of key (value, if not NULL) holds only for events of categories:
 * refused when n allows none of them, else n narrowed to them.
 */
static int narrow(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
		  const char *value, const char *verb, uint32_t categories, const char *instead,
		  struct narrowing *n)
{
	char label[96], have[48], need[48];
	size_t o;

	if (categories & n->categories) {
		if ((categories & n->categories) != n->categories) {
			n->categories &= categories;
			o = strlen(n->by);
			snprintf(n->by + o, sizeof(n->by) - o, "%s\"%s\"", o ? ", " : "", key);
		}
		return 0;
	}
	categories_text(have, sizeof(have), n->categories);
	categories_text(need, sizeof(need), categories);
	return fail(c->p, w, key, index, false,
		    "%s%s%s %s %s events only, but %s allows only %s events (by %s): no event can "
		    "match, the rule can never fire (expected a where that allows %s events, or "
		    "%s)",
		    item_label(label, sizeof(label), w, key, index), value ? " " : "", value ?: "",
		    verb, need, n->where, have, n->by, need, instead);
}

/* Conditions that no event can meet together: refused, naming the key that contradicts. */
static int check_where(struct detect_ctx *c, const struct where *w, const struct config_where *wh,
		       struct narrowing *n)
{
	uint32_t categories = 0;
	char q[QUOTE_MAX];
	size_t i;
	int r = 0;

	if (wh->categories)
		narrow(c, w, "category", NO_INDEX, NULL, "allows", wh->categories, "", n);
	for (i = 0; i < CONFIG_ACTION_MAX; i++)
		if (wh->actions & 1u << i)
			categories |= action_categories[i];
	if (wh->actions) /* each action was checked against "category" already */
		narrow(c, w, "action", NO_INDEX, NULL, "allows", categories, "", n);
	if (wh->n_tables)
		r = narrow(c, w, "table", NO_INDEX, NULL, "applies to", CONFIG_CATEGORY_DATABASE,
			   "no \"table\"", n);
	if (r == 0 && wh->n_operations)
		r = narrow(c, w, "operation", NO_INDEX, NULL, "applies to",
			   CONFIG_CATEGORY_DATABASE, "no \"operation\"", n);
	if (r == 0 && wh->endpoint != CONFIG_ENDPOINT_ANY)
		r = narrow(c, w, "endpoint", NO_INDEX, quote(q, endpoint_names[wh->endpoint]),
			   "applies to", CONFIG_CATEGORY_NETWORK, "\"endpoint\": \"any\"", n);
	if (r == 0 && wh->outside_watch)
		r = narrow(c, w, "outside_watch", NO_INDEX, NULL, "applies to",
			   CONFIG_CATEGORY_FILE, "no \"outside_watch\"", n);
	if (r == 0 && wh->removable)
		r = narrow(c, w, "removable", NO_INDEX, NULL, "applies to", CONFIG_CATEGORY_FILE,
			   "no \"removable\"", n);
	if (r < 0)
		return r;
	/* What no watch rule or endpoint covers carries no custos.rule and no custos.tags. */
	if ((wh->outside_watch || wh->endpoint == CONFIG_ENDPOINT_UNWATCHED) &&
	    (wh->n_tags || wh->n_rules))
		return fail_item(
		    c, w, wh->n_tags ? "tags" : "rule", NO_INDEX,
		    ": %s asks for what no watch rule or endpoint covers, whose events "
		    "carry no custos.rule and no custos.tags: no event can match "
		    "(expected no \"%s\" here, or no %s)",
		    wh->outside_watch ? "\"outside_watch\": true" : "\"endpoint\": \"unwatched\"",
		    wh->n_tags ? "tags" : "rule",
		    wh->outside_watch ? "\"outside_watch\"" : "\"endpoint\"");
	return 0;
}

/*
 * The member "where" of parent's object into wh, and the categories it allows
 * into n. Without one, every event (unless required: match rules and steps,
 * which would fire on every event).
 */
static int parse_where(struct detect_ctx *c, const struct where *parent, json_t *parent_obj,
		       bool required, struct config_where *wh, struct narrowing *n)
{
	json_t *obj = json_object_get(parent_obj, "where");
	struct action_arg actions = {0};
	char label[192];
	struct where w;
	int endpoint = CONFIG_ENDPOINT_ANY, r;

	where_child(&w, parent, "where", NO_INDEX);
	n->categories = CATEGORIES_ALL;
	n->by[0] = '\0';
	snprintf(n->where, sizeof(n->where), "%s", w.dotted);
	if (!obj && !required)
		return 0;
	if (!obj)
		return missing(c, parent, "where",
			       "the events to match, such as {\"tags\": [\"customer-data\"], "
			       "\"action\": \"read\"}");
	if (!json_is_object(obj))
		return fail(c->p, parent, "where", NO_INDEX, false,
			    "%s must be an object, not %s (expected conditions such as {\"tags\": "
			    "[\"customer-data\"], \"action\": \"read\"})",
			    key_label(label, sizeof(label), parent, "where"), type_name(obj));
	if (required && json_object_size(obj) == 0)
		return fail(c->p, parent, "where", NO_INDEX, false,
			    "%s is empty, which every event matches (expected at least one "
			    "condition, such as \"tags\" or \"category\")",
			    key_label(label, sizeof(label), parent, "where"));
	r = check_keys(c->p, &w, obj, where_keys);
	if (r == 0)
		r = each_item(c, &w, obj, "category", categories_expected, false, check_category,
			      &wh->categories, NULL, NULL);
	actions.categories = wh->categories;
	if (r == 0)
		r = each_item(c, &w, obj, "action", "an action such as \"read\" or \"write\"",
			      false, check_action, &actions, NULL, NULL);
	wh->actions = actions.actions;
	if (r == 0)
		r = each_item(c, &w, obj, "tags", "a tag", false, check_tag, NULL, &wh->tags,
			      &wh->n_tags);
	if (r == 0)
		r = each_item(c, &w, obj, "rule", "the name of a watch rule or an endpoint", false,
			      check_rule_name, NULL, &wh->rules, &wh->n_rules);
	if (r == 0)
		r = each_item(c, &w, obj, "user", "a user name or a uid", true, check_user, NULL,
			      &wh->users, &wh->n_users);
	if (r == 0)
		r = each_item(c, &w, obj, "login_user", "a user name or a uid", true, check_user,
			      NULL, &wh->login_users, &wh->n_login_users);
	if (r == 0)
		r = each_item(c, &w, obj, "comm", "a process name", false, check_comm, NULL,
			      &wh->comms, &wh->n_comms);
	if (r == 0)
		r = each_item(c, &w, obj, "exe", "an absolute path or glob", false, check_exe, NULL,
			      &wh->exes, &wh->n_exes);
	if (r == 0)
		r = each_item(c, &w, obj, "table", "a table name or pattern", false, check_table,
			      NULL, &wh->tables, &wh->n_tables);
	if (r == 0)
		r = each_item(c, &w, obj, "operation", "an SQL keyword", false, check_operation,
			      NULL, &wh->operations, &wh->n_operations);
	if (r == 0)
		r = parse_choice(c, &w, obj, "endpoint", endpoint_names, N_OF(endpoint_names),
				 &endpoint);
	wh->endpoint = endpoint;
	if (r == 0)
		r = parse_bool(c->p, &w, obj, "outside_watch", &wh->outside_watch);
	if (r == 0)
		r = parse_bool(c->p, &w, obj, "removable", &wh->removable);
	if (r == 0)
		r = parse_hours(c, &w, obj, &wh->hours);
	return r ? r : check_where(c, &w, wh, n);
}

/* The field named s. */
static int field_of(struct detect_ctx *c, const struct where *w, const char *key, size_t index,
		    const char *s, enum config_field *field, uint32_t *categories)
{
	char q[QUOTE_MAX];
	size_t i;

	for (i = 0; i < N_OF(fields); i++) {
		if (!strcmp(fields[i].name, s)) {
			*field = fields[i].field;
			*categories = fields[i].categories;
			return 0;
		}
	}
	return fail_item(c, w, key, index, ": %s is not a field (expected one of %s)", quote(q, s),
			 fields_expected);
}

static uint32_t field_categories(enum config_field field)
{
	size_t i;

	for (i = 0; i < N_OF(fields); i++)
		if (fields[i].field == field)
			return fields[i].categories;
	return CATEGORIES_ALL;
}

/* group_by, key, by: 1 to CONFIG_DETECT_GROUP_MAX distinct fields. */
static int parse_fields(struct detect_ctx *c, const struct where *w, json_t *obj, const char *key,
			const char *example, enum config_field *out, size_t *n)
{
	json_t *v = json_object_get(obj, key), *e;
	char label[192], q[QUOTE_MAX];
	uint32_t categories;
	size_t i, j;
	int r;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return fail(c->p, w, key, NO_INDEX, false,
			    "%s must be an array of field names, not %s (expected 1 to %d fields "
			    "such as %s)",
			    key_label(label, sizeof(label), w, key), type_name(v),
			    CONFIG_DETECT_GROUP_MAX, example);
	if (json_array_size(v) == 0 || json_array_size(v) > CONFIG_DETECT_GROUP_MAX)
		return fail(c->p, w, key, NO_INDEX, false,
			    "%s has %zu fields (expected 1 to %d, such as %s)",
			    key_label(label, sizeof(label), w, key), json_array_size(v),
			    CONFIG_DETECT_GROUP_MAX, example);
	*n = 0;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return fail_item(c, w, key, i,
					 " must be a string, not %s (expected a field name: %s)",
					 type_name(e), fields_expected);
		r = field_of(c, w, key, i, json_string_value(e), &out[i], &categories);
		if (r < 0)
			return r;
		for (j = 0; j < i; j++)
			if (out[j] == out[i])
				return fail_item(
				    c, w, key, i,
				    ": %s is the field of %s[%zu] again (expected each "
				    "field once)",
				    quote(q, json_string_value(e)), key, j);
		*n = i + 1;
	}
	return 0;
}

/* The fields of key (group_by, key, by) exist in the events n allows. */
static int check_fields(struct detect_ctx *c, const struct where *w, const char *key,
			const enum config_field *f, size_t n_fields, const struct narrowing *n)
{
	struct narrowing copy;
	char q[QUOTE_MAX];
	size_t i, j;
	int r;

	for (i = 0; i < n_fields; i++) {
		copy = *n;
		for (j = 0; j < N_OF(fields) && fields[j].field != f[i]; j++)
			;
		r = narrow(c, w, key, i, quote(q, fields[j].name), "is a field of",
			   field_categories(f[i]), "another field", &copy);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "30s", "10m", "2h", "7d": seconds from min to max. */
static int parse_duration(struct detect_ctx *c, const struct where *w, json_t *obj, const char *key,
			  int64_t min, int64_t max, const char *range, int64_t *secs, char **text)
{
	json_t *v = json_object_get(obj, key);
	char label[192], q[QUOTE_MAX];
	const char *s, *unit;
	int64_t n = 0, mult;
	size_t digits;

	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(
		    c->p, w, key, NO_INDEX, false, "%s must be a string, not %s (expected %s)",
		    key_label(label, sizeof(label), w, key), type_name(v), duration_expected);
	s = json_string_value(v);
	digits = strspn(s, "0123456789");
	unit = s + digits;
	if (digits == 0 || digits > DURATION_DIGITS || !*unit || unit[1] || !strchr("smhd", *unit))
		return fail_item(c, w, key, NO_INDEX, ": %s is not a duration (expected %s)",
				 quote(q, s), duration_expected);
	mult = *unit == 's' ? 1 : *unit == 'm' ? 60 : *unit == 'h' ? 3600 : 86400;
	for (; s < unit; s++)
		n = n * 10 + (*s - '0');
	n *= mult;
	if (n < min || n > max)
		return fail_item(c, w, key, NO_INDEX, ": %s is out of range (expected %s)",
				 quote(q, json_string_value(v)), range);
	*secs = n;
	if (text) {
		free(*text);
		*text = strdup(json_string_value(v));
		if (!*text)
			return fail_nomem(c->p);
	}
	return 0;
}

/* count, sum or distinct: what a threshold rule adds up; and the events that have it. */
static int parse_measure(struct detect_ctx *c, const struct where *w, json_t *obj,
			 struct config_detect_rule *rule, const char **key, const char **value,
			 uint32_t *categories)
{
	static const char *const keys[] = {"count", "sum", "distinct"};
	static const char expected[] = "one of \"count\": true, \"sum\" or \"distinct\"";
	const char *sum_names[N_OF(sums)];
	char label[192], q[QUOTE_MAX], list[256];
	const char *first = NULL;
	json_t *v;
	size_t i;

	*key = NULL;
	for (i = 0; i < N_OF(keys); i++) {
		if (!json_object_get(obj, keys[i]))
			continue;
		if (first)
			return fail(
			    c->p, w, keys[i], NO_INDEX, true,
			    "%s has both \"%s\" and \"%s\" (expected %s: what the rule adds "
			    "up)",
			    w->label, first, keys[i], expected);
		first = keys[i];
	}
	rule->measure = CONFIG_MEASURE_COUNT;
	*categories = CATEGORIES_ALL;
	v = json_object_get(obj, "count");
	if (v && !json_is_true(v))
		return fail(c->p, w, "count", NO_INDEX, false,
			    "%s must be true, not %s (expected true to count events, or \"sum\" or "
			    "\"distinct\" instead of \"count\")",
			    key_label(label, sizeof(label), w, "count"),
			    json_is_false(v) ? "false" : type_name(v));
	v = json_object_get(obj, "sum");
	for (i = 0; i < N_OF(sums); i++)
		sum_names[i] = sums[i].name;
	join_names(list, sizeof(list), sum_names, N_OF(sums));
	if (v && !json_is_string(v))
		return fail(c->p, w, "sum", NO_INDEX, false,
			    "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, "sum"), type_name(v), list);
	if (v) {
		for (i = 0; i < N_OF(sums) && strcmp(sums[i].name, json_string_value(v)); i++)
			;
		if (i == N_OF(sums))
			return fail_item(c, w, "sum", NO_INDEX,
					 ": %s is not a value to add up (expected %s)",
					 quote(q, json_string_value(v)), list);
		rule->measure = sums[i].measure;
		*categories = sums[i].categories;
		*key = "sum";
		*value = sums[i].name;
	}
	v = json_object_get(obj, "distinct");
	if (v && !json_is_string(v))
		return fail(c->p, w, "distinct", NO_INDEX, false,
			    "%s must be a string, not %s (expected a field name: %s)",
			    key_label(label, sizeof(label), w, "distinct"), type_name(v),
			    fields_expected);
	if (v) {
		rule->measure = CONFIG_MEASURE_DISTINCT;
		*key = "distinct";
		*value = json_string_value(v);
		return field_of(c, w, "distinct", NO_INDEX, json_string_value(v),
				&rule->distinct_field, categories);
	}
	return 0;
}

static int parse_at_least(struct detect_ctx *c, const struct where *w, json_t *obj, uint64_t *value)
{
	json_t *v = json_object_get(obj, "at_least");
	char label[192];

	if (!v)
		return missing(c, w, "at_least",
			       "the value that fires the rule: an integer of at least 1");
	if (!json_is_integer(v))
		return fail(
		    c->p, w, "at_least", NO_INDEX, false,
		    "%s must be an integer, not %s (expected the value that fires the rule, "
		    "at least 1)",
		    key_label(label, sizeof(label), w, "at_least"), type_name(v));
	if (json_integer_value(v) < 1)
		return fail(c->p, w, "at_least", NO_INDEX, false,
			    "%s is %lld (expected at least 1)",
			    key_label(label, sizeof(label), w, "at_least"),
			    (long long)json_integer_value(v));
	*value = json_integer_value(v);
	return 0;
}

static const char window_range[] = "1s to 31d";

static int parse_threshold(struct detect_ctx *c, const struct where *w, json_t *obj,
			   struct config_detect_rule *rule)
{
	const char *key = NULL, *value = NULL;
	struct narrowing n;
	uint32_t categories;
	char q[QUOTE_MAX];
	int r;

	r = parse_where(c, w, obj, false, &rule->where, &n);
	if (r == 0 && !json_object_get(obj, "group_by"))
		r = missing(c, w, "group_by",
			    "1 to " STR(CONFIG_DETECT_GROUP_MAX) " fields such as "
								 "[\"user.audit.name\"]");
	if (r == 0)
		r = parse_fields(c, w, obj, "group_by", "[\"user.audit.name\"]", rule->group_by,
				 &rule->n_group_by);
	if (r == 0)
		r = parse_measure(c, w, obj, rule, &key, &value, &categories);
	if (r == 0 && !json_object_get(obj, "over"))
		r = missing(c, w, "over", "the window, a duration such as \"10m\"");
	if (r == 0)
		r = parse_duration(c, w, obj, "over", 1, CONFIG_DETECT_WINDOW_MAX, window_range,
				   &rule->window_s, &rule->window_text);
	if (r == 0)
		r = parse_at_least(c, w, obj, &rule->at_least);
	if (r == 0)
		r = check_fields(c, w, "group_by", rule->group_by, rule->n_group_by, &n);
	if (r == 0 && key)
		r = narrow(c, w, key, NO_INDEX, quote(q, value),
			   !strcmp(key, "sum") ? "adds up a value of" : "is a field of", categories,
			   !strcmp(key, "sum") ? "another \"sum\"" : "another field", &n);
	return r;
}

static int parse_first_seen(struct detect_ctx *c, const struct where *w, json_t *obj,
			    struct config_detect_rule *rule)
{
	struct narrowing n;
	int r;

	rule->learn_s = LEARN_DEFAULT;
	r = parse_where(c, w, obj, false, &rule->where, &n);
	if (r == 0 && !json_object_get(obj, "key"))
		r = missing(c, w, "key",
			    "1 to " STR(CONFIG_DETECT_GROUP_MAX) " fields such as "
								 "[\"process.executable\"]");
	if (r == 0)
		r = parse_fields(c, w, obj, "key", "[\"process.executable\", \"custos.rule\"]",
				 rule->group_by, &rule->n_group_by);
	if (r == 0)
		r = parse_duration(c, w, obj, "learn", 0, CONFIG_DETECT_LEARN_MAX, "0s to 365d",
				   &rule->learn_s, NULL);
	return r ? r : check_fields(c, w, "key", rule->group_by, rule->n_group_by, &n);
}

static int parse_match(struct detect_ctx *c, const struct where *w, json_t *obj,
		       struct config_detect_rule *rule)
{
	struct narrowing n;
	int r;

	rule->group_by[0] = CONFIG_FIELD_PID;
	rule->n_group_by = 1;
	rule->window_s = 600;
	rule->window_text = strdup(MATCH_OVER);
	if (!rule->window_text)
		return fail_nomem(c->p);
	r = parse_where(c, w, obj, true, &rule->where, &n);
	if (r == 0)
		r = parse_fields(c, w, obj, "group_by", "[\"process.pid\"]", rule->group_by,
				 &rule->n_group_by);
	if (r == 0)
		r = parse_duration(c, w, obj, "over", 1, CONFIG_DETECT_WINDOW_MAX, window_range,
				   &rule->window_s, &rule->window_text);
	return r ? r : check_fields(c, w, "group_by", rule->group_by, rule->n_group_by, &n);
}

static bool strv_equal(char *const *a, size_t n_a, char *const *b, size_t n_b)
{
	size_t i;

	if (n_a != n_b)
		return false;
	for (i = 0; i < n_a; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static bool where_equal(const struct config_where *a, const struct config_where *b)
{
	const struct config_hours *x = &a->hours, *y = &b->hours;

	return a->categories == b->categories && a->actions == b->actions &&
	       strv_equal(a->tags, a->n_tags, b->tags, b->n_tags) &&
	       strv_equal(a->rules, a->n_rules, b->rules, b->n_rules) &&
	       strv_equal(a->users, a->n_users, b->users, b->n_users) &&
	       strv_equal(a->login_users, a->n_login_users, b->login_users, b->n_login_users) &&
	       strv_equal(a->comms, a->n_comms, b->comms, b->n_comms) &&
	       strv_equal(a->exes, a->n_exes, b->exes, b->n_exes) &&
	       strv_equal(a->tables, a->n_tables, b->tables, b->n_tables) &&
	       strv_equal(a->operations, a->n_operations, b->operations, b->n_operations) &&
	       a->endpoint == b->endpoint && a->outside_watch == b->outside_watch &&
	       a->removable == b->removable && x->set == y->set &&
	       (!x->set ||
		(x->outside == y->outside && x->from_min == y->from_min && x->to_min == y->to_min &&
		 x->days == y->days && (x->tz && y->tz ? !strcmp(x->tz, y->tz) : x->tz == y->tz)));
}

static int parse_sequence(struct detect_ctx *c, const struct where *w, json_t *obj,
			  struct config_detect_rule *rule)
{
	struct narrowing n[CONFIG_DETECT_STEPS_MAX];
	json_t *steps, *step;
	char label[192];
	struct where sw;
	size_t i, count;
	int r;

	if (!json_object_get(obj, "by"))
		return missing(c, w, "by",
			       "the fields the steps share, such as [\"process.session_id\"]");
	r = parse_fields(c, w, obj, "by", "[\"process.session_id\"]", rule->group_by,
			 &rule->n_group_by);
	if (r == 0 && !json_object_get(obj, "within"))
		r = missing(c, w, "within",
			    "the time from the first step to the last, such as \"2m\"");
	if (r == 0)
		r = parse_duration(c, w, obj, "within", 1, CONFIG_DETECT_WINDOW_MAX, window_range,
				   &rule->window_s, &rule->window_text);
	if (r < 0)
		return r;
	steps = json_object_get(obj, "steps");
	if (!steps)
		return missing(c, w, "steps",
			       "2 to " STR(CONFIG_DETECT_STEPS_MAX) " steps such as [{\"where\": "
								    "{...}}, {\"where\": {...}}]");
	if (!json_is_array(steps))
		return fail(c->p, w, "steps", NO_INDEX, false,
			    "%s must be an array of steps, not %s (expected [{\"where\": {...}}, "
			    "{\"where\": {...}}])",
			    key_label(label, sizeof(label), w, "steps"), type_name(steps));
	count = json_array_size(steps);
	if (count < 2 || count > CONFIG_DETECT_STEPS_MAX)
		return fail(
		    c->p, w, "steps", NO_INDEX, false, "%s has %zu steps (expected 2 to %d)",
		    key_label(label, sizeof(label), w, "steps"), count, CONFIG_DETECT_STEPS_MAX);
	rule->steps = calloc(count, sizeof(*rule->steps));
	if (!rule->steps)
		return fail_nomem(c->p);
	json_array_foreach(steps, i, step)
	{
		if (!json_is_object(step))
			return fail_item(c, w, "steps", i,
					 " must be an object, not %s (expected {\"where\": {...}})",
					 type_name(step));
		where_child(&sw, w, "steps", i);
		r = check_keys(c->p, &sw, step, step_keys);
		rule->n_steps++;
		if (r == 0)
			r = parse_where(c, &sw, step, true, &rule->steps[i].where, &n[i]);
		if (r < 0)
			return r;
	}
	for (i = 0; i < count; i++) {
		r = check_fields(c, w, "by", rule->group_by, rule->n_group_by, &n[i]);
		if (r < 0)
			return r;
	}
	for (i = 1; i < count && where_equal(&rule->steps[0].where, &rule->steps[i].where); i++)
		;
	if (i == count)
		return fail(c->p, w, "steps", NO_INDEX, false,
			    "%s: its %zu steps are all the same (expected steps that differ; a "
			    "number of one kind of event is a \"threshold\" rule)",
			    item_label(label, sizeof(label), w, "steps", NO_INDEX), count);
	return 0;
}

/* "T1213" or "T1213.001": the shape of a MITRE ATT&CK technique id. */
static bool technique_shape(const char *s)
{
	return s[0] == 'T' && strspn(s + 1, "0123456789") == 4 &&
	       (!s[5] || (s[5] == '.' && strspn(s + 6, "0123456789") == 3 && !s[9]));
}

static int parse_text(struct detect_ctx *c, const struct where *w, json_t *obj, const char *key,
		      size_t max, const char *expected, char **value)
{
	json_t *v = json_object_get(obj, key);
	char label[192];
	int r;

	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(c->p, w, key, NO_INDEX, false,
			    "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, key), type_name(v), expected);
	r = check_text(c, w, key, NO_INDEX, json_string_value(v), max, expected);
	if (r < 0)
		return r;
	*value = strdup(json_string_value(v));
	return *value ? 0 : fail_nomem(c->p);
}

static void rule_where(struct where *w, size_t index, json_t *name)
{
	memset(w, 0, sizeof(*w));
	w->path[0] = JSON_KEY("rules");
	w->path[1] = JSON_INDEX(index);
	w->depth = 2;
	snprintf(w->dotted, sizeof(w->dotted), "rules[%zu]", index);
	if (json_is_string(name) && valid_name(json_string_value(name)))
		snprintf(w->label, sizeof(w->label), "%s (\"%s\")", w->dotted,
			 json_string_value(name));
	else
		snprintf(w->label, sizeof(w->label), "%s", w->dotted);
}

/* rules[index] into rules[index]; the rules before it are parsed already. */
static int parse_rule(struct detect_ctx *c, json_t *obj, size_t index,
		      struct config_detect_rule *rules)
{
	struct config_detect_rule *rule = &rules[index];
	json_t *name = json_object_get(obj, "name"), *v;
	char label[192], q[QUOTE_MAX], list[256];
	int kind = -1, severity = -1, r;
	const char *key, *s;
	bool enabled = true;
	struct where w;
	size_t i;

	rule_where(&w, index, name);
	r = check_keys(c->p, &w, obj, detect_rule_keys);
	if (r < 0)
		return r;
	if (!name)
		return missing(c, &w, "name",
			       "a detection rule name of 1 to " STR(
				   CONFIG_RULE_NAME_MAX) " characters from A-Z, "
							 "a-z, 0-9, '.', '_' and '-'");
	if (!json_is_string(name))
		return fail(
		    c->p, &w, "name", NO_INDEX, false, "%s must be a string, not %s (expected %s)",
		    key_label(label, sizeof(label), &w, "name"), type_name(name), name_expected);
	s = json_string_value(name);
	if (!valid_name(s))
		return fail_item(c, &w, "name", NO_INDEX,
				 ": %s is not a valid rule name (expected %s)", quote(q, s),
				 name_expected);
	for (i = 0; i < index; i++)
		if (!strcmp(rules[i].name, s))
			return fail(c->p, &w, "name", NO_INDEX, false,
				    "\"name\" \"%s\" is used by rules[%zu] and rules[%zu] "
				    "(detection rule names must be unique)",
				    s, i, index);
	rule->name = strdup(s);
	if (!rule->name)
		return fail_nomem(c->p);

	r = parse_bool(c->p, &w, obj, "enabled", &enabled);
	if (r < 0)
		return r;
	if (!enabled) {
		rule->disabled = true;
		json_object_foreach(obj, key, v)
		{
			if (strcmp(key, "name") && strcmp(key, "enabled"))
				return fail(c->p, &w, key, NO_INDEX, true,
					    "%s has \"enabled\": false and \"%s\" (expected only "
					    "\"name\" and \"enabled\": false, which removes the "
					    "built-in rule of that name)",
					    w.label, key);
		}
		return 0;
	}

	if (!json_object_get(obj, "kind"))
		return missing(c, &w, "kind",
			       join_names(list, sizeof(list), kind_names, N_OF(kind_names)));
	r = parse_choice(c, &w, obj, "kind", kind_names, N_OF(kind_names), &kind);
	if (r < 0)
		return r;
	rule->kind = kind;
	json_object_foreach(obj, key, v)
	{
		if (in_list(common_keys, key) || in_list(kind_keys[kind], key))
			continue;
		for (i = 0, list[0] = '\0'; kind_keys[kind][i]; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", kind_keys[kind][i]);
		return fail(c->p, &w, key, NO_INDEX, true,
			    "\"%s\" does not apply to a rule of kind \"%s\" (expected the keys of "
			    "a %s rule: %s)",
			    key, kind_names[kind], kind_names[kind], list);
	}
	r = parse_text(c, &w, obj, "description", DESCRIPTION_MAX, "a description of the rule",
		       &rule->description);
	if (r == 0)
		r = parse_text(c, &w, obj, "technique", 32,
			       "a MITRE ATT&CK technique id such as \"T1213\" or \"T1213.001\"",
			       &rule->technique);
	if (r == 0 && rule->technique && !technique_shape(rule->technique))
		return fail_item(c, &w, "technique", NO_INDEX,
				 ": %s is not a technique id (expected a MITRE ATT&CK technique id "
				 "such as \"T1213\" or \"T1213.001\")",
				 quote(q, rule->technique));
	if (r == 0)
		r = parse_choice(c, &w, obj, "severity", severities, N_OF(severities), &severity);
	if (r == 0 && severity >= 0) {
		rule->severity = strdup(severities[severity]);
		if (!rule->severity)
			return fail_nomem(c->p);
	}
	if (r < 0)
		return r;
	switch (rule->kind) {
	case CONFIG_DETECT_THRESHOLD:
		return parse_threshold(c, &w, obj, rule);
	case CONFIG_DETECT_FIRST_SEEN:
		return parse_first_seen(c, &w, obj, rule);
	case CONFIG_DETECT_MATCH:
		return parse_match(c, &w, obj, rule);
	case CONFIG_DETECT_SEQUENCE:
		return parse_sequence(c, &w, obj, rule);
	}
	return 0;
}

static void where_free(struct config_where *wh)
{
	strv_free(wh->tags, wh->n_tags);
	strv_free(wh->rules, wh->n_rules);
	strv_free(wh->users, wh->n_users);
	strv_free(wh->login_users, wh->n_login_users);
	strv_free(wh->comms, wh->n_comms);
	strv_free(wh->exes, wh->n_exes);
	strv_free(wh->tables, wh->n_tables);
	strv_free(wh->operations, wh->n_operations);
	free(wh->hours.tz);
	tz_free(wh->hours.zone);
}

static void rules_free(struct config_detect_rule *rules, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		free(rules[i].name);
		free(rules[i].description);
		free(rules[i].technique);
		free(rules[i].severity);
		free(rules[i].window_text);
		where_free(&rules[i].where);
		for (k = 0; k < rules[i].n_steps; k++)
			where_free(&rules[i].steps[k].where);
		free(rules[i].steps);
	}
	free(rules);
}

/* The array "rules" of root, if there is one. */
static int parse_rule_list(struct detect_ctx *c, json_t *root, struct config_detect_rule **rules,
			   size_t *n)
{
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	json_t *array = json_object_get(root, "rules"), *rule;
	size_t i, count;
	int r;

	if (!array)
		return 0;
	if (!json_is_array(array))
		return fail(c->p, &top, "rules", NO_INDEX, false,
			    "\"rules\" must be an array of detection rules, not %s (expected "
			    "[{\"name\": ..., \"kind\": ...}, ...])",
			    type_name(array));
	count = json_array_size(array);
	if (count == 0)
		return 0;
	if (count > CONFIG_DETECT_RULES_MAX)
		return fail(c->p, &top, "rules", CONFIG_DETECT_RULES_MAX, false,
			    "\"rules\" has %zu rules (expected at most %d)", count,
			    CONFIG_DETECT_RULES_MAX);
	*rules = calloc(count, sizeof(**rules));
	if (!*rules)
		return fail_nomem(c->p);
	json_array_foreach(array, i, rule)
	{
		if (!json_is_object(rule))
			return fail(c->p, &top, "rules", i, false,
				    "rules[%zu] must be an object, not %s (expected a rule such as "
				    "{\"name\": \"off-hours\", \"kind\": \"match\", \"where\": "
				    "{...}})",
				    i, type_name(rule));
		(*n)++;
		r = parse_rule(c, rule, i, *rules);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The built-in pack, parsed as a config's "rules" is. */
static int load_pack(struct config_error *err, struct config_detect_rule **rules, size_t *n)
{
	struct parser p = {.text = builtin_text, .len = strlen(builtin_text), .err = err};
	struct detect_ctx c = {.p = &p};
	json_error_t jerr;
	json_t *root;
	int r;

	root = json_loadb(builtin_text, p.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		parse_error_init(err, DETECT_BUILTIN_SOURCE);
		err->line = jerr.line;
		err->column = jerr.column;
		snprintf(err->message, sizeof(err->message), "invalid JSON: %s", jerr.text);
		return -EINVAL;
	}
	r = parse_rule_list(&c, root, rules, n);
	if (r < 0 && r != -ENOMEM)
		snprintf(err->source, sizeof(err->source), "%s", DETECT_BUILTIN_SOURCE);
	json_decref(root);
	return r;
}

static size_t find_rule(const struct config_detect_rule *rules, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rules[i].name && !strcmp(rules[i].name, name))
			return i;
	return NO_INDEX;
}

/* The config's rules into the pack: replaced, removed, added. Moves what it keeps. */
static int merge(struct detect_ctx *c, json_t *root, struct config *cfg,
		 struct config_detect_rule *own, size_t n_own, struct config_detect_rule *pack,
		 size_t n_pack)
{
	json_t *array = json_object_get(root, "rules");
	char list[320];
	bool used[CONFIG_DETECT_RULES_MAX] = {0};
	struct where w;
	size_t i, j, o;

	for (i = 0; i < n_own; i++) {
		if (!own[i].disabled || find_rule(pack, n_pack, own[i].name) != NO_INDEX)
			continue;
		for (j = 0, o = 0, list[0] = '\0'; j < n_pack && o < sizeof(list); j++)
			o += snprintf(list + o, sizeof(list) - o, "%s%s", j ? ", " : "",
				      pack[j].name);
		rule_where(&w, i, json_object_get(json_array_get(array, i), "name"));
		return fail(
		    c->p, &w, "enabled", NO_INDEX, false,
		    "%s: \"enabled\": false removes the built-in rule of that name, and "
		    "there is no built-in rule \"%s\" (expected the name of one: %s; a rule "
		    "of your own is turned off by deleting it)",
		    w.label, own[i].name, list);
	}
	cfg->detect = calloc(n_own + n_pack ?: 1, sizeof(*cfg->detect));
	if (!cfg->detect)
		return fail_nomem(c->p);
	for (j = 0; j < n_pack && !cfg->no_builtin_rules; j++) {
		i = find_rule(own, n_own, pack[j].name);
		if (i == NO_INDEX) {
			cfg->detect[cfg->n_detect++] = pack[j];
			memset(&pack[j], 0, sizeof(pack[j]));
			continue;
		}
		used[i] = true;
		if (own[i].disabled)
			continue;
		cfg->detect[cfg->n_detect++] = own[i];
		memset(&own[i], 0, sizeof(own[i]));
	}
	for (i = 0; i < n_own; i++) {
		if (used[i] || own[i].disabled)
			continue;
		if (cfg->n_detect == CONFIG_DETECT_RULES_MAX) {
			rule_where(&w, i, json_object_get(json_array_get(array, i), "name"));
			return fail(c->p, &w, NULL, NO_INDEX, false,
				    "%s is one rule too many: with the built-in rules there would "
				    "be more than %d detection rules (expected at most %d in all; "
				    "\"builtin_rules\": false drops the built-in ones)",
				    w.label, CONFIG_DETECT_RULES_MAX, CONFIG_DETECT_RULES_MAX);
		}
		cfg->detect[cfg->n_detect++] = own[i];
		memset(&own[i], 0, sizeof(own[i]));
	}
	return 0;
}

int parse_detect(struct parser *p, json_t *root, struct config *cfg)
{
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	struct config_detect_rule *own = NULL, *pack = NULL;
	struct detect_ctx c = {.p = p, .cfg = cfg};
	size_t n_own = 0, n_pack = 0;
	bool builtin = true;
	int r;

	r = parse_bool(p, &top, root, "builtin_rules", &builtin);
	cfg->no_builtin_rules = !builtin;
	if (r == 0)
		r = parse_rule_list(&c, root, &own, &n_own);
	if (r == 0)
		r = load_pack(p->err, &pack, &n_pack);
	if (r == 0)
		r = merge(&c, root, cfg, own, n_own, pack, n_pack);
	rules_free(own, n_own);
	rules_free(pack, n_pack);
	return r;
}

void detect_free(struct config *cfg)
{
	rules_free(cfg->detect, cfg->n_detect);
	cfg->detect = NULL;
	cfg->n_detect = 0;
}
