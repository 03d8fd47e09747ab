// SPDX-License-Identifier: GPL-2.0
/*
 * A config file's text (parse.h): read, refused when it is not JSON text,
 * its comment lines blanked, parsed, a syntax error placed at its line and
 * column.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "parse.h"

/* jansson reports a duplicate key just after it: point at its opening quote instead. */
static int duplicate_key(struct parser *p, const json_error_t *jerr)
{
	size_t end = jerr->position, start, backslashes, len;

	if (end < 2 || end > p->len || p->text[end - 1] != '"')
		return -ENOENT;
	for (start = end - 1; start-- > 0;) {
		if (p->text[start] != '"')
			continue;
		for (backslashes = 0;
		     backslashes < start && p->text[start - 1 - backslashes] == '\\'; backslashes++)
			;
		if (backslashes % 2 == 0)
			break;
	}
	if (start == (size_t)-1)
		return -ENOENT;
	len = end - start;
	if (len > QUOTE_MAX - 8) {
		/* cut before a character, not inside one */
		for (len = QUOTE_MAX - 8; (p->text[start + len] & 0xc0) == 0x80; len--)
			;
		return fail_offset(p, start,
				   "duplicate key %.*s...\" (expected each key once in an object)",
				   (int)len, p->text + start);
	}
	return fail_offset(p, start, "duplicate key %.*s (expected each key once in an object)",
			   (int)len, p->text + start);
}

/*
 * jansson points just past the token it choked on and names it ("... near
 * 'tru'"): point at the token's first character instead, as every other
 * error does. -ENOENT when the text does not name a token found there.
 */
static int token_start(const struct parser *p, const json_error_t *jerr, size_t *start)
{
	const char *near = strstr(jerr->text, " near '");
	size_t len;

	/* There jansson already points at the offending character itself. */
	if (!near || strstr(jerr->text, "control character"))
		return -ENOENT;
	near += strlen(" near '");
	len = strlen(near);
	if (len < 2 || near[len - 1] != '\'')
		return -ENOENT;
	len--;
	if ((size_t)jerr->position < len || (size_t)jerr->position > p->len ||
	    memcmp(p->text + jerr->position - len, near, len))
		return -ENOENT;
	*start = jerr->position - len;
	return 0;
}

static int syntax_error(struct parser *p, const json_error_t *jerr)
{
	size_t bad;
	int r;

	/* jansson fails without an error text only when it cannot allocate its lexer */
	if (!jerr->text[0])
		return fail_nomem(p);
	switch (json_error_code(jerr)) {
	case json_error_out_of_memory:
		return fail_nomem(p);
	case json_error_invalid_utf8:
		bad = json_locate_invalid_utf8(p->text, p->len);
		if (bad < p->len)
			return fail_offset(p, bad,
					   "byte 0x%02x is not valid UTF-8 (expected UTF-8 text)",
					   (unsigned char)p->text[bad]);
		break;
	case json_error_duplicate_key:
		r = duplicate_key(p, jerr);
		if (r != -ENOENT)
			return r;
		break;
	default:
		break;
	}
	if (token_start(p, jerr, &bad) == 0)
		return fail_offset(p, bad, "invalid JSON: %s", jerr->text);
	p->err->line = jerr->line;
	p->err->column = jerr->column > 0 ? jerr->column : 1;
	snprintf(p->err->message, sizeof(p->err->message), "invalid JSON: %s", jerr->text);
	return -EINVAL;
}

static bool is_blank(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", text[i]) || !text[i])
			return false;
	return true;
}

/*
 * Comment lines, osquery's convention: a line whose first non-blank
 * characters are // or # is blanked out, byte for byte, so that every
 * position in the text stays where it was. A JSON string cannot span lines,
 * so no string is touched. Returns a copy (NULL: no memory).
 */
static char *blank_comment_lines(const char *text, size_t len)
{
	char *out = malloc(len + 1);
	size_t i = 0;

	if (!out)
		return NULL;
	memcpy(out, text, len);
	out[len] = '\0';
	while (i < len) {
		size_t start = i, end;

		while (i < len && (out[i] == ' ' || out[i] == '\t'))
			i++;
		end = i;
		while (end < len && out[end] != '\n')
			end++;
		if ((i < len && out[i] == '#') ||
		    (i + 1 < len && out[i] == '/' && out[i + 1] == '/'))
			memset(out + start, ' ', end - start);
		i = end + 1;
	}
	return out;
}

int config_parse_text(struct parser *p, const char *text, size_t len, char **plain, json_t **root)
{
	json_error_t jerr;
	const char *nul;
	int r;

	*plain = NULL;
	p->text = text;
	p->len = len;
	if (is_blank(text, len))
		return fail_nopos(
		    p, -EINVAL,
		    "the configuration is empty (expected a JSON object with a \"watch\" array)");
	nul = memchr(text, '\0', len);
	if (nul)
		return fail_offset(
		    p, nul - text,
		    "a NUL byte in the text (expected JSON text, which has no NUL bytes)");
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		return fail_offset(p, 0,
				   "the text starts with a byte order mark (expected JSON text "
				   "starting with \"{\")");

	memset(&jerr, 0, sizeof(jerr));
	*plain = blank_comment_lines(text, len);
	if (!*plain)
		return fail_nomem(p);
	if (is_blank(*plain, len)) {
		r = fail_nopos(p, -EINVAL,
			       "the configuration has only comments (expected a JSON object with "
			       "a \"watch\" array)");
		goto free_plain;
	}
	p->text = *plain;
	*root = json_loadb(*plain, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (*root)
		return 0;
	r = syntax_error(p, &jerr);
free_plain:
	free(*plain);
	*plain = NULL;
	p->text = text;
	return r;
}

int config_read_text(const char *path, char **ret, size_t *ret_len)
{
	size_t len = 0, size = 0;
	char *buf = NULL, *grown;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (len == size) {
			if (size >= (size_t)FILE_MAX_MB << 20) {
				r = -EFBIG;
				break;
			}
			size = size ? size * 2 : 4096;
			grown = realloc(buf, size + 1);
			if (!grown) {
				r = -ENOMEM;
				break;
			}
			buf = grown;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}
