# atomically - make unmodified programs write files atomically.
#
#   make            build the library, the config module and the launcher
#   make check      install what the tests need (Debian, as root), build, test,
#                   then a short fuzz run (check-fuzz, about a minute)
#   make check-long build as check does, then the crash test with 10,000
#                   kills instead of 1,000 (bats/crash.bats) and the power
#                   loss test with 20 trials instead of 1 (bats/powerloss.bats);
#                   some minutes
#   make check-asan AddressSanitizer + UndefinedBehaviorSanitizer build in
#                   build-asan/: C unit tests, then bats suites (ASAN_SUITES)
#   make check-tsan ThreadSanitizer build in build-tsan/: the threaded helpers
#   make check-valgrind  memcheck on the launcher and the C unit tests
#   make fuzz       the libFuzzer targets of tests/fuzz (config loader,
#                   matcher, the decoders of the environment), FUZZ_SECONDS
#                   (600) each, corpora under build/fuzz
#   make demo       install what the demo needs, build, show what changes
#   make compat-table  run the compatibility matrix (bats/compat.bats and the
#                   tests of programs.bats and commit.bats it refers to) and
#                   write its tables into docs/COMPATIBILITY.md (exits 1 when
#                   a test failed: the tables are written all the same)
#   make bench      install what the benchmarks need (Debian, as root), build,
#                   run tests/bench and write docs/PERFORMANCE.md (~10 min)
#   make bench-report  docs/PERFORMANCE.md again from the last run's figures
#   make install    PREFIX=/usr/local DESTDIR= (LIBDIR, DOCDIR, COMPLETIONDIR...)
#   make uninstall  the same variables: removes exactly what install put
#   make deb        the Debian package, with debhelper, checked by lintian,
#                   into build/deb/ (packaging/debian)
#   make clean

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib/atomically
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/atomically
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
DESTDIR ?=
# The launcher looks for the library at LIBDIR as seen from its own
# directory first (an installed tree moved, or staged with DESTDIR), then
# at LIBDIR itself.
LIBDIR_FROM_BIN = $(shell realpath -m --relative-to=$(BINDIR) $(LIBDIR))
# What `atomically --version` names as the commit: a source tree without
# git (the Debian package's) carries it in the file COMMIT.
COMMIT ?= $(shell cat COMMIT 2>/dev/null || git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -fvisibility=hidden $(SANITIZE)
CPPFLAGS += -D_GNU_SOURCE -Isrc -I$(B)
LDFLAGS ?=

# The build directory: the sanitizer targets build into their own
# (make B=build-asan SANITIZE=...), never over build/.
B ?= build
# Extra compiler and linker flags for every program and library built,
# helpers included: the sanitizer targets set them (-fsanitize=...).
SANITIZE ?=
VERSION := 0.1.0

# The sources, by the process they run in (docs/DESIGN.md, "Parts"):
#   src/core/      the commit protocol, locks, temps, paths, rules: linked
#                  into every binary that writes (core/sys_libc.c only
#                  into the plain processes: the library has its own)
#   src/preload/   libatomically.so's entry points and per-process state
#   src/config/    the config loader (libconfuse)
#   src/launcher/  the atomically command
#   src/supervisor/  the session's supervisor: the launcher kept alive
CORE_SRC     := $(filter-out src/core/sys_libc.c,$(wildcard src/core/*.c))
PLAIN_SYS    := src/core/sys_libc.c
PRELOAD_SRC  := $(wildcard src/preload/*.c)
CONFIG_SRC   := $(wildcard src/config/*.c) $(B)/default_conf.c
LAUNCHER_SRC := $(wildcard src/launcher/*.c)
SUPERVISOR_SRC := $(wildcard src/supervisor/*.c)
HEADERS      := $(wildcard src/*/*.h)

# The library a process loads: no libconfuse, no allocator at start.
LIB_SRC  := $(PRELOAD_SRC) $(CORE_SRC)
# Loaded by the library only when started without ATOMICALLY_RULES: the
# parser and the rules it fills in, nothing that reaches the system.
CONF_SRC := $(CONFIG_SRC) src/core/rules.c src/core/match.c
# The launcher: a plain process, with the core on plain libc.
CLI_SRC  := $(LAUNCHER_SRC) $(SUPERVISOR_SRC) $(CONFIG_SRC) $(CORE_SRC) $(PLAIN_SYS)

DEPS_BUILD := gcc libc6-dev make libconfuse-dev binutils
# Debian's own tooling, for make deb (and make check, which builds it).
DEPS_DEB   := $(DEPS_BUILD) dpkg-dev debhelper lintian fakeroot
DEPS_CHECK := $(DEPS_BUILD) clang libclang-rt-dev bats bats-assert bats-support bats-file strace e2fsprogs \
              python3 perl coreutils procps groff-base util-linux acl attr \
              xfsprogs btrfs-progs golang-go busybox-static \
              python3-yaml bash-completion musl-tools $(DEPS_DEB)
# The real programs of the compatibility matrix (bats/compat.bats and the
# real-program suite, bats/realworld.bats; npm unless some npm is there
# already, as nodesource's nodejs brings its own), and the
# preloads it runs beside the library (jemalloc, eatmydata, ASan's runtime).
DEPS_COMPAT := dash coreutils sed tar make git vim nodejs ruby rsync sqlite3 \
              sudo libjemalloc2 libeatmydata1 eatmydata libasan8 python3 strace \
              neovim nano emacs-nox crudini logrotate moreutils jq dpkg bsdutils \
              $(if $(shell command -v npm),,npm)
DEPS_DEMO  := $(DEPS_BUILD) python3 coreutils
# gnuplot-nox unless some gnuplot is there already; node is optional (its
# peer is skipped without it), so it is not installed here.
DEPS_BENCH := $(DEPS_BUILD) $(if $(shell command -v gnuplot),,gnuplot-nox) moreutils \
              python3 python3-atomicwrites xfsprogs btrfs-progs strace valgrind \
              util-linux coreutils tar findutils golang-go
# The sanitizers' runtimes (libasan, libubsan, libtsan) come with gcc.
DEPS_VALGRIND := $(DEPS_BUILD) valgrind
# libFuzzer is in clang's runtime package, which clang only recommends.
DEPS_FUZZ  := $(DEPS_BUILD) clang libclang-rt-dev

# C unit tests (tests/unit/test_NAME.c), each linked with the core.
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
TEST_PROGS := $(UNIT_TESTS:%=$(B)/%)
# Helper programs the bats suites drive (tests/helpers/NAME.c), the
# writer built twice more, and the preloads of the tests' own
# (HELPER_PRELOADS: tests/helpers/NAME.c built as NAME.so).
HELPER_PRELOADS := failmmap failfdopen
HELPERS    := $(patsubst tests/helpers/%.c,$(B)/%,$(filter-out \
              $(HELPER_PRELOADS:%=tests/helpers/%.c),$(wildcard tests/helpers/*.c)))
HELPERS    += $(B)/writer-fortify $(B)/writer-asan $(B)/proc_late-asan $(HELPER_PRELOADS:%=$(B)/%.so)
# The library built for musl programs (issue 17), and the helpers that
# bats/musl.bats runs with it, built with musl-gcc into $(B)/musl/: only
# where musl-gcc is installed (make check installs musl-tools;
# bats/musl.bats skips, saying so, without them), and not in a sanitizer
# build (the sanitizers' runtimes are glibc's).
MUSL_CC    := $(if $(SANITIZE),,$(shell command -v musl-gcc 2>/dev/null))
MUSL_LIB   := $(if $(MUSL_CC),$(B)/musl/libatomically.so)
MUSL_HELPERS := $(if $(MUSL_CC),$(patsubst %,$(B)/musl/%,writer lms_counter exec_self bynumber proc_spawn))
# The Go programs of the seccomp supervisor's tests (tests/go/NAME/*.go,
# built as $(B)/go/NAME): static (CGO_ENABLED=0; golmscgo alone is built
# with cgo, below), the standard library only, so no network is needed.
# Only where go is installed (make check installs golang-go;
# bats/seccomp.bats skips, saying so, without them).
# The caches under the build directory: root in CI has no home of its
# own to write them to, and `make clean` takes them away.
GO         := $(shell command -v go 2>/dev/null)
GO_PROGS   := $(patsubst tests/go/%/,$(B)/go/%,$(sort $(dir $(wildcard tests/go/*/*.go))))
GO_ENV     := CGO_ENABLED=0 GOPROXY=off GOTOOLCHAIN=local GOFLAGS= \
              GOCACHE=$(abspath $(B))/go/cache GOPATH=$(abspath $(B))/go/path
# The Go programs of benchmarks 9 and 10 (tests/go/bench*) only where go
# is installed: bench.sh skips those two without them, saying why.
BENCH      := $(B)/bench/timeit $(B)/bench/smallfiles $(B)/bench/stream $(B)/bench/edit \
              $(B)/bench/touches \
              $(B)/bench/empty.so $(B)/lms_counter \
              $(if $(GO),$(filter $(B)/go/bench%,$(GO_PROGS)))

all: $(B)/libatomically.so $(B)/libatomically-conf.so $(B)/atomically $(MUSL_LIB) preload-tree

# What glibc's dynamic linker puts for $LIB in LD_PRELOAD, and the tree
# of directories beside the library that makes one LD_PRELOAD value
# serve glibc and musl programs (scripts/preload_tree.sh; docs/DESIGN.md,
# "One LD_PRELOAD for glibc and musl").  Made again at every make: links
# only.
GLIBC_LIB := $(shell CC='$(CC)' scripts/glibc_lib_token.sh)
preload-tree: $(B)/libatomically.so $(B)/libatomically-conf.so $(MUSL_LIB)
	@scripts/preload_tree.sh $(B) '$(GLIBC_LIB)'

# Every program the tests run.
testprogs: $(TEST_PROGS) $(HELPERS) $(MUSL_HELPERS) $(if $(GO),$(GO_PROGS))

$(B):
	@mkdir -p $(B)

# What the launcher knows of its build: rewritten only when it changes,
# so that a new commit or another PREFIX relinks the launcher, and
# nothing else.
$(B)/build_info.h: FORCE | $(B)
	@{ echo '/* generated by make */'; \
	   echo '#define BUILD_VERSION "$(VERSION)"'; \
	   echo '#define BUILD_COMMIT "$(COMMIT)"'; \
	   echo '#define BUILD_LIBDIR "$(LIBDIR)"'; \
	   echo '#define BUILD_LIBDIR_FROM_BIN "$(LIBDIR_FROM_BIN)"'; \
	   echo '#define BUILD_GLIBC_LIB "$(GLIBC_LIB)"'; } > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
FORCE:

$(B)/default_conf.c: conf/atomically.conf | $(B)
	@{ echo '/* generated from conf/atomically.conf */'; \
	   echo 'const char config_default_text[] ='; \
	   sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	   echo ';'; } > $@.tmp && mv $@.tmp $@

# Linked for a cheap start, as it loads into every process (issue 6):
# lazy binding (no -z now: binding all 70-odd imports at load cost 46,000
# instructions a start; a process binds only what it calls), and no
# separate code segment nor RELRO (two fewer mmap, one fewer mprotect and
# three fewer page faults a start: one mapping for headers, code and
# constants, one for the writable data, packed into fewer pages).  What
# RELRO would still guard with lazy binding (.got, .init_array, .dynamic;
# the PLT's GOT stays writable anyway) is not worth them here.
# They come after LDFLAGS, so that a distribution's hardening flags
# (-z relro -z now, debian/rules) harden the launcher but not these.
LIB_LDFLAGS := -Wl,-z,nodelete -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,-z,lazy
# And no _FORTIFY_SOURCE (which a distribution's CPPFLAGS bring): the
# library defines open, read and the rest that fortify's inline wrappers
# stand in front of, its hooks copy their declarations' attributes, and
# its own calls go to the real functions through pointers, which fortify
# does not check anyway.
LIB_CPPFLAGS := -U_FORTIFY_SOURCE

# After the link, scripts/check_hooks.sh holds what the library exports
# against the names core/sys.h refuses to the core: a hook added without
# its name there fails the build.
$(B)/libatomically.so: $(LIB_SRC) $(HEADERS) scripts/check_hooks.sh | $(B)
	$(CC) $(CPPFLAGS) $(LIB_CPPFLAGS) $(CFLAGS) -fPIC -shared \
	    -o $@.tmp $(LIB_SRC) $(LDFLAGS) $(LIB_LDFLAGS) -ldl -lpthread
	@scripts/check_hooks.sh $@.tmp src/core/sys.h src
	@mv $@.tmp $@  # a new inode: running processes keep mapping the old one

# The same library for musl programs: the same sources, the same flags,
# with src/preload/musl.h before each (what musl's headers do otherwise:
# its LFS64 macros, the list of loaded objects).  musl's headers come
# without the kernel's: the build's own include directory points at
# them.  No config module for musl (libconfuse is glibc's): the launcher
# always hands the rules down in ATOMICALLY_RULES.
MUSL_INC := $(B)/musl/include
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
$(MUSL_INC):
	@mkdir -p $@
	@ln -sfn /usr/include/linux $@/linux
	@ln -sfn /usr/include/asm-generic $@/asm-generic
	@ln -sfn /usr/include/$(MULTIARCH)/asm $@/asm
MUSL_CPPFLAGS := -isystem $(MUSL_INC) -D_LARGEFILE64_SOURCE -include src/preload/musl.h
$(B)/musl/libatomically.so: $(LIB_SRC) $(HEADERS) scripts/check_hooks.sh | $(MUSL_INC)
	$(MUSL_CC) $(CPPFLAGS) $(MUSL_CPPFLAGS) $(LIB_CPPFLAGS) $(CFLAGS) -fPIC -shared \
	    -o $@.tmp $(LIB_SRC) $(LDFLAGS) $(LIB_LDFLAGS)
	@scripts/check_hooks.sh $@.tmp src/core/sys.h src
	@mv $@.tmp $@
musl: $(MUSL_LIB)

$(B)/libatomically-conf.so: $(CONF_SRC) $(HEADERS) | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@.tmp $(CONF_SRC) $(LDFLAGS) -lconfuse
	@mv $@.tmp $@

# atomically_library_copy is exported so that the library, when a CI job
# preloads it into the launcher too, finds it and stays inert there.
$(B)/atomically: $(CLI_SRC) $(HEADERS) $(B)/build_info.h | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) \
	    -Wl,--export-dynamic-symbol=atomically_library_copy \
	    -o $@ $(CLI_SRC) $(LDFLAGS) -lconfuse -lpthread

# C unit tests: each with the core in a plain process; test_config with
# the config loader too.
$(B)/test_%: tests/unit/test_%.c $(CORE_SRC) $(PLAIN_SYS) $(HEADERS) | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(CORE_SRC) $(PLAIN_SYS) -lpthread
$(B)/test_config: tests/unit/test_config.c $(CONF_SRC) $(HEADERS) | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(CONF_SRC) -lconfuse

# Helper programs: plain C programs, built alike.
HELPER_FLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g -pthread
$(B)/%: tests/helpers/%.c tests/helpers/*.h | $(B)
	$(CC) $(HELPER_FLAGS) $(SANITIZE) -o $@ $<
# The helpers of bats/musl.bats, built against musl.
$(B)/musl/%: tests/helpers/%.c tests/helpers/*.h | $(MUSL_INC)
	$(MUSL_CC) $(HELPER_FLAGS) -isystem $(MUSL_INC) -o $@ $<
# The writer built with _FORTIFY_SOURCE and 64-bit offsets, and with
# AddressSanitizer (compat.bats: the library beside ASan's runtime).
$(B)/writer-fortify: tests/helpers/writer.c | $(B)
	$(CC) $(HELPER_FLAGS) -D_FORTIFY_SOURCE=2 -D_FILE_OFFSET_BITS=64 $(SANITIZE) -o $@ $<
$(B)/writer-asan: tests/helpers/writer.c | $(B)
	$(CC) $(HELPER_FLAGS) -O1 -fsanitize=address -fno-omit-frame-pointer -o $@ $<
# ASan has a vfork of its own, which calls the next one: the library's.
$(B)/proc_late-asan: tests/helpers/proc_late.c tests/helpers/*.h | $(B)
	$(CC) $(HELPER_FLAGS) -O1 -fsanitize=address -fno-omit-frame-pointer -o $@ $<
# A fault-injection preload (handover.bats): mmap fails in the image that
# was running when a trigger file appeared.  No $(SANITIZE): the
# sanitizers' runtimes interpose mmap themselves, and the test that uses
# it skips under them.
$(B)/%.so: tests/helpers/%.c | $(B)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $<

# The Go programs: each folder one program, built from its files alone
# (no module: the standard library is all they use).
$(B)/go/%: tests/go/%/*.go | $(B)
	@mkdir -p $(B)/go
	$(GO_ENV) $(GO) build -o $@ $(sort $(wildcard tests/go/$*/*.go))
# But golmscgo: golms's main.go with tests/go/golmscgo/cgo.go, which
# calls libc, built with cgo (CGO_ENABLED=1, gcc): the same program,
# dynamically linked against libc.  go build takes the files of one
# directory: both copied into one under the build directory.
$(B)/go/golmscgo: tests/go/golms/main.go tests/go/golmscgo/*.go | $(B)
	@rm -rf $@.src && mkdir -p $@.src
	cp $^ $@.src/
	cd $@.src && $(GO_ENV) CGO_ENABLED=1 $(GO) build -o $(abspath $@) $(notdir $^)
# gomixedcgo calls C itself: built with cgo too.
$(B)/go/gomixedcgo: tests/go/gomixedcgo/*.go | $(B)
	@mkdir -p $(B)/go
	$(GO_ENV) CGO_ENABLED=1 $(GO) build -o $@ $^

# Benchmark programs (tests/bench).
$(B)/bench:
	@mkdir -p $(B)/bench
$(B)/bench/%: tests/bench/%.c | $(B)/bench
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -o $@ $<
# The baseline preload of the process-start benchmark: an empty library.
$(B)/bench/empty.so: tests/bench/empty.c | $(B)/bench
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $<

deps-build:
	@scripts/deps.sh $(DEPS_BUILD)
# One apt-get run for both lists: two at once would fight over dpkg's lock.
deps-check:
	@scripts/deps.sh $(DEPS_CHECK) $(DEPS_COMPAT)
deps-compat:
	@scripts/deps.sh $(DEPS_BUILD) $(DEPS_COMPAT) bats bats-assert bats-support bats-file
deps-demo:
	@scripts/deps.sh $(DEPS_DEMO)
# node's write-file-atomic (a peer of benchmark 7) comes from npm, under
# build/: only when npm is there.
deps-bench:
	@scripts/deps.sh $(DEPS_BENCH)
	@if [ -d $(B)/bench/npm/node_modules/write-file-atomic ]; then :; \
	 elif command -v npm >/dev/null 2>&1; then \
	   mkdir -p $(B)/bench/npm && \
	   npm install --prefix $(B)/bench/npm --no-save --no-audit --no-fund --loglevel=error \
	       write-file-atomic@7 >/dev/null || echo "atomically: npm could not install write-file-atomic: its benchmark is skipped"; \
	 else echo "atomically: no npm: the write-file-atomic benchmark is skipped"; fi
deps-deb:
	@scripts/deps.sh $(DEPS_DEB)
deps-valgrind:
	@scripts/deps.sh $(DEPS_VALGRIND)
deps-fuzz:
	@scripts/deps.sh $(DEPS_FUZZ)

# The prerequisites run in order even under -j: deps, then the build.
# testprogs in a make of its own: it looks for go after deps-check
# installed it.
check: deps-check
	@$(MAKE) --no-print-directory all testprogs
	@$(MAKE) --no-print-directory deb
	@ATOMICALLY_DEB_REQUIRED=1 $(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory check-fuzz

# Opt-in: the writer killed 10,000 times (issue 3); 20 power cuts per
# power loss test (issue 5); the session's supervisor killed 100 times
# during its commit (issue 14; 20 in check).
check-long: deps-check
	@$(MAKE) --no-print-directory all $(TEST_PROGS) $(HELPERS)
	ATOMICALLY_KILLS=10000 CRASH_FIGURES=1 bats --print-output-on-failure bats/crash.bats
	POWER_TRIALS=20 POWER_FIGURES=1 bats --print-output-on-failure bats/powerloss.bats
	SESSION_KILLS=100 bats --print-output-on-failure -f 'killed SESSION_KILLS' bats/sessioncommit.bats

# ---- Sanitizers and valgrind (issue 5): opt-in, not part of check --------
#
# Each builds into a directory of its own and runs scripts/sanitizers.sh,
# which collects the sanitizers' reports and fails when there is one (or
# when a test fails).  gcc's runtimes: SAN_CC must be a gcc.
#
# check-asan: the library, the config module, the launcher, the C unit
# tests and every helper built with ASan and UBSan (no recovery: the
# first finding ends the process).  The unit tests run with leak
# detection; the suites run with the runtimes preloaded into every
# program (bash, python3, coreutils... none of them built with ASan), so
# leaks are not looked for there (theirs are not ours).  The suites:
#   library processes handover commit failures locks temps crash (250
#   kills, not 1,000): every behaviour of the library, its processes and
#   threads, the exec handover, its failures, its locks and its temps;
#   config clean metadata: the config module, --clean, ownership, modes
#   and extended attributes under ASan; seccomp: the launcher as the
#   seccomp supervisor of Go and static programs (about 40 s).
# Left out: launcher.bats asserts the exact LD_PRELOAD the launcher
# builds and uses ps, which hangs under a preloaded ASan (procps,
# llvm-project#49223); programs.bats (coreutils, python3 and perl
# writing through the library) takes as long as all the others together
# and is covered by the same library code paths in library.bats and
# processes.bats; install.bats installs into the system.  In the suites
# that run, the two tests without /proc are skipped (ASan's runtime needs
# it).  About 11 minutes on 2 CPUs.
SAN_CC      ?= gcc
ASAN_B      := build-asan
ASAN_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all
ASAN_SUITES ?= library processes handover commit failures locks temps crash config clean metadata \
               seccomp
TSAN_B      := build-tsan
TSAN_FLAGS  := -O1 -g -fsanitize=thread

check-asan: deps-check
	@$(MAKE) --no-print-directory B=$(ASAN_B) CC=$(SAN_CC) SANITIZE='$(ASAN_FLAGS)' all testprogs
	@CC=$(SAN_CC) scripts/sanitizers.sh asan $(ASAN_B) $(ASAN_SUITES)

# check-tsan: the library and the threaded helpers (proc_threads,
# proc_signal) built with TSan, run directly with the TSan runtime
# preloaded before the library: the load of processes.bats (threads,
# fork among threads, a descriptor number reused between threads,
# close() in a signal handler), not through bats (the launcher would put
# the library before the runtime).
check-tsan: deps-build
	@$(MAKE) --no-print-directory B=$(TSAN_B) CC=$(SAN_CC) SANITIZE='$(TSAN_FLAGS)' \
	    all $(TSAN_B)/proc_threads $(TSAN_B)/proc_signal
	@CC=$(SAN_CC) scripts/sanitizers.sh tsan $(TSAN_B)

# check-valgrind: memcheck (errors and definite leaks fail) on the plain
# build: the launcher's commands and the C unit tests.
check-valgrind: deps-valgrind
	@$(MAKE) --no-print-directory all $(TEST_PROGS)
	@scripts/sanitizers.sh valgrind $(B)

# ---- Fuzzing (issue 5): libFuzzer targets of tests/fuzz -----------------
#
# fuzz_config: the text of a config file (and -p patterns) through
# config_load, checked, and the ruleset through rules_encode/rules_decode;
# fuzz_match: a pattern and a path through glob_match (against a
# reference matcher and fnmatch), glob_check, path_normalise, rules_find.
# The decoders of the environment (issue 13), each fed any value:
# fuzz_rules: ATOMICALLY_RULES through rules_decode, re-encoded, decoded
# again; fuzz_handover: ATOMICALLY_PENDING through handover_pid,
# handover_parse and record_decode, written again by the library's
# writer and read back; fuzz_log: ATOMICALLY_LOG through log_env_parse,
# and any text through escape_text; fuzz_gitenv: GIT_CONFIG_COUNT
# through gitenv_count (against a model of git's reading) and the
# settings moved by gitenv_each; fuzz_preload: LD_PRELOAD through
# preload_list (the dynamic linker's reading; ASan's runtime first).
# Built with clang into $(FUZZ_B); libconfuse is the system's, not
# instrumented.  tests/fuzz/run.sh replays tests/fuzz/regressions/, then
# fuzzes into the working corpora under $(FUZZ_B)/corpus/.
#   make fuzz        FUZZ_SECONDS (600) per target, one after the other
#   make check-fuzz  the regressions, FUZZ_CHECK_SECONDS (10) for each of
#                    config and match, FUZZ_CHECK_ENV_SECONDS (5) for each
#                    decoder of the environment: part of check (about
#                    60 s; 10 s each since issue 17 brought the package's
#                    build and tests into check's twenty minutes; make
#                    fuzz runs 600 s each).  5 s is enough for those: each is a small
#                    function of one string, run 20,000 to 100,000 times
#                    a second there, and from the seeds each reaches in
#                    5 s the edges its 5-minute run reached (fuzz_handover
#                    330 to 333 of 335; docs/RELIABILITY.md, section 4).
FUZZ_CC      ?= clang
FUZZ_B       := $(B)/fuzz
FUZZ_FLAGS   := -std=gnu11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 600
FUZZ_CHECK_SECONDS ?= 10
FUZZ_CHECK_ENV_SECONDS ?= 5
FUZZ_ENV_TARGETS := rules handover log gitenv preload
FUZZ_TARGETS := config match $(FUZZ_ENV_TARGETS)
FUZZERS      := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)

$(FUZZ_B):
	@mkdir -p $(FUZZ_B)
$(FUZZ_B)/fuzz_config: tests/fuzz/fuzz_config.c $(CONF_SRC) $(HEADERS) | $(FUZZ_B)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_config.c $(CONF_SRC) -lconfuse
$(FUZZ_B)/fuzz_match: tests/fuzz/fuzz_match.c src/core/match.c src/core/rules.c $(HEADERS) | $(FUZZ_B)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_match.c src/core/match.c src/core/rules.c
$(FUZZ_B)/fuzz_rules: tests/fuzz/fuzz_rules.c src/core/rules.c $(HEADERS) | $(FUZZ_B)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_rules.c src/core/rules.c
# record.c reaches the locks, and they the rest of the core: all of it.
$(FUZZ_B)/fuzz_handover: tests/fuzz/fuzz_handover.c $(CORE_SRC) $(PLAIN_SYS) $(HEADERS) | $(FUZZ_B)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_handover.c $(CORE_SRC) $(PLAIN_SYS) -lpthread
FUZZ_LOG_SRC := src/core/log.c src/core/escape.c src/core/rules.c $(PLAIN_SYS)
$(FUZZ_B)/fuzz_log: tests/fuzz/fuzz_log.c $(FUZZ_LOG_SRC) $(HEADERS) | $(FUZZ_B)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_log.c $(FUZZ_LOG_SRC)
$(FUZZ_B)/fuzz_gitenv: tests/fuzz/fuzz_gitenv.c src/launcher/gitenv.c $(HEADERS) | $(FUZZ_B)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_gitenv.c src/launcher/gitenv.c
$(FUZZ_B)/fuzz_preload: tests/fuzz/fuzz_preload.c src/launcher/preloadenv.c $(HEADERS) | $(FUZZ_B)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_preload.c src/launcher/preloadenv.c

fuzzers: $(FUZZERS)
fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzzers
	tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
check-fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzzers
	FUZZ_FRESH=1 tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_CHECK_SECONDS) $(filter-out $(FUZZ_ENV_TARGETS),$(FUZZ_TARGETS))
	FUZZ_FRESH=1 tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_CHECK_ENV_SECONDS) $(FUZZ_ENV_TARGETS)

test:
	@for t in $(TEST_PROGS); do echo "== $$t"; $$t || exit 1; done
	bats --timing --print-output-on-failure bats/
	@echo "bats: $$(bats --count bats/) passed, 0 failed"

# docs/COMPATIBILITY.md's table, from a real run of the matrix.
compat-table: deps-compat
	@$(MAKE) --no-print-directory all $(HELPERS)
	scripts/compat_table.sh docs/COMPATIBILITY.md

demo: deps-demo
	@$(MAKE) -s --no-print-directory all $(HELPERS)
	@scripts/demo.sh

# Never part of check: the figures depend on the machine and its load.
bench: deps-bench
	@$(MAKE) --no-print-directory all $(BENCH)
	tests/bench/bench.sh
# docs/PERFORMANCE.md again from the last run's figures (after a change to
# tests/bench/analysis.md or report.sh), without running anything.
bench-report:
	tests/bench/report.sh $(B)/bench/results.tsv $(B)/bench/meta.txt docs

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(B)/atomically $(DESTDIR)$(BINDIR)/atomically
	install -m 644 $(B)/libatomically.so $(DESTDIR)$(LIBDIR)/libatomically.so
	install -m 644 $(B)/libatomically-conf.so $(DESTDIR)$(LIBDIR)/libatomically-conf.so
	install -m 644 docs/atomically.1 $(DESTDIR)$(MANDIR)/man1/atomically.1
	install -m 644 docs/atomically.conf.5 $(DESTDIR)$(MANDIR)/man5/atomically.conf.5
	install -d $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 conf/atomically.conf $(DESTDIR)$(DOCDIR)/examples/atomically.conf
	install -m 644 packaging/bash-completion/atomically $(DESTDIR)$(COMPLETIONDIR)/atomically
	if [ -f $(B)/musl/libatomically.so ]; then \
	    install -d $(DESTDIR)$(LIBDIR)/musl && \
	    install -m 644 $(B)/musl/libatomically.so $(DESTDIR)$(LIBDIR)/musl/libatomically.so; fi
	scripts/preload_tree.sh '$(DESTDIR)$(LIBDIR)' '$(GLIBC_LIB)'

# Removes the files install put, then the directories install made that
# are left empty (never one that still holds something: rmdir refuses).
INSTALLED = $(BINDIR)/atomically $(LIBDIR)/libatomically.so $(LIBDIR)/libatomically-conf.so \
            $(LIBDIR)/$(GLIBC_LIB)/libatomically.so $(LIBDIR)/$(GLIBC_LIB)/libatomically-conf.so \
            $(LIBDIR)/musl/libatomically.so $(LIBDIR)/$$LIB/libatomically.so \
            $(MANDIR)/man1/atomically.1 $(MANDIR)/man5/atomically.conf.5 \
            $(DOCDIR)/examples/atomically.conf $(COMPLETIONDIR)/atomically
uninstall:
	rm -f $(addprefix '$(DESTDIR),$(addsuffix ',$(INSTALLED)))
	@scripts/prune_dirs.sh '$(DESTDIR)' $(addprefix ',$(addsuffix ',$(sort $(dir $(INSTALLED)))))

# The Debian package (packaging/debian), built by dpkg-buildpackage in a
# copy of the tree under $(B)/deb, then checked by lintian.
deb: deps-deb
	@scripts/build_deb.sh $(B)/deb $(VERSION) $(COMMIT)

clean:
	rm -rf $(B) $(ASAN_B) $(TSAN_B)

.PHONY: FORCE preload-tree all musl testprogs check check-long check-asan check-tsan check-valgrind test demo \
        bench bench-report install uninstall deb deps-deb clean deps-build deps-check deps-demo deps-compat \
        deps-bench deps-valgrind deps-fuzz compat-table fuzzers fuzz check-fuzz
