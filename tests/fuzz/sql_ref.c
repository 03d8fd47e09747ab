// SPDX-License-Identifier: GPL-2.0
/*
 * REFERENCE ONLY, not part of custos: user/encode/sql.c as it was before
 * sql_scan (commit 89575af), two passes, one to redact and one to describe,
 * each lexing the text. fuzz_sql_ref checks that sql_scan gives byte for
 * byte what these gave, and custos-sqlbench measures both. The two public
 * functions are renamed sql_ref_redact and sql_ref_describe; nothing else
 * was changed but what sql_table_matches alone used, removed. When sql.c's
 * output changes on purpose, change this copy the same way, or delete it
 * with fuzz_sql_ref.
 *
 * What follows is the original file's own comment.
 *
 * SQL text, redacted and described. One lexer serves both: it cuts the text
 * into tokens the way the dialect's server would (strings with their escapes
 * and prefixes, dollar quotes, nested comments, quoted identifiers), so that
 * the redactor can replace every literal and the describer never mistakes
 * the inside of a string or a comment for a table. The lexer keeps no state
 * but its position (and whether it is inside a MySQL executable comment), so
 * looking ahead is copying it.
 *
 * Outside literals, bytes >= 0x80 are identifier characters and control
 * bytes (NUL too) are whitespace; nothing is read past len.
 */
#include <stdint.h>
#include <string.h>

#include "sql_ref.h"

enum tok_type {
	T_EOF,
	T_SPACE,   /* whitespace and control bytes; the marks of MySQL's executable comments */
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
	size_t start, end;
	bool open; /* unterminated: runs to the end of the text */
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

static const unsigned char cclass[256] = {
    [0 ... ' '] = C_SPACE,
    [0x7f] = C_SPACE,
    ['0' ... '9'] = C_DIGIT | C_WORD,
    ['A' ... 'Z'] = C_ALPHA | C_START | C_WORD,
    ['a' ... 'z'] = C_ALPHA | C_START | C_WORD,
    ['_'] = C_START | C_WORD,
    ['$'] = C_WORD,
    [0x80 ... 0xff] = C_START | C_WORD,
};

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

/* The end of a quoted run that started before i; a doubled quote is one. */
static size_t scan_quoted(const struct lexer *lx, size_t i, unsigned char quote, bool backslash,
			  bool *open)
{
	const unsigned char *s = lx->s;

	for (; i < lx->len; i++) {
		if (s[i] == '\\' && backslash) {
			i++;
		} else if (s[i] == quote) {
			if (i + 1 < lx->len && s[i + 1] == quote) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	*open = true;
	return lx->len;
}

static size_t scan_block_comment(const struct lexer *lx, size_t i, bool nest, bool *open)
{
	const unsigned char *s = lx->s;
	size_t depth = 1;

	while (i + 1 < lx->len) {
		if (s[i] == '*' && s[i + 1] == '/') {
			i += 2;
			if (!--depth)
				return i;
		} else if (nest && s[i] == '/' && s[i + 1] == '*') {
			i += 2;
			depth++;
		} else {
			i++;
		}
	}
	*open = true;
	return lx->len;
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

/* Inlined in the two loops that call it: the call costs a third of the time. */
static inline __attribute__((always_inline)) void lex_next(struct lexer *lx, struct tok *t)
{
	const unsigned char *s = lx->s;
	enum sql_dialect d = lx->dialect;
	size_t len = lx->len, i = lx->pos, j;
	unsigned char c, c1, c2;
	bool backslash, word = false;

	t->start = i;
	t->open = false;
	if (i >= len) {
		t->type = T_EOF;
		t->end = i;
		return;
	}
	c = s[i];
	c1 = at(lx, i + 1);
	c2 = at(lx, i + 2);

	/* Most frequent first; a word starts with none of the bytes tested after it. */
	if (is_space(c)) {
		for (j = i + 1; j < len && is_space(s[j]); j++)
			;
		t->type = T_SPACE;
	} else if (is_word_start(c) || (c == '$' && d == SQL_MYSQL)) {
		for (j = i + 1; j < len && is_word(s[j]); j++)
			;
		t->type = T_WORD;
		if (at(lx, j) == '\'' || at(lx, j) == '"') {
			if (literal_prefix(lx, i, j, &backslash)) {
				j = scan_quoted(lx, j + 1, s[j], backslash, &t->open);
				t->type = T_STRING;
			}
		} else if (d == SQL_POSTGRESQL && j == i + 1 && (c | 0x20) == 'u' &&
			   at(lx, j) == '&' && (at(lx, j + 1) == '\'' || at(lx, j + 1) == '"')) {
			t->type = at(lx, j + 1) == '\'' ? T_STRING : T_QIDENT;
			j = scan_quoted(lx, j + 2, s[j + 1], false, &t->open);
		}
	} else if ((c == '-' && c1 == '-' && (d != SQL_MYSQL || is_space(c2))) ||
		   (c == '#' && d == SQL_MYSQL)) {
		for (j = i + 1; j < len && s[j] != '\n' && s[j] != '\r'; j++)
			;
		t->type = T_COMMENT;
	} else if (c == '/' && c1 == '*') {
		if (d == SQL_MYSQL && !lx->in_exec &&
		    (c2 == '!' || (c2 == 'M' && at(lx, i + 3) == '!'))) {
			/* Executable comment: its text is SQL that MySQL runs. */
			for (j = i + (c2 == '!' ? 3 : 4); j < len && is_digit(s[j]); j++)
				;
			lx->in_exec = true;
			t->type = T_SPACE;
		} else {
			j = scan_block_comment(lx, i + 2, d == SQL_POSTGRESQL, &t->open);
			t->type = T_COMMENT;
		}
	} else if (c == '*' && c1 == '/' && lx->in_exec) {
		lx->in_exec = false;
		j = i + 2;
		t->type = T_SPACE;
	} else if (c == '\'' || (c == '"' && d == SQL_MYSQL)) {
		j = scan_quoted(lx, i + 1, c, d == SQL_MYSQL, &t->open);
		t->type = T_STRING;
	} else if (c == '"' || (c == '`' && d != SQL_POSTGRESQL)) {
		j = scan_quoted(lx, i + 1, c, false, &t->open);
		t->type = T_QIDENT;
	} else if (c == '[' && d == SQL_SQLITE) {
		const unsigned char *end = memchr(s + i + 1, ']', len - i - 1);

		t->open = !end;
		j = end ? (size_t)(end - s) + 1 : len;
		t->type = T_QIDENT;
	} else if (is_digit(c) ||
		   (c == '.' && is_digit(c1) &&
		    (!i || !(is_word(s[i - 1]) || s[i - 1] == '"' || s[i - 1] == '`' ||
			     s[i - 1] == ']' || s[i - 1] == ')')))) {
		j = scan_number(lx, i, &word);
		t->type = word ? T_WORD : T_NUMBER;
	} else if (c == '$' && d == SQL_POSTGRESQL) {
		if (is_digit(c1)) {
			for (j = i + 1; j < len && is_digit(s[j]); j++)
				;
			t->type = T_PARAM;
		} else if ((j = dollar_delimiter(lx, i))) {
			j = scan_dollar(lx, i, j, &t->open);
			t->type = T_STRING;
		} else {
			j = i + 1;
			t->type = T_PUNCT;
		}
	} else if ((c == '$' && d == SQL_SQLITE && is_word(c1)) ||
		   (c == '?' && d == SQL_SQLITE && is_digit(c1)) ||
		   (c == '@' && d != SQL_POSTGRESQL && (is_word(c1) || c1 == '@')) ||
		   (c == ':' && (d == SQL_SQLITE ? is_word(c1) : is_word_start(c1)) &&
		    (!i || s[i - 1] != ':'))) {
		/* Placeholders and variables: kept as they are. */
		for (j = i + 1;
		     j < len && (is_word(s[j]) || (d == SQL_MYSQL && (s[j] == '@' || s[j] == '.')));
		     j++)
			;
		t->type = T_PARAM;
	} else if (c == '?') {
		j = i + 1;
		t->type = T_PARAM;
	} else {
		j = i + 1;
		t->type = T_PUNCT;
	}
	t->end = j;
	lx->pos = j;
}

/* The next token that is not whitespace or a comment; true if any was skipped. */
static bool lex_next_sig(struct lexer *lx, struct tok *t)
{
	bool skipped = false;

	for (;;) {
		lex_next(lx, t);
		if (t->type != T_SPACE && t->type != T_COMMENT)
			return skipped;
		skipped = true;
	}
}

static inline bool is_punct(const struct lexer *lx, const struct tok *t, char c)
{
	return t->type == T_PUNCT && lx->s[t->start] == c;
}

static void lexer_init(struct lexer *lx, enum sql_dialect dialect, const char *text, size_t len)
{
	*lx = (struct lexer){
	    .s = (const unsigned char *)text,
	    .len = text ? len : 0,
	    .dialect = dialect,
	};
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

struct out {
	char *buf;
	size_t cap, n;
	bool space, full;
};

static void put_slow(struct out *o, const void *p, size_t n);

static inline void put(struct out *o, const void *p, size_t n)
{
	const unsigned char *from = p;
	char *to = o->buf + o->n;

	if (o->space || o->full || n >= o->cap - o->n) {
		put_slow(o, p, n);
		return;
	}
	o->n += n;
	while (n--)
		*to++ = *from++;
}

/* Puts the pending space first; cuts what does not fit. */
static void put_slow(struct out *o, const void *p, size_t n)
{
	size_t room;

	if (o->space && o->n) {
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

/*
 * After IN: is what follows a list of literals and placeholders, ( x, ... )?
 * If so, consumes it. Linear overall: the look-ahead stops at the first
 * token that is not a literal, a placeholder, a sign or a comma.
 */
static bool in_list(struct lexer *lx, bool *space)
{
	struct lexer p = *lx;
	struct tok t;

	*space = lex_next_sig(&p, &t);
	if (!is_punct(&p, &t, '('))
		return false;
	for (;;) {
		lex_next_sig(&p, &t);
		if (is_punct(&p, &t, '-') || is_punct(&p, &t, '+'))
			lex_next_sig(&p, &t);
		if ((t.type != T_STRING && t.type != T_NUMBER && t.type != T_PARAM) || t.open)
			return false;
		lex_next_sig(&p, &t);
		if (is_punct(&p, &t, ')'))
			break;
		if (!is_punct(&p, &t, ','))
			return false;
	}
	*lx = p;
	return true;
}

/*
 * Every run of whitespace and comments becomes one space, none at the ends;
 * an unterminated literal, comment or quoted identifier becomes ? up to the
 * end. The output is never longer than the text, nor holds control bytes.
 */
size_t sql_ref_redact(enum sql_dialect dialect, const char *text, size_t len, char *out, size_t cap)
{
	struct out o = {.buf = out, .cap = cap};
	struct lexer lx;
	struct tok t;
	bool space;

	if (!cap)
		return 0;
	lexer_init(&lx, dialect, text, len);
	while (!o.full) {
		lex_next(&lx, &t);
		switch (t.type) {
		case T_EOF:
			goto done;
		case T_SPACE:
		case T_COMMENT:
			if (t.open)
				put(&o, "?", 1);
			else
				o.space = true;
			break;
		case T_STRING:
		case T_NUMBER:
			put(&o, "?", 1);
			break;
		case T_QIDENT:
			if (t.open)
				put(&o, "?", 1);
			else
				put_ident(&o, lx.s + t.start, t.end - t.start);
			break;
		case T_WORD:
			put(&o, lx.s + t.start, t.end - t.start);
			if (t.end - t.start == 2 && upper(lx.s[t.start]) == 'I' &&
			    upper(lx.s[t.start + 1]) == 'N' && in_list(&lx, &space)) {
				o.space = space;
				put(&o, "(?)", 3);
			}
			break;
		default:
			put(&o, lx.s + t.start, t.end - t.start);
			break;
		}
	}
done:
	out[o.n] = '\0';
	return o.n;
}

/* sql_ref_describe */

/* Kept sorted (strcmp order, upper case): looked up by binary search. */
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

static inline int kwcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

static enum kw keyword(const struct lexer *lx, const struct tok *t)
{
	char w[KW_LEN_MAX + 1];
	size_t n = t->end - t->start, i, lo = 0, hi = sizeof(kw_names) / sizeof(kw_names[0]);

	if (t->type != T_WORD || n < 2 || n > KW_LEN_MAX)
		return KW_NONE;
	for (i = 0; i < n; i++)
		w[i] = upper(lx->s[t->start + i]);
	w[n] = '\0';
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = kwcmp(w, kw_names[mid]);

		if (!cmp)
			return KW_NONE + 1 + mid;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
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

struct describer {
	struct lexer lx;
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
static void name_add(struct name *n, const struct lexer *lx, const struct tok *t)
{
	const unsigned char *s = lx->s + t->start, *e = lx->s + t->end;
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
	struct lexer p;
	struct tok dot, part;

	n->len = n->parts = 0;
	n->wild = false;
	name_add(n, &d->lx, t);
	for (;;) {
		p = d->lx;
		lex_next_sig(&p, &dot);
		if (!is_punct(&p, &dot, '.'))
			break;
		lex_next_sig(&p, &part);
		if (is_punct(&p, &part, '*')) {
			n->wild = true;
			d->lx = p;
			break;
		}
		if ((part.type != T_WORD && part.type != T_QIDENT) || part.open)
			break;
		name_add(n, &p, &part);
		d->lx = p;
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

static bool peek_punct(const struct describer *d, char c)
{
	struct lexer p = d->lx;
	struct tok t;

	lex_next_sig(&p, &t);
	return is_punct(&p, &t, c);
}

/* GRANT ... ON <kind> x: kinds of objects that are not tables. */
static bool peek_not_table(const struct describer *d)
{
	static const char *const kinds[] = {
	    "ALL",	 "DATABASE",  "DOMAIN",	 "FOREIGN", "FUNCTION", "LANGUAGE",   "LARGE",
	    "PARAMETER", "PROCEDURE", "ROUTINE", "SCHEMA",  "SEQUENCE", "TABLESPACE", "TYPE",
	};
	struct lexer p = d->lx;
	struct tok t;
	size_t i, n;

	lex_next_sig(&p, &t);
	if (t.type != T_WORD)
		return false;
	n = t.end - t.start;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i]) == n && same_word(kinds[i], (const char *)p.s + t.start, n))
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
			name_add(&n, &d->lx, t);
			memcpy(l->cte_name, name_str(&n), n.len + 1);
			l->cte = CTE_AFTER_NAME;
			return true;
		}
		break;
	case CTE_AFTER_NAME:
		if (is_punct(&d->lx, t, '(')) {
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
		if (is_punct(&d->lx, t, '(')) {
			if (l->cte_recursive)
				add_cte(d, l->cte_name);
			l->cte = CTE_BODY;
			push(d);
			return true;
		}
		break;
	case CTE_AFTER_BODY:
		if (is_punct(&d->lx, t, ',')) {
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
	enum kw k = keyword(&d->lx, t);
	bool first = false, grant;

	if (is_punct(&d->lx, t, ';')) {
		new_statement(d);
		return;
	}
	if (!d->op_done && t->type != T_PUNCT) {
		struct sql_info *info = d->info;
		size_t i;

		for (i = 0; t->type == T_WORD && i < t->end - t->start &&
			    i < sizeof(info->operation) - 1 && d->lx.s[t->start + i] < 0x80;
		     i++)
			info->operation[i] = upper(d->lx.s[t->start + i]);
		d->op_done = true;
	} else if (!d->op_done && !is_punct(&d->lx, t, '(')) {
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
		if (is_punct(&d->lx, t, '(') && (l->ref & REF_SUBQUERY)) {
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
		switch (d->lx.s[t->start]) {
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

void sql_ref_describe(enum sql_dialect dialect, const char *text, size_t len, struct sql_info *info)
{
	struct describer d;
	struct tok t;

	memset(info, 0, sizeof(*info));
	d.info = info;
	d.op_done = false;
	lexer_init(&d.lx, dialect, text, len);
	new_statement(&d);
	for (;;) {
		lex_next_sig(&d.lx, &t);
		if (t.type == T_EOF)
			break;
		describe_token(&d, &t);
	}
}
