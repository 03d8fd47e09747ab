// SPDX-License-Identifier: GPL-2.0
/* Where an entry probe may sit: past leading instructions the kernel would single-step. */
#include <stdint.h>

#include "kernel/prologue.h"

#include "test.h"

#define OFFSET(nargs, ...)                                        \
	({                                                        \
		static const uint8_t code[] = {__VA_ARGS__};      \
		prologue_probe_offset(code, sizeof(code), nargs); \
	})

TEST(prologue_emulated_first)
{
	ASSERT_EQ(OFFSET(2, 0x55, 0x48, 0x89, 0xe5), 0, "push %rbp: the entry itself");
	ASSERT_EQ(OFFSET(1, 0x41, 0x57, 0x41, 0x56), 0, "push %r15");
	ASSERT_EQ(OFFSET(1, 0xe9, 0, 0, 0, 0), 0, "jmp");
}

TEST(prologue_skips_scratch_writes)
{
	/* libpq's PQsendQuery: mov $1,%edx; jmp PQsendQueryInternal */
	ASSERT_EQ(OFFSET(2, 0xba, 1, 0, 0, 0, 0xe9, 0xa6, 0xeb, 0xff, 0xff), 5,
		  "PQsendQuery: %edx is no argument of two");
	ASSERT_EQ(OFFSET(2, 0x31, 0xd2, 0xe9, 0, 0, 0, 0), 2, "xor %edx,%edx; jmp");
	ASSERT_EQ(OFFSET(2, 0xf3, 0x0f, 0x1e, 0xfa, 0x55), 4, "endbr64; push %rbp");
	ASSERT_EQ(OFFSET(1, 0x41, 0xbb, 7, 0, 0, 0, 0x41, 0x54), 6, "mov $7,%r11d; push %r12");
	ASSERT_EQ(OFFSET(1, 0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 0, 0, 0, 0, 0x31, 0xc9, 0xeb, 0x10), 11,
		  "endbr64; mov $0,%eax; xor %ecx,%ecx; jmp");
}

TEST(prologue_stays_at_entry)
{
	ASSERT_EQ(OFFSET(3, 0xba, 1, 0, 0, 0, 0xe9, 0, 0, 0, 0), 0, "%edx is the third argument");
	ASSERT_EQ(OFFSET(5, 0x48, 0x83, 0xec, 0x10, 0x41, 0x50), 0,
		  "sub $0x10,%rsp moves the stack: sqlite3_prepare_v2 stays");
	ASSERT_EQ(OFFSET(1, 0xbb, 1, 0, 0, 0, 0x55), 0, "%ebx belongs to the caller");
	ASSERT_EQ(OFFSET(1, 0xbc, 1, 0, 0, 0, 0x55), 0, "%esp");
	ASSERT_EQ(OFFSET(1, 0x48, 0xc7, 0xc0, 1, 0, 0, 0, 0x55), 0, "unknown: mov $1,%rax");
	ASSERT_EQ(OFFSET(1, 0x31, 0xc2, 0x55), 0, "xor %eax,%edx is no zeroing");
	ASSERT_EQ(OFFSET(1, 0x48, 0x85, 0xff, 0x74, 0x23), 0, "test: PQfinish stays");
	ASSERT_EQ(OFFSET(1, 0xba, 1, 0), 0, "cut short");
	ASSERT_EQ(
	    OFFSET(1, 0xb8, 0, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0x55),
	    0, "at most three instructions skipped");
	ASSERT_EQ(OFFSET(1, 0xb8, 0, 0, 0, 0), 0, "nothing emulated after");
}

TEST(prologue_final_call)
{
	/* libsqlite3 3.40's sqlite3_prepare_v2: ... call sqlite3LockAndPrepare; add $0x18,%rsp; ret
	 */
	static const uint8_t prepare_v2[] = {0x48, 0x83, 0xec, 0x10, 0x49, 0x89, 0xc9, 0xb9, 0x80,
					     0,	   0,	 0,    0x41, 0x50, 0x45, 0x31, 0xc0, 0xe8,
					     0x4a, 0xfb, 0xff, 0xff, 0x48, 0x83, 0xc4, 0x18, 0xc3};
	static const uint8_t plain[] = {0xe8, 0x10, 0, 0, 0, 0xc3};
	static const uint8_t no_ret[] = {0xe8, 0x10, 0, 0, 0, 0x48, 0x89, 0xc7, 0xc3};
	static const uint8_t cut[] = {0x90, 0xe8, 0x10, 0, 0};
	int64_t callee = 0;

	ASSERT_TRUE(prologue_final_call(prepare_v2, sizeof(prepare_v2), &callee), "prepare_v2");
	ASSERT_EQ(callee, 0x16 - 0x4b6, "the callee, back from the call's end");
	ASSERT_TRUE(prologue_final_call(plain, sizeof(plain), &callee), "call; ret");
	ASSERT_EQ(callee, 0x15, "forward");
	ASSERT_TRUE(!prologue_final_call(no_ret, sizeof(no_ret), &callee),
		    "the call's result is used: no wrapper");
	ASSERT_TRUE(!prologue_final_call(cut, sizeof(cut), &callee), "cut short");
	ASSERT_TRUE(prologue_emulated((const uint8_t[]){0x41, 0x57}, 2), "push %r15");
	ASSERT_TRUE(!prologue_emulated((const uint8_t[]){0x48, 0x83, 0xec, 0x10}, 4), "sub");
}

TEST(prologue_first_call)
{
	/* libssl 3.0's SSL_read_ex at 0x354c0: sub $0x8,%rsp; call ssl_read_internal (0x35290) */
	static const uint8_t read_ex[] = {0x48, 0x83, 0xec, 0x08, 0xe8, 0xc7, 0xfd, 0xff,
					  0xff, 0x31, 0xd2, 0x85, 0xc0, 0x0f, 0x48, 0xc2};
	/* SSL_read at 0x35430 calls it at 0x3544e, after setting up its stack protector */
	static const uint8_t read[] = {0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25,
				       0x28, 0,	   0,	 0,    0x48, 0x89, 0x44, 0x24, 0x08,
				       0x31, 0xc0, 0x48, 0x89, 0xe1, 0x90, 0x90, 0x90, 0x90,
				       0x90, 0x90, 0x90, 0xe8, 0x3d, 0xfe, 0xff, 0xff};
	int64_t callee = 0;

	ASSERT_TRUE(prologue_first_call(read_ex, sizeof(read_ex), &callee), "SSL_read_ex");
	ASSERT_EQ(callee, 0x35290 - 0x354c0, "ssl_read_internal, relative to SSL_read_ex");
	ASSERT_TRUE(!prologue_first_call(read, sizeof(read), &callee),
		    "SSL_read has no such shape");
	ASSERT_TRUE(prologue_calls(read, sizeof(read), 0x35290 - 0x35430), "but calls it");
	ASSERT_TRUE(!prologue_calls(read, sizeof(read), 0x35290 - 0x35430 + 1), "not elsewhere");
	ASSERT_TRUE(!prologue_calls(read, sizeof(read) - 1, 0x35290 - 0x35430), "a call cut short");
}
