/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rules ask of an event, taken from it once (facts.c): its category
 * and actions, the values of the fields rules group and count by, as text,
 * and the amounts they add up; and whether a where matches it.
 */
#ifndef CUSTOS_RULES_FACTS_H
#define CUSTOS_RULES_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "encode/event.h"

struct rule_value {
	const char *s; /* NULL: the event has no such field */
	size_t len;
};

struct rule_facts {
	const struct event *ev;
	uint32_t category; /* CONFIG_CATEGORY_*; 0: not an access */
	uint32_t actions;  /* 1 << enum config_action */
	uint64_t rows, bytes_read, bytes_written;
	struct rule_value field[CONFIG_FIELD_MAX]; /* CONFIG_FIELD_TABLE: the first table */
	char pid[12], uid[12], session[16], audit[12], destination[64];
	uint64_t tag_bits; /* of struct rule_tags: the event's tags */
};

/* false when the event is nothing rules look at (the agent's, an alert). */
bool rule_facts_init(struct rule_facts *f, const struct event *ev);

/* The tables of a statement (CONFIG_FIELD_TABLE has each); 0 for other events. */
size_t rule_facts_tables(const struct rule_facts *f);
const char *rule_facts_table(const struct rule_facts *f, size_t i);

/*
 * The tags rules name, each a bit: an event's tags are compared with them
 * once (rule_facts_tag_bits), and a where's with a mask. More than 64: the
 * others are compared by name.
 */
#define RULE_TAG_BITS 64
struct rule_tags {
	const char *names[RULE_TAG_BITS];
	size_t n;
};

/* A where, with its tags as bits of struct rule_tags. */
struct rule_where {
	const struct config_where *cfg;
	uint64_t tag_bits;
	bool tags_by_name; /* one of its tags has no bit */
};

void rule_where_init(struct rule_where *w, const struct config_where *cfg, struct rule_tags *tags);
void rule_facts_tag_bits(struct rule_facts *f, const struct rule_tags *tags);
bool rule_where_matches(const struct rule_where *w, const struct rule_facts *f);

/* The amount a threshold rule adds for this event (0: nothing). */
uint64_t rule_facts_measure(const struct rule_facts *f, enum config_measure m);

/* The ECS name of a field, as alerts name it. */
const char *rule_field_name(enum config_field field);

#endif /* CUSTOS_RULES_FACTS_H */
