# SPDX-License-Identifier: MIT
# nctop: one GNU Makefile. Outputs go to build/ (BUILD=...). Quiet rules; V=1 shows commands.

.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
LIBEXECDIR ?= $(PREFIX)/libexec
MANPREFIX ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# Where /usr/bin/python3 looks for packages: Debian's dist-packages under PREFIX.
PYTHON ?= /usr/bin/python3
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(PREFIX),/usr)
PYTHONDIR ?= $(PREFIX)/lib/python3/dist-packages
else
PYTHONDIR ?= $(PREFIX)/lib/python$(or $(PYTHON_VERSION),3)/dist-packages
endif
DESTDIR ?=

BUILD ?= build
# One spelling of a build directory inside the tree (relative), however it was given: the
# compiler's dependency files name their targets as the rules do, so a header change rebuilds
# every object that includes it.
override BUILD := $(patsubst $(CURDIR)/%,%,$(abspath $(BUILD)))
VERSION := $(shell sed -n 's/^\#define NCTOP_VERSION_STRING "\(.*\)"/\1/p' include/nctop.h)

CC ?= cc
CXX ?= c++
CLANG ?= clang
PKG_CONFIG ?= pkg-config
SAN ?=

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wwrite-strings -Wpointer-arith -Wundef -Wcast-qual -Werror
OPT ?= -O2 -g
CPPFLAGS_ALL := -D_GNU_SOURCE -Iinclude -I. -DNCTOP_VERSION='"$(VERSION)"' \
	-DNCTOP_LIBEXECDIR='"$(LIBEXECDIR)"'
CFLAGS_ALL := -std=c11 $(OPT) $(WARN) -MMD -MP $(SAN) $(CFLAGS)

PKGS := ncursesw libuv libcjson

# eBPF (collectors/bpf/bpf.c) needs the running kernel's BTF, clang, bpftool and libbpf at build
# time; without them nctop still builds and --bpf says "built without BPF support".
BPFTOOL ?= bpftool
HAVE_BPF ?= $(shell [ -r /sys/kernel/btf/vmlinux ] && command -v $(CLANG) >/dev/null && \
	command -v $(BPFTOOL) >/dev/null && $(PKG_CONFIG) --exists libbpf && echo 1)
ifeq ($(HAVE_BPF),1)
PKGS += libbpf
endif
DEP_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEP_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

# --- sources ---------------------------------------------------------------------------------
SDK_SRC := $(wildcard src/libnctop/*.c)
NCTOP_MAIN := src/main.c
CORE_SRC := $(filter-out $(NCTOP_MAIN),$(wildcard src/*.c src/base/*.c src/model/*.c src/format/*.c \
	src/output/*.c collectors/*.c collectors/bpf/*.c collectors/replay/*.c hw/*.c ui/*.c))
CORE_SRC := $(filter-out %.bpf.c,$(CORE_SRC))
# The pure layers (docs/HACKING.md): their own archive, which needs libc and libm only; their
# unit tests link nothing else, so a call into the loop, cJSON or curses fails to link.
# hw/energy.c (the energy models) is pure too: the spiking workload links it.
PURE_SRC := $(wildcard src/base/*.c src/model/*.c src/format/*.c) hw/energy.c
CORE_SRC := $(filter-out $(PURE_SRC),$(CORE_SRC))
PURE_TESTS := alerts energy fileio hist hmap http_response neuro rows store store_gpu store_power
# Without BPF support the eBPF collector is not built at all: the registry leaves it out.
ifneq ($(HAVE_BPF),1)
CORE_SRC := $(filter-out collectors/bpf/bpf.c,$(CORE_SRC))
endif
TINYLM_SRC := $(wildcard models/tinylm/*.c)
SNN_SRC := $(wildcard models/snn/*.c)
SNNC_SRC := $(wildcard models/snnc/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
HELPER_SRC := $(filter-out tests/helpers/fake_nvml.c,$(wildcard tests/helpers/*.c))
# bench/lttng_cost.c needs LTTng-UST (a bench dependency only): built when it is there.
BENCH_SRC := $(filter-out bench/lttng_cost.c,$(wildcard bench/*.c))
HAVE_LTTNG ?= $(shell $(PKG_CONFIG) --exists lttng-ust && echo 1)

SDK_OBJ := $(SDK_SRC:%.c=$(BUILD)/pic/%.o)
SDK_SOBJ := $(SDK_SRC:%.c=$(BUILD)/obj/%.o)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
PURE_OBJ := $(PURE_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(NCTOP_MAIN:%.c=$(BUILD)/obj/%.o)
TINYLM_OBJ := $(TINYLM_SRC:%.c=$(BUILD)/obj/%.o)
SNN_OBJ := $(SNN_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/hw/energy.o
# The compiler shares the runtime's chip tables, random draws and image format (its objects).
SNNC_OBJ := $(SNNC_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/hw/energy.o \
	$(addprefix $(BUILD)/obj/models/snn/,target.o rng.o image.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
ifeq ($(HAVE_LTTNG),1)
BENCH_BIN += $(BUILD)/bench/lttng_cost
endif
# A stand-in for NVIDIA's NVML (NCTOP_NVML_LIB) with known figures, for the GPU tests.
FAKE_NVML := $(BUILD)/tests/libfake_nvml.so

LIBNCTOP_SO := $(BUILD)/lib/libnctop.so
# The name programs linked against the build tree ask the loader for (the soname).
LIBNCTOP_SO0 := $(BUILD)/lib/libnctop.so.0
LIBNCTOP_A := $(BUILD)/lib/libnctop.a
CORE_A := $(BUILD)/lib/nctop-core.a
PURE_A := $(BUILD)/lib/nctop-pure.a
PURE_TEST_BIN := $(PURE_TESTS:%=$(BUILD)/tests/test_%)
NCTOP := $(BUILD)/nctop
TINYLM := $(BUILD)/tinylm
SNN := $(BUILD)/snn
SNNC := $(BUILD)/snnc

.PHONY: all deps bench-build test test-asan test-stress soak soak-asan demo bench fuzz fuzz-build format \
	check-format check-layers check-docs install uninstall clean golden

# The Python package's hot paths in C: needs Python's headers (Debian: python3-dev); not in
# sanitizer builds, which /usr/bin/python3 cannot load.
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
PY_EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX") or "")' 2>/dev/null)
PY_FAST :=
ifneq ($(and $(PY_EXT_SUFFIX),$(wildcard $(PY_INCLUDE)/Python.h)),)
ifeq ($(SAN),)
PY_FAST := $(BUILD)/python/nctop/_fast$(PY_EXT_SUFFIX)
endif
endif

all: $(LIBNCTOP_SO) $(LIBNCTOP_SO0) $(LIBNCTOP_A) $(NCTOP) $(TINYLM) $(SNN) $(SNNC) $(BUILD)/nctop.pc $(UNIT_BIN) $(HELPER_BIN) \
	$(FAKE_NVML) $(PY_FAST)

# --- the SDK: libc (and pthreads) only, hidden visibility, explicit exports ------------------
$(BUILD)/pic/src/libnctop/%.o: src/libnctop/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -c $< -o $@

$(BUILD)/obj/src/libnctop/%.o: src/libnctop/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fvisibility=hidden -c $< -o $@

$(LIBNCTOP_SO): $(SDK_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libnctop.so.0 $(SAN) -o $@ $^ -lpthread

$(LIBNCTOP_SO0): $(LIBNCTOP_SO)
	$(Q)ln -sf libnctop.so $@

$(LIBNCTOP_A): $(SDK_SOBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# --- the Python package's hot paths in C (python/nctop/_fast.c) -------------------------------
# (PY_FAST, set above `all`.) It links nothing: the package hands it the libnctop it loaded.

$(BUILD)/python/nctop/_fast$(PY_EXT_SUFFIX): python/nctop/_fast.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=c11 $(OPT) $(WARN) -fPIC -shared -fvisibility=hidden -isystem $(PY_INCLUDE) \
		$(CFLAGS) -o $@ $<

# --- nctop ---------------------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(DEP_CFLAGS) $(CFLAGS_ALL) -c $< -o $@

# --- eBPF programs: vmlinux.h from this kernel, objects and skeletons in $(BUILD) -----------
ifeq ($(HAVE_BPF),1)
BPF_SRC := $(wildcard collectors/bpf/*.bpf.c)
BPF_SKEL := $(BPF_SRC:collectors/bpf/%.bpf.c=$(BUILD)/%.skel.h)
BPF_ARCH_INC := /usr/include/$(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/%.bpf.o: collectors/bpf/%.bpf.c collectors/bpf/%_events.h $(BUILD)/vmlinux.h
	@$(if $(Q),echo "  BPF     $@")
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I$(BUILD) -I. \
		-I$(BPF_ARCH_INC) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# Syscall names by number, from the kernel headers: one "[nr] = "name"," line each.
$(BUILD)/nctop_syscalls.h: $(BPF_ARCH_INC)/asm/unistd_64.h
	@mkdir -p $(@D)
	$(Q)sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$$/[\2] = "\1",/p' $< > $@

$(BUILD)/obj/collectors/bpf/bpf.o: CPPFLAGS_ALL += -DNCTOP_HAVE_BPF -isystem $(BUILD)
$(BUILD)/obj/collectors/registry.o: CPPFLAGS_ALL += -DNCTOP_HAVE_BPF
$(BUILD)/obj/src/check.o: CPPFLAGS_ALL += -DNCTOP_HAVE_BPF
$(BUILD)/obj/collectors/bpf/bpf.o: $(BPF_SKEL) $(BUILD)/nctop_syscalls.h
endif

$(CORE_A): $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(PURE_A): $(PURE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(NCTOP): $(MAIN_OBJ) $(CORE_A) $(PURE_A)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) -o $@ $^ $(DEP_LIBS) -lm

# --- the reference workload: an SDK client (static libnctop, so it runs from anywhere) -----
$(TINYLM): $(TINYLM_OBJ) $(LIBNCTOP_A)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) -o $@ $^ -lm -lpthread

# The spiking-network workload: an SDK client plus the pure energy models of hw/energy.c.
$(SNN): $(SNN_OBJ) $(LIBNCTOP_A)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) -o $@ $^ -lm -lpthread

# The spiking-network compiler: an SDK client writing the runtime's images.
$(SNNC): $(SNNC_OBJ) $(LIBNCTOP_A)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) -o $@ $^ -lm -lpthread

$(BUILD)/nctop.pc: nctop.pc.in include/nctop.h
	@mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' $< > $@

# --- tests and benchmarks --------------------------------------------------------------------
$(PURE_TEST_BIN): $(BUILD)/tests/test_%: tests/unit/test_%.c $(PURE_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@ (pure)")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< $(PURE_A) $(CMOCKA_LIBS) -lm

$(BUILD)/tests/test_%: tests/unit/test_%.c $(CORE_A) $(PURE_A) $(LIBNCTOP_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(DEP_CFLAGS) $(CFLAGS_ALL) -o $@ $< $(CORE_A) $(PURE_A) $(LIBNCTOP_A) \
		$(CMOCKA_LIBS) $(DEP_LIBS) -lm -lpthread

$(BUILD)/tests/%: tests/helpers/%.c $(LIBNCTOP_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< $(LIBNCTOP_A) -lm -lpthread

$(FAKE_NVML): tests/helpers/fake_nvml.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fPIC -shared -o $@ $<

# The C++ check of nctop.h (nctop::Span, NCTOP_SCOPE); test_sdk runs both scope helpers.
$(BUILD)/tests/sdk_scope_cxx: tests/helpers/sdk_scope_cxx.cpp include/nctop.h $(LIBNCTOP_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CXX     $@")
	$(Q)$(CXX) -std=c++11 -D_GNU_SOURCE -Iinclude $(OPT) -Wall -Wextra -Wshadow -Werror $(SAN) \
		-o $@ $< $(LIBNCTOP_A) -lpthread

$(BUILD)/tests/test_sdk: $(BUILD)/tests/sdk_scope $(BUILD)/tests/sdk_scope_cxx

$(BUILD)/bench/%: bench/%.c $(CORE_A) $(PURE_A) $(LIBNCTOP_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(DEP_CFLAGS) $(CFLAGS_ALL) -o $@ $< $(CORE_A) $(PURE_A) $(LIBNCTOP_A) \
		$(DEP_LIBS) -lm -lpthread

$(BUILD)/bench/lttng_cost: bench/lttng_cost.c bench/lttng_tp.h $(LIBNCTOP_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(shell $(PKG_CONFIG) --cflags lttng-ust) $(CFLAGS_ALL) -o $@ $< \
		$(LIBNCTOP_A) $(shell $(PKG_CONFIG) --libs lttng-ust) -lpthread

# deps first, then a separate make so that pkg-config sees what deps installed.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/run

test-asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	$(Q)BUILD=build/asan NCTOP_SAN_FLAGS="-fsanitize=address,undefined" ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1 tests/run

# The same suite with every core kept busy by a CPU hog (STRESS_HOGS, default one per core),
# started here and stopped however the suite ends.
STRESS_HOGS ?= $(shell nproc 2>/dev/null || echo 2)
test-stress: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)hogs=""; trap 'kill $$hogs 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq $(STRESS_HOGS)); do sh -c 'while :; do :; done' & hogs="$$hogs $$!"; done; \
	echo "test-stress: $(STRESS_HOGS) CPU hogs:$$hogs"; BUILD=$(BUILD) tests/run

# One hour (SOAK_SECONDS) of nctop --headless on tinylm, logger on, Prometheus scraped; RSS and
# fds sampled to $(BUILD)/soak/soak.csv (tests/soak states the bounds). SOAK_ASAN=1, or
# soak-asan, runs a shorter soak (10 min by default) of the ASan build, its quarantine kept
# small so that RSS levels off after the warm-up.
ifeq ($(SOAK_ASAN),1)
soak: soak-asan
else
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/soak
endif

soak-asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	$(Q)BUILD=build/asan SOAK_SECONDS=$${SOAK_SECONDS:-600} \
		ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=16 UBSAN_OPTIONS=print_stacktrace=1 tests/soak

# The benchmarks compare libnctop with LTTng-UST: its packages are the bench's, not the tests'.
BENCH_PKGS := liblttng-ust-dev lttng-tools
bench:
	$(Q)$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) $(BENCH_PKGS)"
	$(Q)$(MAKE) --no-print-directory all bench-build
	$(Q)BUILD=$(BUILD) bench/run

bench-build: $(BENCH_BIN)

# --- fuzzing: libFuzzer harnesses (tests/fuzz/fuzz_<name>.c) under ASan and UBSan -----------
# The core sources are built again with clang into their own directory; `make fuzz` runs each
# harness for FUZZ_SECONDS on a working copy of its seed corpus (new inputs stay in
# $(FUZZ_BUILD)/corpus, crashes go to $(FUZZ_BUILD)/crashes).
FUZZ_BUILD ?= $(BUILD)/fuzz
override FUZZ_BUILD := $(patsubst $(CURDIR)/%,%,$(abspath $(FUZZ_BUILD)))
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
# clang flags vprintf-style wrappers that gcc accepts (the format attribute checks callers).
FUZZ_CFLAGS := -std=c11 -O1 -g -fno-omit-frame-pointer $(WARN) -Wno-format-nonliteral -MMD -MP -DNCTOP_FUZZ_LIMITS \
	$(FUZZ_SAN) $(CFLAGS)
FUZZ_CORE_SRC := $(filter-out ui/% collectors/bpf/bpf.c,$(CORE_SRC) $(PURE_SRC))
FUZZ_CORE_OBJ := $(FUZZ_CORE_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_CORE_A := $(FUZZ_BUILD)/lib/nctop-core.a
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
# The request parser harness needs http_parse_request (the pure parser of src/http.c).
ifeq ($(shell grep -l http_parse_request src/http.h 2>/dev/null),)
FUZZ_SRC := $(filter-out tests/fuzz/fuzz_http_parse.c,$(FUZZ_SRC))
endif
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CLANG) $(CPPFLAGS_ALL) $(DEP_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_CORE_A): $(FUZZ_CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_CORE_A)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CLANG) $(CPPFLAGS_ALL) $(DEP_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_CORE_A) $(DEP_LIBS) -lm -lpthread

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run $(FUZZ_SECONDS)

# Rewrite tests/golden/ from the display as it is now (review the diff before committing).
golden: all
	$(Q)BUILD=$(BUILD) UPDATE_GOLDEN=1 bash tests/e2e/tui_keys.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(NCTOP) --demo

# Debian 12 packages only; nothing when all are present; sudo when not root.
DEB_PKGS := build-essential pkg-config libncurses-dev libcjson-dev libuv1-dev libbpf-dev \
	libcmocka-dev clang bpftool systemtap-sdt-dev tmux python3 python3-dev python3-torch python3-setuptools \
	python3-pip prometheus procps man-db clang-format libclang-rt-14-dev
deps:
	$(Q)missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || \
			missing="$$missing $$p"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	command -v apt-get >/dev/null || { echo "deps: missing:$$missing (install them)" >&2; exit 1; }; \
	if [ "$$(id -u)" -eq 0 ]; then S=""; elif command -v sudo >/dev/null; then S=sudo; \
	else echo "deps: missing:$$missing; run as root or install sudo" >&2; exit 1; fi; \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$S apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	$$S apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

check-layers:
	$(Q)tests/check-layers

check-docs: $(NCTOP)
	$(Q)tests/check-docs $(NCTOP)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man3 \
		$(DESTDIR)$(LIBEXECDIR)/nctop
	install -m 755 $(NCTOP) $(DESTDIR)$(BINDIR)/nctop
	install -m 755 $(TINYLM) $(DESTDIR)$(LIBEXECDIR)/nctop/tinylm
	install -m 755 $(SNN) $(DESTDIR)$(LIBEXECDIR)/nctop/snn
	install -m 755 $(SNNC) $(DESTDIR)$(LIBEXECDIR)/nctop/snnc
	install -d $(DESTDIR)$(LIBEXECDIR)/nctop/snnc-examples
	install -m 644 models/snnc/examples/*.snn $(DESTDIR)$(LIBEXECDIR)/nctop/snnc-examples/
	install -m 755 $(LIBNCTOP_SO) $(DESTDIR)$(LIBDIR)/libnctop.so.$(VERSION)
	ln -sf libnctop.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnctop.so.0
	ln -sf libnctop.so.0 $(DESTDIR)$(LIBDIR)/libnctop.so
	install -m 644 $(LIBNCTOP_A) $(DESTDIR)$(LIBDIR)/libnctop.a
	install -m 644 include/nctop.h $(DESTDIR)$(INCDIR)/nctop.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' nctop.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/nctop.pc
	install -m 644 man/nctop.1 $(DESTDIR)$(MANPREFIX)/man1/nctop.1
	install -m 644 man/snn.1 $(DESTDIR)$(MANPREFIX)/man1/snn.1
	install -m 644 man/snnc.1 $(DESTDIR)$(MANPREFIX)/man1/snnc.1
	install -m 644 man/libnctop.3 $(DESTDIR)$(MANPREFIX)/man3/libnctop.3
	install -d $(DESTDIR)$(PYTHONDIR)/nctop
	install -m 644 python/nctop/__init__.py python/nctop/__main__.py python/nctop/torch.py \
		$(DESTDIR)$(PYTHONDIR)/nctop/
	sed 's|^LIBDIR = None|LIBDIR = "$(LIBDIR)"|' python/nctop/_paths.py \
		> $(DESTDIR)$(PYTHONDIR)/nctop/_paths.py
	$(if $(PY_FAST),install -m 644 $(PY_FAST) $(DESTDIR)$(PYTHONDIR)/nctop/)
	-[ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null && ldconfig || true

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nctop $(DESTDIR)$(LIBDIR)/libnctop.so* \
		$(DESTDIR)$(LIBDIR)/libnctop.a $(DESTDIR)$(INCDIR)/nctop.h \
		$(DESTDIR)$(PKGCONFIGDIR)/nctop.pc $(DESTDIR)$(MANPREFIX)/man1/nctop.1 $(DESTDIR)$(MANPREFIX)/man1/snn.1 \
		$(DESTDIR)$(MANPREFIX)/man1/snnc.1 $(DESTDIR)$(MANPREFIX)/man3/libnctop.3
	rm -rf $(DESTDIR)$(LIBEXECDIR)/nctop $(DESTDIR)$(PYTHONDIR)/nctop

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
