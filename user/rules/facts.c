// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "encode/encode.h"
#include "rules/facts.h"

static const char *const field_names[CONFIG_FIELD_MAX] = {
    [CONFIG_FIELD_USER_NAME] = "user.name",
    [CONFIG_FIELD_AUDIT_NAME] = "user.audit.name",
    [CONFIG_FIELD_UID] = "user.id",
    [CONFIG_FIELD_PID] = "process.pid",
    [CONFIG_FIELD_COMM] = "process.name",
    [CONFIG_FIELD_EXE] = "process.executable",
    [CONFIG_FIELD_SESSION] = "process.session_id",
    [CONFIG_FIELD_RULE] = "custos.rule",
    [CONFIG_FIELD_FILE_PATH] = "file.path",
    [CONFIG_FIELD_TABLE] = "custos.db.tables",
    [CONFIG_FIELD_DB_NAMESPACE] = "db.namespace",
    [CONFIG_FIELD_DESTINATION] = "destination.address",
};

const char *rule_field_name(enum config_field field)
{
	return field < CONFIG_FIELD_MAX ? field_names[field] : "?";
}

static void set(struct rule_value *v, const char *s, size_t len)
{
	v->s = s;
	v->len = len;
}

static void set_str(struct rule_value *v, const char *s)
{
	if (s)
		set(v, s, strlen(s));
}

/* n in decimal, without printf's cost: it runs for every event. */
static size_t utoa(char *buf, uint32_t n)
{
	char tmp[10];
	size_t len = 0, i;

	do {
		tmp[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	for (i = 0; i < len; i++)
		buf[i] = tmp[len - 1 - i];
	buf[len] = '\0';
	return len;
}

static void set_number(struct rule_value *v, char *buf, uint32_t n)
{
	set(v, buf, utoa(buf, n));
}

static uint32_t db_actions(const struct event_db *db)
{
	const char *op = db->info ? db->info->operation : "";
	uint32_t a = 1u << CONFIG_ACTION_QUERY;

	enum sql_effect effect = sql_effect(op, db->text, db->text_len);

	if (db->rows > 0 || effect == SQL_EFFECT_READ)
		a |= 1u << CONFIG_ACTION_READ;
	else if (effect == SQL_EFFECT_WRITE)
		a |= 1u << CONFIG_ACTION_WRITE;
	return a;
}

static uint32_t open_actions(const struct event *ev)
{
	uint32_t a = 1u << CONFIG_ACTION_OPEN, acc;

	if (!ev->open.has_flags)
		return a | 1u << CONFIG_ACTION_READ;
	acc = ev->open.flags & O_ACCMODE;
	if (acc == O_RDONLY || acc == O_RDWR)
		a |= 1u << CONFIG_ACTION_READ;
	if (acc != O_RDONLY || ev->open.flags & (O_CREAT | O_TRUNC))
		a |= 1u << CONFIG_ACTION_WRITE;
	return a;
}

static uint32_t summary_actions(const struct event *ev, struct rule_facts *f)
{
	uint32_t a =
	    1u << (strcmp(ev->summary.reason, "flush") ? CONFIG_ACTION_CLOSE : CONFIG_ACTION_FLUSH);

	f->bytes_read = ev->summary.since.bytes_read;
	f->bytes_written = ev->summary.since.bytes_written;
	if (f->bytes_read)
		a |= 1u << CONFIG_ACTION_READ;
	if (f->bytes_written)
		a |= 1u << CONFIG_ACTION_WRITE;
	return a;
}

static uint32_t change_action(uint32_t op)
{
	switch (op) {
	case CUSTOS_CHANGE_TRUNCATE:
		return 1u << CONFIG_ACTION_TRUNCATE;
	case CUSTOS_CHANGE_CHMOD:
		return 1u << CONFIG_ACTION_CHMOD;
	case CUSTOS_CHANGE_CHOWN:
		return 1u << CONFIG_ACTION_CHOWN;
	case CUSTOS_CHANGE_UNLINK:
		return 1u << CONFIG_ACTION_UNLINK;
	default:
		return 1u << CONFIG_ACTION_RENAME;
	}
}

static uint32_t actions_of(const struct event *ev, struct rule_facts *f)
{
	switch (ev->kind) {
	case EVENT_FILE_OPEN:
		return open_actions(ev);
	case EVENT_FILE_SUMMARY:
		return summary_actions(ev, f);
	case EVENT_FILE_MMAP:
		return 1u << CONFIG_ACTION_MMAP |
		       (ev->mmap.prot & PROT_READ ? 1u << CONFIG_ACTION_READ : 0) |
		       (ev->mmap.prot & PROT_WRITE && ev->mmap.flags & MAP_SHARED
			    ? 1u << CONFIG_ACTION_WRITE
			    : 0);
	case EVENT_FILE_CHANGE:
		return change_action(ev->change.op) | 1u << CONFIG_ACTION_WRITE;
	case EVENT_DB_STATEMENT:
		if (ev->db.rows > 0)
			f->rows = (uint64_t)ev->db.rows;
		return db_actions(&ev->db);
	case EVENT_NET_CONNECT:
		return 1u << (ev->net->accepted ? CONFIG_ACTION_ACCEPT : CONFIG_ACTION_CONNECT);
	default:
		return 0;
	}
}

static void who_fields(struct rule_facts *f, const struct event_who *who)
{
	const struct custos_task *t = &who->task;

	set_number(&f->field[CONFIG_FIELD_UID], f->uid, t->uid);
	if (who->user_name)
		set_str(&f->field[CONFIG_FIELD_USER_NAME], who->user_name);
	else
		f->field[CONFIG_FIELD_USER_NAME] = f->field[CONFIG_FIELD_UID];
	/* The login user survives sudo and su; a process of no login is its user's. */
	if (t->auid == UINT32_MAX)
		f->field[CONFIG_FIELD_AUDIT_NAME] = f->field[CONFIG_FIELD_USER_NAME];
	else if (who->audit_name)
		set_str(&f->field[CONFIG_FIELD_AUDIT_NAME], who->audit_name);
	else
		set_number(&f->field[CONFIG_FIELD_AUDIT_NAME], f->audit, t->auid);
	set_number(&f->field[CONFIG_FIELD_PID], f->pid, t->tgid);
	set(&f->field[CONFIG_FIELD_COMM], t->comm, strnlen(t->comm, sizeof(t->comm)));
	if (who->exe)
		set(&f->field[CONFIG_FIELD_EXE], who->exe, who->exe_len);
	/* Without an audit session, a process is its own: sequences follow it alone. */
	if (t->sessionid != UINT32_MAX) {
		set_number(&f->field[CONFIG_FIELD_SESSION], f->session, t->sessionid);
	} else {
		f->session[0] = 'p';
		set(&f->field[CONFIG_FIELD_SESSION], f->session, 1 + utoa(f->session + 1, t->tgid));
	}
}

static void net_destination(struct rule_facts *f, const struct event_net *n)
{
	char addr[48];
	int len;

	if (n->unix_path) {
		set_str(&f->field[CONFIG_FIELD_DESTINATION], n->unix_path);
		return;
	}
	encode_net_addr(n->family, n->remote_addr, addr);
	len = snprintf(f->destination, sizeof(f->destination),
		       n->family == CUSTOS_NET_IPV6 ? "[%s]:%u" : "%s:%u", addr, n->remote_port);
	set(&f->field[CONFIG_FIELD_DESTINATION], f->destination, (size_t)len);
}

bool rule_facts_init(struct rule_facts *f, const struct event *ev)
{
	memset(f, 0, sizeof(*f));
	f->ev = ev;
	switch (ev->kind) {
	case EVENT_DB_STATEMENT:
		f->category = CONFIG_CATEGORY_DATABASE;
		break;
	case EVENT_FILE_OPEN:
	case EVENT_FILE_SUMMARY:
	case EVENT_FILE_MMAP:
	case EVENT_FILE_CHANGE:
	case EVENT_FILE_DENIED:
	case EVENT_NET_CONNECT:
		f->category = ev->net ? CONFIG_CATEGORY_NETWORK : CONFIG_CATEGORY_FILE;
		break;
	default:
		return false;
	}
	f->actions = actions_of(ev, f);
	if (ev->net && ev->kind == EVENT_FILE_SUMMARY) {
		/* A socket's reads are what it received, its writes what it sent. */
		f->bytes_read = ev->summary.since.bytes_read;
		f->bytes_written = ev->summary.since.bytes_written;
	}
	if (ev->who)
		who_fields(f, ev->who);
	if (ev->rule && ev->rule->name)
		set_str(&f->field[CONFIG_FIELD_RULE], ev->rule->name);
	if (ev->file && !ev->net && ev->file->path_len)
		set(&f->field[CONFIG_FIELD_FILE_PATH], ev->file->path, ev->file->path_len);
	if (ev->kind == EVENT_DB_STATEMENT) {
		if (ev->db.info && ev->db.info->n_tables)
			set_str(&f->field[CONFIG_FIELD_TABLE], ev->db.info->tables[0]);
		set_str(&f->field[CONFIG_FIELD_DB_NAMESPACE], ev->db.namespace);
	}
	if (ev->net)
		net_destination(f, ev->net);
	return true;
}

size_t rule_facts_tables(const struct rule_facts *f)
{
	if (f->ev->kind != EVENT_DB_STATEMENT || !f->ev->db.info)
		return 0;
	return f->ev->db.info->n_tables;
}

const char *rule_facts_table(const struct rule_facts *f, size_t i)
{
	return f->ev->db.info->tables[i];
}

static bool in_list(char *const *list, size_t n, const struct rule_value *v)
{
	size_t i;

	if (!v->s)
		return false;
	for (i = 0; i < n; i++)
		if (strlen(list[i]) == v->len && !memcmp(list[i], v->s, v->len))
			return true;
	return false;
}

static bool has_tag(const struct event *ev, char *const *want, size_t n_want)
{
	size_t i, j;

	for (i = 0; i < n_want; i++) {
		if (ev->rule)
			for (j = 0; j < ev->rule->n_tags; j++)
				if (!strcmp(ev->rule->tags[j], want[i]))
					return true;
		if (ev->kind == EVENT_DB_STATEMENT && ev->db.customer_data)
			for (j = 0; j < ev->db.n_tags; j++)
				if (!strcmp(ev->db.tags[j], want[i]))
					return true;
	}
	return false;
}

static bool exe_matches(char *const *globs, size_t n, const struct rule_value *exe)
{
	char buf[4096];
	size_t i;

	if (!exe->s || exe->len >= sizeof(buf))
		return false;
	memcpy(buf, exe->s, exe->len);
	buf[exe->len] = '\0';
	for (i = 0; i < n; i++)
		if (!fnmatch(globs[i], buf, FNM_PATHNAME))
			return true;
	return false;
}

static bool table_matches(const struct config_where *w, const struct rule_facts *f)
{
	size_t i, j, n = rule_facts_tables(f);

	for (i = 0; i < n; i++)
		for (j = 0; j < w->n_tables; j++)
			if (sql_table_matches(w->tables[j], rule_facts_table(f, i)))
				return true;
	return false;
}

static bool operation_matches(const struct config_where *w, const struct rule_facts *f)
{
	size_t i;

	if (f->ev->kind != EVENT_DB_STATEMENT || !f->ev->db.info)
		return false;
	for (i = 0; i < w->n_operations; i++)
		if (!strcasecmp(w->operations[i], f->ev->db.info->operation))
			return true;
	return false;
}

/* Egress: a socket or file no rule watches, of a session that read customer data. */
static bool is_egress(const struct event *ev)
{
	return ev->rule && ev->rule->egress;
}

static bool endpoint_matches(enum config_endpoint_match m, const struct event *ev)
{
	switch (m) {
	case CONFIG_ENDPOINT_WATCHED:
		return ev->net && !is_egress(ev);
	case CONFIG_ENDPOINT_UNWATCHED:
		return ev->net && is_egress(ev);
	default:
		return true;
	}
}

static bool user_matches(char *const *list, size_t n, const struct rule_value *name,
			 const struct rule_value *id)
{
	return in_list(list, n, name) || in_list(list, n, id);
}

void rule_where_init(struct rule_where *w, const struct config_where *cfg, struct rule_tags *tags)
{
	size_t i, j;

	w->cfg = cfg;
	w->tag_bits = 0;
	w->tags_by_name = false;
	for (i = 0; i < cfg->n_tags; i++) {
		for (j = 0; j < tags->n && strcmp(tags->names[j], cfg->tags[i]); j++)
			;
		if (j == tags->n && tags->n < RULE_TAG_BITS)
			tags->names[tags->n++] = cfg->tags[i];
		if (j < tags->n)
			w->tag_bits |= 1ULL << j;
		else
			w->tags_by_name = true;
	}
}

static void add_tag_bits(struct rule_facts *f, const struct rule_tags *tags, char *const *names,
			 size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < tags->n; j++)
			if (!strcmp(names[i], tags->names[j]))
				f->tag_bits |= 1ULL << j;
}

void rule_facts_tag_bits(struct rule_facts *f, const struct rule_tags *tags)
{
	const struct event *ev = f->ev;

	f->tag_bits = 0;
	if (ev->rule)
		add_tag_bits(f, tags, ev->rule->tags, ev->rule->n_tags);
	if (ev->kind == EVENT_DB_STATEMENT && ev->db.customer_data)
		add_tag_bits(f, tags, ev->db.tags, ev->db.n_tags);
}

bool rule_where_matches(const struct rule_where *rw, const struct rule_facts *f)
{
	const struct config_where *w = rw->cfg;
	const struct event *ev = f->ev;

	if (w->categories && !(w->categories & f->category))
		return false;
	if (w->actions && !(w->actions & f->actions))
		return false;
	if (w->n_tags && !(f->tag_bits & rw->tag_bits) &&
	    !(rw->tags_by_name && has_tag(ev, w->tags, w->n_tags)))
		return false;
	if (w->n_rules && !in_list(w->rules, w->n_rules, &f->field[CONFIG_FIELD_RULE]))
		return false;
	if (w->n_users && !user_matches(w->users, w->n_users, &f->field[CONFIG_FIELD_USER_NAME],
					&f->field[CONFIG_FIELD_UID]))
		return false;
	if (w->n_login_users &&
	    !in_list(w->login_users, w->n_login_users, &f->field[CONFIG_FIELD_AUDIT_NAME]))
		return false;
	if (w->n_comms && !in_list(w->comms, w->n_comms, &f->field[CONFIG_FIELD_COMM]))
		return false;
	if (w->n_exes && !exe_matches(w->exes, w->n_exes, &f->field[CONFIG_FIELD_EXE]))
		return false;
	if (w->n_tables && !table_matches(w, f))
		return false;
	if (w->n_operations && !operation_matches(w, f))
		return false;
	if (!endpoint_matches(w->endpoint, ev))
		return false;
	if (w->outside_watch && !(is_egress(ev) && ev->file && !ev->net))
		return false;
	if (w->removable && !(ev->file && !ev->net && ev->file->removable))
		return false;
	return config_hours_match(&w->hours, ev->time_ns);
}

uint64_t rule_facts_measure(const struct rule_facts *f, enum config_measure m)
{
	switch (m) {
	case CONFIG_MEASURE_COUNT:
		return 1;
	case CONFIG_MEASURE_ROWS_OR_BYTES:
		return f->category == CONFIG_CATEGORY_DATABASE ? f->rows : f->bytes_read;
	case CONFIG_MEASURE_ROWS:
		return f->rows;
	case CONFIG_MEASURE_BYTES_READ:
		return f->bytes_read;
	case CONFIG_MEASURE_BYTES_WRITTEN:
		return f->bytes_written;
	default:
		return 0;
	}
}
