#!/bin/sh
# run.sh BUILD SECONDS TARGET... - replay the saved regressions of each
# TARGET, then fuzz it for SECONDS (0: replay only).
#
# BUILD holds the fuzzers (BUILD/fuzz_TARGET, see the Makefile) and the
# working corpora (BUILD/corpus/TARGET): new inputs go there, never into
# the tree; later runs start from them, and each run ends by minimising
# its corpus.  With FUZZ_FRESH=1 (make check-fuzz) the run starts from
# the seeds alone, in BUILD/check-corpus/TARGET, so that its length does
# not depend on what earlier runs left.  The seeds of
# tests/fuzz/corpus/TARGET (and, for config, conf/atomically.conf) are
# read on every run.  A crash, a leak, a broken invariant or an input
# slower than FUZZ_TIMEOUT seconds fails the run; the input is kept as
# BUILD/artifacts/TARGET-*, to be fixed and then saved in
# tests/fuzz/regressions/TARGET/.  Each run's figures are printed from
# BUILD/TARGET.log.
set -eu
build=$(cd "$1" && pwd) seconds=$2
shift 2
# Absolute: fuzz_config changes directory while it loads, which is when
# libFuzzer writes a crashing input.  Its temporary files go under
# BUILD too, so that a crash (no clean-up) leaves nothing in /tmp.
rm -rf "$build/tmp" && mkdir -p "$build/tmp"
export TMPDIR="$build/tmp"
# Generous: an exponential matcher blows through any bound on inputs of
# 1 KiB, while a loaded CI machine must not trip it on a fair input.
timeout=${FUZZ_TIMEOUT:-25}
here=$(cd "$(dirname "$0")" && pwd)

max_len() {
	case $1 in
	config) echo 8192 ;;   # the default config is about 7 KiB
	# The default rules encode to about 750 bytes; a handover of a few
	# files takes as many.
	rules|handover) echo 4096 ;;
	*) echo 1024 ;;        # pattern and path: the matcher is cubic at worst
	esac
}

for t in "$@"; do
	bin=$build/fuzz_$t work=$build/corpus/$t regress=$here/regressions/$t
	if [ "${FUZZ_FRESH:-0}" = 1 ]; then
		work=$build/check-corpus/$t
		rm -rf "$work"
	fi
	mkdir -p "$work" "$build/artifacts"
	[ "$t" = config ] && cp "$here/../../conf/atomically.conf" "$work/default.conf"

	set -- "$regress"/*
	if [ -e "$1" ]; then
		echo "== fuzz_$t: $# saved regression cases"
		"$bin" -timeout="$timeout" "$@" >"$build/$t-regressions.log" 2>&1 || {
			cat "$build/$t-regressions.log"
			echo "fuzz_$t: a saved regression case fails" >&2
			exit 1
		}
	fi
	[ "$seconds" -gt 0 ] || continue

	echo "== fuzz_$t: $seconds s"
	if ! "$bin" -max_total_time="$seconds" -timeout="$timeout" \
		-max_len="$(max_len "$t")" -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t-" \
		"$work" "$here/corpus/$t" >"$build/$t.log" 2>&1; then
		tail -n 60 "$build/$t.log"
		echo "fuzz_$t: a finding; the input is in $build/artifacts/" >&2
		exit 1
	fi
	# The figures: the last status line and the final statistics.
	grep -E '^#[0-9]+[[:space:]]+DONE' "$build/$t.log" | tail -n 1
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
		"$build/$t.log" | tr '\n' ' '
	echo
	[ "${FUZZ_FRESH:-0}" = 1 ] && continue

	# libFuzzer keeps every input it once found new; keep only those that
	# still add coverage, for a quicker start next time.
	rm -rf "$work.min" && mkdir "$work.min"
	if "$bin" -merge=1 -timeout="$timeout" -max_len="$(max_len "$t")" \
		"$work.min" "$work" >"$build/$t-merge.log" 2>&1; then
		rm -rf "$work" && mv "$work.min" "$work"
	fi
	echo "working corpus: $(ls "$work" | wc -l) inputs"
done
