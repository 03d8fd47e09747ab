// SPDX-License-Identifier: GPL-2.0
/* Kernel bytes to JSON strings: valid UTF-8 kept, everything else escaped reversibly. */
#include <stdlib.h>

#include "encode/jsonstr.h"

#include "test.h"

/* The JSON text of a string built from bytes, and whether it was escaped. */
static char *dump(const char *data, size_t len, bool *escaped)
{
	json_t *s = jsonstr_bytes(data, len, escaped);
	char *out = json_dumps(s, JSON_ENCODE_ANY);

	json_decref(s);
	return out;
}

TEST(jsonstr_valid_utf8_kept)
{
	bool escaped = true;
	const char *text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	char *out = dump(text, strlen(text), &escaped);

	ASSERT_FALSE(escaped, "escaped");
	ASSERT_STREQ(out, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "json");
	free(out);
}

TEST(jsonstr_control_bytes_are_json_escapes)
{
	bool escaped = true;
	char *out = dump("a\nb\"c\\d\x01\x1b[31m", 13, &escaped);

	/* Valid UTF-8: not listed as escaped, jansson escapes for JSON. */
	ASSERT_FALSE(escaped, "escaped");
	ASSERT_STREQ(out, "\"a\\nb\\\"c\\\\d\\u0001\\u001B[31m\"", "json");
	free(out);
}

TEST(jsonstr_invalid_bytes_escaped)
{
	bool escaped = false;
	char *out = dump("a\xff"
			 "b\\c",
			 5, &escaped);

	ASSERT_TRUE(escaped, "escaped");
	/* The string value is a\xffb\\c: 0xff as text, the backslash doubled. */
	ASSERT_STREQ(out, "\"a\\\\xffb\\\\\\\\c\"", "json");
	free(out);
}

TEST(jsonstr_overlong_and_surrogates_rejected)
{
	ASSERT_FALSE(utf8_valid("\xc0\xaf", 2), "overlong slash");
	ASSERT_FALSE(utf8_valid("\xe0\x80\xaf", 3), "overlong 3-byte");
	ASSERT_FALSE(utf8_valid("\xed\xa0\x80", 3), "UTF-16 surrogate");
	ASSERT_FALSE(utf8_valid("\xf4\x90\x80\x80", 4), "beyond U+10FFFF");
	ASSERT_FALSE(utf8_valid("\xe2\x82", 2), "truncated");
	ASSERT_FALSE(utf8_valid("\x80", 1), "lone continuation");
	ASSERT_TRUE(utf8_valid("\xf4\x8f\xbf\xbf", 4), "U+10FFFF");
	ASSERT_TRUE(utf8_valid("", 0), "empty");
}

TEST(jsonstr_truncated_sequence_escapes_each_byte)
{
	bool escaped = false;
	json_t *s = jsonstr_bytes("x\xe2\x82", 3, &escaped);

	ASSERT_TRUE(escaped, "escaped");
	ASSERT_STREQ(json_string_value(s), "x\\xe2\\x82", "value");
	json_decref(s);
}

TEST(jsonstr_nul_inside_length)
{
	json_t *s = jsonstr_bytes("a\0b", 3, NULL);
	char *out = json_dumps(s, JSON_ENCODE_ANY);

	ASSERT_STREQ(out, "\"a\\u0000b\"", "json");
	free(out);
	json_decref(s);
}

TEST(jsonstr_cstr_bounded)
{
	json_t *s = jsonstr_cstr("abcdef", 3, NULL);

	ASSERT_STREQ(json_string_value(s), "abc", "value");
	json_decref(s);
}

/* Every single byte value, alone and in context, gives a valid one-line JSON string. */
TEST(jsonstr_every_byte)
{
	char buf[3] = {'a', 0, 'b'};
	int c;

	for (c = 0; c < 256; c++) {
		json_t *s;
		char *out;

		buf[1] = (char)c;
		s = jsonstr_bytes(buf, 3, NULL);
		out = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
		if (!ASSERT_OK_PTR(out, "dump")) {
			json_decref(s);
			return;
		}
		ASSERT_FALSE(strchr(out, '\n'), "newline in output");
		ASSERT_TRUE(utf8_valid(out, strlen(out)), "output is UTF-8");
		free(out);
		json_decref(s);
	}
}
