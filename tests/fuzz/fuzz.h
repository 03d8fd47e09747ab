/* SPDX-License-Identifier: GPL-2.0 */
/* The entry point libFuzzer calls with each input. */
#ifndef CUSTOS_FUZZ_H
#define CUSTOS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* CUSTOS_FUZZ_H */
