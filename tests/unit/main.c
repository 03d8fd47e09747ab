// SPDX-License-Identifier: GPL-2.0
/* Runs the registered unit tests; `-t NAME` runs those whose name contains NAME. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

#define TESTS_MAX 512

static struct {
	const char *name;
	void (*fn)(void);
} tests[TESTS_MAX];
static int n_tests;
static int current_failures;

void test__register(const char *name, void (*fn)(void))
{
	if (n_tests == TESTS_MAX) {
		fprintf(stderr, "too many tests; raise TESTS_MAX\n");
		exit(2);
	}
	tests[n_tests].name = name;
	tests[n_tests].fn = fn;
	n_tests++;
}

bool test__check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	current_failures++;
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	return false;
}

int main(int argc, char **argv)
{
	const char *filter = NULL;
	int passed = 0, failed = 0, opt, i;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't') {
			fprintf(stderr, "usage: %s [-t NAME]\n", argv[0]);
			return 2;
		}
		filter = optarg;
	}
	for (i = 0; i < n_tests; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		current_failures = 0;
		tests[i].fn();
		printf("%s %s\n", current_failures ? "FAIL" : "ok  ", tests[i].name);
		if (current_failures)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
