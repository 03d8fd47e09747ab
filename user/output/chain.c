// SPDX-License-Identifier: GPL-2.0
/* The hash chain of event lines: its key, its MAC, and sealing a line (see chain.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "output/chain.h"
#include "lib/trust.h"

#define FIELD	  "\"chain\":\""
#define FIELD_LEN (sizeof(FIELD) - 1)

/* How to make a key, for messages: the path twice. */
#define MAKE_KEY "head -c 32 /dev/urandom > %s && chmod 600 %s"

struct chain {
	EVP_MAC_CTX *mac; /* HMAC-SHA-256 with the key */
	uint8_t prev[CHAIN_MAC_LEN];
};

struct chain *chain_new(const void *key, size_t key_len)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	struct chain *c = calloc(1, sizeof(*c));
	EVP_MAC *hmac;

	if (!c)
		return NULL;
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	c->mac = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	EVP_MAC_free(hmac);
	if (!c->mac || !EVP_MAC_init(c->mac, key, key_len, params)) {
		chain_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void chain_free(struct chain *c)
{
	if (!c)
		return;
	EVP_MAC_CTX_free(c->mac);
	free(c);
}

struct chain *chain_dup(const struct chain *c)
{
	struct chain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->mac = EVP_MAC_CTX_dup(c->mac);
	if (!d->mac) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(d->prev, c->prev, sizeof(d->prev));
	return d;
}

void chain_continue(struct chain *c, const struct chain *from)
{
	memcpy(c->prev, from->prev, sizeof(c->prev));
}

static int read_key(int fd, const char *path, uint8_t *key, size_t *key_len, char *err, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got <= CHAIN_KEY_MAX) {
		n = read(fd, key + got, CHAIN_KEY_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			snprintf(err, len, "chain key %s: cannot read: %s", path, strerror(e));
			return -e;
		}
		if (n == 0)
			break;
		got += n;
	}
	if (got > CHAIN_KEY_MAX) {
		snprintf(err, len, "chain key %s: larger than %d bytes (expected %d to %d bytes)",
			 path, CHAIN_KEY_MAX, CHAIN_KEY_MIN, CHAIN_KEY_MAX);
		return -EFBIG;
	}
	if (got < CHAIN_KEY_MIN) {
		snprintf(
		    err, len,
		    "chain key %s: %zu bytes, too short (at least %d): make one with " MAKE_KEY,
		    path, got, CHAIN_KEY_MIN, path, path);
		return -EINVAL;
	}
	*key_len = got;
	return 0;
}

struct chain *chain_open(const char *key_file, char *err, size_t len)
{
	uint8_t key[CHAIN_KEY_MAX + 1];
	struct chain *c = NULL;
	size_t key_len = 0;
	int fd, r;

	r = file_trusted(key_file, "chain key", TRUST_SECRET, err, len);
	if (r)
		goto out;
	/* O_NONBLOCK: a FIFO put in its place must not hang the agent. */
	fd = open(key_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(err, len, "chain key %s: cannot open: %s", key_file, strerror(errno));
		goto out;
	}
	r = read_key(fd, key_file, key, &key_len, err, len);
	close(fd);
	if (r == 0) {
		c = chain_new(key, key_len);
		r = c ? 0 : -errno;
		if (!c)
			snprintf(err, len, "chain key %s: cannot set up HMAC-SHA-256", key_file);
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (!c)
		errno = -r;
	return c;
}

int chain_mac(const struct chain *c, const uint8_t prev[CHAIN_MAC_LEN], const char *line,
	      size_t len, uint8_t mac[CHAIN_MAC_LEN])
{
	size_t out = 0;

	/* Without a key, init starts over with the one it has. */
	if (!EVP_MAC_init(c->mac, NULL, 0, NULL) || !EVP_MAC_update(c->mac, prev, CHAIN_MAC_LEN) ||
	    !EVP_MAC_update(c->mac, (const unsigned char *)line, len) ||
	    !EVP_MAC_final(c->mac, mac, &out, CHAIN_MAC_LEN) || out != CHAIN_MAC_LEN)
		return -EIO;
	return 0;
}

static bool is_value(const char *hex, bool placeholder)
{
	size_t i;

	for (i = 0; i < CHAIN_HEX_LEN; i++) {
		if (placeholder
			? hex[i] != '0'
			: !((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return false;
	}
	return true;
}

/*
 * "chain":"<64 hex digits>" can only be the key custos.chain and its value:
 * a JSON string has no unescaped quote inside, and no other key of an event
 * is named "chain". More than one is not a line custos wrote.
 */
static ssize_t find_value(const char *line, size_t len, bool placeholder)
{
	const char *end = line + len, *p = line, *hex;
	ssize_t found = -1;

	while (p < end && (p = memmem(p, end - p, FIELD, FIELD_LEN))) {
		hex = p + FIELD_LEN;
		p = hex;
		if ((size_t)(end - hex) <= CHAIN_HEX_LEN || hex[CHAIN_HEX_LEN] != '"' ||
		    !is_value(hex, placeholder))
			continue;
		if (found >= 0)
			return -1;
		found = hex - line;
	}
	return found;
}

ssize_t chain_find(const char *line, size_t len)
{
	return find_value(line, len, false);
}

int chain_seal(struct chain *c, char *line, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	ssize_t at = find_value(line, len, true);
	uint8_t mac[CHAIN_MAC_LEN];
	size_t i;
	int r;

	if (at < 0)
		return -EINVAL;
	r = chain_mac(c, c->prev, line, len, mac);
	if (r)
		return r;
	for (i = 0; i < CHAIN_MAC_LEN; i++) {
		line[at + 2 * i] = digits[mac[i] >> 4];
		line[at + 2 * i + 1] = digits[mac[i] & 0xf];
	}
	memcpy(c->prev, mac, sizeof(mac));
	return 0;
}
