# Lodestone build. `make` builds into build/ (binaries in build/bin/),
# `make test` runs every test, `make check` adds sanitizers and format,
# `make deps` installs the Debian packages that are missing.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config
PROTOC_C ?= protoc-c

PKGS := libsodium lmdb libprotobuf-c libzmq jansson inih
DEB_PKGS := build-essential pkg-config libsodium-dev liblmdb-dev libprotobuf-c-dev \
	protobuf-c-compiler libzmq3-dev libcmocka-dev libjansson-dev libinih-dev python3-nacl \
	python3-jsonschema valgrind

ifeq ($(SANITIZE),1)
BUILD ?= build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT := -O1 -g
else
BUILD ?= build
SAN_FLAGS :=
OPT := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
endif

GEN := $(BUILD)/gen
OBJ := $(BUILD)/obj
BIN := $(BUILD)/bin

WARN := -std=c11 -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
CPPFLAGS += -D_GNU_SOURCE -Ilib -Ikeys -I$(GEN)
CFLAGS ?=
CFLAGS += $(WARN) $(OPT) $(SAN_FLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(SAN_FLAGS)
LDLIBS += $(PKG_LIBS) -lpthread

PROTOS := $(wildcard proto/*.proto)
GEN_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)
GEN_OBJ := $(patsubst $(GEN)/%.c,$(OBJ)/gen/%.o,$(GEN_C))

LIB_SRC := $(wildcard lib/*.c lib/kind/*.c keys/*.c)
LIB_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRC)) $(GEN_OBJ)
LIB_A := $(BUILD)/liblodestone.a

DAEMON_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard daemon/*.c))
CLIENT_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard client/*.c))
BENCH_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard contrib/bench/*.c))

TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_HELPER_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard tests/helper_*.c))

PROGS := $(BIN)/lodestoned $(BIN)/lodestone $(BIN)/lodestone-bench

.PHONY: all test unit-test scenario-test reliability reliability-short valgrind check format \
	format-check deps fuzz fuzz-long demo \
	bench soak install uninstall clean
.DEFAULT_GOAL := all

all: $(PROGS)

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	$(PROTOC_C) --c_out=$(GEN) -Iproto $<

# Generated code is not ours: it is compiled without -pedantic's extra checks
# that protoc-c output does not meet, but with every other warning as error.
$(OBJ)/gen/%.o: $(GEN)/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(filter-out -pedantic -Wmissing-prototypes,$(CFLAGS)) -c -o $@ $<

$(OBJ)/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CMOCKA_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/lodestoned: $(DAEMON_OBJ) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(LIB_A) $(LDLIBS)

$(BIN)/lodestone: $(CLIENT_OBJ) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(CLIENT_OBJ) $(LIB_A) $(LDLIBS)

$(BIN)/lodestone-bench: $(BENCH_OBJ) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(BENCH_OBJ) $(LIB_A) $(LDLIBS)

# A test may declare fault-injection wraps in comments on its first lines
# (several, each within the line length clang-format keeps):
#   /* WRAP: mdb_txn_commit mdb_put */
$(BUILD)/tests/%: $(OBJ)/tests/%.o $(TEST_HELPER_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(foreach w,$(shell sed -n '1,4s/^\/\* WRAP: \(.*\) \*\//\1/p' tests/$*.c),-Wl,--wrap=$(w)) \
		-o $@ $< $(TEST_HELPER_OBJ) $(LIB_A) $(CMOCKA_LIBS) $(LDLIBS)

# The C side of the format interop test (tests/scenario/interop.sh).
TLOG_TOOL := $(BUILD)/tests/tlog_tool
$(TLOG_TOOL): $(OBJ)/tests/interop/tlog_tool.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

# test_gossip starts the daemons of this build.
unit-test: $(TEST_BIN) $(PROGS)
	@fail=0; for t in $(TEST_BIN); do \
		echo "== $$t"; \
		LODESTONE_BIN=$(abspath $(BIN)) $$t || fail=1; \
	done; exit $$fail

scenario-test: $(PROGS) $(TLOG_TOOL)
	@fail=0; for t in $(sort $(wildcard tests/scenario/*.sh)); do \
		echo "== $$t"; \
		LODESTONE_BIN=$(abspath $(BIN)) bash $$t || fail=1; \
	done; exit $$fail

test: all $(TEST_BIN) $(TLOG_TOOL)
	@$(MAKE) --no-print-directory unit-test && $(MAKE) --no-print-directory scenario-test && \
		$(MAKE) --no-print-directory reliability-short

# The reliability programme (tests/reliability/, README "Reliability"): each
# test writes build/reliability/NAME.json. `make reliability` runs them all
# in full (hours); `make test` runs their short modes. Valgrind runs the
# normal build's programs, so the sanitizer build skips it.
RELIABILITY := $(sort $(wildcard tests/reliability/*.sh))
reliability: all $(TEST_BIN) $(TLOG_TOOL)
	@fail=0; for t in $(RELIABILITY); do \
		echo "== $$t"; \
		LODESTONE_BIN=$(abspath $(BIN)) bash $$t || fail=1; \
	done; exit $$fail

reliability-short: all $(TEST_BIN) $(TLOG_TOOL)
	@fail=0; for t in $(filter-out %/fuzz.sh $(if $(filter 1,$(SANITIZE)),%/valgrind.sh),$(RELIABILITY)); do \
		echo "== $$t --short"; \
		LODESTONE_BIN=$(abspath $(BIN)) bash $$t --short || fail=1; \
	done; exit $$fail

# The whole test suite under valgrind memcheck (an hour or more).
valgrind: all $(TEST_BIN) $(TLOG_TOOL)
	bash tests/reliability/valgrind.sh

# The convergence property (tests/test_converge.c) over many seeds; `make test`
# runs a few. `make soak SOAK_SEEDS=5000 SOAK_FIRST=1000` for another programme.
SOAK_SEEDS ?= 500
SOAK_FIRST ?= 1
soak: $(BUILD)/tests/test_converge
	LS_CONVERGE_SEEDS=$(SOAK_SEEDS) LS_CONVERGE_FIRST=$(SOAK_FIRST) $(BUILD)/tests/test_converge

check: format-check
	$(MAKE) test SANITIZE=1

FORMAT_SRC = $(wildcard lib/*.[ch] lib/kind/*.[ch] keys/*.[ch] daemon/*.[ch] client/*.[ch] tests/*.[ch] \
	tests/interop/*.[ch] tests/fuzz/*.c contrib/bench/*.[ch])
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

# libFuzzer targets for envelope, gossip and C2SP text decoding: `make fuzz`, then run
# build/fuzz/fuzz_envelope -max_total_time=60 build/fuzz/corpus
# build/fuzz/fuzz_gossip -max_total_time=60 build/fuzz/corpus-gossip
# build/fuzz/fuzz_note -max_total_time=60 build/fuzz/corpus-note tests/fuzz/corpus-note
# build/fuzz/fuzz_logproof -max_total_time=60 build/fuzz/corpus-logproof
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_TARGETS := envelope gossip note logproof api keyfile config policy
fuzz: $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

# Every fuzz target for 10 minutes (FUZZ_TIME seconds), results in
# build/reliability/fuzz.json; CI runs the short mode (.ci/run).
fuzz-long:
	bash tests/reliability/fuzz.sh

FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE

# The API codec instrumented; what its results name (verdicts, origins,
# traces) from the archive.
$(FUZZ_DIR)/fuzz_api: tests/fuzz/fuzz_api.c lib/api_codec.c lib/pbuf.c $(LIB_A)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ilib -I$(GEN) $(PKG_CFLAGS) -o $@ $< lib/api_codec.c lib/pbuf.c \
		$(LIB_A) $(PKG_LIBS) -lpthread

$(FUZZ_DIR)/fuzz_keyfile: tests/fuzz/fuzz_keyfile.c keys/keyfile.c keys/keyfile.h $(LIB_A)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ilib -Ikeys -I$(GEN) $(PKG_CFLAGS) -o $@ $< keys/keyfile.c \
		$(LIB_A) $(PKG_LIBS) -lpthread

$(FUZZ_DIR)/fuzz_config: tests/fuzz/fuzz_config.c daemon/config.c daemon/lodestoned.h $(LIB_A)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ilib -Ikeys -Idaemon -I$(GEN) $(PKG_CFLAGS) -o $@ $< daemon/config.c \
		$(LIB_A) $(PKG_LIBS) -lpthread

# The policy reader is static in client/policy.c: the target includes it and
# links the rest of the client, whose main is renamed (libFuzzer has one).
FUZZ_POLICY_OBJ := $(filter-out $(OBJ)/client/main.o $(OBJ)/client/policy.o,$(CLIENT_OBJ)) \
	$(FUZZ_DIR)/client_main.o
$(FUZZ_DIR)/client_main.o: $(OBJ)/client/main.o
	@mkdir -p $(FUZZ_DIR)
	objcopy --redefine-sym main=ls_client_main $< $@
$(FUZZ_DIR)/fuzz_policy: tests/fuzz/fuzz_policy.c client/policy.c client/client.h $(FUZZ_POLICY_OBJ) \
		$(LIB_A)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ilib -Ikeys -Iclient -I$(GEN) $(PKG_CFLAGS) -o $@ $< \
		$(FUZZ_POLICY_OBJ) $(LIB_A) $(PKG_LIBS) -lpthread
$(FUZZ_DIR)/fuzz_note: tests/fuzz/fuzz_note.c lib/note.c lib/note.h lib/tlog.c lib/tlog.h lib/err.c \
		lib/util.c
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) \
		-o $@ $< lib/note.c lib/tlog.c lib/err.c lib/util.c $(PKG_LIBS)
# The log proof's decoder and check, instrumented; the rest of the library
# (the check names the store's and the verdict's functions) from the archive.
$(FUZZ_DIR)/fuzz_logproof: tests/fuzz/fuzz_logproof.c lib/logproof.c lib/note.c lib/tlog.c \
		lib/pbuf.c $(LIB_A)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Ilib -I$(GEN) \
		$(PKG_CFLAGS) -o $@ $< lib/logproof.c lib/note.c lib/tlog.c lib/pbuf.c $(LIB_A) \
		$(PKG_LIBS) -lpthread
$(FUZZ_DIR)/fuzz_gossip: tests/fuzz/fuzz_gossip.c lib/gossip.c lib/gossip.h lib/pbuf.c lib/err.c $(PROTOS)
	@mkdir -p $(FUZZ_DIR)/gen
	$(PROTOC_C) --c_out=$(FUZZ_DIR)/gen -Iproto $(PROTOS)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Ilib -I$(FUZZ_DIR)/gen \
		$(PKG_CFLAGS) -o $@ $< lib/gossip.c lib/pbuf.c lib/err.c lib/util.c \
		$(FUZZ_DIR)/gen/gossip.pb-c.c $(PKG_LIBS)
$(FUZZ_DIR)/fuzz_envelope: tests/fuzz/fuzz_envelope.c $(wildcard lib/*.c lib/*.h) $(PROTOS)
	@mkdir -p $(FUZZ_DIR)/gen
	$(PROTOC_C) --c_out=$(FUZZ_DIR)/gen -Iproto $(PROTOS)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Ilib -I$(FUZZ_DIR)/gen \
		$(PKG_CFLAGS) -o $@ $< lib/record.c lib/country.c lib/pbuf.c lib/err.c lib/util.c \
		$(FUZZ_DIR)/gen/lodestone.pb-c.c \
		$(PKG_LIBS)

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all installed"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else \
		echo "deps: missing:$$missing"; \
		echo "deps: run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	fi

demo: all
	bash contrib/demo/demo.sh $(abspath $(BIN))

bench: all
	$(BIN)/lodestone-bench ingest -n 20000
	$(BIN)/lodestone-bench ingest -n 20000 --preload 200000
	$(BIN)/lodestone-bench verify -n 10000
	$(BIN)/lodestone-bench api -n 20000 -c 4 -b 100 -q 4
	$(BIN)/lodestone-bench api -n 20000 -c 4 -b 100 -q 4 -r 0
	$(BIN)/lodestone-bench log -n 1000000
	$(BIN)/lodestone-bench gossip
	$(BIN)/lodestone-bench stream -n 100000
	$(BIN)/lodestone-bench epcis -n 20000

# Installation: the GNU directory variables, each overridable; DESTDIR is a
# staging root prefixed to every path (packaging). `make uninstall` with the
# same variables removes exactly what `make install` put there.
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/lodestone
SYSCONFDIR ?= $(PREFIX)/etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
PKGDATA := $(DATADIR)/lodestone
POLICY_FILES := $(wildcard contrib/policies/*.json) contrib/policies/README.md
PROFILE_FILES := $(wildcard contrib/profiles/*.json) contrib/profiles/README.md
INSTALLED := $(SBINDIR)/lodestoned $(BINDIR)/lodestone $(MANDIR)/man1/lodestone.1 \
	$(MANDIR)/man5/lodestoned.conf.5 $(MANDIR)/man8/lodestoned.8 \
	$(SYSTEMDUNITDIR)/lodestoned.service $(DOCDIR)/lodestoned.conf.example \
	$(DOCDIR)/README.md $(BASHCOMPDIR)/lodestone \
	$(addprefix $(PKGDATA)/policies/,$(notdir $(POLICY_FILES))) \
	$(addprefix $(PKGDATA)/profiles/,$(notdir $(PROFILE_FILES))) \
	$(addprefix $(PKGDATA)/proto/,$(notdir $(PROTOS)))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(PKGDATA)/policies \
		$(DESTDIR)$(PKGDATA)/profiles $(DESTDIR)$(PKGDATA)/proto
	install -m 0755 $(BIN)/lodestoned $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BIN)/lodestone $(DESTDIR)$(BINDIR)/
	install -m 0644 client/lodestone.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 daemon/lodestoned.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 daemon/lodestoned.8 $(DESTDIR)$(MANDIR)/man8/
	sed -e 's|/usr/local/sbin/lodestoned|$(SBINDIR)/lodestoned|' \
	    -e 's|/etc/lodestone/|$(SYSCONFDIR)/lodestone/|g' \
	    contrib/lodestoned.service > $(DESTDIR)$(SYSTEMDUNITDIR)/lodestoned.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/lodestoned.service
	install -m 0644 contrib/lodestoned.conf.example README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 contrib/completion/lodestone.bash $(DESTDIR)$(BASHCOMPDIR)/lodestone
	install -m 0644 $(POLICY_FILES) $(DESTDIR)$(PKGDATA)/policies/
	install -m 0644 $(PROFILE_FILES) $(DESTDIR)$(PKGDATA)/profiles/
	install -m 0644 $(PROTOS) $(DESTDIR)$(PKGDATA)/proto/

# Directories of our own are removed when empty; shared ones (bin, man1) stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(PKGDATA)/policies $(DESTDIR)$(PKGDATA)/profiles $(DESTDIR)$(PKGDATA)/proto $(DESTDIR)$(PKGDATA) \
		$(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build

# Generated sources and objects are kept (not deleted as intermediates), so
# a second `make` finds everything up to date and rebuilds nothing.
.SECONDARY:

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
