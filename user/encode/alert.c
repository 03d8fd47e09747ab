// SPDX-License-Identifier: GPL-2.0
/*
 * An alert's own members (encode_event writes the rest): event.start, end
 * and severity, rule.*, threat.* (MITRE ATT&CK), the fields it was grouped
 * by in their ECS places, and custos.alert.
 */
#include <stdlib.h>
#include <string.h>

#include "encode/alert.h"

/* ECS's event.severity for the rule's words, numbered as Elastic's detection rules do. */
int64_t encode_alert_severity(const char *severity)
{
	if (!severity)
		return 47;
	if (!strcmp(severity, "low"))
		return 21;
	if (!strcmp(severity, "high"))
		return 73;
	if (!strcmp(severity, "critical"))
		return 99;
	return 47;
}

const struct event_alert_field *encode_alert_group_field(const struct event_alert *a,
							 const char *name)
{
	size_t i;

	for (i = 0; i < a->n_group; i++)
		if (!strcmp(a->group[i].name, name))
			return &a->group[i];
	return NULL;
}

static void write_value(struct jsonw *w, const char *key, const struct event_alert_field *f)
{
	if (f)
		jsonw_bytes(w, key, f->name, f->value, strlen(f->value));
}

static void write_number(struct jsonw *w, const char *key, const struct event_alert_field *f)
{
	if (f)
		jsonw_int(w, key, strtoll(f->value, NULL, 10));
}

/* user.* and process.* from the group, for an alert about the events of many processes. */
void encode_alert_grouped_who(struct jsonw *w, const struct event_alert *a)
{
	const struct event_alert_field *name = encode_alert_group_field(a, "user.name"),
				       *id = encode_alert_group_field(a, "user.id"),
				       *audit = encode_alert_group_field(a, "user.audit.name"),
				       *pid = encode_alert_group_field(a, "process.pid"),
				       *comm = encode_alert_group_field(a, "process.name"),
				       *exe = encode_alert_group_field(a, "process.executable"),
				       *sid = encode_alert_group_field(a, "process.session_id");

	if (name || id || audit) {
		jsonw_object(w, "user");
		write_value(w, "id", id);
		write_value(w, "name", name);
		if (audit) {
			jsonw_object(w, "audit");
			write_value(w, "name", audit);
			jsonw_end(w);
		}
		jsonw_end(w);
	}
	if (pid || comm || exe || sid) {
		jsonw_object(w, "process");
		write_number(w, "pid", pid);
		write_value(w, "name", comm);
		write_value(w, "executable", exe);
		write_number(w, "session_id", sid);
		jsonw_end(w);
	}
}

void encode_alert_rule(struct jsonw *w, const struct event_alert *a)
{
	jsonw_object(w, "rule");
	jsonw_bytes(w, "name", "rule.name", a->rule_name, strlen(a->rule_name));
	jsonw_bytes(w, "id", "rule.id", a->rule_id, strlen(a->rule_id));
	if (a->description)
		jsonw_bytes(w, "description", "rule.description", a->description,
			    strlen(a->description));
	jsonw_string(w, "ruleset", "custos");
	jsonw_end(w);
	if (!a->technique_id)
		return;
	jsonw_object(w, "threat");
	jsonw_string(w, "framework", "MITRE ATT&CK");
	jsonw_object(w, "technique");
	jsonw_array(w, "id");
	jsonw_string(w, NULL, a->technique_id);
	jsonw_end(w);
	if (a->technique_name) {
		jsonw_array(w, "name");
		jsonw_string(w, NULL, a->technique_name);
		jsonw_end(w);
	}
	jsonw_end(w);
	if (a->tactic_id) {
		jsonw_object(w, "tactic");
		jsonw_array(w, "id");
		jsonw_string(w, NULL, a->tactic_id);
		jsonw_end(w);
		jsonw_array(w, "name");
		jsonw_string(w, NULL, a->tactic_name);
		jsonw_end(w);
		jsonw_end(w);
	}
	jsonw_end(w);
}

/* custos.alert: what fired, by how much, over which events. */
void encode_alert_custos(struct jsonw *w, const struct event_alert *a)
{
	size_t i;

	jsonw_object(w, "alert");
	jsonw_string(w, "kind", a->rule_kind);
	if (a->has_value) {
		jsonw_int(w, "value", (int64_t)a->value);
		jsonw_int(w, "threshold", (int64_t)a->threshold);
	}
	if (a->window)
		jsonw_string(w, "window", a->window);
	if (a->n_group) {
		/* [{name, value}]: the names have dots, which Elasticsearch would split as keys. */
		jsonw_array(w, "group");
		for (i = 0; i < a->n_group; i++) {
			jsonw_object(w, NULL);
			jsonw_string(w, "name", a->group[i].name);
			jsonw_bytes(w, "value", "custos.alert.group.value", a->group[i].value,
				    strlen(a->group[i].value));
			jsonw_end(w);
		}
		jsonw_end(w);
	}
	jsonw_object(w, "evidence");
	jsonw_array(w, "seq");
	for (i = 0; i < a->n_evidence; i++)
		jsonw_int(w, NULL, (int64_t)a->evidence[i]);
	jsonw_end(w);
	jsonw_int(w, "count", (int64_t)a->evidence_count);
	jsonw_end(w);
	jsonw_int(w, "suppressed", (int64_t)a->suppressed);
	jsonw_end(w);
}
