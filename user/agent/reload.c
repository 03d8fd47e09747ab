// SPDX-License-Identifier: GPL-2.0
/* The config and what follows from it: watches, chain, outputs, database probes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent/agent_priv.h"
#include "lib/log.h"
#include "output/preflight.h"

struct config *agent_load_config(const struct agent_options *opts)
{
	struct config_error err;
	char msg[1024];
	struct config *cfg;

	if (!opts->config_path)
		return config_load_default();
	/* The file and its include files, each one only root can change. */
	cfg = config_load(opts->config_path, CONFIG_LOAD_TRUSTED, &err);
	if (!cfg) {
		config_error_format(&err, msg, sizeof(msg));
		log_error("%s", msg);
	}
	return cfg;
}

/*
 * The systemd unit sends stdout nowhere (StandardOutput=null): events go to
 * the configured outputs, the journal gets the agent's own messages. There
 * a config whose only outputs are stdout (or that has none) would write
 * every event away: refused; a stdout output among others: a warning.
 */
static int check_stdout(const struct config *cfg)
{
	size_t i, n_stdout = 0;
	struct stat st;

	for (i = 0; i < cfg->n_outputs; i++)
		n_stdout += cfg->outputs[i].type == CONFIG_OUTPUT_STDOUT;
	if ((cfg->n_outputs && !n_stdout) || fstat(STDOUT_FILENO, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(1, 3))
		return 0;
	if (n_stdout < cfg->n_outputs) {
		log_warn("%s: the stdout output's events are lost: stdout is /dev/null (as under "
			 "the systemd unit)",
			 cfg->source);
		return 0;
	}
	log_error("%s: events go to stdout only, and stdout is /dev/null (as under the systemd "
		  "unit): they would all be lost; add a file output such as {\"type\": \"file\", "
		  "\"path\": \"/var/log/custos/events.ndjson\"} (docs/install.md)",
		  cfg->source);
	return -EINVAL;
}

/*
 * What custos run's config needs of this host (output/preflight.h), as
 * custos check checks it, and a stdout that goes somewhere: its problems
 * logged; -EINVAL when one is an error.
 */
int agent_preflight(const struct agent *a, const struct config *cfg)
{
	struct preflight pf;
	size_t i;
	int r;

	if (strcmp(a->opts->mode, "run") || a->opts->format != OUTPUT_JSON)
		return 0;
	if (check_stdout(cfg))
		return -EINVAL;
	r = preflight_config(cfg, 0, &pf);
	if (r) {
		log_error("%s: %s", cfg->source, strerror(-r));
		return r;
	}
	for (i = 0; i < pf.n_warnings; i++)
		log_warn("%s", pf.warnings[i]);
	for (i = 0; i < pf.n_errors; i++)
		log_error("%s", pf.errors[i]);
	r = pf.n_errors ? -EINVAL : 0;
	preflight_free(&pf);
	return r;
}

void agent_log_watch_warnings(const struct watch_set *set)
{
	size_t i;

	for (i = 0; i < set->n_warnings; i++)
		log_warn("%s", set->warnings[i]);
}

void agent_log_db_warnings(struct agent *a)
{
	char *w;

	while ((w = dbprobe_next_warning(a->dbprobe))) {
		log_warn("%s", w);
		free(w);
	}
}

static void on_exec(uint32_t tgid, const char *exe, void *ctx)
{
	struct agent *a = ctx;

	dbprobe_exec(a->dbprobe, tgid, exe);
}

/* Does an endpoint of cfg have its protocol parsed (then libssl is probed for its plaintext)? */
static bool parses_endpoints(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_endpoints; i++)
		if (cfg->endpoints[i].parse)
			return true;
	return false;
}

/* Probes the database clients the config asks for, in the files there are now. */
void agent_start_db_probes(struct agent *a)
{
	const struct config_databases *db = &a->cfg->databases;
	struct dbprobe_options o = {
	    .enabled = {[DBPROBE_POSTGRESQL] = db->postgresql,
			[DBPROBE_MYSQL] = db->mysql,
			[DBPROBE_SQLITE] = db->sqlite,
			[DBPROBE_TLS] = parses_endpoints(a->cfg)},
	    .sqlite_rows = db->sqlite_rows,
	};

	if (!db->postgresql && !db->mysql && !db->sqlite && !o.enabled[DBPROBE_TLS])
		return;
	a->dbprobe = dbprobe_new(a->loader, &o);
	if (!a->dbprobe) {
		log_error("cannot set up the database probes: out of memory");
		return;
	}
	dbprobe_scan(a->dbprobe);
	agent_log_db_warnings(a);
	events_set_exec_hook(a->events, on_exec, a);
}

void agent_watches_changed(struct agent *a)
{
	uint32_t files = 0;
	size_t i;

	for (i = 0; i < a->watches.n_items; i++)
		files += a->watches.items[i].kind == CUSTOS_WATCH_FILE;
	loader_watches_changed(a->loader, files, a->watches.n_comms, a->watches.n_uids,
			       a->watches.n_exes,
			       a->watches.n_endpoints + a->watches.n_unix_endpoints);
	loader_set_egress_window(a->loader, (uint64_t)a->cfg->egress_window_s * 1000000000ULL);
}

/* Applies a newly resolved set; on failure the maps keep the old one. */
static int install_watches(struct agent *a, struct watch_set *next)
{
	int ret;

	if (next->n_items > loader_map_max_entries(a->loader, LOADER_MAP_WATCH_INODES)) {
		log_error("%zu watched inodes exceed the table of %u: restart the agent to grow it",
			  next->n_items,
			  loader_map_max_entries(a->loader, LOADER_MAP_WATCH_INODES));
		return -E2BIG;
	}
	ret = watch_apply(&a->maps, next, &a->watches);
	if (ret) {
		log_error("cannot update the watch maps: %s", strerror(-ret));
		watch_apply(&a->maps, &a->watches, next);
		return ret;
	}
	watch_set_free(&a->watches);
	a->watches = *next;
	agent_watches_changed(a);
	events_set_config(a->events, a->cfg, &a->watches);
	return 0;
}

static bool same_watches(const struct watch_set *x, const struct watch_set *y)
{
	size_t i;

	if (x->n_items != y->n_items || x->n_exes != y->n_exes ||
	    x->n_endpoints != y->n_endpoints || x->n_unix_endpoints != y->n_unix_endpoints ||
	    (x->n_unix_endpoints && memcmp(x->unix_endpoints, y->unix_endpoints,
					   x->n_unix_endpoints * sizeof(*x->unix_endpoints))) ||
	    (x->n_endpoints &&
	     memcmp(x->endpoints, y->endpoints, x->n_endpoints * sizeof(*x->endpoints))))
		return false;
	for (i = 0; i < x->n_items; i++)
		if (x->items[i].dev != y->items[i].dev || x->items[i].ino != y->items[i].ino ||
		    x->items[i].rule != y->items[i].rule || x->items[i].kind != y->items[i].kind)
			return false;
	for (i = 0; i < x->n_exes; i++)
		if (x->exes[i].dev != y->exes[i].dev || x->exes[i].ino != y->exes[i].ino ||
		    x->exes[i].mask != y->exes[i].mask)
			return false;
	return true;
}

/* Globs may match new files, missing paths may appear, replaced files get new inodes. */
void agent_rescan(struct agent *a)
{
	struct watch_set next;

	if (watch_resolve(a->cfg, &next))
		return;
	next.generation = a->generation;
	if (same_watches(&next, &a->watches) || install_watches(a, &next))
		watch_set_free(&next);
	else
		log_info("rescan: now watching %zu inodes", a->watches.n_items);
}

/* The chain key of cfg, when it has one and events are JSON lines. */
int agent_open_chain(struct agent *a, const struct config *cfg, struct chain **chain)
{
	char err[1024];
	int r;

	*chain = NULL;
	if (!cfg->chain.key_file || a->opts->format != OUTPUT_JSON)
		return 0;
	*chain = chain_open(cfg->chain.key_file, err, sizeof(err));
	if (*chain)
		return 0;
	r = -errno;
	log_error("%s", err);
	return r;
}

/*
 * The chain key of a reloaded config: a new key seals the records from the
 * next one on, and the chain goes on. Turning the chain on or off takes a
 * restart: a run is chained from its agent-start to its agent-stop.
 */
static int reload_chain(struct agent *a, const struct config *cfg)
{
	struct chain *next;
	int r;

	if (!a->chain) {
		if (cfg->chain.key_file && a->opts->format == OUTPUT_JSON)
			log_warn("SIGHUP: \"chain\" takes effect at restart");
		return 0;
	}
	if (!cfg->chain.key_file) {
		log_warn("SIGHUP: removing \"chain\" takes effect at restart; the key is kept");
		return 0;
	}
	r = agent_open_chain(a, cfg, &next);
	if (r)
		return r;
	chain_continue(next, a->chain);
	chain_free(a->chain);
	a->chain = next;
	output_set_chain(a->out, next);
	return 0;
}

static void reload_failed(struct agent *a, const char *why)
{
	log_error("SIGHUP: %s; keeping the running configuration", why);
	events_emit_agent(a->events, "agent-reload", "change", "failure", false, NULL);
}

/*
 * The outputs of a reloaded config. The old ones deliver or spool what they
 * hold first: one file or receiver never has two writers. If the new ones
 * cannot start, the old ones start again.
 */
static int replace_sinks(struct agent *a, const struct config *cfg)
{
	char err[768];
	struct sinks *next;

	sinks_take_gaps(a->sinks, agent_emit_output_gap, a);
	output_flush(a->out);
	sinks_stop(a->sinks, SINKS_DEADLINE_MS);
	next = sinks_new(cfg, a->host, err, sizeof(err));
	if (!next) {
		log_error("SIGHUP: %s", err);
		a->sinks = sinks_new(a->cfg, a->host, err, sizeof(err));
		if (!a->sinks) {
			log_error("the outputs cannot start again: %s", err);
			a->stop = true;
		}
		output_set_sinks(a->out, a->sinks);
		return -EINVAL;
	}
	a->sinks = next;
	output_set_sinks(a->out, next);
	return 0;
}

/* SIGHUP: a new config (from its file, if there is one) and its watches, or nothing at all. */
void agent_reload(struct agent *a)
{
	struct config *cfg = a->opts->config_path ? agent_load_config(a->opts) : NULL;
	struct config *old = a->cfg;
	struct watch_set next;

	if (a->opts->config_path && !cfg) {
		reload_failed(a, "the new configuration is refused");
		return;
	}
	if (cfg && agent_preflight(a, cfg)) {
		config_free(cfg);
		reload_failed(a, "the new configuration cannot write its events");
		return;
	}
	if (cfg && cfg->ring_buffer_mb != old->ring_buffer_mb)
		log_warn("SIGHUP: ring_buffer_mb takes effect at restart");
	if (cfg && (cfg->databases.postgresql != old->databases.postgresql ||
		    cfg->databases.mysql != old->databases.mysql ||
		    cfg->databases.sqlite != old->databases.sqlite ||
		    cfg->databases.sqlite_rows != old->databases.sqlite_rows))
		log_warn("SIGHUP: the database clients probed change at restart");
	if (cfg && parses_endpoints(cfg) != parses_endpoints(old))
		log_warn("SIGHUP: libssl's probes (for TLS on endpoints marked \"parse\") change "
			 "at restart");
	if (cfg && reload_chain(a, cfg)) {
		config_free(cfg);
		reload_failed(a, "the chain key is refused");
		return;
	}
	if (cfg && a->sinks && replace_sinks(a, cfg)) {
		config_free(cfg);
		reload_failed(a, "the new outputs cannot start");
		return;
	}
	if (watch_resolve(cfg ?: old, &next)) {
		config_free(cfg);
		reload_failed(a, "out of memory");
		return;
	}
	agent_log_watch_warnings(&next);
	next.generation = a->generation + 1;
	if (cfg)
		a->cfg = cfg;
	if (install_watches(a, &next)) {
		a->cfg = old;
		config_free(cfg);
		watch_set_free(&next);
		events_set_config(a->events, a->cfg, &a->watches);
		reload_failed(a, "the new watches do not fit");
		return;
	}
	a->generation++;
	if (cfg && agent_start_rules(a))
		log_error("SIGHUP: cannot start the detection rules: %s", strerror(ENOMEM));
	if (cfg)
		config_free(old);
	notify_set(a->notify, a->cfg);
	events_forget_names(a->events);
	events_emit_agent(
	    a->events, "agent-reload", "change", "success", false,
	    json_pack("{s:{s:I}}", "agent", "watched_inodes", (json_int_t)a->watches.n_items));
	log_info("configuration reloaded from %s", a->cfg->source);
}

static void emit_alert(struct event *alert, void *ctx)
{
	struct agent *a = ctx;

	events_emit_alert(a->events, alert);
}

/*
 * The detection rules of the running config, after those of the one before
 * (their first_seen state saved). custos trace learns nothing it keeps:
 * only custos run has a state directory.
 */
int agent_start_rules(struct agent *a)
{
	const char *state_dir = a->cfg->state_dir ?: CONFIG_STATE_DIR_DEFAULT;
	const char *warning;

	rules_free(a->rules);
	a->rules = NULL;
	if (!a->cfg->n_detect)
		return 0;
	a->rules =
	    rules_new(a->cfg, strcmp(a->opts->mode, "run") ? NULL : state_dir, emit_alert, a);
	if (!a->rules)
		return -ENOMEM;
	warning = rules_take_warning(a->rules);
	if (warning)
		log_warn("%s", warning);
	return 0;
}

void agent_tick_rules(struct agent *a)
{
	const char *warning;

	if (!a->rules)
		return;
	rules_tick(a->rules, encode_clock_now_real());
	warning = rules_take_warning(a->rules);
	if (warning)
		log_warn("%s", warning);
}
