/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where on a function an entry probe is cheapest. A uprobe's breakpoint
 * replaces one instruction, which the kernel then runs for the program:
 * jumps, calls and (since 6.11) pushes it emulates in a fraction of a
 * microsecond, anything else it single-steps out of line, about 15 µs on
 * this VM. A function may begin with an instruction of the second kind that
 * changes nothing the probe reads (PQsendQuery: mov $1,%edx; jmp ...): the
 * probe then sits on the first emulated instruction after it, where the
 * arguments and the return address are what they were at the entry.
 */
#ifndef CUSTOS_PROLOGUE_H
#define CUSTOS_PROLOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * How many bytes past the start of the function whose first len bytes are
 * code the entry probe may sit, for a function of nargs integer
 * arguments: 0 unless every instruction skipped is one this knows to leave
 * the stack and the first nargs argument registers alone, and the one
 * reached is emulated.
 */
size_t prologue_probe_offset(const uint8_t *code, size_t len, unsigned nargs);

/* Does the function whose first len bytes are code begin with an instruction the kernel emulates?
 */
bool prologue_emulated(const uint8_t *code, size_t len);

/*
 * A wrapper that ends by calling another function and returning what it
 * returned (call rel32; optionally add $imm8,%rsp; ret), within its first
 * len bytes: the callee's address relative to code's, in *callee. False
 * if code has no such ending.
 */
bool prologue_final_call(const uint8_t *code, size_t len, int64_t *callee);

/*
 * A wrapper that begins by reserving stack and calling another function
 * (sub $imm8,%rsp; call rel32): the callee's address relative to code's.
 */
bool prologue_first_call(const uint8_t *code, size_t len, int64_t *callee);

/* Does some call rel32 in the first len bytes of code land on callee (relative to code)? */
bool prologue_calls(const uint8_t *code, size_t len, int64_t callee);

#endif /* CUSTOS_PROLOGUE_H */
