# repack build. `make` builds ./repack; `make check` runs every test;
# `make check SANITIZE=1` does the same with ASan and UBSan.

PKGS := libcurl libarchive libdpkg rpm libxml-2.0 jansson libcrypto liblzma libzstd
PREFIX ?= /usr/local
DATADIR ?= $(CURDIR)/data

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter
DEFS := -D_GNU_SOURCE -DLIBDPKG_VOLATILE_API=1 -DREPACK_DATA_DIR='"$(DATADIR)"'
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SANITIZE),1)
BUILD := build/sanitize
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
BIN := $(BUILD)/repack
else
BUILD := build/default
SAN :=
BIN := repack
endif

ALL_CFLAGS := $(WARN) $(CFLAGS) $(SAN) $(DEFS) -Iinclude $(PKG_CFLAGS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard src/core/*.c src/fetch/*.c src/verify/*.c \
	src/meta/*.c src/unpack/*.c src/layout/*.c src/image/*.c \
	src/boot/*.c src/build/*.c src/registry/*.c distros/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/librepack.a

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit demo bench clean install
all: $(BIN)

$(BUILD)/%.o: %.c $(wildcard include/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIB) $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(wildcard include/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_ALL) -o $@ $< $(LIB) $(PKG_LIBS) -lcmocka

unit: $(UNIT_BIN)

deps:
	@tools/install-deps

check: deps
	$(MAKE) $(BIN) unit
	REPACK="$(abspath $(BIN))" UNIT_DIR="$(abspath $(BUILD))/tests" \
		tests/run

demo: deps
	$(MAKE) $(BIN)
	tools/demo "$(abspath $(BIN))"

bench: deps
	$(MAKE) $(BIN)
	bench/run "$(abspath $(BIN))"

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/repack
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/repack
	cp -r data/. $(DESTDIR)$(PREFIX)/share/repack/

clean:
	rm -rf build repack
