/* SPDX-License-Identifier: GPL-2.0 */
/* What the config tests share: readable JSON and errors checked by position and message. */
#ifndef CUSTOS_CONFIG_TEST_H
#define CUSTOS_CONFIG_TEST_H

#include <stdbool.h>

/* JSON written with single quotes, for readability; returns one of a few static buffers. */
const char *j(const char *s);

/* Loading text fails with EINVAL at line:column, and the message contains every needle. */
bool expect_error_at(const char *file, int test_line, const char *text, int line, int column,
		     const char *const *needles);

#define EXPECT_ERROR(text, line, column, ...)                   \
	expect_error_at(__FILE__, __LINE__, text, line, column, \
			(const char *const[]){__VA_ARGS__, NULL})

#endif /* CUSTOS_CONFIG_TEST_H */
