// SPDX-License-Identifier: GPL-2.0
/*
 * What first_seen rules learned, kept across restarts in STATE_DIR/first_seen.json:
 * {"version": 1, "rules": {"NAME": {"fields": "process.executable,custos.rule",
 *  "learning_since": SECONDS, "keys": {"HEX": LAST_SEEN_SECONDS, ...}}}}
 * Keys are hex: they hold paths and names as the kernel gave them, bytes. A
 * rule whose key fields changed starts learning again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rules/facts.h"
#include "rules/rules_priv.h"

#define STATE_VERSION 1
#define NS	      1000000000LL

/* State that could not be read or written: one message for the agent to log, and a count. */
static void __attribute__((format(printf, 2, 3))) rules_warn(struct rules *rs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rs->warning, sizeof(rs->warning), fmt, ap);
	va_end(ap);
	rs->has_warning = true;
	rs->stats.state_errors++;
}

static void key_fields(const struct rule *r, char *buf, size_t cap)
{
	size_t i, at = 0;

	buf[0] = '\0';
	for (i = 0; i < r->cfg->n_group_by && at < cap; i++)
		at += (size_t)snprintf(buf + at, cap - at, "%s%s", i ? "," : "",
				       rule_field_name(r->cfg->group_by[i]));
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex to bytes; false when it is not lowercase hex of an even length within cap. */
static bool unhex(const char *hex, char *out, size_t cap, size_t *len)
{
	size_t n = strlen(hex), i;

	if (n % 2 || n / 2 > cap)
		return false;
	for (i = 0; i < n / 2; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (char)(hi << 4 | lo);
	}
	*len = n / 2;
	return true;
}

static void load_rule(struct rule *r, json_t *state, int64_t now_ns)
{
	static char key[4096];
	char fields[256];
	json_t *keys, *v;
	const char *hex;
	json_int_t since;

	key_fields(r, fields, sizeof(fields));
	r->learn_since_ns = now_ns;
	v = json_object_get(state, "fields");
	if (!json_is_string(v) || strcmp(json_string_value(v), fields))
		return;
	v = json_object_get(state, "learning_since");
	since = json_is_integer(v) ? json_integer_value(v) : 0;
	if (since > 0 && since <= now_ns / NS)
		r->learn_since_ns = since * NS;
	keys = json_object_get(state, "keys");
	json_object_foreach(keys, hex, v)
	{
		size_t len;

		if (!json_is_integer(v) || !unhex(hex, key, sizeof(key), &len))
			continue;
		groups_get(&r->groups, key, len, sizeof(struct group), json_integer_value(v) * NS);
	}
}

void first_seen_load(struct rules *rs, int64_t now_ns)
{
	json_t *root = NULL, *rules = NULL;
	json_error_t jerr;
	size_t i;

	if (rs->state_file && access(rs->state_file, F_OK) == 0) {
		root = json_load_file(rs->state_file, 0, &jerr);
		if (!root)
			rules_warn(rs, "%s:%d: %s: what first_seen rules learned is forgotten",
				   rs->state_file, jerr.line, jerr.text);
		else if (json_integer_value(json_object_get(root, "version")) != STATE_VERSION)
			rules_warn(rs, "%s: not a state file of this version: ignored",
				   rs->state_file);
		else
			rules = json_object_get(root, "rules");
	}
	for (i = 0; i < rs->n_rules; i++) {
		struct rule *r = &rs->rules[i];

		if (r->cfg->kind != CONFIG_DETECT_FIRST_SEEN)
			continue;
		load_rule(r, json_object_get(rules, r->cfg->name), now_ns);
		r->learn_until_ns = r->learn_since_ns + r->cfg->learn_s * NS;
	}
	json_decref(root);
}

static json_t *rule_state(struct rule *r)
{
	static const char digits[] = "0123456789abcdef";
	json_t *state = json_object(), *keys = json_object();
	char fields[256], hex[8193];
	struct group *g;

	key_fields(r, fields, sizeof(fields));
	json_object_set_new(state, "fields", json_string(fields));
	json_object_set_new(state, "learning_since", json_integer(r->learn_since_ns / NS));
	for (g = groups_oldest(&r->groups); g; g = groups_newer(&r->groups, g)) {
		size_t i, n = g->len < (sizeof(hex) - 1) / 2 ? g->len : (sizeof(hex) - 1) / 2;

		for (i = 0; i < n; i++) {
			hex[2 * i] = digits[(unsigned char)g->key[i] >> 4];
			hex[2 * i + 1] = digits[(unsigned char)g->key[i] & 15];
		}
		hex[2 * n] = '\0';
		json_object_set_new(keys, hex, json_integer(g->used_ns / NS));
	}
	json_object_set_new(state, "keys", keys);
	return state;
}

/* Written whole to a new file, then renamed over the old: never half a state. */
void first_seen_save(struct rules *rs)
{
	json_t *root, *rules;
	char tmp[4200];
	size_t i;
	int fd;

	rs->state_dirty = false;
	if (!rs->state_file)
		return;
	root = json_pack("{s:i}", "version", STATE_VERSION);
	rules = json_object();
	for (i = 0; i < rs->n_rules; i++)
		if (rs->rules[i].cfg->kind == CONFIG_DETECT_FIRST_SEEN)
			json_object_set_new(rules, rs->rules[i].cfg->name,
					    rule_state(&rs->rules[i]));
	json_object_set_new(root, "rules", rules);
	snprintf(tmp, sizeof(tmp), "%s", rs->state_file);
	if (strrchr(tmp, '/')) {
		*strrchr(tmp, '/') = '\0';
		mkdir(tmp, 0700); /* the state directory, if missing */
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", rs->state_file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || json_dumpfd(root, fd, JSON_COMPACT) || fsync(fd) ||
	    rename(tmp, rs->state_file)) {
		rules_warn(rs, "cannot save what first_seen rules learned in %s: %s",
			   rs->state_file, strerror(errno));
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	json_decref(root);
}
