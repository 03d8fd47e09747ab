// SPDX-License-Identifier: GPL-2.0
/* "outputs" and "spool": where events go, and where network outputs keep what they cannot send. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs.h"
#include "parse.h"

#define QUEUE_MIN	 (1ULL << 20)
#define QUEUE_MAX	 (16ULL << 30)
#define ROTATE_MIN	 4096
#define ROTATE_MAX	 (1ULL << 40)
#define KEEP_MAX	 1000
#define SPOOL_MIN	 (64ULL << 10)
#define SPOOL_MAX	 (1ULL << 40)
#define HTTP_TIMEOUT_MAX 600

static const char *const output_keys[] = {
    "type",    "name",	       "queue_bytes",	 "drop",
    "path",    "rotate_bytes", "rotate_seconds", "keep",
    "mode",    "url",	       "facility",	 "headers",
    "format",  "ca_file",      "tls_verify",	 "timeout_seconds",
    "framing", NULL,
};
/* Which keys each type takes, besides type, name, queue_bytes and drop. */
static const char *const file_keys[] = {"path", "rotate_bytes", "rotate_seconds",
					"keep", "mode",		NULL};
static const char *const syslog_keys[] = {"url", "facility", NULL};
static const char *const http_keys[] = {"url",	      "headers",	 "framing", "ca_file",
					"tls_verify", "timeout_seconds", NULL};
static const char *const spool_keys[] = {"dir", "max_bytes", NULL};

static const char *const type_names[] = {
    [CONFIG_OUTPUT_STDOUT] = "stdout",
    [CONFIG_OUTPUT_FILE] = "file",
    [CONFIG_OUTPUT_SYSLOG] = "syslog",
    [CONFIG_OUTPUT_HTTP] = "http",
};

static const char *const facilities[] = {
    "kern",   "user",	"mail",	    "daemon", "auth",	"syslog",   "lpr",     "news",
    "uucp",   "cron",	"authpriv", "ftp",    "ntp",	"security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7",
};

static const char *const http_framings[] = {
    [CONFIG_HTTP_NDJSON] = "ndjson",
    [CONFIG_HTTP_HEC] = "hec",
    [CONFIG_HTTP_BULK] = "bulk",
};

/*
 * "format": the lines' schema. An http output also takes a framing there, as
 * before "framing" was its own key: ECS lines in that framing.
 */
#define FORMAT_FRAMING 2 /* formats[FORMAT_FRAMING + f] is framing f */
static const char *const formats[] = {
    [CONFIG_FORMAT_ECS] = "ecs",
    [CONFIG_FORMAT_OCSF] = "ocsf",
    [FORMAT_FRAMING + CONFIG_HTTP_NDJSON] = "ndjson",
    [FORMAT_FRAMING + CONFIG_HTTP_HEC] = "hec",
    [FORMAT_FRAMING + CONFIG_HTTP_BULK] = "bulk",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return true;
	return false;
}

/* One of names (n of them, NULL entries skipped), by index; -1 if absent. */
static int parse_choice(struct parser *p, const struct where *w, json_t *obj, const char *key,
			const char *const *names, size_t n, int *value)
{
	json_t *v = json_object_get(obj, key);
	char label[192], q[QUOTE_MAX], expected[320] = "";
	size_t i, o = 0;

	if (!v)
		return 0;
	for (i = 0; i < n; i++)
		if (names[i])
			o += snprintf(expected + o, sizeof(expected) - o, "%s\"%s\"", o ? ", " : "",
				      names[i]);
	if (!json_is_string(v))
		return fail(p, w, key, NO_INDEX, false, "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, key), type_name(v), expected);
	for (i = 0; i < n; i++) {
		if (names[i] && !strcmp(names[i], json_string_value(v))) {
			*value = i;
			return 0;
		}
	}
	return fail(p, w, key, NO_INDEX, false, "%s is %s (expected one of %s)",
		    key_label(label, sizeof(label), w, key), quote(q, json_string_value(v)),
		    expected);
}

static int parse_u64(struct parser *p, const struct where *w, json_t *obj, const char *key,
		     uint64_t min, uint64_t max, const char *unit, uint64_t *value)
{
	json_t *v = json_object_get(obj, key);
	char label[192];

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return fail(p, w, key, NO_INDEX, false,
			    "%s must be an integer, not %s (expected %s from %llu to %llu)",
			    key_label(label, sizeof(label), w, key), type_name(v), unit,
			    (unsigned long long)min, (unsigned long long)max);
	if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < min ||
	    (uint64_t)json_integer_value(v) > max)
		return fail(
		    p, w, key, NO_INDEX, false, "%s is %lld (expected %s from %llu to %llu)",
		    key_label(label, sizeof(label), w, key), (long long)json_integer_value(v), unit,
		    (unsigned long long)min, (unsigned long long)max);
	*value = json_integer_value(v);
	return 0;
}

static int parse_u32(struct parser *p, const struct where *w, json_t *obj, const char *key,
		     uint32_t min, uint32_t max, const char *unit, uint32_t *value)
{
	uint64_t v = *value;
	int r = parse_u64(p, w, obj, key, min, max, unit, &v);

	*value = v;
	return r;
}

static int parse_string(struct parser *p, const struct where *w, json_t *obj, const char *key,
			const char *expected, char **value)
{
	json_t *v = json_object_get(obj, key);
	char label[192];

	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(p, w, key, NO_INDEX, false, "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, key), type_name(v), expected);
	if (!json_string_value(v)[0] || has_control(json_string_value(v)) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return fail(p, w, key, NO_INDEX, false,
			    "%s is empty or has control characters (expected %s)",
			    key_label(label, sizeof(label), w, key), expected);
	free(*value);
	*value = strdup(json_string_value(v));
	return *value ? 0 : fail_nomem(p);
}

/* "mode": "0640", octal as chmod takes it; group and others may never write. */
static int parse_mode(struct parser *p, const struct where *w, json_t *obj, uint32_t *mode)
{
	json_t *v = json_object_get(obj, "mode");
	static const char expected[] = "an octal mode such as \"0600\" or \"0640\", with no write "
				       "or execute bit for group and others";
	char label[192], q[QUOTE_MAX], *end;
	unsigned long m;

	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(p, w, "mode", NO_INDEX, false,
			    "%s must be a string, not %s (expected %s)",
			    key_label(label, sizeof(label), w, "mode"), type_name(v), expected);
	m = strtoul(json_string_value(v), &end, 8);
	if (!json_string_value(v)[0] || *end || m > 0777 || (m & 0133) || !(m & 0200))
		return fail(p, w, "mode", NO_INDEX, false, "%s is %s (expected %s)",
			    key_label(label, sizeof(label), w, "mode"),
			    quote(q, json_string_value(v)), expected);
	*mode = m;
	return 0;
}

/* "headers": {"Authorization": "Splunk TOKEN"} into "Name: value" lines. */
static int parse_headers(struct parser *p, const struct where *w, json_t *obj,
			 struct config_output *out)
{
	json_t *h = json_object_get(obj, "headers"), *v;
	char label[192], q[QUOTE_MAX];
	const char *name;
	size_t n = 0;

	if (!h)
		return 0;
	if (!json_is_object(h))
		return fail(p, w, "headers", NO_INDEX, false,
			    "%s must be an object, not %s (expected {\"Authorization\": \"...\"})",
			    key_label(label, sizeof(label), w, "headers"), type_name(h));
	out->headers = calloc(json_object_size(h) + 1, sizeof(char *));
	if (!out->headers)
		return fail_nomem(p);
	json_object_foreach(h, name, v)
	{
		if (!name[0] || strpbrk(name, ": \t") || has_control(name) || !json_is_string(v) ||
		    has_control(json_string_value(v)))
			return fail(p, w, "headers", NO_INDEX, false,
				    "header %s of %s is not a header name with a string value "
				    "without control characters",
				    quote(q, name), w->label);
		if (asprintf(&out->headers[n], "%s: %s", name, json_string_value(v)) < 0)
			return fail_nomem(p);
		out->n_headers = ++n;
	}
	return 0;
}

/* HOST:PORT or [IPv6]:PORT, the port from 1 to 65535: syslog has no default port here. */
static bool has_port(const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	char *end;
	unsigned long port;

	if (!colon || colon == hostport || strchr(hostport, '/'))
		return false;
	port = strtoul(colon + 1, &end, 10);
	return colon[1] >= '0' && colon[1] <= '9' && !*end && port >= 1 && port <= 65535;
}

static int check_url(struct parser *p, const struct where *w, struct config_output *out)
{
	static const char *const syslog_schemes[] = {"tcp://", "udp://", "unix://", NULL};
	static const char *const http_schemes[] = {"http://", "https://", NULL};
	const char *const *schemes =
	    out->type == CONFIG_OUTPUT_SYSLOG ? syslog_schemes : http_schemes;
	const char *expected = out->type == CONFIG_OUTPUT_SYSLOG
				   ? "tcp://HOST:PORT, udp://HOST:PORT or unix:///PATH"
				   : "http://HOST[:PORT]/PATH or https://...";
	char q[QUOTE_MAX];
	bool ok;
	size_t i;

	if (!out->url)
		return fail(p, w, NULL, NO_INDEX, false, "missing key \"url\" in %s (expected %s)",
			    w->label, expected);
	for (i = 0; schemes[i]; i++) {
		size_t n = strlen(schemes[i]);

		if (strncmp(out->url, schemes[i], n))
			continue;
		if (!strcmp(schemes[i], "unix://"))
			ok = out->url[n] == '/';
		else if (out->type == CONFIG_OUTPUT_SYSLOG)
			ok = has_port(out->url + n);
		else
			ok = out->url[n] && out->url[n] != '/' && out->url[n] != ':';
		if (ok)
			return 0;
	}
	return fail(p, w, "url", NO_INDEX, false, "\"url\" of %s is %s (expected %s)", w->label,
		    quote(q, out->url), expected);
}

static int check_type_keys(struct parser *p, const struct where *w, json_t *obj,
			   const struct config_output *out)
{
	const char *const *own = out->type == CONFIG_OUTPUT_FILE     ? file_keys
				 : out->type == CONFIG_OUTPUT_SYSLOG ? syslog_keys
				 : out->type == CONFIG_OUTPUT_HTTP   ? http_keys
								     : NULL;
	char q[QUOTE_MAX];
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (!in_list(file_keys, key) && !in_list(syslog_keys, key) &&
		    !in_list(http_keys, key))
			continue;
		if (!own || !in_list(own, key))
			return fail(p, w, key, NO_INDEX, true,
				    "%s does not apply to an output of type \"%s\"", quote(q, key),
				    type_names[out->type]);
	}
	return 0;
}

static int set_name(struct parser *p, struct config_output *out)
{
	int r = 0;

	if (out->name)
		return 0;
	if (out->type == CONFIG_OUTPUT_STDOUT)
		out->name = strdup("stdout");
	else
		r = asprintf(&out->name, "%s:%s", type_names[out->type],
			     out->type == CONFIG_OUTPUT_FILE ? out->path : out->url);
	return r < 0 || !out->name ? fail_nomem(p) : 0;
}

static int parse_output(struct parser *p, json_t *obj, size_t index, struct config_output *out)
{
	struct where w = {.path = {JSON_KEY("outputs"), JSON_INDEX(index)}, .depth = 2};
	int type = -1, drop = 0, format = CONFIG_FORMAT_ECS, framing = CONFIG_HTTP_NDJSON;
	int facility = out->facility;
	static const char *const drops[] = {"newest", "oldest"};
	char label[192];
	int r;

	snprintf(w.dotted, sizeof(w.dotted), "outputs[%zu]", index);
	snprintf(w.label, sizeof(w.label), "%s", w.dotted);
	r = check_keys(p, &w, obj, output_keys);
	if (r == 0 && !json_object_get(obj, "type"))
		return fail(p, &w, NULL, NO_INDEX, false,
			    "missing key \"type\" in %s (expected \"stdout\", \"file\", "
			    "\"syslog\" or \"http\")",
			    w.label);
	if (r == 0)
		r = parse_choice(p, &w, obj, "type", type_names, N_OF(type_names), &type);
	if (r < 0)
		return r;
	out->type = type;
	snprintf(w.label, sizeof(w.label), "%s (%s)", w.dotted, type_names[type]);
	r = check_type_keys(p, &w, obj, out);
	if (r == 0)
		r = parse_string(p, &w, obj, "name", "a name for messages and statistics",
				 &out->name);
	if (r == 0)
		r = parse_u64(p, &w, obj, "queue_bytes", QUEUE_MIN, QUEUE_MAX, "a size in bytes",
			      &out->queue_bytes);
	if (r == 0)
		r = parse_choice(p, &w, obj, "drop", drops, N_OF(drops), &drop);
	if (r == 0)
		r = parse_string(p, &w, obj, "path", "an absolute path", &out->path);
	if (r == 0)
		r = parse_u64(p, &w, obj, "rotate_bytes", 0, ROTATE_MAX,
			      "a size in bytes, 0 for never,", &out->rotate_bytes);
	if (r == 0 && out->rotate_bytes && out->rotate_bytes < ROTATE_MIN)
		return fail(p, &w, "rotate_bytes", NO_INDEX, false,
			    "%s is %llu (expected 0 or at least %d)",
			    key_label(label, sizeof(label), &w, "rotate_bytes"),
			    (unsigned long long)out->rotate_bytes, ROTATE_MIN);
	if (r == 0)
		r = parse_u32(p, &w, obj, "rotate_seconds", 0, UINT32_MAX, "seconds, 0 for never,",
			      &out->rotate_seconds);
	if (r == 0)
		r = parse_u32(p, &w, obj, "keep", 0, KEEP_MAX, "a number of rotated files",
			      &out->keep);
	if (r == 0)
		r = parse_mode(p, &w, obj, &out->mode);
	if (r == 0)
		r = parse_string(p, &w, obj, "url", "a URL", &out->url);
	if (r == 0)
		r = parse_choice(p, &w, obj, "facility", facilities, N_OF(facilities), &facility);
	if (r == 0)
		r = parse_headers(p, &w, obj, out);
	if (r == 0)
		r = parse_choice(p, &w, obj, "format", formats,
				 type == CONFIG_OUTPUT_HTTP ? N_OF(formats) : FORMAT_FRAMING,
				 &format);
	if (r == 0)
		r = parse_choice(p, &w, obj, "framing", http_framings, N_OF(http_framings),
				 &framing);
	if (r == 0 && format >= FORMAT_FRAMING && json_object_get(obj, "framing"))
		return fail(p, &w, "format", NO_INDEX, false,
			    "%s is \"%s\", a framing, and \"framing\" is given too (expected "
			    "\"format\": \"ecs\" or \"ocsf\" with \"framing\")",
			    key_label(label, sizeof(label), &w, "format"), formats[format]);
	if (r == 0)
		r = parse_string(p, &w, obj, "ca_file", "an absolute path", &out->ca_file);
	if (r == 0)
		r = parse_bool(p, &w, obj, "tls_verify", &out->tls_verify);
	if (r == 0)
		r = parse_u32(p, &w, obj, "timeout_seconds", 1, HTTP_TIMEOUT_MAX, "seconds",
			      &out->timeout_s);
	if (r < 0)
		return r;
	out->drop_oldest = drop == 1;
	out->facility = facility;
	if (format >= FORMAT_FRAMING) {
		framing = format - FORMAT_FRAMING;
		format = CONFIG_FORMAT_ECS;
	}
	out->format = format;
	out->framing = framing;
	if (type == CONFIG_OUTPUT_FILE && (!out->path || out->path[0] != '/'))
		return fail(p, &w, out->path ? "path" : NULL, NO_INDEX, false,
			    "%s needs \"path\", an absolute path (expected "
			    "\"/var/log/custos/events.ndjson\")",
			    w.label);
	if (out->ca_file && out->ca_file[0] != '/')
		return fail(p, &w, "ca_file", NO_INDEX, false,
			    "\"ca_file\" of %s is not an absolute path", w.label);
	if (type == CONFIG_OUTPUT_SYSLOG || type == CONFIG_OUTPUT_HTTP) {
		r = check_url(p, &w, out);
		if (r < 0)
			return r;
	}
	if (r == 0 && (out->path || out->url))
		r = where_at(p, &w, out->path ? "path" : "url", &out->at);
	if (r == 0 && out->ca_file)
		r = where_at(p, &w, "ca_file", &out->at_ca_file);
	if (r < 0)
		return r;
	return set_name(p, out);
}

static void output_defaults(struct config_output *out)
{
	out->queue_bytes = CONFIG_OUTPUT_QUEUE_DEFAULT;
	out->rotate_bytes = CONFIG_FILE_ROTATE_DEFAULT;
	out->rotate_seconds = CONFIG_FILE_ROTATE_S_DEFAULT;
	out->keep = CONFIG_FILE_KEEP_DEFAULT;
	out->mode = CONFIG_FILE_MODE_DEFAULT;
	out->facility = CONFIG_SYSLOG_FACILITY_DEFAULT;
	out->tls_verify = true;
	out->timeout_s = CONFIG_HTTP_TIMEOUT_DEFAULT;
}

/* Two outputs with one name would mix their spools and statistics. */
static int check_unique(struct parser *p, struct config *cfg, size_t index)
{
	struct where w = {.path = {JSON_KEY("outputs"), JSON_INDEX(index)}, .depth = 2};
	size_t i;

	for (i = 0; i < index; i++)
		if (!strcmp(cfg->outputs[i].name, cfg->outputs[index].name))
			return fail(p, &w, NULL, NO_INDEX, false,
				    "outputs[%zu] and outputs[%zu] are both \"%s\" (expected each "
				    "output once; \"name\" tells two apart)",
				    i, index, cfg->outputs[i].name);
	return 0;
}

static int parse_spool(struct parser *p, json_t *root, struct config_spool *spool)
{
	json_t *obj = json_object_get(root, "spool"), *dir;
	struct where w = {
	    .path = {JSON_KEY("spool")}, .depth = 1, .dotted = "spool", .label = "spool"};
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	int r;

	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return fail(p, &top, "spool", NO_INDEX, false,
			    "\"spool\" must be an object, not %s (expected {\"dir\": "
			    "\"/var/lib/custos/spool\", \"max_bytes\": 1073741824})",
			    type_name(obj));
	r = check_keys(p, &w, obj, spool_keys);
	dir = json_object_get(obj, "dir");
	/* "dir": "" turns the spool off. */
	if (r == 0 && json_is_string(dir) && !json_string_value(dir)[0]) {
		free(spool->dir);
		spool->dir = strdup("");
		if (!spool->dir)
			return fail_nomem(p);
	} else if (r == 0) {
		r = parse_string(p, &w, obj, "dir", "an absolute path, or \"\" for no spool",
				 &spool->dir);
		if (r == 0 && spool->dir[0] != '/')
			return fail(
			    p, &w, "dir", NO_INDEX, false,
			    "\"dir\" of spool is not an absolute path (expected an absolute "
			    "path, or \"\" for no spool)");
	}
	if (r == 0 && dir)
		r = where_at(p, &w, "dir", &spool->at_dir);
	if (r == 0)
		r = parse_u64(p, &w, obj, "max_bytes", SPOOL_MIN, SPOOL_MAX, "a size in bytes",
			      &spool->max_bytes);
	return r;
}

int parse_outputs(struct parser *p, json_t *root, struct config *cfg)
{
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	json_t *outputs = json_object_get(root, "outputs"), *o;
	size_t i, n;
	int r;

	cfg->spool.max_bytes = CONFIG_SPOOL_MAX_DEFAULT;
	cfg->spool.dir = strdup(CONFIG_SPOOL_DIR_DEFAULT);
	if (!cfg->spool.dir)
		return fail_nomem(p);
	r = parse_spool(p, root, &cfg->spool);
	if (r < 0 || !outputs)
		return r;
	if (!json_is_array(outputs) || json_array_size(outputs) == 0)
		return fail(p, &top, "outputs", NO_INDEX, false,
			    "\"outputs\" must be a non-empty array, not %s (expected [{\"type\": "
			    "\"stdout\"}, {\"type\": \"file\", \"path\": \"...\"}, ...])",
			    json_is_array(outputs) ? "empty" : type_name(outputs));
	n = json_array_size(outputs);
	cfg->outputs = calloc(n, sizeof(*cfg->outputs));
	if (!cfg->outputs)
		return fail_nomem(p);
	for (i = 0; i < n; i++) {
		o = json_array_get(outputs, i);
		if (!json_is_object(o))
			return fail(p, &top, "outputs", i, false,
				    "outputs[%zu] must be an object, not %s (expected {\"type\": "
				    "\"file\", \"path\": \"...\"})",
				    i, type_name(o));
		cfg->n_outputs++;
		output_defaults(&cfg->outputs[i]);
		r = parse_output(p, o, i, &cfg->outputs[i]);
		if (r == 0)
			r = check_unique(p, cfg, i);
		if (r < 0)
			return r;
	}
	return 0;
}

void outputs_free(struct config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->n_outputs; i++) {
		struct config_output *o = &cfg->outputs[i];

		free(o->name);
		free(o->path);
		free(o->url);
		free(o->ca_file);
		free(o->at);
		free(o->at_ca_file);
		for (j = 0; j < o->n_headers; j++)
			free(o->headers[j]);
		free(o->headers);
	}
	free(cfg->outputs);
	free(cfg->spool.dir);
	free(cfg->spool.at_dir);
}
