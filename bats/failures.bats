#!/usr/bin/env bats
# failures.bats - what happens when a step fails, on real file systems:
# a full tmpfs (ENOSPC), a directory the writer cannot write (fallback),
# read-only mounts (EROFS), and faults injected with strace (EIO on fsync
# and rename).  In every case: the program sees an error, the target keeps
# its old content, no temp is left, and one message names the file.

load helpers

# ---- helpers of this file ------------------------------------------------

setup_file() {
	find_python
}

setup() {
	common_setup
	MOUNTS="$BATS_TEST_TMPDIR/.mounts"
	: > "$MOUNTS"
	NOBODY_DIR=""
}

# Unmount what the test mounted; remove what it made as nobody.
teardown() {
	unmount_all
	if [ -n "$NOBODY_DIR" ] && [ -d "$NOBODY_DIR" ]; then
		san_keep_reports "$NOBODY_DIR"
		chmod -R u+rwx "$NOBODY_DIR" 2>/dev/null
		rm -rf "$NOBODY_DIR"
	fi
}

# assert_content FILE TEXT: FILE holds exactly TEXT (a failure shows its
# size and first bytes, not a megabyte of it).
assert_content() {
	local want=$2 size
	size=$(stat -c %s "$1") || fail "$1 is missing"
	if [ "$size" != "$(printf '%s\n' "$want" | wc -c)" ] ||
	   [ "$(cat "$1")" != "$want" ]; then
		fail "$1 holds $size bytes starting with '$(head -c 16 "$1" | od -An -c | tr -s ' ')', not '$want'"
	fi
}

# refute_lib_messages: the program's own output holds no message of the
# library (they all went to $LIBLOG).
refute_lib_messages() {
	refute_output --partial "atomically: "
}

# as_nobody COMMAND...: run COMMAND as nobody:nogroup, without groups.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# nobody_setup: a tree nobody can reach, in $NOBODY_DIR:
#   d/        a directory nobody cannot write (root's, mode 555)
#   d/f.yaml  a file nobody may write (nobody's, "old")
#   run/      nobody's runtime directory (for the lock files)
#   lib.log   the library's log, writable by nobody
#   atomically.conf
# and LIBLOG pointing to lib.log.
nobody_setup() {
	NOBODY_DIR=$(mktemp -d /tmp/atomically-failures.XXXXXX)
	chmod 755 "$NOBODY_DIR"
	mkdir "$NOBODY_DIR/d" "$NOBODY_DIR/run"
	echo old > "$NOBODY_DIR/d/f.yaml"
	chown nobody:nogroup "$NOBODY_DIR/d/f.yaml" "$NOBODY_DIR/run"
	chmod 644 "$NOBODY_DIR/d/f.yaml"
	chmod 700 "$NOBODY_DIR/run"
	chmod 555 "$NOBODY_DIR/d"
	LIBLOG="$NOBODY_DIR/lib.log"
	: > "$LIBLOG"
	chown nobody:nogroup "$LIBLOG"
	printf 'path "*.yaml" { %s }\n' "$1" > "$NOBODY_DIR/atomically.conf"
	cd "$NOBODY_DIR" || fail "cannot enter $NOBODY_DIR"
}

# run_as_nobody_wrapped COMMAND...: run COMMAND under the launcher as
# nobody, with nobody's runtime directory and config.
run_as_nobody_wrapped() {
	run as_nobody env XDG_RUNTIME_DIR="$NOBODY_DIR/run" \
		ATOMICALLY_CONF="$NOBODY_DIR/atomically.conf" \
		ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$@"
}

# ---- ENOSPC ----------------------------------------------------------------

# small_fs: a 1 MiB tmpfs in ./mnt holding f.yaml ("old").
small_fs() {
	require_root "mounting a small tmpfs"
	mount_here mnt -t tmpfs -o size=1m,mode=755 tmpfs
	echo old > mnt/f.yaml
	before=$(inode mnt/f.yaml)
	target="$(cd mnt && pwd -P)/f.yaml"
}

@test "ENOSPC: python writing 2 MiB into a 1 MiB tmpfs sees the error; the target is intact" {
	small_fs
	run wrapped "$PY" -c '
import sys
try:
    with open("mnt/f.yaml", "w") as f:
        f.write("x" * (2 << 20))
except OSError as e:
    print("python:", e.strerror)
    sys.exit(3)
print("python: no error")'
	assert_loaded "$PYNAME"
	assert_equal "$status" 3
	assert_line "python: No space left on device"
	refute_lib_messages
	assert_content mnt/f.yaml old
	assert_equal "$(inode mnt/f.yaml)" "$before"
	assert_no_temps mnt
	assert_one_warning "$target" "not committed"
}

@test "ENOSPC: dd writing 2 MiB into a 1 MiB tmpfs fails; the target is intact" {
	small_fs
	run wrapped dd if=/dev/zero of=mnt/f.yaml bs=64k count=32
	assert_loaded dd
	assert_failure
	assert_output --partial "No space left on device"
	assert_content mnt/f.yaml old
	assert_equal "$(inode mnt/f.yaml)" "$before"
	assert_no_temps mnt
	assert_one_warning "$target" "not committed"
}

@test "ENOSPC: a bash redirection that runs out of space leaves the target intact" {
	small_fs
	run wrapped bash -c 'head -c 2M /dev/zero > mnt/f.yaml'
	assert_loaded head
	assert_failure
	assert_output --partial "No space left on device"
	assert_content mnt/f.yaml old
	assert_equal "$(inode mnt/f.yaml)" "$before"
	assert_no_temps mnt
	assert_one_warning "$target" "not committed"
}

@test "ENOSPC: a write that fits still commits on the small tmpfs (control)" {
	small_fs
	run wrapped "$PY" -c 'open("mnt/f.yaml", "w").write("y" * (300 << 10))'
	assert_loaded "$PYNAME"
	assert_success
	assert_equal "$(stat -c %s mnt/f.yaml)" $((300 << 10))
	assert_not_equal "$(inode mnt/f.yaml)" "$before"
	assert_no_temps mnt
}

# ---- a directory the writer cannot write ----------------------------------

@test "unwritable directory, fallback = inplace: written in place, with a warning naming the file and why" {
	require_root "running a writer as nobody"
	nobody_setup 'fallback = "inplace"'
	before=$(inode d/f.yaml)
	run_as_nobody_wrapped "$WRITER" open "$NOBODY_DIR/d/f.yaml" new
	assert_loaded writer
	assert_success
	refute_lib_messages
	assert_equal "$(cat d/f.yaml)" new
	assert_equal "$(inode d/f.yaml)" "$before"
	assert_no_temps d
	assert_one_warning "$NOBODY_DIR/d/f.yaml" "Permission denied" "in place"
}

@test "unwritable directory, fallback = inplace: the default, also for bash" {
	require_root "running a writer as nobody"
	nobody_setup ''
	before=$(inode d/f.yaml)
	run_as_nobody_wrapped bash -c "echo new > '$NOBODY_DIR/d/f.yaml'"
	assert_loaded bash
	assert_success
	assert_equal "$(cat d/f.yaml)" new
	assert_equal "$(inode d/f.yaml)" "$before"
	assert_no_temps d
	assert_one_warning "$NOBODY_DIR/d/f.yaml" "Permission denied"
}

@test "unwritable directory, fallback = fail: the open fails with EACCES, the target is unchanged" {
	require_root "running a writer as nobody"
	nobody_setup 'fallback = "fail"'
	before=$(inode d/f.yaml)
	run_as_nobody_wrapped "$WRITER" open "$NOBODY_DIR/d/f.yaml" new
	assert_loaded writer
	assert_equal "$status" 1
	assert_output "$NOBODY_DIR/d/f.yaml: Permission denied"
	assert_equal "$(cat d/f.yaml)" old
	assert_equal "$(inode d/f.yaml)" "$before"
	assert_no_temps d
	assert_one_warning "$NOBODY_DIR/d/f.yaml" "Permission denied" "fallback = fail"
}

# ---- read-only file systems -------------------------------------------------

@test "read-only tmpfs: the program gets EROFS, the target is unchanged, no temp" {
	require_root "mounting a read-only tmpfs"
	mount_here ro -t tmpfs -o size=1m,mode=755 tmpfs
	echo old > ro/f.yaml
	mount -o remount,ro ro || fail "cannot remount read-only"
	before=$(inode ro/f.yaml)
	run wrapped "$WRITER" open ro/f.yaml new
	assert_loaded writer
	assert_equal "$status" 1
	assert_output "ro/f.yaml: Read-only file system"
	assert_equal "$(cat ro/f.yaml)" old
	assert_equal "$(inode ro/f.yaml)" "$before"
	assert_no_temps ro
	# A new file there: EROFS as well, nothing made.
	run wrapped "$WRITER" open ro/new.yaml new
	assert_equal "$status" 1
	assert_output "ro/new.yaml: Read-only file system"
	assert_file_not_exists ro/new.yaml
	assert_no_temps ro
}

@test "read-only bind mount: bash and python get EROFS, the target is unchanged, no temp" {
	require_root "making a read-only bind mount"
	mkdir src
	echo old > src/f.yaml
	mount_here ro --bind src
	mount -o remount,bind,ro ro || fail "cannot remount the bind mount read-only"
	before=$(inode ro/f.yaml)
	run wrapped bash -c 'echo new > ro/f.yaml'
	assert_loaded bash
	assert_failure
	assert_output --partial "Read-only file system"
	run wrapped "$PY" -c '
try:
    open("ro/f.yaml", "w").write("new")
except OSError as e:
    print("python:", e.strerror)'
	assert_loaded "$PYNAME"
	assert_output "python: Read-only file system"
	assert_equal "$(cat ro/f.yaml)" old
	assert_equal "$(cat src/f.yaml)" old
	assert_equal "$(inode ro/f.yaml)" "$before"
	assert_no_temps ro
	assert_no_temps src
}

# ---- a file bind-mounted over another (/etc/hosts in a container) ----------

# bind_file: ./f.yaml is a mount point: src.yaml bind-mounted over it, as
# a container runtime does with /etc/hosts.  A rename onto it gives EBUSY.
bind_file() {
	require_root "bind-mounting a single file"
	echo old > src.yaml
	echo under > f.yaml
	mount --bind src.yaml f.yaml || fail "cannot bind-mount src.yaml on f.yaml"
	echo "$(pwd -P)/f.yaml" >> "$MOUNTS"
	run "$PY" -c 'import os; open("t", "w"); os.rename("t", "f.yaml")'
	[[ "$output" == *"Device or resource busy"* ]] ||
		fail "a rename onto the bind-mounted file did not fail with EBUSY: $output"
	rm -f t
}

@test "bind-mounted file, fallback = inplace: written in place under the lock, with a warning" {
	bind_file
	before=$(inode f.yaml)
	run wrapped bash -c 'echo new > f.yaml'
	assert_loaded bash
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_equal "$(cat src.yaml)" new
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "the rename cannot replace it" "Device or resource busy" "writing it in place"
	# A shorter content leaves nothing of the longer one behind.
	run wrapped "$PY" -c 'open("f.yaml", "w").write("n")'
	assert_success
	assert_equal "$(cat src.yaml)" n
}

@test "bind-mounted file, fallback = fail: close fails with EBUSY, the old content stays" {
	bind_file
	printf 'path "*.yaml" { fallback = "fail" }\n' > "$CONF"
	run wrapped "$WRITER" open f.yaml new
	assert_loaded writer
	assert_equal "$status" 2
	assert_output "close: Device or resource busy"
	assert_equal "$(cat f.yaml)" old
	assert_no_temps .
}

# ---- faults injected with strace ------------------------------------------

# inject FAULT: write f.yaml ("old") with the C writer under the launcher,
# under strace injecting FAULT (an -e inject= expression).
inject() {
	local method=${2:-open}
	echo old > f.yaml
	before=$(inode f.yaml)
	strace -f -o /dev/null -e trace=none -e inject="$1" true 2>/dev/null ||
		skip "this strace cannot inject $1"
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o strace.log -e trace=fsync,fdatasync,rename,renameat,renameat2 \
		-e inject="$1" "$ATOMICALLY" "$WRITER" "$method" f.yaml new
	assert_loaded writer
}

@test "EIO on fsync: close returns -1, the target keeps its content and inode, the temp is removed" {
	inject fsync:error=EIO:when=1
	assert_equal "$status" 2
	assert_output "close: Input/output error"
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "not committed" "fsync" "Input/output error"
	grep -q 'fsync(.*INJECTED' strace.log || fail "no fsync was failed: $(cat strace.log)"
}

@test "EIO on fsync, stdio: fclose returns EOF with EIO, the target is intact" {
	inject fsync:error=EIO:when=1 fopen
	assert_equal "$status" 2
	assert_output "close: Input/output error"
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "not committed" "fsync"
}

@test "EIO on fdatasync (durability data): close returns -1, the target is intact" {
	conf_text='path "*.yaml" { durability = "data" }'
	echo "$conf_text" > "$CONF"
	inject fdatasync:error=EIO
	assert_equal "$status" 2
	assert_output "close: Input/output error"
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "not committed" "Input/output error"
}

@test "EIO on rename: close returns -1, the target keeps its content and inode, the temp is removed" {
	inject rename,renameat,renameat2:error=EIO
	assert_equal "$status" 2
	assert_output "close: Input/output error"
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "not committed" "rename" "Input/output error"
	grep -q 'rename.*INJECTED' strace.log || fail "no rename was failed: $(cat strace.log)"
}

@test "EIO on the directory's fsync: the new content is in place, close reports the error" {
	# The second fsync of the writer is the directory's (after the rename):
	# the replace happened, only its durability is in doubt.
	inject fsync:error=EIO:when=2
	assert_equal "$status" 2
	assert_output "close: Input/output error"
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "directory" "Input/output error"
}

@test "EIO on fsync, python: the error reaches close() as OSError, the target is intact" {
	echo old > f.yaml
	before=$(inode f.yaml)
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o /dev/null -e trace=fsync \
		-e inject=fsync:error=EIO:when=1 "$ATOMICALLY" "$PY" -c '
f = open("f.yaml", "w")
f.write("new")
try:
    f.close()
    print("closed")
except OSError as e:
    print("close:", e.strerror)'
	assert_loaded "$PYNAME"
	# The program caught the error and would exit 0: failure_exit_code
	# (74 by default) reports the failed commit all the same.
	assert_failure 74
	assert_output "close: Input/output error"
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "not committed" "fsync"
}

# ---- the exit status after a failed commit ----------------------------------

@test "failure_exit_code: a commit that fails at exit turns exit status 0 into 74" {
	inject fsync:error=EIO:when=1 noclose
	assert_equal "$status" 74
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "not committed" "fsync"
}

@test "failure_exit_code: a program that ignores close's error still exits 74" {
	echo old > f.yaml
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o /dev/null -e trace=fsync \
		-e inject=fsync:error=EIO:when=1 "$ATOMICALLY" "$PY" -c '
import os
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"new")
try:
    os.close(fd)
except OSError:
    pass'
	assert_loaded "$PYNAME"
	assert_equal "$status" 74
	assert_equal "$(cat f.yaml)" old
	assert_no_temps .
}

@test "failure_exit_code = 0 leaves the program's status alone; a failing status is kept" {
	printf 'failure_exit_code = 0\npath "*.yaml" { }\n' > "$CONF"
	inject fsync:error=EIO:when=1 noclose
	assert_equal "$status" 0
	assert_equal "$(cat f.yaml)" old
	printf 'path "*.yaml" { }\n' > "$CONF"
	inject fsync:error=EIO:when=1
	assert_equal "$status" 2
}

@test "ENOSPC in a program the shell started (dash: vfork, then exec cat): the target is intact" {
	small_fs
	head -c 2000000 /dev/urandom | base64 > big.txt
	run wrapped sh -c "cat big.txt > mnt/f.yaml"
	assert_loaded cat
	assert_failure
	assert_output --partial "No space left on device"
	assert_content mnt/f.yaml old
	assert_equal "$(inode mnt/f.yaml)" "$before"
	assert_no_temps mnt
	grep -q "$target: not committed, the old content is kept: a process it was shared with failed to write it" "$LIBLOG" ||
		fail "no warning naming the file and the shared failure: $(cat "$LIBLOG")"
}

@test "control: the same ENOSPC without the library leaves the target torn" {
	small_fs
	head -c 2000000 /dev/urandom | base64 > big.txt
	run sh -c "cat big.txt > mnt/f.yaml"
	assert_failure
	[ "$(cat mnt/f.yaml)" != old ] || fail "the target was not damaged without the library"
}
