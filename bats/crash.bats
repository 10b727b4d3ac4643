#!/usr/bin/env bats
# crash.bats - a writer killed with SIGKILL at random moments (SPEC §3
# "Processes", §6 "Crash"; issue 3): under the library the target is
# never torn, never empty, never older than it was, and no temp is left
# once the next writer ran.  ATOMICALLY_KILLS kills of the C writer
# (default 1,000; `make check-long` runs 10,000), a tenth as many of a
# Python writer, a fifth as many on a small tmpfs and on a loop-mounted
# ext4 (at least 50 each).  Every run with the library first proves that
# the library is loaded in the writer; every one has its control without
# the library, which must find torn or empty files, so that the test is
# known to be able to fail.
#
# The driver, tests/helpers/crash_kill.c, starts a writer per run
# (build/crash_writer: open(O_TRUNC), 128 KiB in 8 write()s, close(); or
# tests/helpers/crash_writer.py: json.dump into open(..., "w")), kills it before,
# in or after its writes, and checks the target byte for byte; it prints
# its figures as NAME=N words.  CRASH_FIGURES=1 copies them into bats's
# output.

load helpers

setup_file() {
	find_python
}

setup() {
	common_setup
	KILL="$B/crash_kill"
	CWRITER="$B/crash_writer"
	# The Python writer.  -S: no site-packages, which it does not need and
	# whose .pth files can double the time a start takes.
	PYWRITER=("$PY" -S "$TOP/tests/helpers/crash_writer.py")
	local p
	for p in "$KILL" "$CWRITER"; do
		[ -x "$p" ] || fail "$p is not built: make ${p#"$TOP"/}"
	done
	KILLS=${ATOMICALLY_KILLS:-1000}
	# Fewer kills of the slower writers, but never so few that the kills
	# might not land before, in and after the writes.
	PYKILLS=$((KILLS / 10 > 50 ? KILLS / 10 : 50))
	FSKILLS=$((KILLS / 5 > 50 ? KILLS / 5 : 50))
	# The rules compiled once, the way `atomically --env` hands them to CI
	# steps: a writer then starts without parsing the config.
	eval "$("$ATOMICALLY" --env | grep '^export ATOMICALLY_RULES=')"
	[ -n "${ATOMICALLY_RULES:-}" ] || fail "atomically --env gave no ATOMICALLY_RULES"
	MOUNTS="$BATS_TEST_TMPDIR/.mounts"
	: > "$MOUNTS"
}

# Unmount what the test mounted.
teardown() {
	cd "$BATS_TEST_TMPDIR" || true
	unmount_all
}

# ---- helpers of this file ------------------------------------------------

# prove_loaded NAME WRITER...: a short run of the driver with the library
# on proof/state.json, its debug log in $LIBLOG: the library announced
# itself in the writer (process name NAME) and committed the file.
prove_loaded() {
	local name=$1
	shift
	mkdir -p proof
	: > "$LIBLOG"
	ATOMICALLY_LOG="debug:$LIBLOG" run "$KILL" -n 2 --preload "$PRELOAD" "$@"
	assert_loaded "$name"
	grep -q '/proof/state.json: committed' "$LIBLOG" ||
		fail "the library did not commit proof/state.json: $(cat "$LIBLOG")"
}

# figure NAME: the driver's figure NAME=N in $output.
figure() {
	sed -n "s/^\(.* \)\{0,1\}$1=\([0-9][0-9]*\).*/\2/p" <<< "$output" | head -n 1
}

# assert_figures_zero NAME...: each figure is 0.
assert_figures_zero() {
	local w
	for w in "$@"; do
		[ "$(figure "$w")" = 0 ] || fail "$w is $(figure "$w"), not 0: $output"
	done
}

# assert_figure_positive NAME: the figure is above 0.
assert_figure_positive() {
	[ "$(figure "$1")" -gt 0 ] 2>/dev/null || fail "$1 is not above 0: $output"
}

# show_figures LABEL: the driver's figures into bats's output, when
# CRASH_FIGURES is set.
show_figures() {
	[ -z "${CRASH_FIGURES:-}" ] || grep -E '^(runs|timing)' <<< "$output" | sed "s/^/# $1: /" >&3
}

# killed_under_library N FORMAT WRITER...: N kills of WRITER writing
# ./state.json with the library; every figure that the library promises,
# asserted: the kills were spread (before the open, in the writes, some
# writers finished), nothing was empty, torn, lost or out of order, and
# once the final writer ran, no temp was left.
killed_under_library() {
	local kills=$1 format=$2
	shift 2
	run "$KILL" -n "$kills" --format "$format" --preload "$PRELOAD" --expect-no-temps \
		state.json "$@"
	show_figures "library"
	[ "$(figure kills)" = "$kills" ] || fail "not $kills kills: $output"
	assert_figure_positive before_open
	assert_figure_positive mid_write
	assert_figure_positive finished
	assert_figures_zero empty torn vanished backwards future lost errors
	assert_figures_zero temps
	assert_success
}

# killed_without_library N FORMAT WRITER...: the control: N kills of the
# same writer without the library leave the target torn or empty.
killed_without_library() {
	local kills=$1 format=$2
	shift 2
	run "$KILL" -n "$kills" --format "$format" state.json "$@"
	show_figures "control"
	[ "$(figure kills)" = "$kills" ] || fail "not $kills kills: $output"
	assert_figure_positive mid_write
	assert_figures_zero errors
	[ $(($(figure torn) + $(figure empty))) -gt 0 ] ||
		fail "the control found no torn or empty file: $output"
	assert_failure 1
}

# ---- the proof that the library is in the writers --------------------------

@test "the driver gives the library to the C and the Python writers with --preload, and only then" {
	prove_loaded crash_writer proof/state.json "$CWRITER"
	prove_loaded "$PYNAME" --format json proof/state.json "${PYWRITER[@]}"
	# Without --preload (the control) the writer runs without the library,
	# even when the caller's environment has it.
	: > "$LIBLOG"
	ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$PRELOAD" \
		run "$KILL" -n 2 control.json "$CWRITER"
	! grep -q '(crash_writer)' "$LIBLOG" ||
		fail "the library was loaded in the control's writer: $(cat "$LIBLOG")"
}

# ---- the C writer: open(O_TRUNC), 8 write()s, close() --------------------------

@test "C writer killed ATOMICALLY_KILLS (1,000) times under the library: never torn or empty, no temp left" {
	prove_loaded crash_writer proof/state.json "$CWRITER"
	killed_under_library "$KILLS" text "$CWRITER"
}

@test "control: the C writer killed 200 times without the library leaves torn or empty files" {
	killed_without_library 200 text "$CWRITER"
}

# ---- Python: json.dump into open(..., "w") --------------------------------------

@test "Python json.dump writer killed ATOMICALLY_KILLS/10 times under the library: never torn or empty, no temp left" {
	prove_loaded "$PYNAME" --format json proof/state.json "${PYWRITER[@]}"
	killed_under_library "$PYKILLS" json "${PYWRITER[@]}"
}

@test "control: the Python writer killed 20 times without the library leaves torn or empty files" {
	killed_without_library 20 json "${PYWRITER[@]}"
}

# ---- other file systems: a small tmpfs, a loop-mounted ext4 --------------------

# on_tmpfs: a 32 MiB tmpfs on ./mnt, entered.
on_tmpfs() {
	require_root "mounting a tmpfs"
	mount_here mnt -t tmpfs -o size=32m,mode=755 tmpfs
	cd mnt || fail "cannot enter mnt"
}

# on_ext4: a 64 MiB ext4 image, loop-mounted on ./mnt, entered.
on_ext4() {
	require_root "loop-mounting an ext4 image"
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is missing (Debian: e2fsprogs)"
	losetup -f >/dev/null 2>&1 || skip "no free loop device on this machine"
	truncate -s 64M ext4.img
	mkfs.ext4 -q -F ext4.img || fail "mkfs.ext4 failed"
	mount_here mnt -o loop ext4.img
	cd mnt || fail "cannot enter mnt"
}

@test "tmpfs: the C writer killed ATOMICALLY_KILLS/5 times under the library: never torn or empty, no temp left" {
	on_tmpfs
	prove_loaded crash_writer proof/state.json "$CWRITER"
	killed_under_library "$FSKILLS" text "$CWRITER"
}

@test "control: tmpfs: the C writer killed 50 times without the library leaves torn or empty files" {
	on_tmpfs
	killed_without_library 50 text "$CWRITER"
}

@test "ext4 (loop): the C writer killed ATOMICALLY_KILLS/5 times under the library: never torn or empty, no temp left" {
	on_ext4
	prove_loaded crash_writer proof/state.json "$CWRITER"
	killed_under_library "$FSKILLS" text "$CWRITER"
}

@test "control: ext4 (loop): the C writer killed 50 times without the library leaves torn or empty files" {
	on_ext4
	killed_without_library 50 text "$CWRITER"
}

# ---- named temps: a process without /proc cannot name an anonymous temp ----

@test "without /proc (named temps): the C writer killed ATOMICALLY_KILLS/5 times: never torn, each dead writer's temp swept by the next" {
	require_root "unmounts /proc in a private mount namespace"
	no_sanitizer "ASan needs /proc (its runtime reads /proc/self/maps as it starts)"
	command -v unshare > /dev/null || skip "unshare (util-linux) is missing"
	ATOMICALLY_LOG="info:$LIBLOG" run unshare -m --propagation private sh -c '
		umount -l /proc || exit 99
		exec "$@"' sh "$KILL" -n "$FSKILLS" --preload "$PRELOAD" --expect-no-temps \
		state.json "$CWRITER"
	show_figures "no /proc"
	[ "$(figure kills)" = "$FSKILLS" ] || fail "not $FSKILLS kills: $output"
	assert_figure_positive mid_write
	assert_figures_zero empty torn vanished backwards future lost errors temps
	assert_success
	# The temps were named, and the writers after the killed ones removed them.
	grep -q 'state.json: removed \.state\.json\.atomically\.[0-9]*\.[0-9a-f]*, left by pid' "$LIBLOG" ||
		fail "no named temp was swept: $(head -n 5 "$LIBLOG")"
}
