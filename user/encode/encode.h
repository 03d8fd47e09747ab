/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building the ECS-shaped JSON events. The schema is an API: fields are
 * added, never renamed or removed without bumping CUSTOS_SCHEMA_VERSION.
 * docs/schema.md describes every field.
 */
#ifndef CUSTOS_ENCODE_H
#define CUSTOS_ENCODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>
#include "lib/proc.h"
#include "lib/users.h"

#define CUSTOS_SCHEMA_VERSION 1

/* Offset from CLOCK_BOOTTIME (kernel timestamps) to CLOCK_REALTIME. */
struct encode_clock {
	int64_t boot_to_real_ns;
};

void encode_clock_sync(struct encode_clock *clock);
int64_t encode_clock_now_boot(void);

/* "2026-11-28T08:09:19.123456789Z" for nanoseconds since the epoch. */
void encode_time(int64_t real_ns, char out[40]);
json_t *encode_time_json(const struct encode_clock *clock, uint64_t boot_ns);

/*
 * A new event object with @timestamp and event.{kind,category,type,action,
 * outcome,dataset}. type is a comma-separated list ("access,denied"). The
 * event.* object is shared between events of the same shape: never modify it.
 */
json_t *encode_event(const struct encode_clock *clock, uint64_t boot_ns, const char *category,
		     const char *type, const char *action, const char *outcome,
		     const char *dataset);

/* Object at dotted path in ev, created as needed ("process.parent"). */
json_t *encode_obj(json_t *ev, const char *path);

/*
 * Sets key in obj to a string made from raw bytes; if they had to be
 * escaped, appends field (the dotted name) to custos.escaped of ev.
 */
void encode_bytes(json_t *ev, json_t *obj, const char *key, const char *field, const char *data,
		  size_t len);

/* Lists field in custos.escaped of ev (once). */
void encode_mark_escaped(json_t *ev, const char *field);

/* process.*, user.*, group.*, container.* of the task. */
/* Arguments that are SQL statements keep their literals (databases.raw_text), or not. */
void encode_set_raw_sql(bool raw);

void encode_task(json_t *ev, const struct encode_clock *clock, const struct custos_task *task,
		 const struct proc_info *proc, struct users *users);

/*
 * Joins leaf-first NUL-terminated names into an absolute path. Returns its
 * length; a truncated path starts with ".../".
 */
size_t encode_join_path(const char *names, size_t len, bool truncated, char *out, size_t cap);

/* file.* for an inode's identity and attributes; mode 0 leaves the type out. */
void encode_file(json_t *ev, const char *path, size_t path_len, uint32_t dev, uint64_t ino,
		 uint32_t mode, struct users *users, uint32_t owner_uid, uint32_t owner_gid);

/* open(2) flags as names: ["O_RDONLY", "O_CLOEXEC"]. */
json_t *encode_open_flags(uint32_t flags);

/* "EACCES" for 13, or the number as text. */
const char *encode_errno_name(int err, char buf[16]);

#endif /* CUSTOS_ENCODE_H */
