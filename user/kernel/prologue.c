// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <string.h>

#include "kernel/prologue.h"

#define SKIP_MAX 3 /* instructions */

#if defined(__x86_64__)
/* x86-64 register numbers (ModRM order) and the System V argument order. */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11 };
static const int arg_regs[] = {RDI, RSI, RDX, RCX, R8, R9};

/* May an instruction write reg without changing what the probe reads? */
static bool scratch(int reg, unsigned nargs)
{
	unsigned i;

	if (reg != RAX && reg != RCX && reg != RDX && reg != RSI && reg != RDI && reg != R8 &&
	    reg != R9 && reg != R10 && reg != R11)
		return false; /* the stack pointer, or a register the callee must keep */
	for (i = 0; i < nargs && i < sizeof(arg_regs) / sizeof(arg_regs[0]); i++)
		if (reg == arg_regs[i])
			return false;
	return true;
}

/*
 * The length of the instruction at code if it only writes a scratch
 * register (mov $imm32,%r32; xor %r32,%r32) or does nothing (endbr64), else 0.
 */
static size_t harmless_length(const uint8_t *code, size_t len, unsigned nargs)
{
	static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
	int rex_b = 0, rex_r = 0;
	size_t p = 0;

	if (len >= 4 && !memcmp(code, endbr64, 4))
		return 4;
	if (len && (code[0] & 0xf0) == 0x40) {
		if (code[0] & 0x08)
			return 0; /* REX.W: a 64-bit operation, not one of these */
		rex_b = code[0] & 1;
		rex_r = (code[0] >> 2) & 1;
		p = 1;
	}
	if (p < len && code[p] >= 0xb8 && code[p] <= 0xbf) /* mov $imm32, %r32 */
		return p + 5 <= len && scratch((code[p] - 0xb8) | rex_b << 3, nargs) ? p + 5 : 0;
	if (p + 1 < len && (code[p] == 0x31 || code[p] == 0x33) && (code[p + 1] & 0xc0) == 0xc0) {
		int reg = ((code[p + 1] >> 3) & 7) | rex_r << 3,
		    rm = (code[p + 1] & 7) | rex_b << 3;

		/* xor %r32,%r32: zeroes one register */
		return reg == rm && scratch(reg, nargs) ? p + 2 : 0;
	}
	return 0;
}

/* Does the kernel emulate the instruction at code (a jump, a call, a push of a register)? */
static bool emulated(const uint8_t *code, size_t len)
{
	if (!len)
		return false;
	if (code[0] == 0xe8 || code[0] == 0xe9 || code[0] == 0xeb)
		return true;
	if (code[0] >= 0x50 && code[0] <= 0x57)
		return true;
	return len >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57;
}

bool prologue_emulated(const uint8_t *code, size_t len)
{
	return emulated(code, len);
}

/*
 * Where the final call's target is: a byte pattern, not a decoding of what
 * comes before it, so the caller checks the answer (two wrappers agree).
 */
bool prologue_final_call(const uint8_t *code, size_t len, int64_t *callee)
{
	size_t i, end;
	int32_t rel;

	for (i = 0; i + 6 <= len; i++) {
		if (code[i] != 0xe8)
			continue;
		end = i + 5;
		if (end + 4 <= len && code[end] == 0x48 && code[end + 1] == 0x83 &&
		    code[end + 2] == 0xc4)
			end += 4; /* add $imm8,%rsp */
		if (end >= len || code[end] != 0xc3)
			continue;
		memcpy(&rel, code + i + 1, sizeof(rel));
		*callee = (int64_t)(i + 5) + rel;
		return true;
	}
	return false;
}

bool prologue_first_call(const uint8_t *code, size_t len, int64_t *callee)
{
	int32_t rel;

	if (len < 9 || code[0] != 0x48 || code[1] != 0x83 || code[2] != 0xec || code[4] != 0xe8)
		return false;
	memcpy(&rel, code + 5, sizeof(rel));
	*callee = 9 + (int64_t)rel;
	return true;
}

bool prologue_calls(const uint8_t *code, size_t len, int64_t callee)
{
	int32_t rel;
	size_t i;

	for (i = 0; i + 5 <= len; i++) {
		if (code[i] != 0xe8)
			continue;
		memcpy(&rel, code + i + 1, sizeof(rel));
		if ((int64_t)(i + 5) + rel == callee)
			return true;
	}
	return false;
}

size_t prologue_probe_offset(const uint8_t *code, size_t len, unsigned nargs)
{
	size_t off = 0, n;
	int skipped;

	for (skipped = 0; skipped <= SKIP_MAX; skipped++) {
		if (emulated(code + off, len - off))
			return off;
		n = harmless_length(code + off, len - off, nargs);
		if (!n)
			return 0;
		off += n;
	}
	return 0;
}
#else
bool prologue_emulated(const uint8_t *code, size_t len)
{
	(void)code;
	(void)len;
	return false;
}

bool prologue_final_call(const uint8_t *code, size_t len, int64_t *callee)
{
	(void)code;
	(void)len;
	(void)callee;
	return false;
}

bool prologue_first_call(const uint8_t *code, size_t len, int64_t *callee)
{
	(void)code;
	(void)len;
	(void)callee;
	return false;
}

bool prologue_calls(const uint8_t *code, size_t len, int64_t callee)
{
	(void)code;
	(void)len;
	(void)callee;
	return false;
}

size_t prologue_probe_offset(const uint8_t *code, size_t len, unsigned nargs)
{
	(void)code;
	(void)len;
	(void)nargs;
	return 0;
}
#endif
