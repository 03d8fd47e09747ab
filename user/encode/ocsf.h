/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Typed events as OCSF class objects, one JSON object per line: the same
 * values the ECS line has (encode.h), nothing more, in the attributes OCSF
 * has for them; what OCSF has no attribute for goes under "unmapped", by its
 * ECS name ("unmapped.custos" is the ECS line's custos object whole, with
 * its seq and chain). docs/schema.md, "OCSF", has the mapping.
 *
 *   file events         File System Activity   1001
 *   SQL statements      Datastore Activity     6005
 *   sockets             Network Activity       4001
 *   alerts (rules)      Detection Finding      2004
 *   agent-start, -stop,
 *   -heartbeat, -reload Application Lifecycle  6002
 *   gap                 Application Error      6008
 */
#ifndef CUSTOS_OCSF_H
#define CUSTOS_OCSF_H

#include "encode/event.h"
#include "encode/jsonw.h"

/* The OCSF release whose schema the lines follow (metadata.version). */
#define OCSF_VERSION "1.8.0"

/* Writes the event as one OCSF JSON object (no newline). 0, or the writer's error. */
int encode_ocsf(struct jsonw *w, const struct event *ev);

/* The class an event is written as: its class_uid (1001, 6005...). */
int ocsf_class_of(const struct event *ev);

#endif /* CUSTOS_OCSF_H */
