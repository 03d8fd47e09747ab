// SPDX-License-Identifier: GPL-2.0
/*
 * custos check: validate a config and show what it resolves to, and what
 * this host's kernel offers the agent (user/features.c), without starting it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "kernel/features.h"
#include "kernel/watch.h"
#include "output/preflight.h"

#define OPT_NO_HOST 256 /* --no-host: no short form */

/* Exit statuses, most serious first when several apply (documented in custos-check(8)). */
enum check_status {
	CHECK_READY = 0,	  /* the config is valid and every hook the agent uses works */
	CHECK_CONFIG_INVALID = 1, /* or untrusted: the agent would refuse it */
	CHECK_USAGE = 2,
	CHECK_KERNEL_MISSING = 3, /* the agent cannot run on this kernel */
	CHECK_DEGRADED = 4,	  /* it runs, without some hooks: see what is not seen */
};

/* The config part: valid or not, and what it watches. */
struct check_config {
	struct config *cfg; /* NULL when refused */
	char error[1280];
	struct watch_set set;
	bool resolved;
	/* what run checks of the host at start (output/preflight.h): as root only */
	struct preflight pf;
	bool preflighted;
	bool no_host; /* --no-host */
};

static void check_usage(FILE *f)
{
	fprintf(f, "USAGE\n"
		   "  custos check [--config FILE] [--json] [--no-host]\n"
		   "\n"
		   "Parses and validates the config (the built-in one without --config), checks\n"
		   "that only root can change the file, resolves its paths and globs now and\n"
		   "prints what is watched; its include files (include_dir) are merged first.\n"
		   "As root, checks what the config needs of this host, as custos run does at\n"
		   "start: the chain key, file outputs' paths, the spool, http CA files; and\n"
		   "looks up the outputs' host names (one that does not exist fails, one that\n"
		   "cannot be looked up now is a warning). Then, as root, probes what this\n"
		   "kernel offers: BTF,\n"
		   "the ring buffer, which hook types load and attach here (syscall tracepoints,\n"
		   "tp_btf, raw tracepoints, fentry, BPF LSM, kprobes, uprobes, uprobe_multi,\n"
		   "iterators), the filesystems; and loads the agent's own BPF object as it\n"
		   "would start (the modern one, or the compat one on kernels without the\n"
		   "newer helpers) to show, for each capability and each of its hooks, whether\n"
		   "it is available, served by a fallback, or missing, and why. Nothing is left\n"
		   "loaded or mounted.\n"
		   "\n"
		   "OPTIONS\n"
		   "  -c, --config FILE  the config to check\n"
		   "  -j, --json         one JSON object on stdout, errors included\n"
		   "  --no-host          the config only, not what it needs of this host (key,\n"
		   "                     outputs, spool, CA files, host names)\n"
		   "  -h, --help         this help\n"
		   "\n"
		   "EXIT STATUS\n"
		   "  0  the config is valid and the agent has every capability here, some\n"
		   "     maybe by a fallback (or, not as root, the config is valid: the kernel\n"
		   "     was not probed)\n"
		   "  1  the config is invalid, or a file anyone but root can change, or this\n"
		   "     host lacks what it needs (key, output path, spool, CA file, host)\n"
		   "  2  usage error\n"
		   "  3  the kernel lacks something the agent needs: it would not start\n"
		   "  4  degraded: the agent runs, but a capability is missing (listed)\n"
		   "\n"
		   "EXAMPLES\n"
		   "  custos check --config /etc/custos/custos.json\n"
		   "  custos check            # the built-in config's watches\n"
		   "  sudo custos check --json | jq .kernel.capabilities\n");
}

static void check_config_load(struct check_config *c, const char *path, bool host)
{
	struct config_error err;

	c->no_host = !host;
	if (!path) {
		c->cfg = config_load_default();
		if (!c->cfg)
			snprintf(c->error, sizeof(c->error), "<built-in>: out of memory");
	} else {
		c->cfg = config_load(path, CONFIG_LOAD_TRUSTED, &err);
		if (!c->cfg)
			config_error_format(&err, c->error, sizeof(c->error));
	}
	if (!c->cfg)
		return;
	/* Not as root: the key, the outputs and the spool are root's, and look refused. */
	if (host && geteuid() == 0) {
		if (preflight_config(c->cfg, PREFLIGHT_RESOLVE, &c->pf)) {
			snprintf(c->error, sizeof(c->error), "%s: out of memory", c->cfg->source);
			config_free(c->cfg);
			c->cfg = NULL;
			return;
		}
		c->preflighted = true;
		if (c->pf.n_errors) {
			snprintf(c->error, sizeof(c->error), "%s", c->pf.errors[0]);
			config_free(c->cfg);
			c->cfg = NULL;
			return;
		}
	}
	if (watch_resolve(c->cfg, &c->set)) {
		snprintf(c->error, sizeof(c->error), "%s: out of memory", c->cfg->source);
		config_free(c->cfg);
		c->cfg = NULL;
		return;
	}
	c->resolved = true;
}

static void check_config_free(struct check_config *c)
{
	if (c->resolved)
		watch_set_free(&c->set);
	if (c->preflighted)
		preflight_free(&c->pf);
	config_free(c->cfg);
}

static void print_exclude(const char *who, const struct config_exclude *ex)
{
	size_t i;

	for (i = 0; i < ex->n_comms; i++)
		printf("  %s excludes process name %s\n", who, ex->comms[i]);
	for (i = 0; i < ex->n_exes; i++)
		printf("  %s excludes executable %s\n", who, ex->exes[i]);
	for (i = 0; i < ex->n_uids; i++)
		printf("  %s excludes uid %u\n", who, ex->uids[i]);
}

/* "10.1.2.0/24", or "127.0.0.1" for one address. */
static const char *prefix_text(const struct config_prefix *px, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(px->family, px->addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	if (px->bits == (px->family == AF_INET ? 32 : 128))
		snprintf(buf, size, "%s", addr);
	else
		snprintf(buf, size, "%s/%u", addr, px->bits);
	return buf;
}

/* "tcp port 5432", "udp ports 3306-3307", "tcp, every port". */
static const char *ports_text(const struct config_endpoint *ep, char *buf, size_t size)
{
	const char *proto = ep->transport == IPPROTO_UDP ? "udp" : "tcp";

	if (ep->port_lo == 0 && ep->port_hi == 65535)
		snprintf(buf, size, "%s, every port", proto);
	else if (ep->port_lo == ep->port_hi)
		snprintf(buf, size, "%s port %u", proto, ep->port_lo);
	else
		snprintf(buf, size, "%s ports %u-%u", proto, ep->port_lo, ep->port_hi);
	return buf;
}

static void print_endpoint(const struct config_endpoint *ep)
{
	char buf[64];
	size_t i;

	printf("endpoint \"%s\":\n", ep->name);
	if (ep->n_tags) {
		printf("  tags");
		for (i = 0; i < ep->n_tags; i++)
			printf("%s %s", i ? "," : "", ep->tags[i]);
		printf("\n");
	}
	if (ep->unix_path) {
		printf("  unix socket %s\n", ep->unix_path);
		return;
	}
	printf("  address %s ->", ep->address);
	for (i = 0; i < ep->n_prefixes; i++)
		printf("%s %s", i ? "," : "", prefix_text(&ep->prefixes[i], buf, sizeof(buf)));
	printf("\n  %s\n", ports_text(ep, buf, sizeof(buf)));
}

static const char *detect_kind_name(enum config_detect_kind kind)
{
	switch (kind) {
	case CONFIG_DETECT_THRESHOLD:
		return "threshold";
	case CONFIG_DETECT_FIRST_SEEN:
		return "first_seen";
	case CONFIG_DETECT_MATCH:
		return "match";
	default:
		return "sequence";
	}
}

/* "detection rules: bulk-read-rows (threshold), new-reader (first_seen)..." */
static void print_detection(const struct config *cfg)
{
	size_t i, n = 0;

	for (i = 0; i < cfg->n_detect; i++)
		n += !cfg->detect[i].disabled;
	printf("%zu detection rule(s)%s", n, n ? ":" : "\n");
	for (i = 0, n = 0; i < cfg->n_detect; i++)
		if (!cfg->detect[i].disabled)
			printf("%s %s (%s)", n++ ? "," : "", cfg->detect[i].name,
			       detect_kind_name(cfg->detect[i].kind));
	if (n)
		printf("\n");
}

/* Where custos status and custos trace reach the agent this config runs. */
static const char *control_socket_text(const struct config *cfg)
{
	if (!cfg->control_socket)
		return CONFIG_CONTROL_SOCKET_DEFAULT " (custos status, custos trace)";
	if (!cfg->control_socket[0])
		return "none (custos status and trace cannot reach the agent)";
	return cfg->control_socket;
}

static void print_config(const struct check_config *c)
{
	const struct config *cfg = c->cfg;
	size_t i, r;

	for (i = 0; i < c->pf.n_warnings; i++)
		fprintf(stderr, "warning: %s\n", c->pf.warnings[i]);
	if (!cfg && c->pf.n_errors) {
		for (i = 0; i < c->pf.n_errors; i++)
			fprintf(stderr, "%s\n", c->pf.errors[i]);
		return;
	}
	if (!cfg) {
		fprintf(stderr, "%s\n", c->error);
		return;
	}
	printf("%s: valid, %zu watch rule(s)", cfg->source, cfg->n_rules);
	if (cfg->n_endpoints)
		printf(", %zu endpoint(s)", cfg->n_endpoints);
	printf("\n");
	for (i = 0; i < cfg->n_includes; i++)
		printf("include file %s\n", cfg->includes[i]);
	for (r = 0; r < cfg->n_rules; r++) {
		printf("watch \"%s\":\n", cfg->rules[r].name);
		for (i = 0; i < c->set.n_items; i++)
			if (c->set.items[i].rule == r)
				printf("  %s %s\n",
				       c->set.items[i].kind == CUSTOS_WATCH_DIR ? "directory"
										: "file",
				       c->set.items[i].path);
		print_exclude("rule", &cfg->rules[r].exclude);
	}
	for (i = 0; i < cfg->n_endpoints; i++)
		print_endpoint(&cfg->endpoints[i]);
	if (cfg->egress_window_s)
		printf("egress: for %u s after a session opens a watched file to read it, its "
		       "connections to\n  other endpoints (needs network) and the files it "
		       "writes anew outside the\n  watched trees (bytes: needs file-write)\n",
		       cfg->egress_window_s);
	else
		printf("egress: off\n");
	printf("control socket: %s\n", control_socket_text(cfg));
	print_exclude("every rule", &cfg->exclude);
	print_detection(cfg);
	if (!c->preflighted)
		printf("this host's chain key, output paths, spool and output hosts: not checked "
		       "(%s)\n",
		       c->no_host ? "--no-host" : "not as root");
	for (i = 0; i < c->set.n_warnings; i++)
		fprintf(stderr, "warning: %s\n", c->set.warnings[i]);
}

static json_t *strings_json(char *const *strv, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(strv[i]));
	return a;
}

static json_t *exclude_json(const struct config_exclude *ex)
{
	json_t *uids = json_array();
	size_t i;

	for (i = 0; uids && i < ex->n_uids; i++)
		json_array_append_new(uids, json_integer(ex->uids[i]));
	return json_pack("{s:o, s:o, s:o}", "comm", strings_json(ex->comms, ex->n_comms), "exe",
			 strings_json(ex->exes, ex->n_exes), "uid", uids);
}

static json_t *endpoints_json(const struct config *cfg)
{
	const struct config_endpoint *ep;
	json_t *a = json_array(), *prefixes;
	char buf[64];
	size_t i, k;

	for (i = 0; a && i < cfg->n_endpoints; i++) {
		ep = &cfg->endpoints[i];
		if (ep->unix_path) {
			json_array_append_new(a,
					      json_pack("{s:s, s:o, s:s}", "name", ep->name, "tags",
							strings_json(ep->tags, ep->n_tags), "unix",
							ep->unix_path));
			continue;
		}
		prefixes = json_array();
		for (k = 0; prefixes && k < ep->n_prefixes; k++)
			json_array_append_new(
			    prefixes, json_string(prefix_text(&ep->prefixes[k], buf, sizeof(buf))));
		json_array_append_new(
		    a, json_pack("{s:s, s:o, s:s, s:o, s:[i, i], s:s}", "name", ep->name, "tags",
				 strings_json(ep->tags, ep->n_tags), "address", ep->address,
				 "prefixes", prefixes, "ports", ep->port_lo, ep->port_hi,
				 "protocol", ep->transport == IPPROTO_UDP ? "udp" : "tcp"));
	}
	return a;
}

static json_t *config_json(const struct check_config *c)
{
	const struct config *cfg = c->cfg;
	json_t *rules, *rule, *watched, *detection, *warnings;
	size_t i, r;

	if (!cfg)
		return json_pack("{s:b, s:s, s:o, s:o}", "valid", 0, "error", c->error, "errors",
				 c->pf.n_errors ? strings_json(c->pf.errors, c->pf.n_errors)
						: json_pack("[s]", c->error),
				 "warnings", strings_json(c->pf.warnings, c->pf.n_warnings));
	rules = json_array();
	for (r = 0; rules && r < cfg->n_rules; r++) {
		watched = json_array();
		for (i = 0; watched && i < c->set.n_items; i++)
			if (c->set.items[i].rule == r)
				json_array_append_new(
				    watched,
				    json_pack("{s:s, s:s}", "kind",
					      c->set.items[i].kind == CUSTOS_WATCH_DIR ? "directory"
										       : "file",
					      "path", c->set.items[i].path));
		rule =
		    json_pack("{s:s, s:o, s:o, s:o}", "name", cfg->rules[r].name, "paths",
			      strings_json(cfg->rules[r].paths, cfg->rules[r].n_paths), "watched",
			      watched, "exclude", exclude_json(&cfg->rules[r].exclude));
		json_array_append_new(rules, rule);
	}
	detection = json_array();
	for (i = 0; detection && i < cfg->n_detect; i++)
		if (!cfg->detect[i].disabled)
			json_array_append_new(
			    detection, json_pack("{s:s, s:s}", "name", cfg->detect[i].name, "kind",
						 detect_kind_name(cfg->detect[i].kind)));
	warnings = strings_json(c->set.warnings, c->set.n_warnings);
	for (i = 0; warnings && i < c->pf.n_warnings; i++)
		json_array_append_new(warnings, json_string(c->pf.warnings[i]));
	return json_pack("{s:b, s:s, s:o, s:o, s:{s:i}, s:o, s:o, s:o, s:b, s:o}", "valid", 1,
			 "source", cfg->source, "rules", rules, "endpoints", endpoints_json(cfg),
			 "egress", "window", (int)cfg->egress_window_s, "exclude",
			 exclude_json(&cfg->exclude), "detection", detection, "warnings", warnings,
			 "host_checked", c->preflighted, "includes",
			 strings_json(cfg->includes, cfg->n_includes));
}

/* The kernel, and the agent's object loaded as this config would start it. */
static void probe_kernel(const struct check_config *c, struct features *fs)
{
	struct loader_options opts = {
	    .agent_tgid = getpid(),
	    .ring_buffer_mb = c->cfg ? c->cfg->ring_buffer_mb : CONFIG_RING_BUFFER_MB_DEFAULT,
	    .watch_inodes_max = c->resolved ? watch_map_size(&c->set) : 0,
	};

	features_probe(fs, &opts);
}

static enum check_status status_of(const struct check_config *c, enum features_verdict v)
{
	if (!c->cfg)
		return CHECK_CONFIG_INVALID;
	switch (v) {
	case FEATURES_MISSING:
		return CHECK_KERNEL_MISSING;
	case FEATURES_DEGRADED:
		return CHECK_DEGRADED;
	case FEATURES_READY:
	case FEATURES_UNKNOWN:
		break;
	}
	return CHECK_READY;
}

static void print_summary(const struct check_config *c, const struct features *fs,
			  enum check_status status)
{
	static const char *const said[] = {
	    [FEATURES_READY] = "the agent runs here with every capability",
	    [FEATURES_DEGRADED] = "the agent runs here, but without what is listed as missing",
	    [FEATURES_MISSING] = "the agent cannot run on this kernel (see what is missing)",
	    [FEATURES_UNKNOWN] = "the kernel was not probed: run as root to probe it",
	};

	printf("%s; %s (exit status %d)\n", c->cfg ? "config valid" : "config refused",
	       said[features_verdict(fs)], status);
}

static int print_json(const struct check_config *c, const struct features *fs,
		      enum check_status status)
{
	json_t *root = json_pack("{s:o, s:o, s:i}", "config", config_json(c), "kernel",
				 features_json(fs), "exit_status", status);
	char *text;

	if (root && c->cfg) /* "" when the agent serves none */
		json_object_set_new(
		    json_object_get(root, "config"), "control_socket",
		    json_string(c->cfg->control_socket ?: CONFIG_CONTROL_SOCKET_DEFAULT));
	text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!text) {
		fprintf(stderr, "custos check: out of memory\n");
		return CHECK_CONFIG_INVALID;
	}
	printf("%s\n", text);
	free(text);
	return status;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"no-host", no_argument, NULL, OPT_NO_HOST},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct check_config c = {};
	bool host = true;
	enum check_status status;
	const char *path = NULL;
	struct features fs;
	bool json = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case OPT_NO_HOST:
			host = false;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return CHECK_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "custos check: unexpected argument \"%s\"\n", argv[optind]);
		return CHECK_USAGE;
	}
	check_config_load(&c, path, host);
	probe_kernel(&c, &fs);
	status = status_of(&c, features_verdict(&fs));
	if (json) {
		status = print_json(&c, &fs, status);
	} else {
		print_config(&c);
		printf("\n");
		features_print(&fs, stdout);
		print_summary(&c, &fs, status);
	}
	check_config_free(&c);
	return status;
}
