// SPDX-License-Identifier: GPL-2.0
/* Include files: read, merged into the config, and where each value came from (include.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "include.h"
#include "lib/trust.h"
#include "parse.h"

#define INCLUDES_MAX 256

/* The main file's key that names the include directory (taken out before the rest is parsed). */
static const char *const include_keys[] = {"include_dir", NULL};

/* The top-level arrays include files add to; every other key is set in one file only. */
static const char *const joined_keys[] = {"watch", "endpoints", "outputs", "rules", NULL};

static bool joined(const char *key)
{
	size_t i;

	for (i = 0; joined_keys[i]; i++)
		if (!strcmp(joined_keys[i], key))
			return true;
	return false;
}

/* Each top-level key of the main file: which file holds it. */
static int origins_of_main(struct sources *src, json_t *root)
{
	const char *key;
	json_t *v;
	int r;

	json_object_foreach(root, key, v)
	{
		r = origin_add(src, key, 0, json_is_array(v) ? json_array_size(v) : 0);
		if (r)
			return r;
	}
	return 0;
}

/* "FILE:LINE:COLUMN" of a top-level key of source file. */
static void key_place(const struct sources *src, size_t file, const char *key, char *buf,
		      size_t size)
{
	struct json_step step = JSON_KEY(key);
	struct json_pos pos;

	if (json_locate(src->files[file].text, src->files[file].len, &step, 1, true, &pos) == 0)
		snprintf(buf, size, "%s:%d:%d", src->files[file].name, pos.line, pos.column);
	else
		snprintf(buf, size, "%s", src->files[file].name);
}

/* Merges the top level of include file (source index file) into root. */
static int merge(struct parser *p, struct sources *src, json_t *root, size_t file, json_t *inc)
{
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	const char *key;
	json_t *v, *have;
	char place[PATH_MAX + 32];
	const struct origin *o;
	int r;

	if (!json_is_object(inc))
		return fail(p, &top, NULL, NO_INDEX, false,
			    "the top level of an include file is %s (expected an object such as "
			    "{\"watch\": [...]})",
			    type_name(inc));
	json_object_foreach(inc, key, v)
	{
		have = json_object_get(root, key);
		if (!strcmp(key, "include_dir"))
			return fail(p, &top, key, NO_INDEX, true,
				    "\"include_dir\" in an include file (expected it in the main "
				    "config file only: include files include nothing)");
		if (have && !joined(key)) {
			o = origin_of(src, key);
			key_place(src, o ? o->files[0] : 0, key, place, sizeof(place));
			return fail(p, &top, key, NO_INDEX, true,
				    "\"%s\" is set already, at %s (expected each top-level key "
				    "but watch, endpoints, outputs and rules in one file only)",
				    key, place);
		}
		if (have && (!json_is_array(have) || !json_is_array(v))) {
			o = origin_of(src, key);
			key_place(src, o ? o->files[0] : 0, key, place, sizeof(place));
			return fail(p, &top, key, NO_INDEX, false,
				    "\"%s\" is %s here and %s at %s (expected arrays, which the "
				    "config and its include files join)",
				    key, type_name(v), type_name(have), place);
		}
		r = have ? json_array_extend(have, v) : json_object_set(root, key, v);
		if (r)
			return fail_nomem(p);
		r = origin_add(src, key, file, json_is_array(v) ? json_array_size(v) : 0);
		if (r)
			return fail_nomem(p);
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The *.json names of dir, sorted; hidden files are left out. A directory
 * that does not exist has none, unless the config names it (explicit).
 */
static int list_dir(struct parser *p, const char *dir, bool explicit, char ***names, size_t *n)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t len;
	char **more;

	*names = NULL;
	*n = 0;
	if (!d && errno == ENOENT && !explicit)
		return 0;
	if (!d)
		return fail_nopos(p, -errno, "include directory %s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (*n == INCLUDES_MAX) {
			closedir(d);
			return fail_nopos(p, -E2BIG,
					  "include directory %s: more than %d *.json files", dir,
					  INCLUDES_MAX);
		}
		more = realloc(*names, (*n + 1) * sizeof(*more));
		if (!more || !(more[*n] = strdup(de->d_name))) {
			if (more)
				*names = more;
			closedir(d);
			return fail_nomem(p);
		}
		*names = more;
		(*n)++;
	}
	closedir(d);
	qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

/* Reads, parses and merges the include file at path into root. */
static int include_file(struct parser *p, struct sources *src, json_t *root, const char *path)
{
	char *text, *plain;
	json_t *inc;
	int r;

	r = config_read_text(path, &text, &p->len);
	if (r)
		return fail_nopos(p, r, "cannot read: %s", strerror(-r));
	r = config_parse_text(p, text, p->len, &plain, &inc);
	if (r) {
		free(text);
		return r;
	}
	r = sources_digest_add(src, path, text, p->len);
	free(text);
	if (r == 0)
		r = sources_add(src, path, plain, p->len);
	if (r) {
		free(plain);
		json_decref(inc);
		return fail_nomem(p);
	}
	p->text = plain; /* src's now: positions of the merge's errors are in it */
	r = merge(p, src, root, src->n_files - 1, inc);
	json_decref(inc);
	return r;
}

/* "include_dir" of root, or dir_default; *dir NULL when there is none. */
static int include_dir(struct parser *p, json_t *root, const char *dir_default, const char **dir,
		       bool *explicit)
{
	struct where top = {.depth = 0, .dotted = "", .label = "the top level"};
	json_t *v = json_object_get(root, include_keys[0]);
	const char *s;

	*dir = dir_default;
	*explicit = v != NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(p, &top, "include_dir", NO_INDEX, false,
			    "\"include_dir\" must be a string, not %s (expected an absolute path, "
			    "or \"\" for no include files)",
			    type_name(v));
	s = json_string_value(v);
	if (s[0] && (s[0] != '/' || has_control(s) || strlen(s) >= PATH_MAX - NAME_MAX - 2))
		return fail(p, &top, "include_dir", NO_INDEX, false,
			    "\"include_dir\" is not an absolute path (expected an absolute path, "
			    "or \"\" for no include files)");
	*dir = s[0] ? s : NULL;
	return 0;
}

int sources_include(struct parser *p, struct sources *src, json_t *root, const char *dir_default,
		    unsigned int flags)
{
	bool trusted = flags & INCLUDE_TRUSTED;
	const char *main_text = p->text, *dir;
	size_t main_len = p->len, n = 0, i;
	char main_source[sizeof(p->err->source)], path[PATH_MAX], dir_buf[PATH_MAX];
	char **names = NULL;
	bool explicit;
	int r;

	snprintf(main_source, sizeof(main_source), "%s", p->err->source);
	r = origins_of_main(src, root);
	if (r)
		return fail_nomem(p);
	r = include_dir(p, root, dir_default, &dir, &explicit);
	if (r)
		return r;
	/* Not a key of the merged config: the rest of the parser does not know it. */
	if (dir)
		snprintf(dir_buf, sizeof(dir_buf), "%s", dir);
	dir = dir ? dir_buf : NULL;
	json_object_del(root, include_keys[0]);
	if (!dir || !(flags & INCLUDE_READ))
		return 0;
	if (trusted) {
		char err[sizeof(p->err->message)];

		r = file_trusted(dir, "include directory", TRUST_DIR, err, sizeof(err));
		if (r == -ENOENT && !explicit)
			return 0;
		if (r) {
			p->err->source[0] = '\0';
			return fail_nopos(p, r, "%s", err);
		}
	}
	r = list_dir(p, dir, explicit, &names, &n);
	for (i = 0; r == 0 && i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			r = fail_nopos(p, -ENAMETOOLONG, "include directory %s: %s: %s", dir,
				       names[i], strerror(ENAMETOOLONG));
			break;
		}
		parse_error_source(p->err, path);
		if (trusted) {
			char err[sizeof(p->err->message)];

			r = file_trusted(path, "include file", 0, err, sizeof(err));
			if (r) {
				p->err->source[0] = '\0';
				r = fail_nopos(p, r, "%s", err);
				break;
			}
		}
		r = include_file(p, src, root, path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r)
		return r;
	p->text = main_text;
	p->len = main_len;
	parse_error_source(p->err, main_source);
	return 0;
}
