// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "config_test.h"
#include "config/config.h"
#include "test.h"

const char *j(const char *s)
{
	static char bufs[4][4096];
	static int next;
	char *buf = bufs[next++ % 4];
	size_t i;

	for (i = 0; s[i] && i < sizeof(bufs[0]) - 1; i++)
		buf[i] = s[i] == '\'' ? '"' : s[i];
	buf[i] = '\0';
	return buf;
}

bool expect_error_at(const char *file, int test_line, const char *text, int line, int column,
		     const char *const *needles)
{
	struct config_error err;
	struct config *cfg;
	bool ok = true;

	errno = 0;
	cfg = config_load_string(text, "test.json", &err);
	if (!test__check(!cfg, file, test_line, "config loaded, expected an error")) {
		config_free(cfg);
		return false;
	}
	ok &= test__check(errno == EINVAL, file, test_line, "errno %d, expected EINVAL", errno);
	ok &= test__check(!strcmp(err.source, "test.json"), file, test_line, "source \"%s\"",
			  err.source);
	ok &= test__check(err.line == line && err.column == column, file, test_line,
			  "error at %d:%d, expected %d:%d (%s)", err.line, err.column, line, column,
			  err.message);
	for (; *needles; needles++)
		ok &= test__check(strstr(err.message, *needles), file, test_line,
				  "\"%s\" does not contain \"%s\"", err.message, *needles);
	return ok;
}
