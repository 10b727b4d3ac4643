#!/usr/bin/env bats
# afterclose.bats - no write after the close is lost (issue 12, item 5):
# a shared writable mapping stores into a pending file after its
# descriptor is closed, and a child that inherited the descriptor writes
# after its parent closed its own.  The file is held back until the
# mapping goes (munmap, exit) or the child is reaped (wait, pclose) or
# the writer exits; a reader meanwhile sees the old file.
#
# Every case runs without the library too: the content must agree.  The
# library of before this work lost these writes (the file was dropped as
# unchanged at the close) or exposed a half-made file; the tests check
# both what the program ends with and what a reader saw meanwhile.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	MAPWRITER="$B/mapwriter"
	LATE="$B/proc_late"
	find_python
}

# on_disk FILE: FILE's lines joined by spaces, or (missing).
on_disk() {
	if [ -e "$1" ]; then tr '\n' ' ' < "$1" | sed 's/ $//'; else echo '(missing)'; fi
}

# ---- shared mappings ---------------------------------------------------------------

# watched [wrapped] MODE TEXT DELAY_MS: m.json holds "old"; mapwriter MODE
# writes TEXT into it (under the library with `wrapped`) while a reader
# looks at it half way through (DURING: what od -c shows of its start).
watched() {
	local how=()
	[ "$1" != wrapped ] || { how=(wrapped); shift; }
	printf 'old\n' > m.json
	"${how[@]}" "$MAPWRITER" "$1" m.json "$2" "$3" &
	sleep "$(awk -v ms="$3" 'BEGIN { print ms / 2000 }')"
	DURING=$(od -c m.json | head -1)
	wait $!
}

OLD_OD=$(printf 'old\n' | od -c | head -1)

@test "mmap: stores after the close into a new mapping: committed at munmap, a reader saw the old file meanwhile" {
	watched wrapped new hello-mapped 400
	assert_loaded mapwriter
	assert_equal "$(cat m.json)" hello-mapped
	assert_equal "$DURING" "$OLD_OD"
	assert_commits m.json 1
	assert_no_temps .

	# The control: without the library a reader sees the truncated,
	# zero-filled file in between.
	watched new hello-mapped 400
	assert_equal "$(cat m.json)" hello-mapped
	[ "$DURING" != "$OLD_OD" ] || fail "the control saw the old file: the test cannot tell"
}

@test "mmap: an existing file patched through its mapping after the close: kept (was dropped as unchanged)" {
	printf 'xxxxxxxxxx\n' > p.json
	"$MAPWRITER" patch p.json PATCH
	plain=$(cat p.json)
	printf 'xxxxxxxxxx\n' > p.json
	old_ino=$(inode p.json)
	run wrapped "$MAPWRITER" patch p.json PATCH
	assert_success
	assert_loaded mapwriter
	assert_equal "$(cat p.json)" "$plain"
	assert_equal "$plain" PATCHxxxxx
	[ "$(inode p.json)" != "$old_ino" ] || fail "not replaced by a rename: written in place?"
	assert_commits p.json 1
	assert_no_temps .
}

@test "mmap: a mapping still there at exit: committed at the exit, a reader saw the old file meanwhile" {
	watched wrapped nounmap at-exit 300
	assert_loaded mapwriter
	assert_equal "$DURING" "$OLD_OD"
	assert_equal "$(cat m.json)" at-exit
	grep -q 'm.json: committed (full) while still open' "$LIBLOG" || fail "$(cat "$LIBLOG")"
	assert_no_temps .
}

@test "mmap: a forked child stores through the mapping after the parent unmapped and closed: kept, a reader saw the old file meanwhile" {
	watched wrapped child from-child 400
	assert_loaded mapwriter
	assert_equal "$DURING" "$OLD_OD"
	assert_equal "$(cat m.json)" from-child
	assert_commits m.json 1
	assert_no_temps .
}

# ---- children that inherited the descriptor ---------------------------------------

@test "children (fork, fork+exec, vfork+exec, posix_spawn, popen) write after the parent's close: kept, committed when reaped" {
	printf 'path "*.log" { }\n' > "$CONF"
	for mode in fork fork_exec vfork_exec posix_spawn popen; do
		printf 'old\n' > l.log
		run "$LATE" "$mode" l.log
		assert_success
		plain=$output
		assert_equal "$(on_disk l.log)" "old child"

		printf 'old\n' > l.log
		: > "$LIBLOG"
		run wrapped "$LATE" "$mode" l.log
		[ "$status" = 0 ] || fail "$mode: status $status: $output"
		assert_loaded proc_late
		# Held back at the close (the reader still sees the old
		# file), committed once the child is reaped.
		assert_equal "$output" "$plain"
		assert_line "closed: old"
		assert_line "reaped: old child"
		assert_commits l.log 1
		assert_no_temps .
	done
}

@test "children: vfork under ASan (its own vfork calls the library's): the child's write kept, no loop" {
	no_sanitizer "this test puts ASan's runtime first itself"
	printf 'path "*.log" { }\n' > "$CONF"
	asan=$(ldd "$B/proc_late-asan" | awk '/libasan\.so/ { print $3 }')
	[ -n "$asan" ] || fail "$B/proc_late-asan links no libasan"
	printf 'old\n' > l.log
	LD_PRELOAD=$asan run timeout 20 "$B/proc_late-asan" vfork_exec l.log
	assert_success
	plain=$output

	printf 'old\n' > l.log
	LD_PRELOAD=$asan run wrapped timeout 20 "$B/proc_late-asan" vfork_exec l.log
	[ "$status" != 124 ] || fail "killed by timeout: a loop between the two vforks?"
	assert_success
	assert_loaded proc_late-asan
	assert_equal "$output" "$plain"
	assert_line "reaped: old child"
	assert_commits l.log 1
}

@test "children: the parent exits before its child writes: the child's write is kept" {
	printf 'path "*.log" { }\n' > "$CONF"
	printf 'old\n' > l.log
	"$LATE" exit l.log
	sleep 0.6
	plain=$(on_disk l.log)
	assert_equal "$plain" "old child"

	printf 'old\n' > l.log
	run wrapped "$LATE" exit l.log
	assert_success
	assert_loaded proc_late
	sleep 0.6
	assert_equal "$(on_disk l.log)" "$plain"
	# Handed over at the exit, committed once the child let go
	# (bats/lastclose.bats has the rest of it).
	grep -q 'l.log: handed over, to be committed when the last process that holds it lets go' "$LIBLOG" ||
		fail "no word of the hand-over: $(cat "$LIBLOG")"
	assert_commits l.log 1
	assert_no_temps .
}

@test "python: with open(f, 'a') as fh: Popen(stdout=fh) closes before the child writes; p.wait(), then another process reads it" {
	script='
import subprocess, sys
with open("out.log", "a") as fh:
    p = subprocess.Popen(["sh", "-c", "sleep 0.3; echo child"], stdout=fh)
p.wait()
print(subprocess.run(["cat", "out.log"], capture_output=True, text=True).stdout.split())
'
	printf 'path "*.log" { }\n' > "$CONF"
	printf 'old\n' > out.log
	run "$PY" -c "$script"
	assert_success
	plain=$output
	assert_equal "$plain" "['old', 'child']"

	printf 'old\n' > out.log
	run wrapped "$PY" -c "$script"
	assert_success
	assert_loaded "$PYNAME"
	assert_equal "$output" "$plain"
	assert_equal "$(on_disk out.log)" "old child"
	assert_commits out.log 1
	assert_no_temps .
}

@test "bash: exec 3>>f; a background job writes >&3 after exec 3>&-; wait: kept" {
	script='exec 3>>out.log; (sleep 0.3; echo child >&3) & exec 3>&-; echo "closed: $(cat out.log)"; wait; echo "waited: $(cat out.log | tr "\n" " ")"'
	printf 'path "*.log" { }\n' > "$CONF"
	printf 'old\n' > out.log
	run bash -c "$script"
	assert_success
	plain=$output

	printf 'old\n' > out.log
	run wrapped bash -c "$script"
	assert_success
	assert_loaded bash
	assert_equal "$output" "$plain"
	assert_equal "$(on_disk out.log)" "old child"
	assert_commits out.log 1
	assert_no_temps .
}

@test "flock: a child's LOCK_UN on the inherited descriptor does not drop the mark: held back until the child is gone" {
	# The parent reaps another child (and a command substitution) while
	# the writer, which flocked and unlocked descriptor 3, still holds it:
	# the file stays held back (a reader sees the old file) and ends with
	# everything.  Without the library the middle read sees the partial
	# file; with the mark lost, the library would commit it there too.
	script='exec 3>>out.log
(flock 3; echo child >&3; flock -u 3; sleep 0.6; echo again >&3) &
exec 3>&-
sleep 0.3 & wait $!
echo "mid: $(tr "\n" " " < out.log)"
wait
echo "end: $(tr "\n" " " < out.log)"'
	printf 'path "*.log" { }\n' > "$CONF"
	printf 'old\n' > out.log
	run bash -c "$script"
	assert_success
	assert_line "mid: old child "
	assert_line "end: old child again "

	printf 'old\n' > out.log
	run wrapped bash -c "$script"
	assert_success
	assert_loaded flock
	assert_line "mid: old "
	assert_line "end: old child again "
	assert_commits out.log 1
	assert_no_temps .
}

@test "held back, opened again, then a second child: still held while that child holds it (the probe lets go of its lock)" {
	script='
import subprocess
with open("out.log", "a") as fh:
    p1 = subprocess.Popen(["sh", "-c", "sleep 0.2; echo a"], stdout=fh)
fh2 = open("out.log", "a")   # the held file, shared again
p1.wait()                    # nobody else holds it: the probe
p2 = subprocess.Popen(["sh", "-c", "sleep 0.4; echo b"], stdout=fh2)
fh2.close()                  # the second child holds it
print("mid:", subprocess.run(["cat", "out.log"], capture_output=True, text=True).stdout.split())
p2.wait()
print("end:", subprocess.run(["cat", "out.log"], capture_output=True, text=True).stdout.split())
'
	printf 'path "*.log" { }\n' > "$CONF"
	printf 'old\n' > out.log
	run wrapped "$PY" -c "$script"
	assert_success
	assert_loaded "$PYNAME"
	# The second child still holds the file: a reader sees the old one.
	assert_line "mid: ['old']"
	assert_line "end: ['old', 'a', 'b']"
	assert_commits out.log 1
}
