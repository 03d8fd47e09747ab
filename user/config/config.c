// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON configuration: jansson parses the text, this file checks every
 * key and value. jansson keeps no positions, so an error about a key or a
 * value asks json_locate() where it is in the text.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "config/config.h"
#include "detect.h"
#include "include.h"
#include "lib/trust.h"
#include "outputs.h"
#include "parse.h"
#include "json_locate.h"

#define UID_MAX_VALID	   4294967294LL /* (uid_t)-1 is no uid */
#define INTERVAL_MAX	   86400	/* seconds */
#define RING_BUFFER_MB_MAX 1024
#define QUEUE_MB_MAX	   65536
#define HOST_NAME_MAX_LEN  253 /* a DNS name, without its trailing dot */
#define HOST_LABEL_MAX	   63

static const char default_text[] =
    "{\n"
    "  \"watch\": [\n"
    "    {\n"
    "      \"name\": \"customer-data\",\n"
    "      \"tags\": [\"customer-data\", \"pii\"],\n"
    "      \"paths\": [\"/srv/customer-data\"]\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"postgresql-data\",\n"
    "      \"tags\": [\"customer-data\", \"database\"],\n"
    "      \"paths\": [\"/var/lib/postgresql\"],\n"
    "      \"exclude\": {\"exe\": [\"/usr/lib/postgresql/*/bin/postgres\"]}\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"mysql-data\",\n"
    "      \"tags\": [\"customer-data\", \"database\"],\n"
    "      \"paths\": [\"/var/lib/mysql\"],\n"
    "      \"exclude\": {\"exe\": [\"/usr/sbin/mariadbd\", \"/usr/sbin/mysqld\"]}\n"
    "    }\n"
    "  ]\n"
    "}\n";

/* clang-format off */
static const char *const top_keys[] = {
    "watch",
    "endpoints",
    "exclude",
    "flush_interval",
    "heartbeat_interval",
    "ring_buffer_mb",
    "queue_mb",
    "databases",
    "outputs",
    "spool",
    "chain",
    "rules",
    "builtin_rules",
    "state_dir",
    "control_socket",
    "egress",
    NULL,
};
/* clang-format on */
static const char *const rule_keys[] = {"name", "tags", "paths", "exclude", NULL};
static const char *const endpoint_keys[] = {"name",	"tags", "address", "port",
					    "protocol", "unix", "parse",   NULL};
static const char *const chain_keys[] = {"key_file", NULL};
static const char *const egress_keys[] = {"window", NULL};
static const char *const exclude_keys[] = {"comm", "exe", "uid", NULL};
static const char *const database_keys[] = {"postgresql",  "mysql",	  "sqlite",
					    "sqlite_rows", "raw_text",	  "tables",
					    "tags",	   "only_tables", NULL};

enum item_kind {
	ITEM_TAG,
	ITEM_PATH,
	ITEM_COMM,
	ITEM_TABLE,
};

static const char *const item_noun[] = {
    [ITEM_TAG] = "a tag",
    [ITEM_PATH] = "an absolute path",
    [ITEM_COMM] = "a process name",
    [ITEM_TABLE] = "a table name or pattern (\"customers\", \"crm.*\")",
};

/* A watch rule's name: 1 to max characters from A-Z, a-z, 0-9, '.', '_' and '-'. */
static bool valid_name(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	       len;
}

static int check_item(struct parser *p, const struct where *w, const char *key, size_t index,
		      enum item_kind kind, const char *s)
{
	char label[96], q[QUOTE_MAX];
	size_t len = strlen(s);

	item_label(label, sizeof(label), w, key, index);
	if (len == 0)
		return fail(p, w, key, index, false, "%s is empty (expected %s)", label,
			    item_noun[kind]);
	if (has_control(s))
		return fail(
		    p, w, key, index, false,
		    "%s: %s contains a control character (expected %s without control characters)",
		    label, quote(q, s), item_noun[kind]);
	switch (kind) {
	case ITEM_TAG:
	case ITEM_TABLE:
		break;
	case ITEM_PATH:
		if (s[0] != '/')
			return fail(
			    p, w, key, index, false,
			    "%s: %s is not an absolute path (expected a path starting with \"/\")",
			    label, quote(q, s));
		if (len >= PATH_MAX)
			return fail(p, w, key, index, false,
				    "%s is %zu bytes long (expected a path of at most %d bytes)",
				    label, len, PATH_MAX - 1);
		break;
	case ITEM_COMM:
		if (len > CONFIG_COMM_MAX)
			return fail(p, w, key, index, false,
				    "%s: %s is %zu bytes long (expected a process name of 1 to %d "
				    "bytes, as much as the kernel keeps)",
				    label, quote(q, s), len, CONFIG_COMM_MAX);
		break;
	}
	return 0;
}

/* The array of strings w.key, if there is one, into *strv. */
static int parse_strings(struct parser *p, const struct where *w, json_t *obj, const char *key,
			 enum item_kind kind, char ***strv, size_t *n)
{
	json_t *array = json_object_get(obj, key), *v;
	char label[192];
	size_t i;
	int r;

	if (!array)
		return 0;
	if (!json_is_array(array))
		return fail(p, w, key, NO_INDEX, false,
			    "%s must be an array of strings, not %s (expected each to be %s)",
			    key_label(label, sizeof(label), w, key), type_name(array),
			    item_noun[kind]);
	*strv = calloc(json_array_size(array) ?: 1, sizeof(**strv));
	if (!*strv)
		return fail_nomem(p);
	for (i = 0; i < json_array_size(array); i++) {
		v = json_array_get(array, i);
		if (!json_is_string(v))
			return fail(p, w, key, i, false,
				    "%s must be a string, not %s (expected %s)",
				    item_label(label, sizeof(label), w, key, i), type_name(v),
				    item_noun[kind]);
		r = check_item(p, w, key, i, kind, json_string_value(v));
		if (r < 0)
			return r;
		(*strv)[i] = strdup(json_string_value(v));
		if (!(*strv)[i])
			return fail_nomem(p);
		(*n)++;
	}
	return 0;
}

static int parse_uids(struct parser *p, const struct where *w, json_t *obj,
		      struct config_exclude *ex)
{
	static const char expected[] = "a uid from 0 to 4294967294";
	json_t *array = json_object_get(obj, "uid"), *v;
	char label[192];
	json_int_t uid;
	size_t i;

	if (!array)
		return 0;
	if (!json_is_array(array))
		return fail(p, w, "uid", NO_INDEX, false,
			    "%s must be an array of integers, not %s (expected each to be %s)",
			    key_label(label, sizeof(label), w, "uid"), type_name(array), expected);
	ex->uids = calloc(json_array_size(array) ?: 1, sizeof(*ex->uids));
	if (!ex->uids)
		return fail_nomem(p);
	for (i = 0; i < json_array_size(array); i++) {
		v = json_array_get(array, i);
		item_label(label, sizeof(label), w, "uid", i);
		if (!json_is_integer(v))
			return fail(p, w, "uid", i, false,
				    "%s must be an integer, not %s (expected %s)", label,
				    type_name(v), expected);
		uid = json_integer_value(v);
		if (uid < 0 || uid > UID_MAX_VALID)
			return fail(p, w, "uid", i, false, "%s is %lld, out of range (expected %s)",
				    label, (long long)uid, expected);
		ex->uids[ex->n_uids++] = uid;
	}
	return 0;
}

/* The member "exclude" of parent's object, if there is one. */
static int parse_exclude(struct parser *p, const struct where *parent, json_t *parent_obj,
			 struct config_exclude *ex)
{
	json_t *obj = json_object_get(parent_obj, "exclude");
	struct where w = {.depth = parent->depth + 1};
	char label[192];
	int r;

	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return fail(p, parent, "exclude", NO_INDEX, false,
			    "%s must be an object, not %s (expected {\"comm\": [...], \"exe\": "
			    "[...], \"uid\": [...]})",
			    key_label(label, sizeof(label), parent, "exclude"), type_name(obj));
	memcpy(w.path, parent->path, parent->depth * sizeof(*w.path));
	w.path[parent->depth] = JSON_KEY("exclude");
	snprintf(w.dotted, sizeof(w.dotted), "%.*s%sexclude", (int)sizeof(w.dotted) - 9,
		 parent->dotted, parent->dotted[0] ? "." : "");
	snprintf(w.label, sizeof(w.label), "%s", w.dotted);

	r = check_keys(p, &w, obj, exclude_keys);
	if (r < 0)
		return r;
	r = parse_strings(p, &w, obj, "comm", ITEM_COMM, &ex->comms, &ex->n_comms);
	if (r < 0)
		return r;
	r = parse_strings(p, &w, obj, "exe", ITEM_PATH, &ex->exes, &ex->n_exes);
	if (r < 0)
		return r;
	return parse_uids(p, &w, obj, ex);
}

/* watch[index] into rules[index]; the rules before it are parsed already. */
static int parse_rule(struct parser *p, json_t *obj, size_t index, struct config_rule *rules)
{
	struct config_rule *rule = &rules[index];
	static const char name_expected[] =
	    "1 to " STR(CONFIG_RULE_NAME_MAX) " characters from A-Z, a-z, 0-9, '.', '_' and '-'";
	struct where w = {.path = {JSON_KEY("watch"), JSON_INDEX(index)}, .depth = 2};
	json_t *name = json_object_get(obj, "name"), *paths;
	char label[192], q[QUOTE_MAX];
	size_t i;
	int r;

	snprintf(w.dotted, sizeof(w.dotted), "watch[%zu]", index);
	if (json_is_string(name) && valid_name(json_string_value(name), CONFIG_RULE_NAME_MAX))
		snprintf(w.label, sizeof(w.label), "%s (\"%s\")", w.dotted,
			 json_string_value(name));
	else
		snprintf(w.label, sizeof(w.label), "%s", w.dotted);

	r = check_keys(p, &w, obj, rule_keys);
	if (r < 0)
		return r;

	if (!name)
		return fail(p, &w, NULL, NO_INDEX, false,
			    "missing key \"name\" in %s (expected a rule name of %s)", w.label,
			    name_expected);
	if (!json_is_string(name))
		return fail(
		    p, &w, "name", NO_INDEX, false, "%s must be a string, not %s (expected %s)",
		    key_label(label, sizeof(label), &w, "name"), type_name(name), name_expected);
	if (!valid_name(json_string_value(name), CONFIG_RULE_NAME_MAX))
		return fail(p, &w, "name", NO_INDEX, false,
			    "%s.name: %s is not a valid rule name (expected %s)", w.dotted,
			    quote(q, json_string_value(name)), name_expected);
	for (i = 0; i < index; i++)
		if (!strcmp(rules[i].name, json_string_value(name)))
			return fail(p, &w, "name", NO_INDEX, false,
				    "\"name\" \"%s\" is used by watch[%zu] and watch[%zu] (rule "
				    "names must be unique)",
				    rules[i].name, i, index);
	rule->name = strdup(json_string_value(name));
	if (!rule->name)
		return fail_nomem(p);

	r = parse_strings(p, &w, obj, "tags", ITEM_TAG, &rule->tags, &rule->n_tags);
	if (r < 0)
		return r;

	paths = json_object_get(obj, "paths");
	if (!paths)
		return fail(
		    p, &w, NULL, NO_INDEX, false,
		    "missing key \"paths\" in %s (expected an array of absolute paths to watch)",
		    w.label);
	if (json_is_array(paths) && json_array_size(paths) == 0)
		return fail(p, &w, "paths", NO_INDEX, false,
			    "%s is empty (expected at least one absolute path)",
			    key_label(label, sizeof(label), &w, "paths"));
	r = parse_strings(p, &w, obj, "paths", ITEM_PATH, &rule->paths, &rule->n_paths);
	if (r < 0)
		return r;

	return parse_exclude(p, &w, obj, &rule->exclude);
}

static int parse_watch(struct parser *p, const struct where *top, json_t *root, struct config *cfg)
{
	json_t *watch = json_object_get(root, "watch"), *rule;
	size_t i, n;
	int r;

	if (!watch)
		return fail(p, top, NULL, NO_INDEX, false,
			    "missing key \"watch\" at the top level (expected an array of rules "
			    "such as [{\"name\": \"data\", \"paths\": [\"/srv/data\"]}])");
	if (!json_is_array(watch))
		return fail(p, top, "watch", NO_INDEX, false,
			    "\"watch\" must be an array of rules, not %s (expected [{\"name\": "
			    "..., \"paths\": [...]}, ...])",
			    type_name(watch));
	n = json_array_size(watch);
	if (n == 0)
		return fail(p, top, "watch", NO_INDEX, false,
			    "\"watch\" is empty (expected at least one rule)");
	if (n > CONFIG_RULES_MAX)
		return fail(p, top, "watch", CONFIG_RULES_MAX, false,
			    "\"watch\" has %zu rules (expected at most %d)", n, CONFIG_RULES_MAX);

	cfg->rules = calloc(n, sizeof(*cfg->rules));
	if (!cfg->rules)
		return fail_nomem(p);
	for (i = 0; i < n; i++) {
		rule = json_array_get(watch, i);
		if (!json_is_object(rule))
			return fail(p, top, "watch", i, false,
				    "watch[%zu] must be an object, not %s (expected a rule such as "
				    "{\"name\": \"data\", \"paths\": [\"/srv/data\"]})",
				    i, type_name(rule));
		cfg->n_rules++;
		r = parse_rule(p, rule, i, cfg->rules);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Endpoints ("endpoints"): network peers whose sockets are watched like files. */

#define HOST_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-."

static const char address_expected[] =
    "an IPv4 or IPv6 address, a CIDR prefix such as \"10.1.2.0/24\" or a host name";
static const char port_expected[] =
    "a port from 1 to 65535, or a range \"LO-HI\" such as \"3306-3307\"";
static const char protocol_expected[] = "\"tcp\" or \"udp\"";

/*
 * Adds a prefix to ep unless it has it already; an IPv4-mapped IPv6 prefix
 * (::ffff:a.b.c.d) becomes the IPv4 prefix. -E2BIG when ep is full.
 */
static int add_prefix(struct config_endpoint *ep, int family, const uint8_t *addr, unsigned bits)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct config_prefix px;
	size_t i;

	memset(&px, 0, sizeof(px));
	if (family == AF_INET6 && bits >= 96 && !memcmp(addr, mapped, sizeof(mapped))) {
		px.family = AF_INET;
		px.bits = bits - 96;
		memcpy(px.addr, addr + 12, 4);
	} else {
		px.family = family;
		px.bits = bits;
		memcpy(px.addr, addr, family == AF_INET ? 4 : 16);
	}
	for (i = 0; i < ep->n_prefixes; i++)
		if (ep->prefixes[i].family == px.family && ep->prefixes[i].bits == px.bits &&
		    !memcmp(ep->prefixes[i].addr, px.addr, sizeof(px.addr)))
			return 0;
	if (ep->n_prefixes == CONFIG_ENDPOINT_PREFIXES_MAX)
		return -E2BIG;
	ep->prefixes[ep->n_prefixes++] = px;
	return 0;
}

/* "ADDR/BITS": the network address and its length, no host bits set. */
static int parse_cidr(struct parser *p, const struct where *w, const char *s,
		      struct config_endpoint *ep)
{
	static const char cidr_expected[] =
	    "ADDRESS/BITS such as \"10.1.2.0/24\" or \"fd00:1::/64\"";
	char addr_text[INET6_ADDRSTRLEN], net_text[INET6_ADDRSTRLEN], label[96], q[QUOTE_MAX];
	const char *slash = strchr(s, '/'), *digits = slash + 1;
	size_t len = slash - s, i;
	uint8_t addr[16] = {0}, net[16];
	unsigned long bits = 0;
	int family, max, keep;

	item_label(label, sizeof(label), w, "address", NO_INDEX);
	family = 0;
	if (len > 0 && len < sizeof(addr_text)) {
		memcpy(addr_text, s, len);
		addr_text[len] = '\0';
		if (inet_pton(AF_INET, addr_text, addr) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, addr_text, addr) == 1)
			family = AF_INET6;
	}
	if (!family)
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s is not a CIDR prefix: the part before \"/\" is not an IPv4 or "
			    "IPv6 address (expected %s)",
			    label, quote(q, s), cidr_expected);
	max = family == AF_INET ? 32 : 128;
	len = strlen(digits);
	if (len == 0 || len > 3 || strspn(digits, "0123456789") != len)
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s is not a CIDR prefix: the prefix length is not a number "
			    "(expected %s, with 0 to %d bits)",
			    label, quote(q, s), cidr_expected, max);
	bits = strtoul(digits, NULL, 10);
	if (bits > (unsigned long)max)
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s has a prefix length of %lu bits (expected 0 to %d for an IPv%d "
			    "address)",
			    label, quote(q, s), bits, max, family == AF_INET ? 4 : 6);
	memcpy(net, addr, sizeof(net));
	for (i = 0; i < (size_t)max / 8; i++) {
		keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? (int)(bits - i * 8) : 0;
		net[i] &= (uint8_t)(0xff00 >> keep);
	}
	if (memcmp(net, addr, max / 8)) {
		inet_ntop(family, net, net_text, sizeof(net_text));
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s has bits set past its /%lu prefix (expected the network "
			    "address, \"%s/%lu\")",
			    label, quote(q, s), bits, net_text, bits);
	}
	add_prefix(ep, family, addr, bits); /* the first: cannot be full */
	return 0;
}

/* A host name: labels of letters, digits and '-' between dots (one trailing dot allowed). */
static bool valid_host_name(const char *s)
{
	size_t len = strlen(s);
	const char *label, *end;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > HOST_NAME_MAX_LEN)
		return false;
	for (label = s;; label = end + 1) {
		end = memchr(label, '.', s + len - label) ?: s + len;
		if (end == label || end - label > HOST_LABEL_MAX)
			return false;
		if (end == s + len)
			return true;
	}
}

/*
 * Digits and dots ending in a number ("10.1.2", "300.1.2.3"), or a form
 * inet_aton takes ("0x0a010203"), which getaddrinfo would read as an IPv4
 * address: a mistyped address, not a host name.
 */
static bool numeric_host(const char *s)
{
	size_t len = strlen(s);
	struct in_addr in;
	const char *last;

	if (inet_aton(s, &in))
		return true;
	if (len > 0 && s[len - 1] == '.')
		len--;
	for (last = s + len; last > s && last[-1] != '.'; last--)
		;
	return last < s + len && strspn(last, "0123456789") >= (size_t)(s + len - last);
}

/*
 * "address": an IP address or a CIDR prefix into ep's prefixes now; a host
 * name only checked, *host set (resolved by resolve_host, after the other keys).
 */
static int parse_address(struct parser *p, const struct where *w, json_t *obj,
			 struct config_endpoint *ep, bool *host)
{
	json_t *v = json_object_get(obj, "address");
	char label[192], q[QUOTE_MAX];
	uint8_t addr[16] = {0};
	const char *s, *colon;
	size_t len;

	*host = false;
	if (!v)
		return fail(p, w, NULL, NO_INDEX, false,
			    "missing key \"address\" in %s (expected %s)", w->label,
			    address_expected);
	if (!json_is_string(v))
		return fail(
		    p, w, "address", NO_INDEX, false, "%s must be a string, not %s (expected %s)",
		    key_label(label, sizeof(label), w, "address"), type_name(v), address_expected);
	s = json_string_value(v);
	len = strlen(s);
	item_label(label, sizeof(label), w, "address", NO_INDEX);
	if (len == 0)
		return fail(p, w, "address", NO_INDEX, false, "%s is empty (expected %s)", label,
			    address_expected);
	ep->address = strdup(s);
	if (!ep->address)
		return fail_nomem(p);
	if (strchr(s, '/'))
		return parse_cidr(p, w, s, ep);
	if (inet_pton(AF_INET, s, addr) == 1)
		return add_prefix(ep, AF_INET, addr, 32);
	if (inet_pton(AF_INET6, s, addr) == 1)
		return add_prefix(ep, AF_INET6, addr, 128);
	if (strspn(s, HOST_CHARS) != len) {
		/* "db:5432", "[::1]:5432", "[::1]" */
		colon = strchr(s, ':');
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s is not an IP address, a CIDR prefix or a host name (expected "
			    "%s%s)",
			    label, quote(q, s), address_expected,
			    s[0] == '[' || (colon && colon == strrchr(s, ':'))
				? ", without brackets or a port: a port goes in \"port\""
				: "");
	}
	if (numeric_host(s))
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s is not a valid IPv4 address (expected four numbers from 0 to "
			    "255 such as \"10.1.2.3\", or a host name)",
			    label, quote(q, s));
	if (!valid_host_name(s))
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s is not a valid host name (expected at most %d bytes: labels of "
			    "1 to %d letters, digits or '-' between dots)",
			    label, quote(q, s), HOST_NAME_MAX_LEN, HOST_LABEL_MAX);
	*host = true;
	return 0;
}

/* A host name's addresses, each a full-length prefix, as this host resolves them now. */
static int resolve_host(struct parser *p, const struct where *w, struct config_endpoint *ep)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	char label[96], q[QUOTE_MAX];
	int e, r = 0;

	item_label(label, sizeof(label), w, "address", NO_INDEX);
	e = getaddrinfo(ep->address, NULL, &hints, &res);
	if (e == EAI_MEMORY)
		return fail_nomem(p);
	if (e)
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s does not resolve: %s (expected a host name this host resolves, "
			    "an IP address or a CIDR prefix)",
			    label, quote(q, ep->address),
			    e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
	for (ai = res; ai && r == 0; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			r = add_prefix(
			    ep, AF_INET,
			    (const uint8_t *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr, 32);
		else if (ai->ai_family == AF_INET6)
			r = add_prefix(
			    ep, AF_INET6,
			    (const uint8_t *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 128);
	}
	freeaddrinfo(res);
	if (r == -E2BIG)
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s resolves to more than %d addresses (expected at most %d: name "
			    "the network as a CIDR prefix instead)",
			    label, quote(q, ep->address), CONFIG_ENDPOINT_PREFIXES_MAX,
			    CONFIG_ENDPOINT_PREFIXES_MAX);
	if (ep->n_prefixes == 0)
		return fail(p, w, "address", NO_INDEX, false,
			    "%s: %s resolves to no IPv4 or IPv6 address (expected a host name with "
			    "an IPv4 or IPv6 address)",
			    label, quote(q, ep->address));
	return 0;
}

/* digits[0..len) as a number, if it is one of at most 9 digits. */
static bool port_number(const char *digits, size_t len, unsigned long *n)
{
	size_t i;

	if (len == 0 || len > 9)
		return false;
	for (*n = 0, i = 0; i < len; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return false;
		*n = *n * 10 + (digits[i] - '0');
	}
	return true;
}

/* "port": one port, a range "LO-HI", or (absent) every port. */
static int parse_port(struct parser *p, const struct where *w, json_t *obj,
		      struct config_endpoint *ep)
{
	json_t *v = json_object_get(obj, "port");
	char label[192], q[QUOTE_MAX];
	unsigned long lo, hi;
	const char *s, *dash;
	json_int_t n;

	ep->port_lo = 0;
	ep->port_hi = 65535;
	if (!v)
		return 0;
	item_label(label, sizeof(label), w, "port", NO_INDEX);
	if (json_is_integer(v)) {
		n = json_integer_value(v);
		if (n < 1 || n > 65535)
			return fail(p, w, "port", NO_INDEX, false,
				    "%s is %lld, out of range (expected %s)", label, (long long)n,
				    port_expected);
		ep->port_lo = ep->port_hi = n;
		return 0;
	}
	if (!json_is_string(v))
		return fail(p, w, "port", NO_INDEX, false,
			    "%s must be an integer or a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, "port"), type_name(v),
			    port_expected);
	s = json_string_value(v);
	dash = strchr(s, '-');
	if (!dash || !port_number(s, dash - s, &lo) ||
	    !port_number(dash + 1, strlen(dash + 1), &hi))
		return fail(p, w, "port", NO_INDEX, false,
			    "%s: %s is not a port range (expected %s)", label, quote(q, s),
			    port_expected);
	if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535)
		return fail(p, w, "port", NO_INDEX, false,
			    "%s: %s: port %lu is out of range (expected %s)", label, quote(q, s),
			    lo < 1 || lo > 65535 ? lo : hi, port_expected);
	if (lo > hi)
		return fail(p, w, "port", NO_INDEX, false,
			    "%s: %s runs backwards (expected \"LO-HI\" with LO at most HI, such as "
			    "\"%lu-%lu\")",
			    label, quote(q, s), hi, lo);
	ep->port_lo = lo;
	ep->port_hi = hi;
	return 0;
}

/* "protocol": "tcp" (the default) or "udp". */
static int parse_protocol(struct parser *p, const struct where *w, json_t *obj,
			  struct config_endpoint *ep)
{
	json_t *v = json_object_get(obj, "protocol");
	char label[192], q[QUOTE_MAX];
	const char *s;

	ep->transport = IPPROTO_TCP;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(p, w, "protocol", NO_INDEX, false,
			    "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, "protocol"), type_name(v),
			    protocol_expected);
	s = json_string_value(v);
	if (!strcmp(s, "tcp"))
		return 0;
	if (!strcmp(s, "udp")) {
		ep->transport = IPPROTO_UDP;
		return 0;
	}
	return fail(p, w, "protocol", NO_INDEX, false, "%s: %s is not a protocol (expected %s)",
		    item_label(label, sizeof(label), w, "protocol", NO_INDEX), quote(q, s),
		    protocol_expected);
}

/*
 * "parse": the database protocol the endpoint's sockets speak, followed by
 * the kernel (statements, rows). A UDP endpoint carries no database protocol.
 */
static int parse_wire(struct parser *p, const struct where *w, json_t *obj,
		      struct config_endpoint *ep)
{
	static const char expected[] = "\"postgresql\" or \"mysql\"";
	json_t *v = json_object_get(obj, "parse");
	char label[192], q[QUOTE_MAX];
	const char *s;

	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(p, w, "parse", NO_INDEX, false,
			    "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, "parse"), type_name(v), expected);
	s = json_string_value(v);
	item_label(label, sizeof(label), w, "parse", NO_INDEX);
	if (!strcmp(s, "postgresql"))
		ep->parse = CONFIG_WIRE_POSTGRESQL;
	else if (!strcmp(s, "mysql"))
		ep->parse = CONFIG_WIRE_MYSQL;
	else
		return fail(p, w, "parse", NO_INDEX, false,
			    "%s: %s is not a database protocol (expected %s)", label, quote(q, s),
			    expected);
	if (ep->transport == IPPROTO_UDP)
		return fail(p, w, "parse", NO_INDEX, false,
			    "%s: %s runs over TCP or a unix socket, and %s is UDP "
			    "(expected \"protocol\": \"tcp\", or no \"parse\")",
			    label, ep->parse == CONFIG_WIRE_MYSQL ? "MySQL" : "PostgreSQL",
			    w->label);
	return 0;
}

/*
 * "unix": the absolute path of a unix socket (at most 107 bytes, as
 * sun_path holds), instead of an address, port and protocol. It is looked
 * up when the watches are resolved: a socket made later is found then.
 */
static int parse_unix(struct parser *p, const struct where *w, json_t *obj,
		      struct config_endpoint *ep)
{
	static const char expected[] =
	    "the absolute path of a unix socket, or '@' and an abstract name, at most 107 bytes";
	static const char *const other[] = {"address", "port", "protocol"};
	json_t *v = json_object_get(obj, "unix");
	char label[192];
	const char *s;
	size_t i, len;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (json_object_get(obj, other[i]))
			return fail(
			    p, w, other[i], NO_INDEX, true,
			    "%s has both \"unix\" and \"%s\" (expected a unix socket, or an "
			    "address with its port and protocol)",
			    w->label, other[i]);
	if (!json_is_string(v))
		return fail(p, w, "unix", NO_INDEX, false,
			    "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, "unix"), type_name(v), expected);
	s = json_string_value(v);
	len = json_string_length(v);
	item_label(label, sizeof(label), w, "unix", NO_INDEX);
	if ((s[0] != '/' && (s[0] != '@' || len < 2)) || len > 107 || strlen(s) != len)
		return fail(p, w, "unix", NO_INDEX, false, "%s is not usable (expected %s)", label,
			    expected);
	ep->unix_path = strdup(s);
	return ep->unix_path ? 0 : fail_nomem(p);
}

/* endpoints[index] into cfg->endpoints[index]; the rules and the endpoints before it are parsed. */
static int parse_endpoint(struct parser *p, json_t *obj, size_t index, struct config *cfg)
{
	struct config_endpoint *ep = &cfg->endpoints[index];
	static const char name_expected[] =
	    "1 to " STR(CONFIG_RULE_NAME_MAX) " characters from A-Z, a-z, 0-9, '.', '_' and '-'";
	struct where w = {.path = {JSON_KEY("endpoints"), JSON_INDEX(index)}, .depth = 2};
	json_t *name = json_object_get(obj, "name");
	char label[192], q[QUOTE_MAX];
	const char *s;
	bool host;
	size_t i;
	int r;

	snprintf(w.dotted, sizeof(w.dotted), "endpoints[%zu]", index);
	if (json_is_string(name) && valid_name(json_string_value(name), CONFIG_RULE_NAME_MAX))
		snprintf(w.label, sizeof(w.label), "%s (\"%s\")", w.dotted,
			 json_string_value(name));
	else
		snprintf(w.label, sizeof(w.label), "%s", w.dotted);

	r = check_keys(p, &w, obj, endpoint_keys);
	if (r < 0)
		return r;

	if (!name)
		return fail(p, &w, NULL, NO_INDEX, false,
			    "missing key \"name\" in %s (expected an endpoint name of %s)", w.label,
			    name_expected);
	if (!json_is_string(name))
		return fail(
		    p, &w, "name", NO_INDEX, false, "%s must be a string, not %s (expected %s)",
		    key_label(label, sizeof(label), &w, "name"), type_name(name), name_expected);
	s = json_string_value(name);
	if (!valid_name(s, CONFIG_RULE_NAME_MAX))
		return fail(p, &w, "name", NO_INDEX, false,
			    "%s.name: %s is not a valid endpoint name (expected %s)", w.dotted,
			    quote(q, s), name_expected);
	for (i = 0; i < cfg->n_rules; i++)
		if (!strcmp(cfg->rules[i].name, s))
			return fail(p, &w, "name", NO_INDEX, false,
				    "\"name\" \"%s\" is used by watch[%zu] and endpoints[%zu] (the "
				    "names of watch rules and endpoints must be unique)",
				    s, i, index);
	for (i = 0; i < index; i++)
		if (!strcmp(cfg->endpoints[i].name, s))
			return fail(p, &w, "name", NO_INDEX, false,
				    "\"name\" \"%s\" is used by endpoints[%zu] and endpoints[%zu] "
				    "(the names of watch rules and endpoints must be unique)",
				    s, i, index);
	ep->name = strdup(s);
	if (!ep->name)
		return fail_nomem(p);

	r = parse_strings(p, &w, obj, "tags", ITEM_TAG, &ep->tags, &ep->n_tags);
	if (r == 0 && json_object_get(obj, "unix")) {
		r = parse_unix(p, &w, obj, ep);
		return r ? r : parse_wire(p, &w, obj, ep);
	}
	if (r == 0)
		r = parse_address(p, &w, obj, ep, &host);
	if (r == 0)
		r = parse_port(p, &w, obj, ep);
	if (r == 0)
		r = parse_protocol(p, &w, obj, ep);
	if (r == 0)
		r = parse_wire(p, &w, obj, ep);
	if (r == 0 && host)
		r = resolve_host(p, &w, ep);
	return r;
}

static int parse_endpoints(struct parser *p, const struct where *top, json_t *root,
			   struct config *cfg)
{
	json_t *array = json_object_get(root, "endpoints"), *ep;
	size_t i, n;
	int r;

	if (!array)
		return 0;
	if (!json_is_array(array))
		return fail(p, top, "endpoints", NO_INDEX, false,
			    "\"endpoints\" must be an array of endpoints, not %s (expected "
			    "[{\"name\": ..., \"address\": ...}, ...])",
			    type_name(array));
	n = json_array_size(array);
	if (n == 0)
		return 0;
	if (cfg->n_rules + n > CONFIG_RULES_MAX)
		return fail(p, top, "endpoints", CONFIG_RULES_MAX - cfg->n_rules, false,
			    "\"watch\" has %zu rules and \"endpoints\" %zu endpoints, %zu in all "
			    "(expected at most %d watch rules and endpoints together)",
			    cfg->n_rules, n, cfg->n_rules + n, CONFIG_RULES_MAX);

	cfg->endpoints = calloc(n, sizeof(*cfg->endpoints));
	if (!cfg->endpoints)
		return fail_nomem(p);
	for (i = 0; i < n; i++) {
		ep = json_array_get(array, i);
		if (!json_is_object(ep))
			return fail(
			    p, top, "endpoints", i, false,
			    "endpoints[%zu] must be an object, not %s (expected an endpoint "
			    "such as {\"name\": \"crm-db\", \"address\": \"10.1.2.0/24\", "
			    "\"port\": 5432})",
			    i, type_name(ep));
		cfg->n_endpoints++;
		r = parse_endpoint(p, ep, i, cfg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* An optional integer member of the object w (obj), from min to max. */
static int parse_uint(struct parser *p, const struct where *w, json_t *obj, const char *key,
		      json_int_t min, json_int_t max, bool power_of_two, const char *expected,
		      uint32_t *value)
{
	json_t *v = json_object_get(obj, key);
	char label[192];
	json_int_t n;

	if (!v)
		return 0;
	key_label(label, sizeof(label), w, key);
	if (!json_is_integer(v))
		return fail(p, w, key, NO_INDEX, false,
			    "%s must be an integer, not %s (expected %s)", label, type_name(v),
			    expected);
	n = json_integer_value(v);
	if (n < min || n > max || (power_of_two && (n & (n - 1))))
		return fail(p, w, key, NO_INDEX, false, "%s is %lld (expected %s)", label,
			    (long long)n, expected);
	*value = n;
	return 0;
}

/* "databases": which client libraries to probe, and which tables are customer data. */
static int parse_databases(struct parser *p, json_t *root, struct config_databases *db)
{
	json_t *obj = json_object_get(root, "databases");
	struct where w = {.path = {JSON_KEY("databases")},
			  .depth = 1,
			  .dotted = "databases",
			  .label = "databases"};
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	int r;

	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return fail(
		    p, &top, "databases", NO_INDEX, false,
		    "\"databases\" must be an object, not %s (expected {\"postgresql\": true, "
		    "\"tables\": [...], ...})",
		    type_name(obj));
	r = check_keys(p, &w, obj, database_keys);
	if (r == 0)
		r = parse_bool(p, &w, obj, "postgresql", &db->postgresql);
	if (r == 0)
		r = parse_bool(p, &w, obj, "mysql", &db->mysql);
	if (r == 0)
		r = parse_bool(p, &w, obj, "sqlite", &db->sqlite);
	if (r == 0)
		r = parse_bool(p, &w, obj, "sqlite_rows", &db->sqlite_rows);
	if (r == 0)
		r = parse_bool(p, &w, obj, "raw_text", &db->raw_text);
	if (r == 0)
		r = parse_bool(p, &w, obj, "only_tables", &db->only_tables);
	if (r == 0 && json_object_get(obj, "tags")) {
		strv_free(db->tags, db->n_tags);
		db->tags = NULL;
		db->n_tags = 0;
		r = parse_strings(p, &w, obj, "tags", ITEM_TAG, &db->tags, &db->n_tags);
	}
	if (r == 0)
		r = parse_strings(p, &w, obj, "tables", ITEM_TABLE, &db->tables, &db->n_tables);
	return r;
}

/* "chain": the key that seals every event into a hash chain. */
static int parse_chain(struct parser *p, json_t *root, struct config_chain *chain)
{
	struct where w = {
	    .path = {JSON_KEY("chain")}, .depth = 1, .dotted = "chain", .label = "chain"};
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	json_t *obj = json_object_get(root, "chain"), *file;
	int r;

	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return fail(p, &top, "chain", NO_INDEX, false,
			    "\"chain\" must be an object, not %s (expected {\"key_file\": "
			    "\"/etc/custos/chain.key\"})",
			    type_name(obj));
	r = check_keys(p, &w, obj, chain_keys);
	if (r < 0)
		return r;
	file = json_object_get(obj, "key_file");
	if (!file)
		return fail(p, &w, NULL, NO_INDEX, false,
			    "missing key \"key_file\" in chain (expected the path of a key file "
			    "of at least 32 bytes)");
	if (!json_is_string(file))
		return fail(p, &w, "key_file", NO_INDEX, false,
			    "\"key_file\" of chain must be a string, not %s (expected an absolute "
			    "path)",
			    type_name(file));
	r = check_item(p, &w, "key_file", NO_INDEX, ITEM_PATH, json_string_value(file));
	if (r < 0)
		return r;
	chain->key_file = strdup(json_string_value(file));
	if (!chain->key_file)
		return fail_nomem(p);
	return where_at(p, &w, "key_file", &chain->at_key_file);
}

/* "state_dir": where the agent keeps what it learns (first_seen rules). */
static int parse_state_dir(struct parser *p, json_t *root, struct config *cfg)
{
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	json_t *dir = json_object_get(root, "state_dir");
	int r;

	if (!dir)
		return 0;
	if (!json_is_string(dir))
		return fail(
		    p, &top, "state_dir", NO_INDEX, false,
		    "\"state_dir\" must be a string, not %s (expected an absolute path such "
		    "as \"" CONFIG_STATE_DIR_DEFAULT "\")",
		    type_name(dir));
	r = check_item(p, &top, "state_dir", NO_INDEX, ITEM_PATH, json_string_value(dir));
	if (r < 0)
		return r;
	free(cfg->state_dir);
	cfg->state_dir = strdup(json_string_value(dir));
	return cfg->state_dir ? 0 : fail_nomem(p);
}

/* "control_socket": where custos status and custos trace find the agent; "" for none. */
static int parse_control_socket(struct parser *p, json_t *root, struct config *cfg)
{
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	json_t *v = json_object_get(root, "control_socket");
	const char *s;
	int r;

	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(
		    p, &top, "control_socket", NO_INDEX, false,
		    "\"control_socket\" must be a string, not %s (expected an absolute path "
		    "such as \"" CONFIG_CONTROL_SOCKET_DEFAULT "\", or \"\" for none)",
		    type_name(v));
	s = json_string_value(v);
	if (s[0]) {
		r = check_item(p, &top, "control_socket", NO_INDEX, ITEM_PATH, s);
		if (r < 0)
			return r;
		if (strlen(s) > CONFIG_CONTROL_SOCKET_MAX)
			return fail(
			    p, &top, "control_socket", NO_INDEX, false,
			    "\"control_socket\" is %zu bytes long (expected a path of at "
			    "most " STR(CONFIG_CONTROL_SOCKET_MAX) " bytes: a unix socket's "
								   "limit)",
			    strlen(s));
		if (s[strlen(s) - 1] == '/')
			return fail(p, &top, "control_socket", NO_INDEX, false,
				    "\"control_socket\" ends with \"/\" (expected the socket's own "
				    "path, such as \"" CONFIG_CONTROL_SOCKET_DEFAULT "\")");
	}
	free(cfg->control_socket);
	cfg->control_socket = strdup(s);
	return cfg->control_socket ? 0 : fail_nomem(p);
}

/*
 * "egress": {"window": SECONDS}, or false (off) or true (the default
 * window): how long after a session read customer data its egress is
 * reported.
 */
static int parse_egress(struct parser *p, json_t *root, uint32_t *window_s)
{
	struct where w = {
	    .path = {JSON_KEY("egress")}, .depth = 1, .dotted = "egress", .label = "egress"};
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	json_t *obj = json_object_get(root, "egress");
	int r;

	if (!obj)
		return 0;
	if (json_is_boolean(obj)) {
		*window_s = json_is_true(obj) ? CONFIG_EGRESS_WINDOW_DEFAULT : 0;
		return 0;
	}
	if (!json_is_object(obj))
		return fail(p, &top, "egress", NO_INDEX, false,
			    "\"egress\" must be an object or a boolean, not %s (expected "
			    "{\"window\": " STR(CONFIG_EGRESS_WINDOW_DEFAULT) "}, or false to turn "
									      "egress off)",
			    type_name(obj));
	r = check_keys(p, &w, obj, egress_keys);
	if (r < 0)
		return r;
	return parse_uint(p, &w, obj, "window", 0, CONFIG_EGRESS_WINDOW_MAX, false,
			  "an integer number of seconds from 0 to " STR(
			      CONFIG_EGRESS_WINDOW_MAX) ", "
							"0 to turn egress off",
			  window_s);
}

static int parse_root(struct parser *p, json_t *root, struct config *cfg)
{
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	int r;

	if (!json_is_object(root))
		return fail(p, &top, NULL, NO_INDEX, false,
			    "the top level is %s (expected an object such as {\"watch\": [...]})",
			    type_name(root));
	r = check_keys(p, &top, root, top_keys);
	if (r < 0)
		return r;
	r = parse_watch(p, &top, root, cfg);
	if (r < 0)
		return r;
	r = parse_endpoints(p, &top, root, cfg);
	if (r < 0)
		return r;
	r = parse_exclude(p, &top, root, &cfg->exclude);
	if (r < 0)
		return r;
	r = parse_uint(p, &top, root, "flush_interval", 1, INTERVAL_MAX, false,
		       "an integer number of seconds from 1 to " STR(INTERVAL_MAX),
		       &cfg->flush_interval_s);
	if (r < 0)
		return r;
	r = parse_uint(p, &top, root, "heartbeat_interval", 0, INTERVAL_MAX, false,
		       "an integer number of seconds from 0 to " STR(INTERVAL_MAX) ", 0 for none",
		       &cfg->heartbeat_interval_s);
	if (r < 0)
		return r;
	r = parse_uint(p, &top, root, "ring_buffer_mb", 1, RING_BUFFER_MB_MAX, true,
		       "a power of two from 1 to " STR(RING_BUFFER_MB_MAX), &cfg->ring_buffer_mb);
	if (r < 0)
		return r;
	r = parse_uint(p, &top, root, "queue_mb", 1, QUEUE_MB_MAX, false,
		       "an integer number of MiB from 1 to " STR(QUEUE_MB_MAX), &cfg->queue_mb);
	if (r < 0)
		return r;
	r = parse_databases(p, root, &cfg->databases);
	if (r < 0)
		return r;
	r = parse_outputs(p, root, cfg);
	if (r < 0)
		return r;
	r = parse_state_dir(p, root, cfg);
	if (r < 0)
		return r;
	r = parse_control_socket(p, root, cfg);
	if (r < 0)
		return r;
	r = parse_egress(p, root, &cfg->egress_window_s);
	if (r < 0)
		return r;
	r = parse_chain(p, root, &cfg->chain);
	if (r < 0)
		return r;
	/* last: a rule's where names the watch rules, endpoints and tags above */
	return parse_detect(p, root, cfg);
}

static struct config *config_new(const char *source)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->source = strdup(source);
	if (!cfg->source) {
		free(cfg);
		return NULL;
	}
	cfg->flush_interval_s = CONFIG_FLUSH_INTERVAL_DEFAULT;
	cfg->heartbeat_interval_s = CONFIG_HEARTBEAT_INTERVAL_DEFAULT;
	cfg->ring_buffer_mb = CONFIG_RING_BUFFER_MB_DEFAULT;
	cfg->queue_mb = CONFIG_QUEUE_MB_DEFAULT;
	cfg->egress_window_s = CONFIG_EGRESS_WINDOW_DEFAULT;
	/* Every engine on, rows counted, literals redacted, statements on customer tables tagged.
	 */
	cfg->databases.postgresql = cfg->databases.mysql = cfg->databases.sqlite = true;
	cfg->databases.sqlite_rows = true;
	cfg->databases.tags = calloc(1, sizeof(char *));
	if (!cfg->databases.tags || !(cfg->databases.tags[0] = strdup("customer-data"))) {
		config_free(cfg);
		return NULL;
	}
	cfg->databases.n_tags = 1;
	return cfg;
}

/* SHA-256 of the config's bytes, in hex: which config ran, for agent-start. */
static void digest_hex(const char *text, size_t len, char hex[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256((const unsigned char *)text, len, md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

/* The names of the include files read, for custos check. */
static int keep_includes(struct parser *p, const struct sources *src, struct config *cfg)
{
	size_t i;

	if (src->n_files < 2)
		return 0;
	cfg->includes = calloc(src->n_files - 1, sizeof(*cfg->includes));
	if (!cfg->includes)
		return fail_nomem(p);
	for (i = 1; i < src->n_files; i++) {
		cfg->includes[i - 1] = strdup(src->files[i].name);
		if (!cfg->includes[i - 1])
			return fail_nomem(p);
		cfg->n_includes++;
	}
	return 0;
}

/*
 * The config in text, with the include files it names (or those of
 * dir_default), parsed and checked as one (include_flags: include.h).
 */
static int load(const char *text, size_t len, const char *source, const char *dir_default,
		unsigned int include_flags, struct config_error *err, struct config **ret)
{
	struct parser p = {.text = text, .len = len, .err = err};
	struct sources src = {0};
	struct config *cfg = NULL;
	json_t *root = NULL;
	char *plain;
	int r;

	r = config_parse_text(&p, text, len, &plain, &root);
	if (r < 0)
		return r;
	r = sources_add(&src, source, plain, len);
	if (r < 0) {
		free(plain);
		r = fail_nomem(&p);
		goto put_root;
	}
	r = sources_digest_add(&src, NULL, text, len);
	if (r == 0)
		r = json_is_object(root)
			? sources_include(&p, &src, root, dir_default, include_flags)
			: 0;
	else
		r = fail_nomem(&p);
	if (r < 0)
		goto put_root;
	p.src = src.n_files > 1 ? &src : NULL;
	cfg = config_new(source);
	if (!cfg) {
		r = fail_nomem(&p);
		goto put_root;
	}
	r = parse_root(&p, root, cfg);
	if (r == 0)
		r = keep_includes(&p, &src, cfg);
	if (r < 0) {
		config_free(cfg);
	} else {
		digest_hex(src.all, src.all_len, cfg->digest);
		*ret = cfg;
	}
put_root:
	json_decref(root);
	sources_free(&src);
	return r;
}

void config_error_format(const struct config_error *err, char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	if (!err)
		buf[0] = '\0';
	else if (!err->source[0])
		snprintf(buf, len, "%s", err->message);
	else if (err->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", err->source, err->line, err->column,
			 err->message);
	else
		snprintf(buf, len, "%s: %s", err->source, err->message);
}

struct config *config_load_file(const char *path, struct config_error *err)
{
	return config_load(path, 0, err);
}

/* conf.d next to path, into buf. */
static const char *default_include_dir(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, size, "conf.d");
	else
		snprintf(buf, size, "%.*s/conf.d", (int)(slash - path), path);
	return buf;
}

struct config *config_load(const char *path, unsigned int flags, struct config_error *err)
{
	char dir[PATH_MAX + 8];
	struct config_error unused;
	struct config *cfg = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	if (!err)
		err = &unused;
	parse_error_init(err, path ?: "(null)");
	if (!path) {
		snprintf(err->message, sizeof(err->message), "no file name given");
		errno = EINVAL;
		return NULL;
	}
	if (flags & CONFIG_LOAD_TRUSTED) {
		r = file_trusted(path, "config file", 0, err->message, sizeof(err->message));
		if (r) {
			err->source[0] = '\0'; /* the message names the file */
			errno = -r;
			return NULL;
		}
	}
	r = config_read_text(path, &text, &len);
	if (r == -EFBIG) {
		snprintf(err->message, sizeof(err->message),
			 "cannot read: the file is larger than %d MiB (expected a configuration "
			 "file of at most %d MiB)",
			 FILE_MAX_MB, FILE_MAX_MB);
	} else if (r < 0) {
		snprintf(err->message, sizeof(err->message), "cannot read: %s", strerror(-r));
	} else {
		r = load(text, len, path, default_include_dir(path, dir, sizeof(dir)),
			 INCLUDE_READ | (flags & CONFIG_LOAD_TRUSTED ? INCLUDE_TRUSTED : 0), err,
			 &cfg);
		free(text);
	}
	if (r < 0)
		errno = -r;
	return cfg;
}

struct config *config_load_string(const char *text, const char *source, struct config_error *err)
{
	struct config_error unused;
	struct config *cfg = NULL;
	int r;

	if (!err)
		err = &unused;
	source = source ?: "<string>";
	parse_error_init(err, source);
	if (!text) {
		snprintf(err->message, sizeof(err->message), "no text given");
		errno = EINVAL;
		return NULL;
	}
	r = load(text, strlen(text), source, NULL, 0, err, &cfg);
	if (r < 0)
		errno = -r;
	return cfg;
}

const char *config_default_text(void)
{
	return default_text;
}

struct config *config_load_default(void)
{
	return config_load_string(default_text, "<built-in>", NULL);
}

struct config *config_from_paths(char *const *paths, size_t n_paths)
{
	struct config_rule *rule;
	struct config *cfg;
	size_t i;

	if (!paths || n_paths == 0) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < n_paths; i++) {
		if (!paths[i] || paths[i][0] != '/') {
			errno = EINVAL;
			return NULL;
		}
	}

	cfg = config_new("<command line>");
	if (!cfg) {
		errno = ENOMEM;
		return NULL;
	}
	rule = cfg->rules = calloc(1, sizeof(*cfg->rules));
	if (!rule)
		goto free_cfg;
	cfg->n_rules = 1;
	rule->name = strdup("trace");
	rule->paths = calloc(n_paths, sizeof(*rule->paths));
	if (!rule->name || !rule->paths)
		goto free_cfg;
	for (i = 0; i < n_paths; i++) {
		rule->paths[i] = strdup(paths[i]);
		if (!rule->paths[i])
			goto free_cfg;
		rule->n_paths++;
	}
	return cfg;

free_cfg:
	config_free(cfg);
	errno = ENOMEM;
	return NULL;
}

static void exclude_free(struct config_exclude *ex)
{
	strv_free(ex->comms, ex->n_comms);
	strv_free(ex->exes, ex->n_exes);
	free(ex->uids);
}

void config_free(struct config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_rules; i++) {
		free(cfg->rules[i].name);
		strv_free(cfg->rules[i].tags, cfg->rules[i].n_tags);
		strv_free(cfg->rules[i].paths, cfg->rules[i].n_paths);
		exclude_free(&cfg->rules[i].exclude);
	}
	free(cfg->rules);
	for (i = 0; i < cfg->n_endpoints; i++) {
		free(cfg->endpoints[i].name);
		strv_free(cfg->endpoints[i].tags, cfg->endpoints[i].n_tags);
		free(cfg->endpoints[i].address);
		free(cfg->endpoints[i].unix_path);
	}
	free(cfg->endpoints);
	exclude_free(&cfg->exclude);
	strv_free(cfg->databases.tables, cfg->databases.n_tables);
	strv_free(cfg->databases.tags, cfg->databases.n_tags);
	outputs_free(cfg);
	detect_free(cfg);
	free(cfg->chain.key_file);
	free(cfg->chain.at_key_file);
	free(cfg->state_dir);
	free(cfg->control_socket);
	strv_free(cfg->includes, cfg->n_includes);
	free(cfg->source);
	free(cfg);
}
