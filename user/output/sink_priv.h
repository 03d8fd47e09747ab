/* SPDX-License-Identifier: GPL-2.0 */
/* How an output's thread talks to its receiver (sink.c drives these). */
#ifndef CUSTOS_SINK_PRIV_H
#define CUSTOS_SINK_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct transport;

struct transport_ops {
	int (*open)(struct transport *t);
	/* Delivers buf, whole lines ending in '\n', or fails with -errno. */
	int (*send)(struct transport *t, const char *buf, size_t len);
	/* Closes; graceful: 0 when the receiver is known to have everything sent. */
	int (*close)(struct transport *t, bool graceful);
	void (*destroy)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	bool acked;   /* a successful send means the receiver has it */
	bool spooled; /* a network receiver: what it is given goes through a spool */
	/* lines of the last send the receiver cannot take at all (too large): how many, and the
	 * first and last of them by their index in that send */
	size_t skipped, skipped_first, skipped_last;
	atomic_bool gone; /* for good: stdout's reader left (EPIPE) */
	char why[640];	  /* the last error */
};

struct transport *transport_stdout(void);
struct transport *transport_file(const struct config_output *o, char *err, size_t len);
struct transport *transport_syslog(const struct config_output *o, const char *host, char *err,
				   size_t len);
struct transport *transport_http(const struct config_output *o, const char *host, char *err,
				 size_t len);

#endif /* CUSTOS_SINK_PRIV_H */
