// SPDX-License-Identifier: GPL-2.0
/* Who did it, encoded once per process and kept: its ECS fields (encode.c) and its OCSF ones
 * (ocsf.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode_priv.h"
#include "encode/jsonw.h"
#include "lib/proc.h"

void encode_who_free(struct event_who *who)
{
	if (!who)
		return;
	free(who->exe);
	free(who->user_name);
	free(who->audit_name);
	jsonw_fragment_free(&who->json);
	jsonw_fragment_free(&who->custos_process);
	jsonw_fragment_free(&who->ocsf_actor);
	jsonw_fragment_free(&who->ocsf_unmapped);
}

int encode_who(struct event_who *who, const struct encode_clock *clock,
	       const struct custos_task *task, const struct proc_info *proc,
	       const struct proc_info *parent, const char *container_id, struct users *users)
{
	struct encode_args args, *a = NULL;
	int err;

	memset(who, 0, sizeof(*who));
	if (proc && proc->args) {
		if (encode_args(proc, &args))
			return -ENOMEM;
		a = &args;
	}
	if (!container_id && proc)
		container_id = proc->container_id;
	err = encode_who_ecs(who, clock, task, proc, parent, a, container_id, users);
	if (!err)
		err = ocsf_who(who, clock, proc, parent, a, container_id, users);
	if (a)
		encode_args_free(a);
	if (err)
		encode_who_free(who);
	return err;
}
