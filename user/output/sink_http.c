// SPDX-License-Identifier: GPL-2.0
/*
 * HTTP(S) POST of event batches with libcurl: NDJSON as it is, Splunk HEC
 * ({"time", "host", "sourcetype", "event"} per event) or Elasticsearch
 * _bulk ({"create":{}} before each event). A 2xx answer delivers the batch;
 * anything else is a failure, and the batch is sent again later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "sink_priv.h"

#define BODY_EXTRA 256 /* per event, for the HEC or _bulk wrapping */

struct http_transport {
	struct transport t;
	CURL *curl;
	struct curl_slist *headers;
	enum config_http_framing framing;
	char *url, *host_json;
	char *body;
	size_t body_cap;
};

static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
	return size * n;
}

static int http_open(struct transport *t)
{
	return 0;
}

/* "@timestamp" (ECS) or "time_dt" (OCSF) of an event line as seconds since the epoch, for HEC. */
static double line_time(const char *line, size_t len)
{
	const char *ts = memmem(line, len, "\"@timestamp\":\"", 14);
	struct tm tm = {0};
	const char *rest;
	double frac = 0;

	if (ts)
		ts += 14;
	else if ((ts = memmem(line, len, "\"time_dt\":\"", 11)))
		ts += 11;
	if (!ts)
		return (double)time(NULL);
	rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest && *rest == '.')
		frac = strtod(rest, NULL);
	return (double)timegm(&tm) + frac;
}

/* The request body of a batch of lines, in the output's format. */
static int build_body(struct http_transport *h, const char *buf, size_t len, size_t *out)
{
	size_t need = len, start = 0, o = 0, lines = 0, i;

	if (h->framing == CONFIG_HTTP_NDJSON) {
		*out = len;
		return 0;
	}
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	need += lines * (BODY_EXTRA + strlen(h->host_json));
	if (need > h->body_cap) {
		char *b = realloc(h->body, need);

		if (!b)
			return -ENOMEM;
		h->body = b;
		h->body_cap = need;
	}
	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t n = nl - (buf + start);

		if (h->framing == CONFIG_HTTP_BULK)
			o += sprintf(h->body + o, "{\"create\":{}}\n");
		else
			o += sprintf(
			    h->body + o,
			    "{\"time\":%.6f,\"host\":%s,\"sourcetype\":\"custos\",\"event\":",
			    line_time(buf + start, n), h->host_json);
		memcpy(h->body + o, buf + start, n);
		o += n;
		if (h->framing == CONFIG_HTTP_HEC)
			h->body[o++] = '}';
		h->body[o++] = '\n';
		start += n + 1;
	}
	*out = o;
	return 0;
}

static int http_send(struct transport *t, const char *buf, size_t len)
{
	struct http_transport *h = (struct http_transport *)t;
	long status = 0;
	size_t n;
	CURLcode c;
	int r = build_body(h, buf, len, &n);

	if (r)
		return r;
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS,
			 h->framing == CONFIG_HTTP_NDJSON ? buf : h->body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	c = curl_easy_perform(h->curl);
	if (c != CURLE_OK) {
		snprintf(t->why, sizeof(t->why), "%s: %s", h->url, curl_easy_strerror(c));
		return -EIO;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(t->why, sizeof(t->why), "%s: HTTP status %ld", h->url, status);
		return -EIO;
	}
	return 0;
}

static int http_close(struct transport *t, bool graceful)
{
	return 0;
}

static void http_destroy(struct transport *t)
{
	struct http_transport *h = (struct http_transport *)t;

	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	free(h->url);
	free(h->host_json);
	free(h->body);
	free(h);
}

static const struct transport_ops http_ops = {
    .open = http_open,
    .send = http_send,
    .close = http_close,
    .destroy = http_destroy,
};

static bool add_header(struct http_transport *h, const char *line)
{
	struct curl_slist *l = curl_slist_append(h->headers, line);

	if (l)
		h->headers = l;
	return l != NULL;
}

struct transport *transport_http(const struct config_output *o, const char *host, char *err,
				 size_t len)
{
	struct http_transport *h = calloc(1, sizeof(*h));
	json_t *name = json_string(host ? host : "");
	bool ok;
	size_t i;

	/* Only an agent with an HTTP output pays for libcurl's TLS set-up (memory included). */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!h || !name) {
		free(h);
		json_decref(name);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	h->t.ops = &http_ops;
	h->t.acked = true;
	h->t.spooled = true;
	h->framing = o->framing;
	h->url = strdup(o->url);
	h->host_json = json_dumps(name, JSON_ENCODE_ANY);
	json_decref(name);
	h->curl = curl_easy_init();
	ok = h->url && h->host_json && h->curl &&
	     add_header(h, o->framing == CONFIG_HTTP_HEC ? "Content-Type: application/json"
							 : "Content-Type: application/x-ndjson");
	for (i = 0; ok && i < o->n_headers; i++)
		ok = add_header(h, o->headers[i]);
	if (!ok) {
		http_destroy(&h->t);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, h->url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, (long)o->timeout_s);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, o->tls_verify ? 1L : 0L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, o->tls_verify ? 2L : 0L);
	if (o->ca_file)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, o->ca_file);
	return &h->t;
}
