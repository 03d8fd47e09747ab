// SPDX-License-Identifier: GPL-2.0
/* The files a config was read from, and which of them gave each value (sources.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sources.h"

int sources_add(struct sources *src, const char *name, char *text, size_t len)
{
	struct source *more = realloc(src->files, (src->n_files + 1) * sizeof(*more));

	if (!more)
		return -ENOMEM;
	src->files = more;
	more[src->n_files].name = strdup(name);
	if (!more[src->n_files].name)
		return -ENOMEM;
	more[src->n_files].text = text;
	more[src->n_files].len = len;
	src->n_files++;
	return 0;
}

int sources_digest_add(struct sources *src, const char *name, const char *text, size_t len)
{
	size_t name_len = name ? strlen(name) + 1 : 0;
	char *more = realloc(src->all, src->all_len + name_len + len);

	if (!more)
		return -ENOMEM;
	src->all = more;
	if (name)
		memcpy(more + src->all_len, name, name_len);
	memcpy(more + src->all_len + name_len, text, len);
	src->all_len += name_len + len;
	return 0;
}

void sources_free(struct sources *src)
{
	size_t i;

	for (i = 0; i < src->n_files; i++) {
		free(src->files[i].name);
		free(src->files[i].text);
	}
	for (i = 0; i < src->n_keys; i++) {
		free(src->keys[i].key);
		free(src->keys[i].files);
		free(src->keys[i].counts);
	}
	free(src->files);
	free(src->keys);
	free(src->all);
	memset(src, 0, sizeof(*src));
}

struct origin *origin_of(const struct sources *src, const char *key)
{
	size_t i;

	for (i = 0; i < src->n_keys; i++)
		if (!strcmp(src->keys[i].key, key))
			return &src->keys[i];
	return NULL;
}

/* Records that file gave key (count elements of a joined array). */
int origin_add(struct sources *src, const char *key, size_t file, size_t count)
{
	struct origin *o = origin_of(src, key);
	size_t *files, *counts;

	if (!o) {
		o = realloc(src->keys, (src->n_keys + 1) * sizeof(*o));
		if (!o)
			return -ENOMEM;
		src->keys = o;
		o = &src->keys[src->n_keys];
		memset(o, 0, sizeof(*o));
		o->key = strdup(key);
		if (!o->key)
			return -ENOMEM;
		src->n_keys++;
	}
	files = realloc(o->files, (o->n + 1) * sizeof(*files));
	if (files)
		o->files = files;
	counts = realloc(o->counts, (o->n + 1) * sizeof(*counts));
	if (counts)
		o->counts = counts;
	if (!files || !counts)
		return -ENOMEM;
	o->files[o->n] = file;
	o->counts[o->n] = count;
	o->n++;
	return 0;
}

size_t sources_map(const struct sources *src, struct json_step *path, size_t n)
{
	const struct origin *o;
	size_t i, index;

	if (n == 0 || !path[0].key || !(o = origin_of(src, path[0].key)) || o->n == 0)
		return 0;
	if (n < 2 || path[1].key || o->n == 1)
		return o->files[0];
	index = path[1].index;
	for (i = 0; i + 1 < o->n && index >= o->counts[i]; i++)
		index -= o->counts[i];
	path[1].index = index;
	return o->files[i];
}
