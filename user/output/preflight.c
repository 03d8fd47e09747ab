// SPDX-License-Identifier: GPL-2.0
/* What a config needs of this host before events can be written (preflight.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "output/chain.h"
#include "output/preflight.h"

#include "sink_priv.h"

static int __attribute__((format(printf, 3, 4))) add(char ***list, size_t *n, const char *fmt, ...)
{
	char **more = realloc(*list, (*n + 1) * sizeof(**list));
	va_list ap;
	int r;

	if (!more)
		return -ENOMEM;
	*list = more;
	va_start(ap, fmt);
	r = vasprintf(&more[*n], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	(*n)++;
	return 0;
}

#define error(pf, ...)	 add(&(pf)->errors, &(pf)->n_errors, __VA_ARGS__)
#define warning(pf, ...) add(&(pf)->warnings, &(pf)->n_warnings, __VA_ARGS__)

/* The chain key, read as the agent reads it (chain_open: trusted, readable, its size). */
static int check_chain(const struct config *cfg, struct preflight *pf)
{
	char err[1024];
	struct chain *c;

	if (!cfg->chain.key_file)
		return 0;
	c = chain_open(cfg->chain.key_file, err, sizeof(err));
	if (c) {
		chain_free(c);
		return 0;
	}
	return error(pf, "%s: chain.key_file: %s", cfg->chain.at_key_file ?: cfg->source, err);
}

/* The nearest existing directory at or above dir, into buf. */
static int existing_dir(const char *dir, char *buf, size_t size, struct stat *st)
{
	char *slash;

	if ((size_t)snprintf(buf, size, "%s", dir) >= size)
		return -ENAMETOOLONG;
	while (stat(buf, st)) {
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(buf, '/');
		if (!slash)
			return -ENOENT;
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return S_ISDIR(st->st_mode) ? 0 : -ENOTDIR;
}

/*
 * A file output's path: an existing file must open for appending (as the
 * output opens it: no symbolic link); a new one needs its directory, or
 * that directory's parent (the output makes the last directory itself),
 * to be writable.
 */
static int check_file(const struct config_output *o, struct preflight *pf)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	int fd;

	fd = open(o->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		bool regular = !fstat(fd, &st) && S_ISREG(st.st_mode);

		close(fd);
		return regular ? 0
			       : error(pf, "%s: outputs \"%s\": %s is not a regular file", o->at,
				       o->name, o->path);
	}
	if (errno == ELOOP)
		return error(pf,
			     "%s: outputs \"%s\": %s is a symbolic link (the output writes only "
			     "the file itself)",
			     o->at, o->name, o->path);
	if (errno != ENOENT)
		return error(pf, "%s: outputs \"%s\": cannot write %s: %s", o->at, o->name, o->path,
			     strerror(errno));
	snprintf(dir, sizeof(dir), "%s", o->path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return error(pf, "%s: outputs \"%s\": %s is not a directory", o->at,
				     o->name, dir);
		if (access(dir, W_OK | X_OK))
			return error(pf, "%s: outputs \"%s\": cannot create %s in %s: %s", o->at,
				     o->name, o->path, dir, strerror(errno));
		return 0;
	}
	if (errno != ENOENT)
		return error(pf, "%s: outputs \"%s\": cannot read directory %s: %s", o->at, o->name,
			     dir, strerror(errno));
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return error(pf,
			     "%s: outputs \"%s\": the directory of %s does not exist, nor %s "
			     "(the output makes only the last directory)",
			     o->at, o->name, o->path, dir);
	if (access(dir, W_OK | X_OK))
		return error(pf, "%s: outputs \"%s\": cannot create the directory of %s in %s: %s",
			     o->at, o->name, o->path, dir, strerror(errno));
	return 0;
}

/* An http output's CA file: readable, with at least one PEM certificate. */
static int check_ca_file(const struct config_output *o, struct preflight *pf)
{
	FILE *f = fopen(o->ca_file, "re");
	size_t certs = 0;
	X509 *x;

	if (!f)
		return error(pf, "%s: outputs \"%s\": ca_file %s: cannot read: %s", o->at_ca_file,
			     o->name, o->ca_file, strerror(errno));
	while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
		certs++;
		X509_free(x);
	}
	fclose(f);
	if (!certs)
		return error(pf,
			     "%s: outputs \"%s\": ca_file %s has no certificate (expected PEM "
			     "certificates, \"-----BEGIN CERTIFICATE-----\")",
			     o->at_ca_file, o->name, o->ca_file);
	return 0;
}

/* The host of a network output's URL (NULL: a unix socket, or not parsed). */
static char *url_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *copy = NULL;

	if (!u || !strncmp(url, "unix://", 7))
		goto out;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
		size_t len = strlen(host);

		/* [IPv6] */
		if (len > 2 && host[0] == '[' && host[len - 1] == ']')
			copy = strndup(host + 1, len - 2);
		else
			copy = strdup(host);
	}
	curl_free(host);
out:
	curl_url_cleanup(u);
	return copy;
}

static int check_host(const struct config_output *o, struct preflight *pf)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
	char *host = url_host(o->url);
	int e, r = 0;

	if (!host)
		return 0;
	e = getaddrinfo(host, NULL, &hints, &res);
	switch (e) {
	case 0:
		freeaddrinfo(res);
		break;
	case EAI_MEMORY:
		r = -ENOMEM;
		break;
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
		r = error(pf, "%s: outputs \"%s\": host %s does not resolve: %s (a typo?)", o->at,
			  o->name, host, gai_strerror(e));
		break;
	default:
		r = warning(pf,
			    "%s: outputs \"%s\": host %s cannot be looked up now: %s (the agent "
			    "spools until it resolves)",
			    o->at, o->name, host,
			    e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
	}
	free(host);
	return r;
}

/*
 * The output as the agent makes it at start (sinks_new): the same
 * constructor, so whatever it refuses is refused here. It opens nothing.
 */
static int check_transport(const struct config_output *o, struct preflight *pf)
{
	struct transport *t = NULL;
	char err[512] = "";

	switch (o->type) {
	case CONFIG_OUTPUT_STDOUT:
	case CONFIG_OUTPUT_FILE:
		return 0;
	case CONFIG_OUTPUT_SYSLOG:
		t = transport_syslog(o, "localhost", err, sizeof(err));
		break;
	case CONFIG_OUTPUT_HTTP:
		t = transport_http(o, "localhost", err, sizeof(err));
		break;
	}
	if (t) {
		t->ops->destroy(t);
		return 0;
	}
	return error(pf, "%s: outputs \"%s\": %s", o->at, o->name, err);
}

/* The spool directory, which the agent makes (mkdir -p) when a network output needs it. */
static int check_spool(const struct config *cfg, struct preflight *pf)
{
	const char *at = cfg->spool.at_dir ?: cfg->source;
	const char *dflt = cfg->spool.at_dir ? "" : " (the default)";
	char dir[PATH_MAX];
	struct stat st;
	bool network = false;
	size_t i;
	int r;

	for (i = 0; i < cfg->n_outputs; i++)
		network |= cfg->outputs[i].type == CONFIG_OUTPUT_SYSLOG ||
			   cfg->outputs[i].type == CONFIG_OUTPUT_HTTP;
	if (!network || !cfg->spool.dir || !cfg->spool.dir[0])
		return 0;
	r = existing_dir(cfg->spool.dir, dir, sizeof(dir), &st);
	if (r)
		return error(pf, "%s: spool.dir %s%s: cannot be made: %s", at, cfg->spool.dir, dflt,
			     strerror(-r));
	if (access(dir, W_OK | X_OK))
		return error(pf, "%s: spool.dir %s%s: cannot write in %s: %s", at, cfg->spool.dir,
			     dflt, dir, strerror(errno));
	return 0;
}

int preflight_config(const struct config *cfg, unsigned int flags, struct preflight *pf)
{
	size_t i;
	int r;

	memset(pf, 0, sizeof(*pf));
	r = check_chain(cfg, pf);
	for (i = 0; r == 0 && i < cfg->n_outputs; i++) {
		const struct config_output *o = &cfg->outputs[i];

		r = check_transport(o, pf);
		if (r == 0 && o->type == CONFIG_OUTPUT_FILE)
			r = check_file(o, pf);
		if (r == 0 && o->ca_file)
			r = check_ca_file(o, pf);
		if (r == 0 && o->url && (flags & PREFLIGHT_RESOLVE))
			r = check_host(o, pf);
	}
	if (r == 0)
		r = check_spool(cfg, pf);
	if (r)
		preflight_free(pf);
	return r;
}

void preflight_free(struct preflight *pf)
{
	size_t i;

	for (i = 0; i < pf->n_errors; i++)
		free(pf->errors[i]);
	for (i = 0; i < pf->n_warnings; i++)
		free(pf->warnings[i]);
	free(pf->errors);
	free(pf->warnings);
	memset(pf, 0, sizeof(*pf));
}
