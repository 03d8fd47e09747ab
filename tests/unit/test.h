/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small unit-test harness in the manner of the kernel's test_progs: tests
 * register themselves with TEST(name); ASSERT_* macros report a failure with
 * file and line and return false so a test can `goto cleanup`.
 */
#ifndef CUSTOS_TEST_H
#define CUSTOS_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

void test__register(const char *name, void (*fn)(void));
bool test__check(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define TEST(name)                                                          \
	static void test_##name(void);                                      \
	__attribute__((constructor)) static void test_register_##name(void) \
	{                                                                   \
		test__register(#name, test_##name);                         \
	}                                                                   \
	static void test_##name(void)

#define ASSERT_TRUE(cond, what) test__check(!!(cond), __FILE__, __LINE__, "%s: expected true", what)
#define ASSERT_FALSE(cond, what) \
	test__check(!(cond), __FILE__, __LINE__, "%s: expected false", what)
#define ASSERT_EQ(a, b, what)                                                                \
	({                                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);                          \
		test__check(_a == _b, __FILE__, __LINE__, "%s: %lld != %lld", what, _a, _b); \
	})
#define ASSERT_OK(err, what)                                                          \
	({                                                                            \
		long long _e = (long long)(err);                                      \
		test__check(_e == 0, __FILE__, __LINE__, "%s: error %lld", what, _e); \
	})
#define ASSERT_ERR(err, what) \
	test__check((err) < 0, __FILE__, __LINE__, "%s: expected an error", what)
#define ASSERT_OK_PTR(p, what) test__check((p) != NULL, __FILE__, __LINE__, "%s: NULL", what)
#define ASSERT_NULL(p, what)   test__check((p) == NULL, __FILE__, __LINE__, "%s: not NULL", what)
#define ASSERT_STREQ(a, b, what)                                                                   \
	({                                                                                         \
		const char *_a = (a), *_b = (b);                                                   \
		test__check(_a &&_b && !strcmp(_a, _b), __FILE__, __LINE__,                        \
			    "%s: \"%s\" != \"%s\"", what, _a ? _a : "(null)", _b ? _b : "(null)"); \
	})
#define ASSERT_HAS(haystack, needle, what)                                                       \
	({                                                                                       \
		const char *_h = (haystack), *_n = (needle);                                     \
		test__check(_h &&strstr(_h, _n), __FILE__, __LINE__,                             \
			    "%s: \"%s\" does not contain \"%s\"", what, _h ? _h : "(null)", _n); \
	})

#endif /* CUSTOS_TEST_H */
