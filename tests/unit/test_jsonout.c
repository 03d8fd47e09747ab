// SPDX-License-Identifier: GPL-2.0
/* The fast serializer must write exactly what jansson writes, for anything custos builds. */
#include <errno.h>
#include <stdlib.h>

#include "output/jsonout.h"
#include "encode/jsonstr.h"

#include "test.h"

/* Our text equals jansson's compact dump, and parses back to an equal value. */
static bool same_as_jansson(json_t *v)
{
	struct jsonout o = {0};
	char *ref = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *back;
	bool ok;

	if (!ASSERT_OK(jsonout_value(&o, v), "serialize") ||
	    !ASSERT_OK(jsonout_char(&o, 0), "nul")) {
		free(ref);
		jsonout_free(&o);
		return false;
	}
	ok = ASSERT_STREQ(o.buf, ref, "text");
	back = json_loads(o.buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	ok = ASSERT_TRUE(back && json_equal(back, v), "parses back equal") && ok;
	json_decref(back);
	free(ref);
	jsonout_free(&o);
	return ok;
}

TEST(jsonout_event_shapes)
{
	json_t *v =
	    json_pack("{s:s, s:{s:[s,s], s:i, s:I, s:b, s:b, s:n}, s:[], s:{}}", "@timestamp",
		      "2026-11-28T08:09:19.123456789Z", "x", "type", "access", "denied", "pid",
		      4242, "big", (json_int_t)INT64_MIN, "t", 1, "f", 0, "none", "empty", "obj");

	same_as_jansson(v);
	json_decref(v);
}

TEST(jsonout_string_escapes)
{
	const char *s = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80";
	json_t *v = json_object();

	json_object_set_new(v, "k\n\"ey", json_string(s));
	json_object_set_new(v, "nul", json_stringn("a\0b", 3));
	same_as_jansson(v);
	json_decref(v);
}

TEST(jsonout_refuses_invalid_utf8)
{
	struct jsonout o = {0};
	json_t *v = json_stringn_nocheck("a\xff", 2);

	ASSERT_EQ(jsonout_value(&o, v), -EINVAL, "invalid UTF-8 refused");
	json_decref(v);
	v = json_real(1.5);
	jsonout_reset(&o);
	ASSERT_OK(jsonout_value(&o, v), "a real");
	ASSERT_TRUE(o.len == 8 && !memcmp(o.buf, "1.500000", 8), "a real, to the microsecond");
	json_decref(v);
	jsonout_free(&o);
}

/* Random bytes through the escaping helper, then both serializers. */
TEST(jsonout_random_strings)
{
	unsigned int seed = 12345;
	char buf[64];
	int round, i;

	for (round = 0; round < 5000; round++) {
		int n = rand_r(&seed) % sizeof(buf);
		json_t *v;

		for (i = 0; i < n; i++)
			buf[i] =
			    (char)(rand_r(&seed) % 3 ? rand_r(&seed) % 128 : rand_r(&seed) % 256);
		v = jsonstr_bytes(buf, n, NULL);
		if (!same_as_jansson(v)) {
			json_decref(v);
			return;
		}
		json_decref(v);
	}
}
