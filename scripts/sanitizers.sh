#!/bin/bash
# sanitizers.sh - run the tests against a sanitizer build (make check-asan,
# make check-tsan) or under valgrind (make check-valgrind).  The Makefile
# builds first; this script only runs, collects the sanitizers' reports
# and fails when there is one.
#
#   scripts/sanitizers.sh asan BUILD SUITE...
#       BUILD: a build with -fsanitize=address,undefined (library, config
#       module, launcher, C tests, helpers).  The C unit tests run with
#       leak detection; then the bats suites named (bats/SUITE.bats) run
#       against BUILD (ATOMICALLY_BUILD), with the ASan and UBSan runtimes
#       first in every test's LD_PRELOAD (ATOMICALLY_SAN_PRELOAD).
#   scripts/sanitizers.sh tsan BUILD
#       BUILD: the library and proc_threads, proc_signal built with
#       -fsanitize=thread; the helpers run directly, with the library
#       preloaded after the TSan runtime.
#   scripts/sanitizers.sh valgrind BUILD
#       memcheck on the launcher (a few commands) and the C unit tests of
#       BUILD, an ordinary build.
#
# The sanitizers write their reports into BUILD/sanitizer-logs (log_path),
# not to stderr: the suites capture the programs' output, and a report
# must not be lost in it, nor change what a test sees.  A run is clean
# when every test passed and that directory is empty.
set -u

mode=${1:?usage: sanitizers.sh asan|tsan|valgrind BUILD [SUITE...]}
build=${2:?usage: sanitizers.sh asan|tsan|valgrind BUILD [SUITE...]}
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
case $build in /*) ;; *) build="$top/$build" ;; esac
logs="$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
CC=${CC:-cc}
failed=0

say() { printf '== %s\n' "$*"; }

# run NAME COMMAND...: run COMMAND, count a failure.
run() {
	local name=$1
	shift
	say "$name"
	"$@" || { echo "FAILED ($?): $name"; failed=$((failed + 1)); }
}

# runtime LIB: the path of a sanitizer runtime the compiler links against.
runtime() {
	local p
	p=$("$CC" -print-file-name="$1")
	[ -e "$p" ] || { echo "sanitizers.sh: no $1 for $CC" >&2; exit 1; }
	printf '%s' "$p"
}

# symbolize: copy a report, each "(MODULE+0xOFFSET)" frame of the
# library, of a program of BUILD or of the sanitizer's runtime followed
# by its function and line (the TSan runs do not symbolize in-process).
symbolize() {
	local line m off bin
	while IFS= read -r line; do
		printf '%s' "$line"
		if [[ $line =~ \(([^+()]+)\+(0x[0-9a-f]+)\) ]]; then
			m=${BASH_REMATCH[1]} off=${BASH_REMATCH[2]} bin=
			if [ -e "$build/$m" ]; then bin=$build/$m
			elif [[ $m == lib*san.so* ]]; then bin=$("$CC" -print-file-name="$m")
			fi
			[ -n "$bin" ] && [ -e "$bin" ] &&
				printf '  %s' "$(addr2line -f -e "$bin" "$off" 2> /dev/null | paste -sd' ')"
		fi
		printf '\n'
	done
}

# Reports: ASan, UBSan and TSan write LOG.PID; valgrind writes its own
# files, which hold a report only when an error was counted (checked by
# --error-exitcode, so they are kept only then).
report() {
	local f n=0
	for f in "$logs"/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		echo "---- $f"
		head -n 60 "$f" | symbolize
	done
	if [ "$n" -gt 0 ]; then
		echo "sanitizers.sh: $mode: $n report(s) in $logs" >&2
		return 1
	fi
	if [ "$failed" -gt 0 ]; then
		echo "sanitizers.sh: $mode: $failed run(s) failed, no sanitizer report" >&2
		return 1
	fi
	echo "sanitizers.sh: $mode: clean"
}

# Every C unit test (tests/unit/test_*.c), as built into BUILD.
unit_tests() {
	local src t
	for src in "$(dirname "$0")"/../tests/unit/test_*.c; do
		t=$(basename "$src" .c)
		run "$t" "$@" "$build/$t"
	done
}

case $mode in
asan)
	# For our own programs (the C unit tests): everything on, leaks too.
	# halt_on_error is ASan's default, and UBSan's with
	# -fno-sanitize-recover=all; it is spelled out all the same.
	export ASAN_OPTIONS="log_path=$logs/asan:halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
	export UBSAN_OPTIONS="log_path=$logs/ubsan:halt_on_error=1:print_stacktrace=1"
	unit_tests

	# The suites: the library goes into bash, python3, perl, coreutils,
	# none built with ASan, so the runtimes are preloaded before it.  The
	# launcher puts its library first in LD_PRELOAD, so ASan's check that
	# its runtime comes first is off (the runtime still comes before libc,
	# so its malloc is the one every process uses).  Leaks are not looked
	# for: those programs' own leaks are not ours and cannot be told from
	# ours (the C unit tests above are checked for leaks, and valgrind
	# checks the launcher).
	#
	# log_path has no directory in it: with one, the runtimes' start
	# calls stat() and mkdir() on its parents, which the preloaded
	# library interposes, and its code, instrumented, runs before the
	# runtime is set up and crashes.  So each report is written into the
	# current directory of the process that makes it: a test's own
	# directory, under $TMPDIR, which is kept until the reports have been
	# collected (san_keep_reports in bats/helpers.bash moves them out of
	# the file systems a test unmounts).
	export ATOMICALLY_BUILD="$build"
	export ATOMICALLY_SAN_PRELOAD="$(runtime libasan.so):$(runtime libubsan.so)"
	export ASAN_OPTIONS="log_path=atomically-asan:halt_on_error=1:detect_leaks=0:verify_asan_link_order=0"
	export UBSAN_OPTIONS="log_path=atomically-ubsan:halt_on_error=1:print_stacktrace=1"
	export ATOMICALLY_KILLS=${ATOMICALLY_KILLS:-250}
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/atomically-asan.XXXXXX") || exit 1
	trap 'rm -rf --one-file-system "$tmp"' EXIT
	suites=()
	for s in "$@"; do suites+=("bats/$s.bats"); done
	run "bats ${*}" env TMPDIR="$tmp" bats --no-tempdir-cleanup --print-output-on-failure "${suites[@]}"
	# Each report, named after the test directory it was found in.
	while IFS= read -r f; do
		rel=${f#"$tmp"/}
		mv -- "$f" "$logs/$(printf '%s' "$rel" | tr / _)"
	done < <(find "$tmp" "$top" -xdev -maxdepth 8 -type f -name 'atomically-*san.*' 2> /dev/null)
	;;
tsan)
	# The helpers are built with TSan too, so that their own threads'
	# accesses are seen along with the library's, and run directly, not
	# under the launcher: the TSan runtime must come before the library
	# in LD_PRELOAD, and the launcher would put the library first.  With
	# the runtime first, the descriptors the library opens, duplicates
	# and closes for itself are out of TSan's sight altogether (its calls
	# through dlsym(RTLD_NEXT) go past the runtime to libc); with the
	# library first, TSan would see their close() but not their openat()
	# or fcntl(F_DUPFD) (which it does not intercept), and take the reuse
	# of a number by another thread for a race.
	#
	# No log_path: with one, the runtime's start calls mkdir(), which the
	# preloaded library interposes, before the runtime is set up.  The
	# reports go to stderr, which is kept per run; one with a report in
	# it is a report.  The library logs to stderr too (ATOMICALLY_LOG=
	# debug), so that the first line proves it is loaded.
	export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
	# No symbolizing in the process: the runtime's own symbolizer opens
	# /proc/self/exe through the interposed open() while it holds its
	# report lock, the library's read-back lookup touches memory TSan
	# watches, and a second report inside the first deadlocks.  The
	# reports keep module+offset; report() below turns them into function
	# and line with addr2line.
	TSAN_OPTIONS="$TSAN_OPTIONS:symbolize=0"
	pre="$(runtime libtsan.so):$build/libatomically.so"
	conf="$logs.conf"
	printf 'path "*.json" { durability = "none" }\n' > "$conf"
	rules=$(ATOMICALLY_CONF=$conf "$build/atomically" --env | sed -n "s/^export ATOMICALLY_RULES='\(.*\)'$/\1/p")
	[ -n "$rules" ] || { echo "sanitizers.sh: no rules from $build/atomically --env" >&2; exit 1; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/atomically-tsan.XXXXXX") || exit 1
	trap 'rm -rf "$work"' EXIT
	n=0
	# helper NAME ARGS...: build/NAME ARGS in a directory of its own, as
	# bats/processes.bats runs it; its stderr kept as a report if TSan
	# wrote into it.
	helper() {
		local name=$1 d err st
		n=$((n + 1))
		d="$work/$n"
		err="$d.stderr"
		mkdir -p "$d/run"
		(cd "$d" && exec env XDG_RUNTIME_DIR="$d/run" ATOMICALLY_RULES="$rules" \
			ATOMICALLY_LOG=debug LD_PRELOAD="$pre" "$build/$name" "${@:2}") 2> "$err"
		st=$?
		if grep -q 'ThreadSanitizer' "$err"; then
			cp "$err" "$logs/tsan.$n.$name"
		fi
		grep -q "^atomically: active in pid [0-9]* ($name)" "$err" || {
			echo "the library was not loaded in $name: $(head -n 5 "$err")"
			return 1
		}
		grep -c ': committed' "$err" | sed 's/^/commits: /'
		return "$st"
	}
	run "proc_threads write 16 200 01234" helper proc_threads write 16 200 01234
	run "proc_threads fork 8 100 01234 100" helper proc_threads fork 8 100 01234 100
	run "proc_threads reuse 2 2000" helper proc_threads reuse 2 2000
	run "proc_signal 1000 200" helper proc_signal 1000 200
	;;
valgrind)
	vg=(valgrind --quiet --error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
		--track-origins=yes --trace-children=no)
	unit_tests "${vg[@]}" --log-file="$logs/vg.%p"
	conf="$logs.conf"
	printf 'path "*.json" { durability = "file" }\npath "/tmp/**" { enabled = false }\n' > "$conf"
	L="$build/atomically"
	run "atomically --help" "${vg[@]}" --log-file="$logs/vg.%p" "$L" --help
	run "atomically --version" "${vg[@]}" --log-file="$logs/vg.%p" "$L" --version
	run "atomically --check-config" "${vg[@]}" --log-file="$logs/vg.%p" "$L" --check-config "$conf"
	run "atomically -c CONF --explain" "${vg[@]}" --log-file="$logs/vg.%p" "$L" -c "$conf" --explain a.json /tmp/b.json c.txt
	run "atomically -c CONF --env" "${vg[@]}" --log-file="$logs/vg.%p" "$L" -c "$conf" --env
	run "atomically -c CONF /bin/true" "${vg[@]}" --log-file="$logs/vg.%p" "$L" -c "$conf" /bin/true
	run "atomically -p x.json /bin/true" "${vg[@]}" --log-file="$logs/vg.%p" "$L" -p x.json /bin/true
	# valgrind writes a log per process even when it found nothing: only
	# the logs with an error in them are reports.
	for f in "$logs"/vg.*; do
		[ -e "$f" ] || continue
		[ -s "$f" ] || rm -f "$f"
	done
	;;
*)
	echo "sanitizers.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
report
