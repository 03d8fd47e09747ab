# custos: build with `make`, test with `make check` (as root), measure with `make bench`.
# V=1 shows full commands.

BUILD	?= build
CC	?= gcc
CLANG	?= clang
BPFTOOL	?= bpftool
PREFIX	?= /usr/local
DESTDIR	?=
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/custos
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# make install makes the chain key when there is none; a package makes it at
# installation instead (each host its own key: CHAIN_KEY=no, scripts/mkdeb.sh).
CHAIN_KEY ?= yes

# The release; `custos --version` adds the git commit and build date (scripts/version.sh).
CUSTOS_VERSION := 0.1.0

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
PKGS := libbpf libelf zlib jansson libcrypto libcurl

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS	?= -O2 -g
CFLAGS	+= $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP -Iinclude -Iuser -I$(BUILD) \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS	+= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Wno-unused-function \
	      -Iinclude -I$(BUILD) -MMD -MP

USER_SRCS := $(wildcard user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/user/cmd/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%.o,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPERS   := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRCS))
BENCH	  := $(BUILD)/tests/bench/custos-bench
SINKBENCH := $(BUILD)/tests/bench/custos-sinkbench
SQLBENCH  := $(BUILD)/tests/bench/custos-sqlbench
REPORTBENCH := $(BUILD)/tests/bench/custos-reportbench

.PHONY: all deps run check unit vmtest fuzz fuzz-build bench bench-sql bench-report format format-check install uninstall deb clean FORCE

all: $(BUILD)/custos

deps:
	$(Q)scripts/deps.sh build

$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# One compilation unit, built twice: the modern object and the compat one
# (bpf/common.bpf.h); the binary carries both and loads the one this kernel runs.
# The unit includes every file of bpf/ and the shared ABI: a change to any rebuilds it.
BPF_UNIT := $(wildcard bpf/*.c bpf/*.h include/custos/*.h)

$(BUILD)/custos.bpf.o: bpf/custos.bpf.c $(BPF_UNIT) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/custos_compat.bpf.o: bpf/custos.bpf.c $(BPF_UNIT) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DCUSTOS_COMPAT -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .bpf.o,_bpf,$(notdir $<)) > $@.tmp && mv $@.tmp $@

# Only the loader (and the test of the hook table) includes the skeletons.
$(BUILD)/user/kernel/loader.o $(BUILD)/tests/unit/test_hooks.o: $(BUILD)/custos.skel.h \
	$(BUILD)/custos_compat.skel.h

# Rewritten only when it changes (a new commit, another version), so nothing relinks otherwise.
$(BUILD)/build_info.h: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)scripts/version.sh $(CUSTOS_VERSION) > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/user/lib/version.o: $(BUILD)/build_info.h

$(BUILD)/user/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/custos: $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

$(BUILD)/tests/unit-tests: $(UNIT_OBJS) $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# dbclient links the database client libraries: their -dev packages (scripts/deps.sh test).
DB_CLIENT_PKGS := libpq:libpq-dev libmariadb:libmariadb-dev sqlite3:libsqlite3-dev
$(BUILD)/tests/helpers/dbclient: tests/helpers/dbclient.c
	$(call msg,CC,$@)
	$(Q)for p in $(DB_CLIENT_PKGS); do pkg-config --exists $${p%%:*} || { \
		echo "$@: pkg-config does not know $${p%%:*}: install $${p#*:} (scripts/deps.sh test)" >&2; \
		exit 1; }; done
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $$(pkg-config --cflags $(foreach p,$(DB_CLIENT_PKGS),$(firstword $(subst :, ,$(p))))) \
		$< -o $@ $$(pkg-config --libs $(foreach p,$(DB_CLIENT_PKGS),$(firstword $(subst :, ,$(p)))))

# The bench's own BPF objects, skeletons by the rule above: the bare monitor (the same
# hooks, one lookup each) and the empty probes that price a probe hit (probecost.bpf.c).
BENCH_BPF := $(BUILD)/tests/bench/bare.bpf.o $(BUILD)/tests/bench/probecost.bpf.o
$(BENCH_BPF): $(BUILD)/tests/bench/%.bpf.o: tests/bench/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -Wall -Werror -I/usr/include/$(shell uname -m)-linux-gnu \
		-c $< -o $@

# The bench links the client libraries its database part measures (scripts/deps.sh test),
# and the agent's ELF symbol lookup (the offsets of its trivial functions).
BENCH_PKGS := libpq sqlite3
$(BENCH): tests/bench/bench.c tests/bench/dbbench.c tests/bench/bare.c tests/bench/probecost.c \
	  tests/bench/bench.h $(BUILD)/tests/bench/bare.skel.h $(BUILD)/tests/bench/probecost.skel.h \
	  $(BUILD)/user/kernel/elfsym.o
	$(call msg,CC,$@)
	$(Q)pkg-config --exists $(BENCH_PKGS) || { \
		echo "$@: needs libpq-dev and libsqlite3-dev: scripts/deps.sh test" >&2; exit 1; }
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/tests/bench $$(pkg-config --cflags $(BENCH_PKGS)) \
		$(filter %.c %.o,$^) -o $@ $$(pkg-config --libs $(BENCH_PKGS)) $(LDLIBS)

# The outputs' throughput: links the agent's own code, as the unit tests do.
$(SINKBENCH): $(BUILD)/tests/bench/sinkbench.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/bench/sinkbench.o: tests/bench/sinkbench.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# SQL redaction and description against the two passes they replaced (tests/fuzz/sql_ref.c).
$(SQLBENCH): $(BUILD)/tests/bench/sqlbench.o $(BUILD)/tests/bench/sql_ref.o \
	     $(BUILD)/user/encode/sql.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ -lpthread

$(BUILD)/tests/bench/sqlbench.o: tests/bench/sqlbench.c
$(BUILD)/tests/bench/sql_ref.o: tests/fuzz/sql_ref.c
$(BUILD)/tests/bench/sqlbench.o $(BUILD)/tests/bench/sql_ref.o:
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz -c $< -o $@

# The SQL part of make bench alone: no root, no BPF.
bench-sql: $(SQLBENCH)
	$(SQLBENCH)

# How fast custos report reads stored events: a stream it writes, plain and gzip.
$(REPORTBENCH): tests/bench/reportbench.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# The report part of make bench alone: no root, no BPF.
bench-report: all $(REPORTBENCH)
	$(REPORTBENCH) -a $(BUILD)/custos -d /tmp/custos-reportbench

# Fuzz targets (tests/fuzz): every parser of untrusted bytes, with clang's
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, linked with the
# agent's own code built the same way.
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -g -O1 $(filter-out -O2 -g,$(CFLAGS)) -Wno-missing-field-initializers \
		-fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS      := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(patsubst $(BUILD)/user/%,$(BUILD)/fuzz/user/%,$(LIB_OBJS))

$(BUILD)/fuzz/user/%.o: user/%.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/user/kernel/loader.o: $(BUILD)/custos.skel.h $(BUILD)/custos_compat.skel.h
$(BUILD)/fuzz/user/lib/version.o: $(BUILD)/build_info.h

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -Itests/fuzz -fsanitize=fuzzer $(filter %.c %.o,$^) -o $@ $(LDLIBS)

# fuzz_sql_ref checks sql_scan against the implementation it replaced, kept as a reference.
$(BUILD)/fuzz/fuzz_sql_ref: tests/fuzz/sql_ref.c tests/fuzz/sql_ref.h

fuzz-build: $(FUZZERS)

# Runs each fuzz target for FUZZ_SECONDS (default 30) from its seeds in tests/fuzz/corpus.
fuzz: fuzz-build
	$(Q)scripts/fuzz.sh $(FUZZERS)

# Builds everything and runs the agent on its compiled-in default config.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/custos run

unit: $(BUILD)/tests/unit-tests
	$(BUILD)/tests/unit-tests

# The whole test suite (root): installs what it needs, builds, runs everything,
# the kernel matrix included.
check:
	$(Q)scripts/test.sh

# The kernel matrix alone (root): Debian's kernels under QEMU and this one (docs/kernel.md).
vmtest:
	$(Q)scripts/deps.sh vmtest
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)scripts/vmtest.sh

tests-build: all $(BUILD)/tests/unit-tests $(HELPERS) $(BENCH) $(SINKBENCH) $(SQLBENCH) $(REPORTBENCH) \
	$(FUZZERS)

# Test deps: the bench links libpq and SQLite, and runs a PostgreSQL server.
bench:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory all $(BENCH) $(SINKBENCH) $(SQLBENCH) $(REPORTBENCH)
	$(Q)scripts/bench.sh

format:
	$(Q)clang-format -i $(wildcard bpf/*.c bpf/*.h user/*/*.c user/*/*.h include/custos/*.h tests/*/*.c tests/*/*.h)

format-check:
	$(Q)clang-format --dry-run --Werror $(wildcard bpf/*.c bpf/*.h user/*/*.c user/*/*.h include/custos/*.h tests/*/*.c tests/*/*.h)

# The binary, man pages, systemd unit, bash completion, a config in
# SYSCONFDIR/custos that an existing one is never replaced by, its include
# directory conf.d, and the chain key it names: 32 random bytes, root's only,
# made when there is none and never replaced (docs/install.md).
install: all
	install -D -m 0755 $(BUILD)/custos $(DESTDIR)$(SBINDIR)/custos
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/custos.service \
		> $(BUILD)/custos.service
	install -D -m 0644 $(BUILD)/custos.service $(DESTDIR)$(UNITDIR)/custos.service
	install -D -m 0644 dist/custos.bash-completion $(DESTDIR)$(COMPLETIONDIR)/custos
	install -D -m 0644 dist/custos.json.example $(DESTDIR)$(DOCDIR)/examples/custos.json
	install -m 0644 README.md $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/custos $(DESTDIR)$(SYSCONFDIR)/custos/conf.d
	sed -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/custos.json > $(BUILD)/custos.json
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/custos/custos.json ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/custos/custos.json"; \
	else \
		echo "install -m 0600 $(BUILD)/custos.json $(DESTDIR)$(SYSCONFDIR)/custos/custos.json"; \
		install -m 0600 $(BUILD)/custos.json $(DESTDIR)$(SYSCONFDIR)/custos/custos.json; \
	fi
	@if [ "$(CHAIN_KEY)" != yes ]; then \
		:; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/custos/chain.key ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/custos/chain.key"; \
	else \
		echo "making $(DESTDIR)$(SYSCONFDIR)/custos/chain.key (32 random bytes, 0600)"; \
		(umask 077 && head -c 32 /dev/urandom > $(DESTDIR)$(SYSCONFDIR)/custos/chain.key.tmp && \
		 chmod 0600 $(DESTDIR)$(SYSCONFDIR)/custos/chain.key.tmp && \
		 mv $(DESTDIR)$(SYSCONFDIR)/custos/chain.key.tmp $(DESTDIR)$(SYSCONFDIR)/custos/chain.key); \
	fi

# Everything but the config, which may hold local changes, its include
# directory, and the chain key, which verifies the events already written.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/custos $(DESTDIR)$(UNITDIR)/custos.service \
		$(DESTDIR)$(COMPLETIONDIR)/custos $(DESTDIR)$(DOCDIR)/examples/custos.json \
		$(DESTDIR)$(DOCDIR)/README.md $(patsubst docs/%,$(DESTDIR)$(DOCDIR)/%,$(wildcard docs/*.md)) \
		$(patsubst man/%,$(DESTDIR)$(MANDIR)/man5/%,$(wildcard man/*.5)) \
		$(patsubst man/%,$(DESTDIR)$(MANDIR)/man8/%,$(wildcard man/*.8))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

# A Debian package of what `make install` installs (build/custos_VERSION_ARCH.deb).
deb: all
	$(Q)scripts/mkdeb.sh $(CUSTOS_VERSION)

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d $(BUILD)/*/*/*/*.d)
