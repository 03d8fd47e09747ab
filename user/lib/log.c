// SPDX-License-Identifier: GPL-2.0
/*
 * Diagnostics on stderr. Under systemd, when stderr is the journal's stream
 * (JOURNAL_STREAM names its device and inode, systemd.exec(5)), each line
 * starts with its syslog priority, "<3>" for an error ... "<7>" for debug
 * output, which journald takes as the line's priority (sd-daemon(3)).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static int journal = -1; /* stderr is the journal: -1 not known yet */

void log_set_level(enum log_level level)
{
	max_level = level;
}

bool log_enabled(enum log_level level)
{
	return level <= max_level;
}

bool log_to_journal(void)
{
	const char *env;
	unsigned long long dev, ino;
	struct stat st;

	if (journal >= 0)
		return journal;
	env = getenv("JOURNAL_STREAM");
	journal = env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
		  (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return journal;
}

const char *log_priority_prefix(enum log_level level)
{
	static const char *const prio[] = {
	    [LOG_LEVEL_ERROR] = "<3>",
	    [LOG_LEVEL_WARN] = "<4>",
	    [LOG_LEVEL_INFO] = "<6>",
	    [LOG_LEVEL_DEBUG] = "<7>",
	};

	return log_to_journal() ? prio[level] : "";
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
	    [LOG_LEVEL_ERROR] = "error",
	    [LOG_LEVEL_WARN] = "warning",
	    [LOG_LEVEL_INFO] = "info",
	    [LOG_LEVEL_DEBUG] = "debug",
	};
	char text[4096], out[4600];
	const char *line, *nl;
	size_t o = 0;
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* One write per message, so threads do not mix lines; under the journal each line of it
	 * gets the priority (journald reads one per line). */
	for (line = text; o < sizeof(out); line = nl + 1) {
		int n;

		nl = strchr(line, '\n');
		n = nl ? (int)(nl - line) : (int)strlen(line);
		if (line == text)
			o += snprintf(out + o, sizeof(out) - o, "%scustos: %s: %.*s\n",
				      log_priority_prefix(level), prefix[level], n, line);
		else
			o += snprintf(out + o, sizeof(out) - o, "%s  %.*s\n",
				      log_priority_prefix(level), n, line);
		if (!nl || !nl[1])
			break;
	}
	if (o > sizeof(out) - 1)
		o = sizeof(out) - 1;
	fwrite(out, 1, o, stderr);
}
