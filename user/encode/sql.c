// SPDX-License-Identifier: GPL-2.0
/*
 * SQL text, redacted and described in one pass. One lexer cuts the text into
 * tokens the way the dialect's server would (strings with their escapes and
 * prefixes, dollar quotes, nested comments, quoted identifiers); each token
 * goes, as it is cut, to the redactor, which replaces every literal, and the
 * significant ones to the describer, which never mistakes the inside of a
 * string or a comment for a table.
 *
 * Every byte is lexed once. Where the describer looks ahead (does a dot
 * follow this name, a parenthesis?), the tokens it looked at are kept for it
 * to read again. Where the redactor cannot know yet whether IN ( ... ) is a
 * list of literals, it writes the tokens as they come, and once it knows,
 * goes back and writes (?) over them.
 *
 * Outside literals, bytes >= 0x80 are identifier characters and control
 * bytes (NUL too) are whitespace; nothing is read past len.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "encode/sql.h"

enum tok_type {
	T_EOF,
	T_SPACE,   /* the marks of MySQL's executable comments (whitespace goes with a token) */
	T_COMMENT, /* -- ..., # ..., block comments */
	T_WORD,	   /* keyword or unquoted identifier */
	T_QIDENT,  /* "ident", `ident`, [ident], U&"ident" */
	T_STRING,  /* any quoted literal, prefix included: E'..', $$..$$, _utf8'..', X'..' */
	T_NUMBER,
	T_PARAM, /* $1, ?, ?1, :name, @name, $name, @@var */
	T_PUNCT, /* one byte of an operator or punctuation */
};

struct tok {
	enum tok_type type;
	bool open;   /* unterminated: runs to the end of the text */
	bool spaced; /* whitespace (and control bytes) before it */
	size_t start, end;
};

struct lexer {
	const unsigned char *s;
	size_t len, pos;
	enum sql_dialect dialect;
	bool in_exec; /* inside MySQL's executable comment */
};

#define C_SPACE 0x01
#define C_DIGIT 0x02
#define C_ALPHA 0x04
#define C_START 0x08 /* starts a word: letters, _, bytes >= 0x80 */
#define C_WORD	0x10 /* continues one: those, digits, $ */
#define C_GLUE	0x20 /* after a word, may make it a literal's prefix: ' " & */
#define C_LEVEL 0x40 /* punctuation that the describer acts on: ; ( ) [ ] , */

static const unsigned char cclass[256] = {
    [0 ... ' '] = C_SPACE,
    [0x7f] = C_SPACE,
    ['0' ... '9'] = C_DIGIT | C_WORD,
    ['A' ... 'Z'] = C_ALPHA | C_START | C_WORD,
    ['a' ... 'z'] = C_ALPHA | C_START | C_WORD,
    ['_'] = C_START | C_WORD,
    ['$'] = C_WORD,
    [0x80 ... 0xff] = C_START | C_WORD,
    ['\''] = C_GLUE,
    ['"'] = C_GLUE,
    ['&'] = C_GLUE,
    [';'] = C_LEVEL,
    ['('] = C_LEVEL,
    [')'] = C_LEVEL,
    ['['] = C_LEVEL,
    [']'] = C_LEVEL,
    [','] = C_LEVEL,
};

/*
 * What a token's first byte may start: the lexer's first decision, one
 * look-up. Most bytes can start one thing only; the dialect and the bytes
 * after decide for the others (a - is a comment or an operator).
 * Whitespace starts none: it goes with the token after it.
 */
enum lead {
	L_PUNCT, /* one byte of an operator or punctuation, and nothing else */
	L_WORD,
	L_DIGIT,
	L_QUOTE,
	L_DQUOTE,
	L_BACKTICK,
	L_BRACKET,
	L_DASH,
	L_SLASH,
	L_STAR,
	L_HASH,
	L_DOLLAR,
	L_QMARK,
	L_AT,
	L_COLON,
	L_DOT,
};

/* clang-format off */
static const unsigned char lead[256] = {
    ['A' ... 'Z'] = L_WORD,
    ['a' ... 'z'] = L_WORD,
    ['_'] = L_WORD,
    [0x80 ... 0xff] = L_WORD,
    ['0' ... '9'] = L_DIGIT,
    ['\''] = L_QUOTE,
    ['"'] = L_DQUOTE,
    ['`'] = L_BACKTICK,
    ['['] = L_BRACKET,
    ['-'] = L_DASH,
    ['/'] = L_SLASH,
    ['*'] = L_STAR,
    ['#'] = L_HASH,
    ['$'] = L_DOLLAR,
    ['?'] = L_QMARK,
    ['@'] = L_AT,
    [':'] = L_COLON,
    ['.'] = L_DOT,
};
/* clang-format on */

static inline bool is_space(unsigned char c)
{
	return cclass[c] & C_SPACE;
}

static inline bool is_digit(unsigned char c)
{
	return cclass[c] & C_DIGIT;
}

static inline bool is_alpha(unsigned char c)
{
	return cclass[c] & C_ALPHA;
}

static inline bool is_word_start(unsigned char c)
{
	return cclass[c] & C_START;
}

static inline bool is_word(unsigned char c)
{
	return cclass[c] & C_WORD;
}

static inline unsigned char upper(unsigned char c)
{
	return is_alpha(c) ? c & ~0x20 : c;
}

/* The byte at i, or 0 past the end (0 is whitespace, like the end). */
static inline unsigned char at(const struct lexer *lx, size_t i)
{
	return i < lx->len ? lx->s[i] : 0;
}

/*
 * The end of a quoted run that started before i; a doubled quote is one, and
 * with backslash, a backslash escapes the byte after it. memchr finds the
 * quotes and backslashes: each byte is looked at once.
 */
static size_t scan_quoted(const struct lexer *lx, size_t i, unsigned char quote, bool backslash,
			  bool *open)
{
	const unsigned char *s = lx->s, *q, *b;
	size_t len = lx->len, k;

	while (i < len) {
		q = memchr(s + i, quote, len - i);
		if (!q)
			break;
		k = q - s;
		if (backslash) {
			/* Skips what the backslashes before the quote escape; past it, it was. */
			while (i < k && (b = memchr(s + i, '\\', k - i)))
				i = b - s + 2;
			if (i > k)
				continue;
		}
		if (k + 1 < len && s[k + 1] == quote) {
			i = k + 2;
			continue;
		}
		return k + 1;
	}
	*open = true;
	return len;
}

/*
 * The end of a block comment whose text starts at i. Only a * can end one
 * (and, with nest, open one more: a / before it), so memchr finds the next.
 */
static size_t scan_block_comment(const struct lexer *lx, size_t i, bool nest, bool *open)
{
	const unsigned char *s = lx->s, *p;
	size_t len = lx->len, depth = 1, k;

	while (i + 1 < len) {
		p = memchr(s + i, '*', len - i);
		if (!p)
			break;
		k = p - s;
		if (nest && k > i && s[k - 1] == '/') {
			depth++;
			i = k + 1;
		} else if (k + 1 < len && s[k + 1] == '/') {
			i = k + 2;
			if (!--depth)
				return i;
		} else {
			i = k + 1;
		}
	}
	*open = true;
	return len;
}

/* The end of a line comment that starts at i: the next \n or \r, or the end. */
static size_t scan_line_comment(const struct lexer *lx, size_t i)
{
	const unsigned char *s = lx->s, *p;
	size_t len = lx->len, end;

	p = memchr(s + i, '\n', len - i);
	end = p ? (size_t)(p - s) : len;
	p = memchr(s + i, '\r', end - i);
	return p ? (size_t)(p - s) : end;
}

/* The length of a PostgreSQL dollar-quote delimiter ($$, $tag$) at i, or 0. */
static size_t dollar_delimiter(const struct lexer *lx, size_t i)
{
	size_t j = i + 1;

	if (at(lx, j) != '$') {
		if (j >= lx->len || !is_word_start(lx->s[j]))
			return 0;
		while (j < lx->len && is_word(lx->s[j]) && lx->s[j] != '$')
			j++;
		if (at(lx, j) != '$')
			return 0;
	}
	return j + 1 - i;
}

static size_t scan_dollar(const struct lexer *lx, size_t i, size_t delim, bool *open)
{
	const unsigned char *end;

	end = memmem(lx->s + i + delim, lx->len - i - delim, lx->s + i, delim);
	if (!end) {
		*open = true;
		return lx->len;
	}
	return end - lx->s + delim;
}

/*
 * Numbers: 42, 4.5e3, .5, 0x1F, 0b101, 0o17, 1_000. Letters glued to a
 * number go with it (PostgreSQL and SQLite reject them anyway), except in
 * MySQL, where 1abc is an identifier: then *word is set.
 */
static size_t scan_number(const struct lexer *lx, size_t i, bool *word)
{
	enum sql_dialect d = lx->dialect;
	const unsigned char *s = lx->s;
	size_t len = lx->len, j, k;
	unsigned char x = at(lx, i + 1) | 0x20;

	if (s[i] == '0' &&
	    (x == 'x' || (x == 'b' && d != SQL_SQLITE) || (x == 'o' && d == SQL_POSTGRESQL)))
		goto junk;
	if (d == SQL_MYSQL && s[i] != '.') {
		for (j = i; j < len && is_digit(s[j]); j++)
			;
		if (j < len && is_word(s[j])) {
			k = j;
			if ((s[k] | 0x20) == 'e')
				for (k++; k < len && is_digit(s[k]); k++)
					;
			if (k < len && is_word(s[k])) {
				for (; k < len && is_word(s[k]); k++)
					;
				*word = true;
				return k;
			}
		}
	}
	for (j = i; j < len && (is_digit(s[j]) || (s[j] == '_' && d != SQL_MYSQL)); j++)
		;
	if (at(lx, j) == '.')
		for (j++; j < len && (is_digit(s[j]) || (s[j] == '_' && d != SQL_MYSQL)); j++)
			;
	if ((at(lx, j) | 0x20) == 'e') {
		k = j + 1;
		if (at(lx, k) == '+' || at(lx, k) == '-')
			k++;
		if (is_digit(at(lx, k)))
			for (j = k; j < len && is_digit(s[j]); j++)
				;
	}
	i = j;
junk:
	while (i < len && is_word(s[i]))
		i++;
	return i;
}

/*
 * Is the word [ws, we) the prefix of the string literal that follows it:
 * E'..', B'..', X'..', N'..', _utf8'..'? Sets the quote's escape rules.
 */
static bool literal_prefix(const struct lexer *lx, size_t ws, size_t we, bool *backslash)
{
	unsigned char q = at(lx, we), c = lx->s[ws] | 0x20;
	bool charset = lx->s[ws] == '_' && we - ws > 1;
	size_t n = we - ws;

	switch (lx->dialect) {
	case SQL_POSTGRESQL:
		*backslash = c == 'e';
		return q == '\'' && n == 1 && (c == 'e' || c == 'b' || c == 'x' || c == 'n');
	case SQL_MYSQL:
		/* Valid X'..' and B'..' hold no backslash: invalid ones are read like strings. */
		*backslash = true;
		if (charset)
			return q == '\'' || q == '"';
		return q == '\'' && n == 1 && (c == 'x' || c == 'b' || c == 'n');
	case SQL_SQLITE:
		*backslash = false;
		return q == '\'' && n == 1 && c == 'x';
	}
	return false;
}

/*
 * The next token. Inlined in the loop that calls it for every token: the
 * call would cost as much as the lexing of most tokens.
 */
static inline __attribute__((always_inline)) void lex_next(struct lexer *lx, struct tok *t)
{
	const unsigned char *s = lx->s;
	enum sql_dialect d = lx->dialect;
	size_t len = lx->len, i = lx->pos, j;
	unsigned char c, c1, c2;
	enum tok_type type;
	bool backslash, word = false;

	t->open = false;
	t->spaced = i < len && is_space(s[i]);
	if (t->spaced)
		for (i++; i < len && is_space(s[i]); i++)
			;
	t->start = i;
	if (i >= len) {
		t->type = T_EOF;
		t->end = i;
		lx->pos = i;
		return;
	}
	c = s[i];
	switch (lead[c]) {
	case L_WORD:
	word:
		for (j = i + 1; j < len && is_word(s[j]); j++)
			;
		type = T_WORD;
		if (j == len || !(cclass[s[j]] & C_GLUE))
			break;
		if (s[j] == '\'' || s[j] == '"') {
			if (literal_prefix(lx, i, j, &backslash)) {
				j = scan_quoted(lx, j + 1, s[j], backslash, &t->open);
				type = T_STRING;
			}
		} else if (s[j] == '&' && d == SQL_POSTGRESQL && j == i + 1 && (c | 0x20) == 'u' &&
			   (at(lx, j + 1) == '\'' || at(lx, j + 1) == '"')) {
			type = s[j + 1] == '\'' ? T_STRING : T_QIDENT;
			j = scan_quoted(lx, j + 2, s[j + 1], false, &t->open);
		}
		break;
	case L_DIGIT:
	number:
		j = scan_number(lx, i, &word);
		type = word ? T_WORD : T_NUMBER;
		break;
	case L_DOT:
		/* .5 is a number, but not t.5 nor (x).5 */
		if (is_digit(at(lx, i + 1)) &&
		    (!i || !(is_word(s[i - 1]) || s[i - 1] == '"' || s[i - 1] == '`' ||
			     s[i - 1] == ']' || s[i - 1] == ')')))
			goto number;
		goto punct;
	case L_QUOTE:
		j = scan_quoted(lx, i + 1, c, d == SQL_MYSQL, &t->open);
		type = T_STRING;
		break;
	case L_DQUOTE:
		/* A string in MySQL, an identifier elsewhere. */
		j = scan_quoted(lx, i + 1, c, d == SQL_MYSQL, &t->open);
		type = d == SQL_MYSQL ? T_STRING : T_QIDENT;
		break;
	case L_BACKTICK:
		if (d == SQL_POSTGRESQL)
			goto punct;
		j = scan_quoted(lx, i + 1, c, false, &t->open);
		type = T_QIDENT;
		break;
	case L_BRACKET: {
		const unsigned char *end;

		if (d != SQL_SQLITE)
			goto punct;
		end = memchr(s + i + 1, ']', len - i - 1);
		t->open = !end;
		j = end ? (size_t)(end - s) + 1 : len;
		type = T_QIDENT;
		break;
	}
	case L_DASH:
		if (at(lx, i + 1) != '-' || (d == SQL_MYSQL && !is_space(at(lx, i + 2))))
			goto punct;
		j = scan_line_comment(lx, i + 1);
		type = T_COMMENT;
		break;
	case L_HASH:
		if (d != SQL_MYSQL)
			goto punct;
		j = scan_line_comment(lx, i + 1);
		type = T_COMMENT;
		break;
	case L_SLASH:
		if (at(lx, i + 1) != '*')
			goto punct;
		c2 = at(lx, i + 2);
		if (d == SQL_MYSQL && !lx->in_exec &&
		    (c2 == '!' || (c2 == 'M' && at(lx, i + 3) == '!'))) {
			/* Executable comment: its text is SQL that MySQL runs. */
			for (j = i + (c2 == '!' ? 3 : 4); j < len && is_digit(s[j]); j++)
				;
			lx->in_exec = true;
			type = T_SPACE;
		} else {
			j = scan_block_comment(lx, i + 2, d == SQL_POSTGRESQL, &t->open);
			type = T_COMMENT;
		}
		break;
	case L_STAR:
		if (!lx->in_exec || at(lx, i + 1) != '/')
			goto punct;
		lx->in_exec = false;
		j = i + 2;
		type = T_SPACE;
		break;
	case L_DOLLAR:
		c1 = at(lx, i + 1);
		if (d == SQL_MYSQL)
			goto word;
		if (d == SQL_SQLITE) {
			if (is_word(c1))
				goto param;
			goto punct;
		}
		if (is_digit(c1)) {
			for (j = i + 1; j < len && is_digit(s[j]); j++)
				;
			type = T_PARAM;
		} else if ((j = dollar_delimiter(lx, i))) {
			j = scan_dollar(lx, i, j, &t->open);
			type = T_STRING;
		} else {
			goto punct;
		}
		break;
	case L_QMARK:
		if (d == SQL_SQLITE && is_digit(at(lx, i + 1)))
			goto param;
		j = i + 1;
		type = T_PARAM;
		break;
	case L_AT:
		c1 = at(lx, i + 1);
		if (d != SQL_POSTGRESQL && (is_word(c1) || c1 == '@'))
			goto param;
		goto punct;
	case L_COLON:
		c1 = at(lx, i + 1);
		if ((d == SQL_SQLITE ? is_word(c1) : is_word_start(c1)) && (!i || s[i - 1] != ':'))
			goto param;
		goto punct;
	param:
		/* Placeholders and variables: kept as they are. */
		for (j = i + 1;
		     j < len && (is_word(s[j]) || (d == SQL_MYSQL && (s[j] == '@' || s[j] == '.')));
		     j++)
			;
		type = T_PARAM;
		break;
	default:
	punct:
		j = i + 1;
		type = T_PUNCT;
		break;
	}
	t->type = type;
	t->end = j;
	lx->pos = j;
}

static inline bool is_punct(const unsigned char *s, const struct tok *t, char c)
{
	return t->type == T_PUNCT && s[t->start] == c;
}

/* n, shortened so that s[0..n) does not end in the middle of a UTF-8 sequence. */
static size_t utf8_cut(const unsigned char *s, size_t n)
{
	size_t i = n, k, need;

	for (k = 0; k < 4 && i > 0; k++) {
		unsigned char c = s[--i];

		if ((c & 0xc0) == 0x80)
			continue;
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return n - i < need ? i : n;
	}
	return n;
}

/* sql_redact */

struct out {
	char *buf;
	size_t cap, n;
	bool space; /* a space is due before what comes next: never at the start (n > 0) */
	bool full;
};

static void put_slow(struct out *o, const void *p, size_t n);

/* Puts the pending space (none at the start) and n bytes, when all fit. */
static inline __attribute__((always_inline)) void put(struct out *o, const void *p, size_t n)
{
	const unsigned char *from = p;
	size_t sp = o->space;
	char *to = o->buf + o->n;

	if (o->full || n + sp >= o->cap - o->n) {
		put_slow(o, p, n);
		return;
	}
	*to = ' ';
	to += sp;
	o->n += sp + n;
	o->space = false;
	while (n--)
		*to++ = *from++;
}

/* Puts the pending space first; cuts what does not fit. */
static void put_slow(struct out *o, const void *p, size_t n)
{
	size_t room;

	if (o->space) {
		o->space = false;
		put(o, " ", 1);
	}
	o->space = false;
	if (o->full)
		return;
	room = o->cap - 1 - o->n;
	if (n > room) {
		memcpy(o->buf + o->n, p, room);
		o->n = utf8_cut((const unsigned char *)o->buf, o->n + room);
		o->full = true;
		return;
	}
	memcpy(o->buf + o->n, p, n);
	o->n += n;
}

/* A quoted identifier, its control bytes as ?: the output holds none. */
static void put_ident(struct out *o, const unsigned char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (!is_space(s[i]) || s[i] == ' ')
			continue;
		put(o, s + run, i - run);
		put(o, "?", 1);
		run = i + 1;
	}
	put(o, s + run, n - run);
}

/* Where the tokens since the word IN are in IN ( x, ... ), a list of literals and placeholders. */
enum in_list {
	IN_NONE,
	IN_PAREN,  /* after IN: ( opens the list */
	IN_VALUE,  /* after ( or a comma: a value, or a sign before one */
	IN_SIGNED, /* after the sign: a value */
	IN_SEP,	   /* after a value: a comma or ) */
};

/*
 * Every run of whitespace and comments becomes one space, none at the ends;
 * an unterminated literal, comment or quoted identifier becomes ? up to the
 * end. The output is never longer than the text, nor holds control bytes.
 */
struct redactor {
	struct out o;
	enum in_list in;
	bool in_space; /* whitespace or a comment between IN and ( */
	size_t in_n;   /* the length of the output up to IN: IN (?) goes on from there */
};

/*
 * After IN, one more significant token: once the list closes, what was
 * written since IN is replaced by (?). Linear: the list ends at the first
 * token that is not a literal, a placeholder, a sign or a comma.
 */
static void in_list_step(struct redactor *r, const unsigned char *s, const struct tok *t)
{
	unsigned char c = t->type == T_PUNCT ? s[t->start] : 0;

	switch (r->in) {
	case IN_NONE:
		break;
	case IN_PAREN:
		r->in = c == '(' ? IN_VALUE : IN_NONE;
		break;
	case IN_VALUE:
		if (c == '-' || c == '+') {
			r->in = IN_SIGNED;
			break;
		}
		/* fallthrough */
	case IN_SIGNED:
		r->in =
		    (t->type == T_STRING || t->type == T_NUMBER || t->type == T_PARAM) && !t->open
			? IN_SEP
			: IN_NONE;
		break;
	case IN_SEP:
		if (c == ',') {
			r->in = IN_VALUE;
			break;
		}
		r->in = IN_NONE;
		if (c == ')') {
			r->o.n = r->in_n;
			r->o.full = false;
			r->o.space = r->in_space;
			put(&r->o, "(?)", 3);
		}
		break;
	}
}

/*
 * A token as it is. Most are short: copied 16 bytes at a time when the text
 * and the output have that many left (the output's past the token's end are
 * written over next, or lie past the NUL).
 */
static inline __attribute__((always_inline)) void put_token(struct out *o, const unsigned char *s,
							    size_t len, const struct tok *t)
{
	size_t n = t->end - t->start, sp = o->space;
	char *to = o->buf + o->n;

	/* Full leaves less than 17 bytes of room: that test is in the last one. */
	if (n > 16 || len - t->start < 16 || o->n + sp + 17 > o->cap) {
		put(o, s + t->start, n);
		return;
	}
	*to = ' ';
	memcpy(to + sp, s + t->start, 16);
	o->n += sp + n;
	o->space = false;
}

/* One token, any: written as it is, as ?, or as a space. */
static inline __attribute__((always_inline)) void
redact_token(struct redactor *r, const unsigned char *s, size_t len, const struct tok *t)
{
	struct out *o = &r->o;

	if (t->spaced) {
		o->space = o->n;
		r->in_space |= r->in == IN_PAREN;
	}
	switch (t->type) {
	case T_EOF:
		return;
	case T_SPACE:
	case T_COMMENT:
		if (t->open)
			put(o, "?", 1);
		else
			o->space = o->n;
		r->in_space |= r->in == IN_PAREN;
		return;
	case T_STRING:
	case T_NUMBER:
		put(o, "?", 1);
		break;
	case T_QIDENT:
		if (t->open)
			put(o, "?", 1);
		else
			put_ident(o, s + t->start, t->end - t->start);
		break;
	default:
		put_token(o, s, len, t);
		break;
	}
	if (r->in)
		in_list_step(r, s, t);
	if (t->type == T_WORD && t->end - t->start == 2 && upper(s[t->start]) == 'I' &&
	    upper(s[t->start + 1]) == 'N' && !o->full) {
		r->in = IN_PAREN;
		r->in_space = false;
		r->in_n = o->n;
	}
}

/* sql_describe */

/* Looked up by hash (kw_table). */
/* clang-format off */
#define KEYWORDS(X)                                                                           \
	X(ABORT) X(AFTER) X(ALL) X(AND) X(ANY) X(AS) X(BEFORE) X(BY) X(CASE) X(COPY) X(CROSS) \
	X(DEFAULT) X(DELAYED) X(DELETE) X(DISTINCT) X(DO) X(DROP) X(DUMPFILE) X(DUPLICATE)    \
	X(ELSE) X(END) X(EXCEPT) X(EXISTS) X(FAIL) X(FALSE) X(FETCH) X(FOR) X(FROM) X(FULL)   \
	X(GRANT) X(GROUP) X(HAVING) X(HIGH_PRIORITY) X(IF) X(IGNORE) X(IN) X(INNER)           \
	X(INSERT) X(INTERSECT) X(INTO) X(IS) X(JOIN) X(KEY) X(LATERAL) X(LEFT) X(LIKE)        \
	X(LIMIT) X(LOCK) X(LOW_PRIORITY) X(MATERIALIZED) X(MERGE) X(MINUS) X(NATURAL) X(NOT)  \
	X(NULL) X(OF) X(OFFSET) X(ON) X(ONLY) X(OR) X(ORDER) X(OUTER) X(OUTFILE)              \
	X(PROCEDURE) X(QUALIFY) X(QUICK) X(RECURSIVE) X(REPLACE) X(RETURNING) X(REVOKE)       \
	X(RIGHT) X(ROLLBACK) X(SELECT) X(SET) X(STRAIGHT_JOIN) X(TABLE) X(TABLES) X(THEN)     \
	X(TO) X(TRUE) X(TRUNCATE) X(UNION) X(UPDATE) X(USING) X(VALUES) X(WHEN) X(WHERE)      \
	X(WINDOW) X(WITH)
/* clang-format on */

#define KW_ENUM(k) KW_##k,
#define KW_NAME(k) #k,

/* KW_NONE: not a keyword (or not a word); KW_OTHER: a statement's first word, not a keyword. */
enum kw {
	KW_NONE,
	KEYWORDS(KW_ENUM) KW_OTHER,
};

static const char *const kw_names[] = {KEYWORDS(KW_NAME)};

#define KW_LEN_MAX 16

/*
 * Keywords by hash: a word of up to 16 bytes, loaded as two 64-bit integers
 * with zeros past its end, upper-cased all at once by clearing bit 5 of each
 * byte. That maps a byte to an upper-case letter or _ only when it is that
 * letter in either case or _ itself (or DEL, which no word holds), so the
 * integers equal a keyword's only when the word is that keyword.
 */
#define KW_HASH_BITS 8
#define KW_CASE	     0xdfdfdfdfdfdfdfdfULL

struct kw_slot {
	uint64_t w[2];
	enum kw kw; /* KW_NONE: empty */
};

static struct kw_slot kw_table[1 << KW_HASH_BITS];
static pthread_once_t kw_once = PTHREAD_ONCE_INIT;

static inline size_t kw_hash(uint64_t w0, uint64_t w1)
{
	return ((w0 ^ (w1 * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL) >> (64 - KW_HASH_BITS);
}

/* The first n bytes (1 to 8) of an 8-byte load. */
static inline uint64_t kw_mask(uint64_t w, size_t n)
{
	if (n >= 8)
		return w;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return w & ((1ULL << (8 * n)) - 1);
#else
	return w & ~(~0ULL >> (8 * n));
#endif
}

static void kw_table_init(void)
{
	size_t i, h;

	for (i = 0; i < sizeof(kw_names) / sizeof(kw_names[0]); i++) {
		uint64_t w[2] = {0, 0};

		memcpy(w, kw_names[i], strlen(kw_names[i]));
		for (h = kw_hash(w[0], w[1]); kw_table[h].kw; h = (h + 1) % (1 << KW_HASH_BITS))
			;
		kw_table[h] = (struct kw_slot){{w[0], w[1]}, KW_NONE + 1 + i};
	}
}

static enum kw keyword(const unsigned char *s, size_t len, const struct tok *t)
{
	size_t n = t->end - t->start, h;
	uint64_t w[2] = {0, 0};

	if (t->type != T_WORD || n < 2 || n > KW_LEN_MAX)
		return KW_NONE;
	if (len - t->start >= 16)
		memcpy(w, s + t->start, 16); /* one load: what is past the word is masked off */
	else
		memcpy(w, s + t->start, n);
	w[1] = n > 8 ? kw_mask(w[1], n - 8) & KW_CASE : 0;
	w[0] = kw_mask(w[0], n) & KW_CASE;
	for (h = kw_hash(w[0], w[1]); kw_table[h].kw; h = (h + 1) % (1 << KW_HASH_BITS))
		if (kw_table[h].w[0] == w[0] && kw_table[h].w[1] == w[1])
			return kw_table[h].kw;
	return KW_NONE;
}

/* Skipped where a table is expected: FROM ONLY t, INSERT IGNORE INTO t, UPDATE OR IGNORE t. */
static bool is_modifier(enum kw k)
{
	switch (k) {
	case KW_ONLY:
	case KW_LATERAL:
	case KW_TABLE:
	case KW_IF:
	case KW_NOT:
	case KW_EXISTS:
	case KW_LOW_PRIORITY:
	case KW_HIGH_PRIORITY:
	case KW_DELAYED:
	case KW_QUICK:
	case KW_IGNORE:
	case KW_OR:
	case KW_ROLLBACK:
	case KW_ABORT:
	case KW_REPLACE:
	case KW_FAIL:
		return true;
	default:
		return false;
	}
}

/* Words that end a FROM list: what follows a comma there is no table. */
static bool ends_list(enum kw k)
{
	switch (k) {
	case KW_WHERE:
	case KW_GROUP:
	case KW_HAVING:
	case KW_ORDER:
	case KW_LIMIT:
	case KW_WINDOW:
	case KW_UNION:
	case KW_INTERSECT:
	case KW_EXCEPT:
	case KW_MINUS:
	case KW_RETURNING:
	case KW_SET:
	case KW_VALUES:
	case KW_OFFSET:
	case KW_FETCH:
	case KW_FOR:
	case KW_PROCEDURE:
	case KW_QUALIFY:
	case KW_TO:
	case KW_DO:
	case KW_DUPLICATE:
	case KW_WHEN:
	case KW_INSERT:
	case KW_LOCK:
		return true;
	default:
		return false;
	}
}

/* A table name, an alias, a CTE name: a word that is no keyword, or a quoted identifier. */
static bool is_name(const struct tok *t, enum kw k)
{
	return (t->type == T_WORD && k == KW_NONE) || (t->type == T_QIDENT && !t->open);
}

enum expect {
	EXP_NONE,
	EXP_TABLE,    /* a table reference comes next */
	EXP_SUBQUERY, /* in the parentheses of FROM ( ... ) */
	EXP_AFTER,    /* after a table: an alias may come */
	EXP_ALIAS,    /* after AS */
};

/* How the reference after FROM, JOIN, INTO... is read. */
#define REF_FUNC     0x1 /* name( is a function call, not a table */
#define REF_SUBQUERY 0x2 /* ( opens a subquery or parenthesised joins */

enum cte {
	CTE_NONE,
	CTE_NAME, /* after WITH [RECURSIVE] or a CTE's comma */
	CTE_AFTER_NAME,
	CTE_COLS, /* in name ( columns ) */
	CTE_AFTER_COLS,
	CTE_AS,	  /* after AS [NOT] [MATERIALIZED] */
	CTE_BODY, /* in AS ( ... ) */
	CTE_AFTER_BODY,
};

/* What is known about one level of parentheses. */
struct level {
	unsigned char expect, ref, list_ref, cte;
	bool list;	/* a FROM list: a comma names one more table */
	bool query;	/* SELECT, DELETE or UPDATE seen: FROM names tables */
	bool del_merge; /* DELETE or MERGE seen: USING names tables */
	bool cte_recursive;
	char cte_name[SQL_NAME_MAX];
};

#define DEPTH_MAX 32 /* deeper levels share the last one's state */
#define CTES_MAX  32 /* more CTE names are not known as such: reported as tables */

struct scan;

struct describer {
	struct scan *sc; /* the tokens, to look ahead */
	const unsigned char *s;
	size_t len;
	struct sql_info *info;
	size_t depth;
	enum kw stmt, prev1, prev2;
	bool op_done;
	size_t n_ctes;
	struct {
		char name[SQL_NAME_MAX];
		size_t depth;
	} ctes[CTES_MAX];
	struct level lv[DEPTH_MAX];
};

/*
 * The pass: one lexer whose every token goes to the redactor as it is lexed,
 * and every significant one to the describer, once. What the describer
 * looked at ahead is kept in back[] for it to read again: at most the dot
 * and the name part after a name (read_name), or one token (peek_*).
 */
struct scan {
	struct lexer lx;
	bool redacting; /* false without an output, or once it is full for good */
	struct redactor r;
	size_t n_back;
	struct tok back[2]; /* a stack: the next token to read is on top */
	struct describer d;
};

/* The next token that is not whitespace or a comment. */
static inline __attribute__((always_inline)) void next_sig_inline(struct scan *sc, struct tok *t)
{
	if (sc->n_back) {
		*t = sc->back[--sc->n_back];
		return;
	}
	for (;;) {
		lex_next(&sc->lx, t);
		if (sc->redacting) {
			redact_token(&sc->r, sc->lx.s, sc->lx.len, t);
			if (sc->r.o.full && !sc->r.in)
				sc->redacting = false;
		}
		if (t->type != T_SPACE && t->type != T_COMMENT)
			return;
	}
}

/* The same, called where the describer looks ahead. */
static void next_sig(struct scan *sc, struct tok *t)
{
	next_sig_inline(sc, t);
}

/* Gives back a token looked at ahead: the next next_sig returns it. */
static void unread(struct scan *sc, const struct tok *t)
{
	sc->back[sc->n_back++] = *t;
}

static struct level *level(struct describer *d)
{
	return &d->lv[d->depth < DEPTH_MAX ? d->depth : DEPTH_MAX - 1];
}

static void push(struct describer *d)
{
	if (++d->depth < DEPTH_MAX)
		memset(&d->lv[d->depth], 0, offsetof(struct level, cte_name));
}

static void add_cte(struct describer *d, const char *name)
{
	if (d->n_ctes == CTES_MAX)
		return;
	memcpy(d->ctes[d->n_ctes].name, name, strlen(name) + 1);
	d->ctes[d->n_ctes++].depth = d->depth;
}

static void pop(struct describer *d)
{
	struct level *l;

	if (!d->depth)
		return;
	d->depth--;
	while (d->n_ctes && d->ctes[d->n_ctes - 1].depth > d->depth)
		d->n_ctes--;
	if (d->depth >= DEPTH_MAX - 1)
		return;
	l = &d->lv[d->depth];
	if (l->expect == EXP_SUBQUERY)
		l->expect = EXP_AFTER;
	if (l->cte == CTE_COLS) {
		l->cte = CTE_AFTER_COLS;
	} else if (l->cte == CTE_BODY) {
		if (!l->cte_recursive)
			add_cte(d, l->cte_name);
		l->cte = CTE_AFTER_BODY;
	}
}

static void new_statement(struct describer *d)
{
	d->depth = 0;
	d->n_ctes = 0;
	d->stmt = d->prev1 = d->prev2 = KW_NONE;
	memset(&d->lv[0], 0, offsetof(struct level, cte_name));
}

struct name {
	char buf[SQL_NAME_MAX];
	size_t len, parts;
	bool wild; /* db.* (MySQL GRANT) */
};

static void name_putc(struct name *n, unsigned char c)
{
	if (n->len < SQL_NAME_MAX - 1)
		n->buf[n->len] = c;
	n->len++;
}

/* Appends one part of a name, unquoted: "My ""T""" is My "T". */
static void name_add(struct name *n, const unsigned char *text, const struct tok *t)
{
	const unsigned char *s = text + t->start, *e = text + t->end;
	unsigned char q;

	if (n->parts++)
		name_putc(n, '.');
	if (t->type != T_QIDENT) {
		while (s < e)
			name_putc(n, *s++);
		return;
	}
	if (*s != '"' && *s != '`' && *s != '[')
		s += 2; /* U& */
	q = *s == '[' ? ']' : *s;
	for (s++, e--; s < e; s++) {
		name_putc(n, *s);
		if (*s == q && q != ']')
			s++;
	}
}

static const char *name_str(struct name *n)
{
	n->len =
	    n->len < SQL_NAME_MAX ? n->len : utf8_cut((unsigned char *)n->buf, SQL_NAME_MAX - 1);
	n->buf[n->len] = '\0';
	return n->buf;
}

/* Reads name(.name)* starting at t; db.* sets wild. */
static void read_name(struct describer *d, const struct tok *t, struct name *n)
{
	struct tok dot, part;

	n->len = n->parts = 0;
	n->wild = false;
	name_add(n, d->s, t);
	for (;;) {
		next_sig(d->sc, &dot);
		if (!is_punct(d->s, &dot, '.')) {
			unread(d->sc, &dot);
			break;
		}
		next_sig(d->sc, &part);
		if (is_punct(d->s, &part, '*')) {
			n->wild = true;
			break;
		}
		if ((part.type != T_WORD && part.type != T_QIDENT) || part.open) {
			unread(d->sc, &part);
			unread(d->sc, &dot);
			break;
		}
		name_add(n, d->s, &part);
	}
}

/* ASCII only, whatever the locale. */
static bool same_word(const char *a, const char *b, size_t n)
{
	for (; n--; a++, b++)
		if (upper(*a) != upper(*b))
			return false;
	return true;
}

static bool is_cte(const struct describer *d, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < d->n_ctes; i++)
		if (strlen(d->ctes[i].name) == n && same_word(d->ctes[i].name, name, n))
			return true;
	return false;
}

static void add_table(struct describer *d, struct name *n)
{
	struct sql_info *info = d->info;
	const char *name = name_str(n);
	size_t i;

	if (!n->len || n->wild || (n->parts == 1 && is_cte(d, name)))
		return;
	for (i = 0; i < info->n_tables; i++)
		if (!strcmp(info->tables[i], name))
			return;
	if (info->n_tables == SQL_TABLES_MAX) {
		info->more_tables = true;
		return;
	}
	memcpy(info->tables[info->n_tables++], name, n->len + 1);
}

static bool peek_punct(struct describer *d, char c)
{
	struct tok t;

	next_sig(d->sc, &t);
	unread(d->sc, &t);
	return is_punct(d->s, &t, c);
}

/* GRANT ... ON <kind> x: kinds of objects that are not tables. */
static bool peek_not_table(struct describer *d)
{
	static const char *const kinds[] = {
	    "ALL",	 "DATABASE",  "DOMAIN",	 "FOREIGN", "FUNCTION", "LANGUAGE",   "LARGE",
	    "PARAMETER", "PROCEDURE", "ROUTINE", "SCHEMA",  "SEQUENCE", "TABLESPACE", "TYPE",
	};
	struct tok t;
	size_t i, n;

	next_sig(d->sc, &t);
	unread(d->sc, &t);
	if (t.type != T_WORD)
		return false;
	n = t.end - t.start;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i]) == n && same_word(kinds[i], (const char *)d->s + t.start, n))
			return true;
	return false;
}

static void expect_table(struct level *l, unsigned char ref, bool list)
{
	l->expect = EXP_TABLE;
	l->ref = ref;
	l->list = list;
	l->list_ref = ref;
}

/* Feeds one token of WITH name [(cols)] AS [NOT] [MATERIALIZED] ( ... ) [, ...]; false if not. */
static bool cte_step(struct describer *d, struct level *l, const struct tok *t, enum kw k)
{
	struct name n;

	switch (l->cte) {
	case CTE_NAME:
		if (k == KW_RECURSIVE) {
			l->cte_recursive = true;
			return true;
		}
		if (is_name(t, k)) {
			n.len = n.parts = 0;
			name_add(&n, d->s, t);
			memcpy(l->cte_name, name_str(&n), n.len + 1);
			l->cte = CTE_AFTER_NAME;
			return true;
		}
		break;
	case CTE_AFTER_NAME:
		if (is_punct(d->s, t, '(')) {
			l->cte = CTE_COLS;
			push(d);
			return true;
		}
		/* fallthrough */
	case CTE_AFTER_COLS:
		if (k == KW_AS) {
			l->cte = CTE_AS;
			return true;
		}
		break;
	case CTE_AS:
		if (k == KW_NOT || k == KW_MATERIALIZED)
			return true;
		if (is_punct(d->s, t, '(')) {
			if (l->cte_recursive)
				add_cte(d, l->cte_name);
			l->cte = CTE_BODY;
			push(d);
			return true;
		}
		break;
	case CTE_AFTER_BODY:
		if (is_punct(d->s, t, ',')) {
			l->cte = CTE_NAME;
			return true;
		}
		break;
	}
	l->cte = CTE_NONE;
	return false;
}

/* A name where a table is expected: a table, or a function if ( follows. */
static void take_table(struct describer *d, struct level *l, const struct tok *t)
{
	struct name n;

	read_name(d, t, &n);
	if ((l->ref & REF_FUNC) && peek_punct(d, '(')) {
		l->expect = EXP_NONE;
		return;
	}
	add_table(d, &n);
	l->expect = EXP_AFTER;
}

static void describe_token(struct describer *d, const struct tok *t)
{
	struct level *l = level(d);
	enum kw k = keyword(d->s, d->len, t);
	bool first = false, grant;

	/*
	 * Most tokens change nothing but prev1 and prev2: names and literals in
	 * expressions, operators. What follows would come to the same.
	 */
	if (!k && d->op_done && !l->cte && l->expect == EXP_NONE &&
	    (t->type == T_PUNCT ? !(cclass[d->s[t->start]] & C_LEVEL)
				: t->type != T_WORD || d->stmt != KW_NONE)) {
		d->prev2 = d->prev1;
		d->prev1 = KW_OTHER;
		return;
	}
	if (is_punct(d->s, t, ';')) {
		new_statement(d);
		return;
	}
	if (!d->op_done && t->type != T_PUNCT) {
		struct sql_info *info = d->info;
		size_t i;

		for (i = 0; t->type == T_WORD && i < t->end - t->start &&
			    i < sizeof(info->operation) - 1 && d->s[t->start + i] < 0x80;
		     i++)
			info->operation[i] = upper(d->s[t->start + i]);
		d->op_done = true;
	} else if (!d->op_done && !is_punct(d->s, t, '(')) {
		d->op_done = true;
	}
	if (t->type == T_WORD && d->stmt == KW_NONE) {
		d->stmt = k ? k : KW_OTHER;
		first = true;
	}
	grant = d->stmt == KW_GRANT || d->stmt == KW_REVOKE;

	if (l->cte && cte_step(d, l, t, k))
		goto out;
	switch (l->expect) {
	case EXP_TABLE:
		if (is_modifier(k))
			goto out;
		if (is_name(t, k)) {
			take_table(d, l, t);
			goto out;
		}
		l->expect = EXP_NONE;
		if (is_punct(d->s, t, '(') && (l->ref & REF_SUBQUERY)) {
			l->expect = EXP_SUBQUERY;
			push(d);
			expect_table(level(d), REF_FUNC | REF_SUBQUERY, true);
			goto out;
		}
		break;
	case EXP_AFTER:
		l->expect = EXP_NONE;
		if (k == KW_AS) {
			l->expect = EXP_ALIAS;
			goto out;
		}
		if (is_name(t, k))
			goto out;
		break;
	case EXP_ALIAS:
		l->expect = EXP_NONE;
		if (is_name(t, k))
			goto out;
		break;
	default:
		l->expect = EXP_NONE;
		break;
	}

	if (t->type == T_PUNCT) {
		switch (d->s[t->start]) {
		case '(':
		case '[':
			push(d);
			break;
		case ')':
		case ']':
			pop(d);
			break;
		case ',':
			if (l->list)
				expect_table(l, l->list_ref, true);
			break;
		}
		goto out;
	}
	if (ends_list(k))
		l->list = false;
	switch (k) {
	case KW_SELECT:
		l->query = true;
		l->list = false;
		break;
	case KW_DELETE:
	case KW_MERGE:
		l->query |= k == KW_DELETE;
		l->del_merge = true;
		l->list = false;
		break;
	case KW_UPDATE:
		/* Not FOR UPDATE, KEY UPDATE, DO UPDATE, ON UPDATE, BEFORE UPDATE... */
		l->query = true;
		l->list = false;
		if (!grant && d->prev1 != KW_FOR && d->prev1 != KW_KEY && d->prev1 != KW_DO &&
		    d->prev1 != KW_ON && d->prev1 != KW_OR && d->prev1 != KW_BEFORE &&
		    d->prev1 != KW_AFTER && d->prev1 != KW_OF)
			expect_table(l, REF_FUNC | REF_SUBQUERY, true);
		break;
	case KW_FROM:
		/* Not in EXTRACT(x FROM y), IS DISTINCT FROM, COPY t FROM, REVOKE ... FROM */
		l->list = false;
		if (!grant && l->query &&
		    !(d->prev1 == KW_DISTINCT && (d->prev2 == KW_IS || d->prev2 == KW_NOT)))
			expect_table(l, REF_FUNC | REF_SUBQUERY, true);
		break;
	case KW_JOIN:
	case KW_STRAIGHT_JOIN:
		if (!grant)
			expect_table(l, REF_FUNC | REF_SUBQUERY, true);
		break;
	case KW_INSERT:
	case KW_INTO:
		/* INSERT [INTO] t */
		l->list = false;
		if (!grant)
			expect_table(l, 0, false);
		break;
	case KW_TABLE:
	case KW_TABLES:
		expect_table(l, 0,
			     d->stmt == KW_DROP || d->stmt == KW_TRUNCATE || d->stmt == KW_LOCK ||
				 grant);
		break;
	case KW_COPY:
		if (first)
			expect_table(l, REF_SUBQUERY, false);
		break;
	case KW_TRUNCATE:
		if (first)
			expect_table(l, 0, true);
		break;
	case KW_USING:
		/* DELETE ... USING t, MERGE ... USING t; not JOIN ... USING (col) */
		if (!grant && l->del_merge && !peek_punct(d, '('))
			expect_table(l, REF_FUNC | REF_SUBQUERY, true);
		break;
	case KW_ON:
		if (grant && !peek_not_table(d))
			expect_table(l, 0, true);
		break;
	case KW_WITH:
		l->cte = CTE_NAME;
		l->cte_recursive = false;
		break;
	default:
		break;
	}
out:
	d->prev2 = d->prev1;
	d->prev1 = k ? k : KW_OTHER;
}

size_t sql_scan(enum sql_dialect dialect, const char *text, size_t len, char *out, size_t cap,
		struct sql_info *info)
{
	struct scan sc;
	struct describer *d = &sc.d;
	struct tok t;

	sc.lx = (struct lexer){
	    .s = (const unsigned char *)text,
	    .len = text ? len : 0,
	    .dialect = dialect,
	};
	sc.redacting = out && cap;
	sc.r = (struct redactor){.o = {.buf = out, .cap = cap}};
	sc.n_back = 0;

	if (!info) {
		/* Redaction only: every token, until the output is full for good. */
		while (sc.redacting) {
			lex_next(&sc.lx, &t);
			if (t.type == T_EOF)
				break;
			redact_token(&sc.r, sc.lx.s, sc.lx.len, &t);
			if (sc.r.o.full && !sc.r.in)
				break;
		}
	} else {
		pthread_once(&kw_once, kw_table_init);
		memset(info, 0, sizeof(*info));
		d->sc = &sc;
		d->s = sc.lx.s;
		d->len = sc.lx.len;
		d->info = info;
		d->op_done = false;
		new_statement(d);
		for (;;) {
			next_sig_inline(&sc, &t);
			if (t.type == T_EOF)
				break;
			describe_token(d, &t);
		}
	}
	if (!out || !cap)
		return 0;
	out[sc.r.o.n] = '\0';
	return sc.r.o.n;
}

size_t sql_redact(enum sql_dialect dialect, const char *text, size_t len, char *out, size_t cap)
{
	return sql_scan(dialect, text, len, out, cap, NULL);
}

void sql_describe(enum sql_dialect dialect, const char *text, size_t len, struct sql_info *info)
{
	sql_scan(dialect, text, len, NULL, 0, info);
}

/* sql_literals */

void sql_literals(enum sql_dialect dialect, const char *text, size_t len, sql_literal_fn fn,
		  void *ctx)
{
	struct lexer lx = {
	    .s = (const unsigned char *)text, .len = text ? len : 0, .dialect = dialect};
	const unsigned char *s = lx.s;
	size_t a, b, d;
	struct tok t;

	for (;;) {
		lex_next(&lx, &t);
		a = t.start;
		b = t.end;
		switch (t.type) {
		case T_EOF:
			return;
		case T_NUMBER:
			fn(ctx, a, b, true);
			continue;
		case T_STRING:
			if (s[a] == '$') {
				/* $tag$...$tag$ */
				d = dollar_delimiter(&lx, a);
				a += d;
				b = t.open || b - d < a ? b : b - d;
			} else {
				/* After its prefix (E, X, N, _utf8, U&) and quote; before the
				 * closing one. */
				while (a < b && s[a] != '\'' && s[a] != '"')
					a++;
				a++;
				b = t.open || b <= a ? b : b - 1;
			}
			break;
		case T_COMMENT:
			a += s[a] == '#' ? 1 : 2;
			b = !t.open && s[t.start] == '/' && b >= a + 2 ? b - 2 : b;
			while (a < b && is_space(s[a]))
				a++;
			while (a < b && is_space(s[b - 1]))
				b--;
			break;
		case T_QIDENT:
			if (!t.open)
				continue;
			a++; /* unterminated: redacted, as a literal is */
			break;
		default:
			continue;
		}
		if (a < b)
			fn(ctx, a, b, false);
	}
}

/* sql_table_matches */

#define MATCH_NAME_MAX 1024

/*
 * Copies a name without the quotes around its parts ("a"."b" is a.b);
 * returns its length, or SIZE_MAX if it does not fit. *parts counts the
 * parts, *last is where the last one starts.
 */
static size_t unquote(const char *in, char *out, size_t *parts, size_t *last)
{
	size_t n = 0;
	char q;

	*parts = 1;
	*last = 0;
	for (;;) {
		q = *in == '"' || *in == '`' ? *in : *in == '[' ? ']' : 0;
		for (in += !!q; q && *in; in++) {
			if (*in == q && (q == ']' || in[1] != q)) {
				in++;
				break;
			}
			in += *in == q;
			if (n == MATCH_NAME_MAX)
				return SIZE_MAX;
			out[n++] = *in;
		}
		for (; *in && *in != '.'; in++) {
			if (n == MATCH_NAME_MAX)
				return SIZE_MAX;
			out[n++] = *in;
		}
		if (!*in)
			return n;
		if (n == MATCH_NAME_MAX)
			return SIZE_MAX;
		out[n++] = *in++;
		(*parts)++;
		*last = n;
	}
}

static inline unsigned char lower(unsigned char c)
{
	return is_alpha(c) ? c | 0x20 : c;
}

/* fnmatch() with * and ? only, ASCII case-insensitive; backtracks to the last star only. */
static bool glob(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && (p[pi] == '?' || lower(p[pi]) == lower(s[si]))) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

bool sql_table_matches(const char *pattern, const char *table)
{
	char p[MATCH_NAME_MAX], t[MATCH_NAME_MAX];
	size_t pn, tn, p_parts, t_parts, p_last, t_last;

	if (!pattern || !table || !*pattern)
		return false;
	pn = unquote(pattern, p, &p_parts, &p_last);
	tn = unquote(table, t, &t_parts, &t_last);
	if (pn == SIZE_MAX || tn == SIZE_MAX)
		return false;
	if (p_parts == 1)
		return glob(p, pn, t + t_last, tn - t_last);
	/*
	 * An unqualified name may resolve to the pattern's schema (search_path, USE): it
	 * counts, unless the pattern names a whole schema ("crm.*").
	 */
	if (t_parts == 1)
		return !(pn - p_last == 1 && p[p_last] == '*') &&
		       glob(p + p_last, pn - p_last, t, tn);
	return glob(p, pn, t, tn);
}

static bool in_list(const char *op, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (!strcmp(op, list[i]))
			return true;
	return false;
}

/* COPY ... TO reads, COPY ... FROM writes: whichever of the two words comes last says. */
static bool copy_reads(const char *text, size_t len)
{
	bool to = false;
	size_t i = 0;

	while (i < len) {
		size_t start;

		while (i < len && !((text[i] | 0x20) >= 'a' && (text[i] | 0x20) <= 'z'))
			i++;
		start = i;
		while (i < len &&
		       (((text[i] | 0x20) >= 'a' && (text[i] | 0x20) <= 'z') || text[i] == '_'))
			i++;
		if (i - start == 2 && !strncasecmp(text + start, "to", 2))
			to = true;
		else if (i - start == 4 && !strncasecmp(text + start, "from", 4))
			to = false;
	}
	return to;
}

enum sql_effect sql_effect(const char *op, const char *text, size_t len)
{
	static const char *const reads[] = {"SELECT", "WITH",	"SHOW", "TABLE",
					    "FETCH",  "VALUES", NULL};
	static const char *const neither[] = {"BEGIN", "COMMIT", "SET", "ROLLBACK", "COPY", NULL};

	if (in_list(op, reads))
		return SQL_EFFECT_READ;
	if (!strcmp(op, "COPY") && text)
		return copy_reads(text, len) ? SQL_EFFECT_READ : SQL_EFFECT_WRITE;
	if (!*op || in_list(op, neither))
		return SQL_EFFECT_NONE;
	return SQL_EFFECT_WRITE;
}
