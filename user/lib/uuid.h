/* SPDX-License-Identifier: GPL-2.0 */
/* Random (version 4) UUIDs, as text: "0f8fad5b-d9cb-469f-a165-70867728950e". */
#ifndef CUSTOS_UUID_H
#define CUSTOS_UUID_H

#include <stdbool.h>
#include <stddef.h>

#define UUID_STR_LEN 37 /* 36 characters and the NUL */

/* A new random UUID into out. 0, or -errno when the kernel gives no random bytes. */
int uuid_random(char out[UUID_STR_LEN]);
/* s (n bytes) is one UUID in the lowercase text form uuid_random() writes. */
bool uuid_valid(const char *s, size_t n);

#endif /* CUSTOS_UUID_H */
