# temps.bats - a writer that dies leaves no temp behind once the next
# writer ran (SPEC section 3, "Processes"): anonymous temps (O_TMPFILE)
# go with the process; a named temp (no O_TMPFILE, no /proc, or the
# instant between naming a temp and the rename) is swept by the next
# writer of the same file, under its lock, once its owner is dead.

load helpers

setup() {
	common_setup
	PY=/usr/bin/python3
	[ -x "$PY" ] || PY=$(command -v python3)
	echo old > f.yaml
}

teardown() {
	[ -z "${LIVE:-}" ] || kill "$LIVE" 2> /dev/null || true
	[ -z "${NOPROC:-}" ] || umount -l "$NOPROC" 2> /dev/null || true
}

# killed_at_rename [LAUNCHER OPTIONS...]: a writer of f.yaml killed (by
# strace) on entering the rename of its commit, after its temp got a name.
killed_at_rename() {
	run strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:error=EIO:signal=SIGKILL:when=1 \
		env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$@" "$WRITER" open f.yaml dead
	assert_equal "$status" 137
	assert_loaded writer
	assert_equal "$(cat f.yaml)" old
	DEAD=$(compgen -G '.f.yaml.atomically.*') ||
		fail "no named temp was left by the killed writer: $(ls -A)"
}

@test "a writer killed mid-write leaves no temp: the temp is anonymous (O_TMPFILE)" {
	wrapped "$WRITER" open f.yaml "new content" 20 100 > /dev/null 2>&1 &
	local job=$! pid
	wait_for_temp .
	# While it writes, its temp has no name: /proc shows "#INODE (deleted)".
	assert_equal "$(compgen -G '.f.yaml.atomically.*' || true)" ""
	pid=$(temp_holders .)
	assert_equal "$(cat "/proc/$pid/comm")" writer
	kill -9 "$pid"
	wait "$job" || true
	assert_loaded writer
	assert_equal "$(cat f.yaml)" old
	assert_no_temps .
}

@test "a writer killed between naming its temp and the rename: the next writer removes the temp" {
	killed_at_rename
	# Reading the file is not writing it: the temp stays.
	run wrapped cat f.yaml
	assert_output old
	assert_file_exists "$DEAD"
	run wrapped "$WRITER" open f.yaml next
	assert_success
	assert_equal "$(cat f.yaml)" next
	assert_no_temps .
	grep -q "f.yaml: removed $DEAD, left by pid [0-9]*, which died before committing" "$LIBLOG" ||
		fail "no message about the removed temp: $(cat "$LIBLOG")"
}

@test "lock = process: a reader that finds a dead writer's mark keeps it for the next writer, who sweeps" {
	killed_at_rename
	# The reader takes the lock and reads the mark, but sweeps nothing (it
	# writes nothing); at its exit it must not remove the lock file, whose
	# mark is how the next writer learns of the temp.
	printf 'path "*.yaml" { lock = "process" }\n' > "$CONF"
	run wrapped cat f.yaml
	assert_output old
	assert_file_exists "$DEAD"
	printf 'path "*.yaml" { }\n' > "$CONF"
	run wrapped "$WRITER" open f.yaml next
	assert_success
	assert_equal "$(cat f.yaml)" next
	assert_no_temps .
}

@test "control: without a next writer under the library, the dead writer's temp stays" {
	killed_at_rename
	"$WRITER" open f.yaml next
	assert_equal "$(cat f.yaml)" next
	assert_file_exists "$DEAD"
}

@test "the sweep works with lock_dir = sidecar too" {
	printf 'lock_dir = "sidecar"\npath "*.yaml" { }\n' > "$CONF"
	killed_at_rename
	assert_file_exists .f.yaml.lock
	run wrapped "$WRITER" open f.yaml next
	assert_success
	assert_no_temps .
}

@test "a temp whose owner is alive is never removed; the next writers keep looking" {
	killed_at_rename
	sleep 60 &
	LIVE=$!
	local live=".f.yaml.atomically.$LIVE.abcdef"
	echo "a live writer's" > "$live"
	# Another file's temp and a name that only looks like one: not ours.
	echo other > ".g.yaml.atomically.999999999.abcdef"
	echo odd > ".f.yaml.atomically.12x.abcdef"
	run wrapped "$WRITER" open f.yaml next
	assert_success
	assert_file_not_exists "$DEAD"
	assert_file_exists "$live"
	assert_file_exists ".g.yaml.atomically.999999999.abcdef"
	assert_file_exists ".f.yaml.atomically.12x.abcdef"
	# Its owner dies: the next writer removes it (the lock file still
	# says a temp may be left).
	kill "$LIVE"
	wait "$LIVE" 2> /dev/null || true
	LIVE=
	run wrapped "$WRITER" open f.yaml last
	assert_success
	assert_file_not_exists "$live"
	assert_equal "$(cat f.yaml)" last
}

@test "lock = none: no lock, no sweep; the temp stays for atomically --clean" {
	printf 'path "*.yaml" { lock = "none" }\n' > "$CONF"
	killed_at_rename
	run wrapped "$WRITER" open f.yaml next
	assert_success
	assert_file_exists "$DEAD"
}

@test "without /proc, temps are named from the start; the next writer removes a killed writer's" {
	require_root "unmounts /proc in a private mount namespace"
	no_sanitizer "ASan needs /proc (its runtime reads /proc/self/maps as it starts)"
	command -v unshare > /dev/null || skip "unshare (util-linux) is missing"
	# In a mount namespace of its own, without /proc: an anonymous temp
	# could not be given a name at commit.
	unshare -m --propagation private sh -c '
		umount -l /proc || exit 99
		LD_PRELOAD=$1 ATOMICALLY_LOG=debug:$2 "$0" open f.yaml "new content" 20 100 &
		echo $! > writer.pid
		i=0
		until ls -A | grep -q "^\.f\.yaml\.atomically\."; do
			i=$((i + 1)); [ $i -lt 50 ] || exit 98; sleep 0.1
		done
		kill -9 "$(cat writer.pid)"
		wait
		ls -A > left.txt
	' "$WRITER" "$PRELOAD" "$LIBLOG" 3>&- || fail "the run without /proc failed: $?"
	assert_loaded writer
	grep -q '^\.f\.yaml\.atomically\.' left.txt || fail "no named temp was made: $(cat left.txt)"
	assert_equal "$(cat f.yaml)" old
	run wrapped "$WRITER" open f.yaml next
	assert_success
	assert_equal "$(cat f.yaml)" next
	assert_no_temps .
}
