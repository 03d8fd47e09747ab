/* SPDX-License-Identifier: GPL-2.0 */
/* REFERENCE ONLY: the two-pass redactor and describer that sql_scan replaced (sql_ref.c). */
#ifndef CUSTOS_SQL_REF_H
#define CUSTOS_SQL_REF_H

#include "encode/sql.h"

size_t sql_ref_redact(enum sql_dialect dialect, const char *text, size_t len, char *out,
		      size_t cap);
void sql_ref_describe(enum sql_dialect dialect, const char *text, size_t len,
		      struct sql_info *info);

#endif /* CUSTOS_SQL_REF_H */
