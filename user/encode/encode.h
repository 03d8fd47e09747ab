/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Typed events as ECS-shaped JSON lines. The schema is an API: fields are
 * added, never renamed or removed without bumping CUSTOS_SCHEMA_VERSION.
 * docs/schema.md describes every field.
 */
#ifndef CUSTOS_ENCODE_H
#define CUSTOS_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>
#include "encode/event.h"
#include "encode/jsonw.h"

#define CUSTOS_SCHEMA_VERSION 2
/* The ECS version whose field reference the lines follow (ecs.version). */
#define ECS_VERSION	      "8.17.0"

struct proc_info;
struct users;

/* Offset from CLOCK_BOOTTIME (kernel timestamps) to CLOCK_REALTIME. */
struct encode_clock {
	int64_t boot_to_real_ns;
};

void encode_clock_sync(struct encode_clock *clock);
int64_t encode_clock_now_boot(void);
int64_t encode_clock_now_real(void); /* nanoseconds since the epoch */
static inline int64_t encode_clock_real(const struct encode_clock *clock, uint64_t boot_ns)
{
	return (int64_t)boot_ns + clock->boot_to_real_ns;
}

/* "2026-11-28T08:09:19.123456789Z" for nanoseconds since the epoch. */
void encode_time(int64_t real_ns, char out[40]);

/* Writes the event as one JSON object (no newline). 0, or the writer's error. */
int encode_event(struct jsonw *w, const struct event *ev);

/* Arguments that are SQL statements keep their literals (databases.raw_text), or not. */
void encode_set_raw_sql(bool raw);

/*
 * Fills who for task: the names its ids resolve to and its JSON members
 * (process.*, user.*, group.*, container.*; custos.process). parent: its
 * parent's entry in the process table, NULL when unknown. container_id
 * NULL: the process's own, if known. 0 or -ENOMEM (who is then freed).
 */
int encode_who(struct event_who *who, const struct encode_clock *clock,
	       const struct custos_task *task, const struct proc_info *proc,
	       const struct proc_info *parent, const char *container_id, struct users *users);
void encode_who_free(struct event_who *who);

/*
 * Joins leaf-first NUL-terminated names into an absolute path. Returns its
 * length; a truncated path starts with ".../".
 */
size_t encode_join_path(const char *names, size_t len, bool truncated, char *out, size_t cap);

/* open(2) flags as names: ["O_RDONLY", "O_CLOEXEC"]. */
void encode_open_flags(struct jsonw *w, const char *key, uint32_t flags);

/* process.entity_id of the process tgid that started at start_ns (CLOCK_BOOTTIME). */
void encode_entity_id(uint32_t tgid, uint64_t start_ns, char out[33]);

/* "EACCES" for 13, or the number as text. */
const char *encode_errno_name(int err, char buf[16]);
/* An IP address as text (enum custos_net_family): a.b.c.d, or RFC 5952's IPv6 form. */
const char *encode_net_addr(uint8_t family, const uint8_t addr[16], char buf[48]);

#endif /* CUSTOS_ENCODE_H */
