# custos: build with `make`, test with `make check` (as root), measure with `make bench`.
# V=1 shows full commands.

BUILD	?= build
CC	?= gcc
CLANG	?= clang
BPFTOOL	?= bpftool
PREFIX	?= /usr/local
DESTDIR	?=

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
PKGS := libbpf libelf zlib jansson

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
LDLIBS	+= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Wno-unused-function \
	      -Iinclude -I$(BUILD) -MMD -MP

USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%.o,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPERS   := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRCS))
BENCH	  := $(BUILD)/tests/bench/custos-bench

.PHONY: all deps run check unit bench format format-check install clean

all: $(BUILD)/custos

deps:
	$(Q)scripts/deps.sh build

$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# One compilation unit; see bpf/custos.bpf.c for why.
$(BUILD)/custos.bpf.o: bpf/custos.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/custos.skel.h: $(BUILD)/custos.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name custos_bpf > $@.tmp && mv $@.tmp $@

# Only the loader includes the skeleton.
$(BUILD)/user/loader.o: $(BUILD)/custos.skel.h

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

# The bench links the client libraries its database part measures (scripts/deps.sh test).
BENCH_PKGS := libpq sqlite3
$(BENCH): tests/bench/bench.c tests/bench/dbbench.c tests/bench/bench.h
	$(call msg,CC,$@)
	$(Q)pkg-config --exists $(BENCH_PKGS) || { \
		echo "$@: needs libpq-dev and libsqlite3-dev: scripts/deps.sh test" >&2; exit 1; }
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $$(pkg-config --cflags $(BENCH_PKGS)) $(filter %.c,$^) -o $@ \
		$$(pkg-config --libs $(BENCH_PKGS)) -lpthread

# Builds everything and runs the agent on its compiled-in default config.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/custos run

unit: $(BUILD)/tests/unit-tests
	$(BUILD)/tests/unit-tests

# The whole test suite (root): installs what it needs, builds, runs everything.
check:
	$(Q)scripts/test.sh

tests-build: all $(BUILD)/tests/unit-tests $(HELPERS) $(BENCH)

# Test deps: the bench links libpq and SQLite, and runs a PostgreSQL server.
bench:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory all $(BENCH)
	$(Q)scripts/bench.sh

format:
	$(Q)clang-format -i $(wildcard bpf/*.c bpf/*.h user/*.c user/*.h include/custos/*.h tests/*/*.c tests/*/*.h)

format-check:
	$(Q)clang-format --dry-run --Werror $(wildcard bpf/*.c bpf/*.h user/*.c user/*.h include/custos/*.h tests/*/*.c tests/*/*.h)

install: all
	install -D -m 0755 $(BUILD)/custos $(DESTDIR)$(PREFIX)/sbin/custos

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
