/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics to stderr for main-level code. Modules return errors instead. */
#ifndef CUSTOS_LOG_H
#define CUSTOS_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
/* stderr is the journal's stream (JOURNAL_STREAM): lines carry their priority. */
bool log_to_journal(void);
/* "<3>" ... "<7>" for level when stderr is the journal, else "". */
const char *log_priority_prefix(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* CUSTOS_LOG_H */
