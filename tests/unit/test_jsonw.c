// SPDX-License-Identifier: GPL-2.0
/* The JSON writer must write exactly what jansson writes, and only JSON jansson reads back. */
#include <errno.h>
#include <stdlib.h>

#include "encode/jsonstr.h"
#include "encode/jsonw.h"

#include "test.h"

/* w's text as a NUL-terminated string (w keeps it). */
static const char *text(struct jsonw *w)
{
	jsonw_char(w, '\0');
	w->len--;
	return w->buf;
}

/* Our text equals jansson's compact dump, and parses back to an equal value. */
static bool same_as_jansson(json_t *v)
{
	struct jsonw w = {0};
	char *ref = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *back;
	bool ok;

	jsonw_reset(&w);
	jsonw_value(&w, NULL, v);
	if (!ASSERT_OK(jsonw_error(&w), "serialize")) {
		free(ref);
		jsonw_free(&w);
		return false;
	}
	ok = ASSERT_STREQ(text(&w), ref, "text");
	back = json_loads(w.buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	ok = ASSERT_TRUE(back && json_equal(back, v), "parses back equal") && ok;
	json_decref(back);
	free(ref);
	jsonw_free(&w);
	return ok;
}

TEST(jsonw_event_shapes)
{
	json_t *v =
	    json_pack("{s:s, s:{s:[s,s], s:i, s:I, s:b, s:b, s:n}, s:[], s:{}}", "@timestamp",
		      "2026-11-28T08:09:19.123456789Z", "x", "type", "access", "denied", "pid",
		      4242, "big", (json_int_t)INT64_MIN, "t", 1, "f", 0, "none", "empty", "obj");

	same_as_jansson(v);
	json_decref(v);
}

TEST(jsonw_string_escapes)
{
	const char *s = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80";
	json_t *v = json_object();

	json_object_set_new(v, "k\n\"ey", json_string(s));
	json_object_set_new(v, "nul", json_stringn("a\0b", 3));
	same_as_jansson(v);
	json_decref(v);
}

TEST(jsonw_refuses_invalid_utf8)
{
	struct jsonw w = {0};
	json_t *v = json_stringn_nocheck("a\xff", 2);

	jsonw_reset(&w);
	jsonw_value(&w, NULL, v);
	ASSERT_EQ(jsonw_error(&w), -EINVAL, "invalid UTF-8 refused");
	json_decref(v);
	v = json_real(1.5);
	jsonw_reset(&w);
	jsonw_value(&w, NULL, v);
	ASSERT_STREQ(text(&w), "1.500000", "a real, to the microsecond");
	json_decref(v);
	jsonw_free(&w);
}

/* Members, nesting, kernel bytes and fragments: one object jansson reads back as written. */
TEST(jsonw_members_and_fragments)
{
	struct jsonw w = {0}, f = {0};
	struct jsonw_fragment frag;
	json_t *back;

	jsonw_reset(&f);
	jsonw_object(&f, "process");
	jsonw_bytes(&f, "name", "process.name", "x\xff", 2);
	jsonw_end(&f);
	jsonw_int(&f, "n", -3);
	ASSERT_OK(jsonw_take_fragment(&f, &frag), "fragment");
	jsonw_reset(&w);
	jsonw_object(&w, NULL);
	jsonw_string(&w, "a", "b");
	jsonw_paste(&w, &frag);
	jsonw_array(&w, "list");
	jsonw_id(&w, NULL, 1000);
	jsonw_bool(&w, NULL, false);
	jsonw_null(&w, NULL);
	jsonw_end(&w);
	jsonw_object(&w, "empty");
	jsonw_end(&w);
	jsonw_end(&w);
	ASSERT_STREQ(text(&w),
		     "{\"a\":\"b\",\"process\":{\"name\":\"x\\\\xff\"},\"n\":-3,"
		     "\"list\":[\"1000\",false,null],\"empty\":{}}",
		     "text");
	back = json_loads(w.buf, 0, NULL);
	ASSERT_TRUE(back != NULL, "jansson reads it");
	ASSERT_EQ(w.n_escaped, 1, "the pasted escape is listed");
	ASSERT_STREQ(w.escaped[0], "process.name", "escaped field");
	json_decref(back);
	jsonw_fragment_free(&frag);
	jsonw_free(&f);
	jsonw_free(&w);
}

/* Random bytes through jsonw_bytes: valid JSON, and the bytes come back exactly. */
TEST(jsonw_random_bytes_round_trip)
{
	unsigned int seed = 12345;
	char buf[64];
	int round, i;

	for (round = 0; round < 5000; round++) {
		int n = rand_r(&seed) % sizeof(buf);
		struct jsonw w = {0};
		json_t *back, *ref;
		bool escaped;

		for (i = 0; i < n; i++)
			buf[i] =
			    (char)(rand_r(&seed) % 3 ? rand_r(&seed) % 128 : rand_r(&seed) % 256);
		jsonw_reset(&w);
		jsonw_bytes(&w, NULL, "f", buf, n);
		escaped = w.n_escaped == 1;
		back = json_loadb(w.buf, w.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		ref = escaped ? jsonstr_bytes_escaped(buf, n) : json_stringn(buf, n);
		if (!ASSERT_TRUE(back && json_equal(back, ref), "round trip") ||
		    !ASSERT_EQ(escaped, !utf8_valid(buf, n), "escaped only if not UTF-8")) {
			json_decref(back);
			json_decref(ref);
			jsonw_free(&w);
			return;
		}
		json_decref(back);
		json_decref(ref);
		jsonw_free(&w);
	}
}
