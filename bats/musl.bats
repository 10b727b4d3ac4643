#!/usr/bin/env bats
# musl.bats - the library built for musl ($B/musl/libatomically.so, issue
# 17) in programs linked against musl: the helpers of tests/helpers built
# with musl-gcc into $B/musl/.  The glibc build cannot load into them (a
# musl program with it in LD_PRELOAD does not even start), so these tests
# set LD_PRELOAD to the musl build themselves, with the rules as
# `atomically --env` prints them: the musl build reads no config of its
# own.  Each behaviour is checked against the same program without the
# library (the control), so that a test fails when the behaviour goes.

load helpers

setup() {
	common_setup
	[ -z "$SAN_PRELOAD" ] || skip "not under a sanitizer: its runtime is glibc's"
	command -v musl-gcc > /dev/null ||
		skip "musl-gcc is not installed (Debian: musl-tools): no musl build to test"
	M="$B/musl"
	MLIB="$M/libatomically.so"
	[ -e "$MLIB" ] && [ -x "$M/writer" ] && [ -x "$M/lms_counter" ] && [ -x "$M/exec_self" ] && [ -x "$M/bynumber" ] ||
		fail "musl-gcc is installed but the musl build is missing: make all testprogs"
	printf 'path "*.json" { }\n' > "$CONF"
}

# rules: ATOMICALLY_RULES exported as `atomically --env` prints it for $CONF.
rules() {
	local line
	line=$("$ATOMICALLY" --env | grep '^export ATOMICALLY_RULES=') ||
		fail "atomically --env printed no ATOMICALLY_RULES"
	eval "$line"
}

# musl_preloaded COMMAND...: COMMAND with the musl build in LD_PRELOAD and
# the library's debug messages in $LIBLOG.
musl_preloaded() {
	ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$MLIB" "$@"
}

@test "musl: a musl program starts with the musl build preloaded, and the library says it is active" {
	rules
	run musl_preloaded "$M/writer" open a.json hello
	assert_success
	assert_loaded writer
	assert_equal "$(cat a.json)" hello
}

@test "musl: without ATOMICALLY_RULES the musl build reads no config: one warning, the program runs unwrapped" {
	echo old > a.json
	local before
	before=$(inode a.json)
	run env LD_PRELOAD="$MLIB" "$M/writer" open a.json new
	assert_success
	assert_output "atomically: ATOMICALLY_RULES is not set, and the library built for musl reads no config: this program runs without atomic writes (run it under atomically, or export what \`atomically --env\` prints)"
	assert_equal "$(cat a.json)" new
	assert_equal "$(inode a.json)" "$before"
}

# commit_test METHOD: the writer's METHOD replaces a.json by a new inode,
# committed; without the library the same write reuses the inode.
commit_test() {
	echo old > a.json
	local before
	before=$(inode a.json)
	rules
	run musl_preloaded "$M/writer" "$1" a.json "new content"
	assert_success
	assert_loaded writer
	assert_commits a.json 1
	assert_equal "$(cat a.json)" "new content"
	[ "$(inode a.json)" != "$before" ] || fail "a.json was written in place"
	assert_no_temps .
	# The control: the same program, no library: the same inode.
	before=$(inode a.json)
	run env -u LD_PRELOAD "$M/writer" "$1" a.json "control"
	assert_success
	assert_equal "$(inode a.json)" "$before"
}

@test "musl: open(O_TRUNC), write, close: committed as a new inode (control: in place)" {
	commit_test open
}

@test "musl: fopen, fwrite, fclose: committed as a new inode (control: in place)" {
	commit_test fopen
}

@test "musl: a file that does not match is written in place" {
	echo old > a.txt
	local before
	before=$(inode a.txt)
	rules
	run musl_preloaded "$M/writer" open a.txt new
	assert_success
	assert_loaded writer
	assert_equal "$(inode a.txt)" "$before"
	assert_equal "$(cat a.txt)" new
}

# killed_midway [ENV-ARGS...]: the writer under `env ENV-ARGS` (which
# execs it: $! is the writer), slowed to 10 chunks 200 ms apart, killed
# (SIGKILL) after its first chunks; prints a.json's content.
killed_midway() {
	echo old > a.json
	env "$@" "$M/writer" open a.json "0123456789" 10 200 &
	local pid=$!
	# The first chunk is out once the file has changed (control) or the
	# library announced its temp.
	for ((i = 0; i < 50; i++)); do
		grep -q 'a.json: writing' "$LIBLOG" 2> /dev/null && break
		[ "$(cat a.json)" != old ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -KILL "$pid"
	wait "$pid" 2> /dev/null || true
	cat a.json
}

@test "musl: SIGKILL in the middle of the writes leaves the old file (control: a torn one)" {
	rules
	run killed_midway ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$MLIB"
	assert_output old
	assert_loaded writer
	assert_commits a.json 0
	assert_no_temps .
	run killed_midway -u LD_PRELOAD
	[ "$output" != old ] || fail "the control kept the old file: the kill came too late"
}

@test "musl: lock = process: a second process waits for the first one's lock (lock_timeout = 0: gives up)" {
	printf 'path "counter.json" { lock = "process" lock_timeout = 0 }\n' > "$CONF"
	rules
	# The holder finds no counter with stat (which takes the lock) and
	# pauses 2 s before it creates one.
	musl_preloaded "$M/lms_counter" counter.json 2000 &
	local holder=$!
	wait_for_log 'counter.json: locked'
	run musl_preloaded "$M/lms_counter" counter.json
	assert_failure 1
	assert_output "lms_counter: stat counter.json: Resource temporarily unavailable"
	wait "$holder"
	assert_equal "$(cat counter.json)" 1
	grep -q 'counter.json: locked by pid [0-9]* (.*lms_counter.*); gave up after waiting 0 s' "$LIBLOG" ||
		fail "no message naming the file, the holder and the wait: $(cat "$LIBLOG")"
	# The control: without the library the second run does not wait.
	rm counter.json
	env -u LD_PRELOAD "$M/lms_counter" counter.json 2000 &
	holder=$!
	sleep 0.5
	run env -u LD_PRELOAD "$M/lms_counter" counter.json
	assert_success
	wait "$holder"
}

# lms_increments PROCS ROUNDS [LAUNCHER...]: PROCS loops of ROUNDS
# stat-read-write increments of counter.json at once (the first of each
# pausing 100 ms between its stat and its create); prints the counter.
lms_increments() {
	local procs=$1 rounds=$2 p i
	shift 2
	rm -f counter.json
	for ((p = 0; p < procs; p++)); do
		(for ((i = 0; i < rounds; i++)); do
			"$@" "$M/lms_counter" counter.json $((i == 0 ? 100 : 0)) 2> /dev/null
		done) &
	done
	wait
	cat counter.json
}

@test "musl: 8 processes x 10 load-modify-save increments under lock = process lose no update (control: they do)" {
	printf 'path "counter.json" { lock = "process" }\n' > "$CONF"
	rules
	run lms_increments 8 10 env ATOMICALLY_LOG="warn:$LIBLOG" LD_PRELOAD="$MLIB"
	assert_output 80
	[ ! -s "$LIBLOG" ] || fail "the library warned: $(head -5 "$LIBLOG")"
	assert_no_temps .
	run lms_increments 8 10 env -u LD_PRELOAD
	if [[ "$output" =~ ^[0-9]+$ ]] && [ "$output" -ge 80 ]; then
		fail "no update was lost without the library: $output"
	fi
}

@test "musl: fork + exec: the child (a musl program) writes through the inherited descriptor; only the parent's close commits" {
	echo old > a.json
	rules
	run musl_preloaded "$M/exec_self" fork_exec a.json
	assert_success
	assert_line "before: old"
	assert_line "after: parent child"
	assert_loaded exec_self
	assert_commits a.json 1
	[ "$(grep -c '^atomically: active in pid' "$LIBLOG")" = 2 ] ||
		fail "the library was not active in both the parent and the exec'd child: $(cat "$LIBLOG")"
	echo old > a.json
	run env -u LD_PRELOAD "$M/exec_self" fork_exec a.json
	assert_success
	assert_line "before: parent child"
}

@test "musl: exec: a pending file crosses the exec into the new image, which commits it at its close" {
	echo old > a.json
	rules
	run musl_preloaded "$M/exec_self" exec a.json
	assert_success
	assert_line "before: old"
	assert_line "after: parent second"
	grep -q 'a.json: adopted across exec' "$LIBLOG" ||
		fail "the new image did not adopt the file: $(cat "$LIBLOG")"
	assert_commits a.json 1
	echo old > a.json
	run env -u LD_PRELOAD "$M/exec_self" exec a.json
	assert_success
	assert_line "before: parent second"
}

@test "musl: statx and close_range by syscall(), which musl 1.2.3 has no function for: the view, then the commit" {
	echo old > a.json
	local before
	before=$(inode a.json)
	rules
	# Without the kernel's stand-ins for them (real.c) the library found
	# no statx after it, and aborted the program.
	run musl_preloaded "$M/bynumber" a.json hello
	assert_success
	assert_output "$(printf 'statx: 5\nclose_range: 0')"
	assert_loaded bynumber
	assert_commits a.json 1
	assert_equal "$(cat a.json)" hello
	[ "$(inode a.json)" != "$before" ] || fail "a.json was written in place"
	before=$(inode a.json)
	run env -u LD_PRELOAD "$M/bynumber" a.json hi
	assert_success
	assert_equal "$(inode a.json)" "$before"
}
