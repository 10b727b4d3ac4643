#!/usr/bin/env bats
# library.bats - the behaviour of the preload library: which opens are
# redirected, what a commit keeps, durability, locks, process events,
# deferred unlinks and logging.  Every test runs real programs (bash,
# coreutils, python3, the C writer) under the library and proves that the
# library was loaded in them.

load helpers

# ---- helpers of this file ------------------------------------------------

setup_file() {
	find_python
}

# conf_yaml BODY [GLOBAL]: a config whose only rule is *.yaml with BODY,
# after the global settings GLOBAL.
conf_yaml() {
	printf '%s\npath "*.yaml" { %s }\n' "${2:-}" "$1" > "$CONF"
}

# assert_redirected NAME: the library's debug log shows that it wrote
# NAME through a temp.
assert_redirected() {
	grep -Eq "/$1: writing (\\.$1\\.atomically\\.|an anonymous temp)" "$LIBLOG" ||
		fail "$1 was not written through a temp; the log: $(cat "$LIBLOG")"
}

# refute_redirected NAME: the library never took NAME over.
refute_redirected() {
	! grep -Eq "/$1: writing " "$LIBLOG" ||
		fail "$1 was redirected; the log: $(cat "$LIBLOG")"
}

# assert_no_locks: no lock file was made in the runtime directory.
assert_no_locks() {
	[ ! -d "$LOCKS" ] || [ -z "$(ls -A "$LOCKS")" ] ||
		fail "lock files were made: $(ls -A "$LOCKS")"
	# Its last holder removes a lock file: the log says whether one was.
	! locks_used | grep -q "^$LOCKS/" || fail "locked in the runtime directory: $(locks_used)"
}

# lock_name DIR NAME: the default lock file name of DIR/NAME.
lock_name() {
	printf '%x-%x-%s.lock' "$(stat -c %d "$1")" "$(stat -c %i "$1")" "$2"
}

# now_ms: a monotonic-enough clock in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# with_env_bg COMMAND...: start COMMAND in the background with the
# variables of `atomically --env` (no launcher: $! is COMMAND's pid), with
# the library's debug log in $LIBLOG.
with_env_bg() {
	(
		eval "$("$ATOMICALLY" --env -c "$CONF")"
		export ATOMICALLY_LOG="debug:$LIBLOG"
		exec "$@"
	) 3>&- &
}

setup() {
	common_setup
}

# ---- the open table -------------------------------------------------------

@test "O_EXCL: bash 'set -C' still refuses to overwrite an existing matched file" {
	echo old > f.yaml
	before=$(inode f.yaml)
	run wrapped bash -c 'set -C; echo new > f.yaml'
	assert_loaded bash
	assert_failure
	assert_output --partial "cannot overwrite existing file"
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
}

@test "O_EXCL: python open(..., 'x') on an existing matched file raises FileExistsError" {
	echo old > f.yaml
	before=$(inode f.yaml)
	run wrapped "$PY" -c '
try:
    open("f.yaml", "x").write("new")
    print("created")
except FileExistsError:
    print("exists")'
	assert_loaded "$PYNAME"
	assert_success
	assert_output exists
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
}

@test "O_EXCL: writer excl on an existing matched file fails with EEXIST" {
	echo old > f.yaml
	before=$(inode f.yaml)
	run wrapped "$WRITER" excl f.yaml new
	assert_loaded writer
	assert_equal "$status" 1
	assert_output --partial "f.yaml: File exists"
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
}

@test "O_EXCL: creating a new matched file is done in place, not redirected" {
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o trace -e trace=open,openat,rename,renameat,renameat2 \
		"$ATOMICALLY" "$WRITER" excl new.yaml hello
	assert_loaded writer
	assert_success
	assert_equal "$(cat new.yaml)" hello
	# The exclusive open reached the kernel as the program made it ...
	grep -Eq 'open(at)?\((AT_FDCWD, )?"new\.yaml", O_WRONLY\|O_CREAT\|O_EXCL' trace ||
		fail "no O_EXCL open of new.yaml reached the kernel: $(cat trace)"
	# ... and no temp, rename or lock was involved.
	run grep -E '\.atomically\.|rename' trace
	assert_failure
	refute_redirected new.yaml
	assert_no_locks
	assert_no_temps .
}

@test "O_EXCL: bash 'set -C' creates a new matched file in place" {
	run wrapped bash -c 'set -C; echo new > n.yaml'
	assert_loaded bash
	assert_success
	assert_equal "$(cat n.yaml)" new
	refute_redirected n.yaml
	assert_no_temps .
}

@test "O_APPEND atomic: bash >> adds the line to the file itself at the close (same inode), under the lock, synced" {
	printf 'one\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped bash -c 'echo two >> f.yaml'
	assert_loaded bash
	assert_success
	assert_equal "$(cat f.yaml)" "$(printf 'one\ntwo')"
	assert_equal "$(inode f.yaml)" "$before"
	assert_redirected f.yaml
	grep -q 'f.yaml: committed (full, 4 bytes appended in place)$' "$LIBLOG" || fail "$(cat "$LIBLOG")"
	run wrapped bash -c 'echo three >> f.yaml; echo four >> f.yaml'
	assert_success
	assert_equal "$(cat f.yaml)" "$(printf 'one\ntwo\nthree\nfour')"
	assert_no_temps .
}

@test "O_APPEND atomic: python 'a' appends in a temp; the target changes only at close; the appender reads the whole file back" {
	printf 'one\n' > f.yaml
	before=$(inode f.yaml)
	# "during" and "after" are what another process (cat) reads; "mine"
	# is what the appending process reads back: its own pending file.
	run wrapped "$PY" -c '
import subprocess
def others():
    return subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.replace("\n", " ")
f = open("f.yaml", "a")
f.write("two\n")
f.flush()
print("mine:", open("f.yaml").read().replace("\n", " "))
print("during:", others())
f.close()
print("after:", others())'
	assert_loaded "$PYNAME"
	assert_success
	assert_line "during: one "
	assert_line "mine: one two "
	assert_line "after: one two "
	# Read back, the temp's hole was filled with the old content: then
	# the whole temp is committed, by rename.
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
}

@test "O_APPEND passthrough: append = \"passthrough\" appends in place (same inode)" {
	conf_yaml 'append = "passthrough"'
	printf 'one\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped bash -c 'echo two >> f.yaml'
	assert_loaded bash
	assert_success
	assert_equal "$(cat f.yaml)" "$(printf 'one\ntwo')"
	assert_equal "$(inode f.yaml)" "$before"
	refute_redirected f.yaml
	assert_no_temps .
}

@test "O_RDWR without O_TRUNC: writer rdwr keeps the tail of the old content, in a new inode" {
	printf '0123456789' > f.yaml
	printf '0123456789' > g.yaml
	before=$(inode f.yaml)
	before_g=$(inode g.yaml)
	run wrapped "$WRITER" rdwr f.yaml AB
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml)" AB23456789
	assert_not_equal "$(inode f.yaml)" "$before"
	# The same through the _FORTIFY_SOURCE entry point (__open64_2).
	run wrapped "$WRITER_FORTIFY" rdwr g.yaml XYZ
	assert_loaded writer-fortify
	assert_success
	assert_equal "$(cat g.yaml)" XYZ3456789
	assert_not_equal "$(inode g.yaml)" "$before_g"
	assert_no_temps .
}

@test "read-only opens do nothing: same inode, same mtime, no lock file, no temp" {
	echo old > f.yaml
	touch -d '2001-01-01 00:00:00' f.yaml
	before=$(stat -c '%i %Y' f.yaml)
	run wrapped cat f.yaml
	assert_loaded cat
	assert_success
	assert_output old
	run wrapped "$PY" -c 'print(open("f.yaml").read().strip()); print(open("f.yaml", "rb").read().strip().decode())'
	assert_loaded "$PYNAME"
	assert_success
	assert_output "$(printf 'old\nold')"
	assert_equal "$(stat -c '%i %Y' f.yaml)" "$before"
	refute_redirected f.yaml
	assert_no_locks
	assert_no_temps .
}

@test "symlink in another directory: written through, the link stays a link" {
	mkdir links data
	echo old > data/target.yaml
	ln -s ../data/target.yaml links/link.yaml
	before=$(inode data/target.yaml)
	run wrapped bash -c 'echo new > links/link.yaml'
	assert_loaded bash
	assert_success
	[ -L links/link.yaml ] || fail "links/link.yaml is no longer a symlink"
	assert_equal "$(readlink links/link.yaml)" ../data/target.yaml
	assert_equal "$(cat data/target.yaml)" new
	assert_not_equal "$(inode data/target.yaml)" "$before"
	assert_no_temps links
	assert_no_temps data
	assert_no_temps .
	# The lock is the final target's, keyed by its directory.
	assert_equal "$(locks_used)" "$LOCKS/$(lock_name data target.yaml)"
}

@test "symlink: an absolute link, written by python, keeps the target's mode" {
	mkdir links data
	echo old > data/target.yaml
	chmod 0640 data/target.yaml
	ln -s "$PWD/data/target.yaml" links/abs.yaml
	before=$(inode data/target.yaml)
	run wrapped "$PY" -c 'open("links/abs.yaml", "w").write("new\n")'
	assert_loaded "$PYNAME"
	assert_success
	[ -L links/abs.yaml ] || fail "links/abs.yaml is no longer a symlink"
	assert_equal "$(cat data/target.yaml)" new
	assert_not_equal "$(inode data/target.yaml)" "$before"
	assert_equal "$(stat -c %a data/target.yaml)" 640
	assert_no_temps links
	assert_no_temps data
}

@test "symlink: the final target's directory is the one fsynced (durability full)" {
	mkdir links data
	echo old > data/target.yaml
	ln -s ../data/target.yaml links/link.yaml
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -y -o sync.trace -e trace=fsync,fdatasync \
		"$ATOMICALLY" "$WRITER" open links/link.yaml new
	assert_loaded writer
	assert_success
	assert_equal "$(cat data/target.yaml)" new
	data=$(cd data && pwd -P)
	grep -Eq "fsync\([0-9]+$(temp_re "$data" target.yaml)\) += 0" sync.trace ||
		fail "no fsync of a temp beside the final target: $(cat sync.trace)"
	grep -Eq "fsync\([0-9]+<$data>\) += 0" sync.trace ||
		fail "the final target's directory was not fsynced: $(cat sync.trace)"
	assert_no_temps links
	assert_no_temps data
}

@test "symlink: a dangling link to a new file in another directory creates it there" {
	mkdir links data
	ln -s ../data/new.yaml links/link.yaml
	run wrapped bash -c 'echo new > links/link.yaml'
	assert_loaded bash
	assert_success
	[ -L links/link.yaml ] || fail "links/link.yaml is no longer a symlink"
	assert_equal "$(cat data/new.yaml)" new
	assert_no_temps links
	assert_no_temps data
}

@test "non-regular target: a FIFO named x.yaml is written, not redirected" {
	mkfifo x.yaml
	timeout 10 cat x.yaml > got 3>&- &
	reader=$!
	run wrapped timeout 10 bash -c 'echo hello > x.yaml'
	assert_loaded bash
	assert_success
	wait "$reader" || fail "the reader of the FIFO did not get an end of file"
	assert_equal "$(cat got)" hello
	[ -p x.yaml ] || fail "x.yaml is no longer a FIFO"
	refute_redirected x.yaml
	assert_no_locks
	assert_no_temps .
}

@test "non-regular target: n.yaml -> /dev/null is written through, /dev/null untouched" {
	ln -s /dev/null n.yaml
	run wrapped bash -c 'echo discarded > n.yaml; echo more >> n.yaml'
	assert_loaded bash
	assert_success
	[ -L n.yaml ] || fail "n.yaml is no longer a symlink"
	assert_equal "$(readlink n.yaml)" /dev/null
	[ -c /dev/null ] || fail "/dev/null is no longer a character device"
	assert_equal "$(stat -c '%t:%T' /dev/null)" "1:3"
	refute_redirected n.yaml
	assert_no_temps /dev
	assert_no_temps .
	assert_no_locks
}

# ---- metadata --------------------------------------------------------------

@test "new file: mode is the requested mode less the umask (umask 027, 0666 -> 0640)" {
	umask 027
	run wrapped "$PY" -c '
import os
fd = os.open("new.yaml", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
os.write(fd, b"x")
os.close(fd)'
	assert_loaded "$PYNAME"
	assert_success
	assert_redirected new.yaml
	assert_equal "$(cat new.yaml)" x
	assert_equal "$(stat -c %a new.yaml)" 640
	# bash asks for 0666 too.
	run wrapped bash -c 'echo y > bash.yaml'
	assert_success
	assert_redirected bash.yaml
	assert_equal "$(stat -c %a bash.yaml)" 640
	assert_no_temps .
}

@test "new file: a requested mode of 0600 stays 0600 (umask 022)" {
	umask 022
	run wrapped "$PY" -c '
import os
fd = os.open("new.yaml", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, b"x")
os.close(fd)'
	assert_loaded "$PYNAME"
	assert_success
	assert_redirected new.yaml
	assert_equal "$(stat -c %a new.yaml)" 600
}

@test "existing file keeps its mode (0604 before, 0604 after)" {
	echo old > f.yaml
	chmod 0604 f.yaml
	before=$(inode f.yaml)
	run wrapped bash -c 'umask 077; echo new > f.yaml'
	assert_loaded bash
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_equal "$(stat -c %a f.yaml)" 604
}

@test "existing file keeps its owner and group (nobody:nogroup)" {
	require_root "giving a file to nobody:nogroup"
	echo old > f.yaml
	chown nobody:nogroup f.yaml
	chmod 0664 f.yaml
	before=$(inode f.yaml)
	run wrapped "$WRITER" open f.yaml new
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_equal "$(stat -c '%U:%G %a' f.yaml)" "nobody:nogroup 664"
}

@test "existing file keeps its extended attributes (user.* xattr)" {
	echo old > f.yaml
	"$PY" -c 'import os; os.setxattr("f.yaml", "user.atomically-test", b"kept")' 2>/dev/null ||
		skip "this file system takes no user.* extended attributes"
	before=$(inode f.yaml)
	run wrapped "$WRITER" open f.yaml new
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	run "$PY" -c '
import os
try:
    print(os.getxattr("f.yaml", "user.atomically-test").decode())
except OSError as e:
    print("lost:", e.strerror)'
	assert_output kept
}

# ---- unchanged files, copies ------------------------------------------------

# stamp FILE: its inode and its mtime to the nanosecond.
stamp() {
	stat -c '%i %y' "$1"
}

@test "opened for writing without O_TRUNC and never written: left untouched (same inode, same mtime)" {
	echo old > f.yaml
	local before
	before=$(stamp f.yaml)
	sleep 0.05
	run wrapped "$PY" -c '
import os
open("f.yaml", "r+").close()
os.close(os.open("f.yaml", os.O_WRONLY))
os.close(os.open("f.yaml", os.O_RDWR | os.O_APPEND))'
	assert_loaded "$PYNAME"
	assert_success
	run wrapped bash -c 'exec 3<> f.yaml; exec 3>&-'
	assert_loaded bash
	assert_equal "$(stamp f.yaml)" "$before"
	assert_equal "$(cat f.yaml)" old
	assert_no_temps .
	[ "$(grep -c 'f.yaml: unchanged, left as it was' "$LIBLOG")" -ge 4 ] ||
		fail "not every open was found unchanged: $(cat "$LIBLOG")"
}

@test "stdio r+ writes that no hook sees, same size: the change is committed" {
	echo aaaa > f.yaml
	run wrapped "$WRITER" rplus f.yaml bbbb
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml)" bbbb
	run wrapped "$WRITER_FORTIFY" rplus f.yaml cccc
	assert_success
	assert_equal "$(cat f.yaml)" cccc
	assert_redirected f.yaml
}

@test "a write that puts back the same bytes is a write: committed (skip_unchanged = false)" {
	echo same > f.yaml
	local before
	before=$(inode f.yaml)
	run wrapped "$WRITER" rdwr f.yaml same
	assert_loaded writer
	assert_success
	assert_not_equal "$(inode f.yaml)" "$before"
}

@test "skip_unchanged = true: a rewrite with the same content leaves the file untouched; a different one replaces it" {
	conf_yaml 'skip_unchanged = true'
	echo same > f.yaml
	local before
	before=$(stamp f.yaml)
	sleep 0.05
	run wrapped bash -c 'echo same > f.yaml'
	assert_loaded bash
	assert_success
	assert_equal "$(stamp f.yaml)" "$before"
	grep -q 'f.yaml: unchanged, left as it was' "$LIBLOG" || fail "no message: $(cat "$LIBLOG")"
	run wrapped bash -c 'echo different > f.yaml'
	assert_success
	assert_equal "$(cat f.yaml)" different
	assert_not_equal "$(stamp f.yaml)" "$before"
	# Same content, but the program set another mode: a change.
	before=$(stamp f.yaml)
	run wrapped "$PY" -c '
import os
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"different\n")
os.fchmod(fd, 0o640)
os.close(fd)'
	assert_success
	assert_equal "$(stat -c %a f.yaml)" 640
	assert_not_equal "$(stamp f.yaml)" "$before"
}

@test "control: skip_unchanged = false (the default): the same content is written again, new inode" {
	echo same > f.yaml
	local before
	before=$(inode f.yaml)
	run wrapped bash -c 'echo same > f.yaml'
	assert_loaded bash
	assert_not_equal "$(inode f.yaml)" "$before"
}

@test "a sparse file edited in place stays sparse: only its data extents are copied" {
	truncate -s 64M f.yaml
	# Blocks of 4 KiB: dd's buffer of a size that is not a multiple of
	# the page is refused by AddressSanitizer (make check-asan preloads
	# it into every program).
	printf 'data' | dd of=f.yaml bs=4096 seek=$((8 * 1024)) conv=notrunc status=none
	local before
	before=$(($(stat -c '%b * %B' f.yaml)))
	run wrapped "$WRITER" rdwr f.yaml X
	assert_loaded writer
	assert_success
	assert_redirected f.yaml
	assert_equal "$(stat -c %s f.yaml)" $((64 * 1024 * 1024))
	assert_equal "$(head -c 1 f.yaml)" X
	assert_equal "$(dd if=f.yaml bs=4096 skip=$((8 * 1024)) count=1 status=none | head -c 4)" data
	local after
	after=$(($(stat -c '%b * %B' f.yaml)))
	# A block or two more for the byte written at the start, not 64 MiB.
	[ "$after" -le $((before + 65536)) ] ||
		fail "not sparse any more: $before bytes allocated before, $after after"
}

# ---- read-your-writes ------------------------------------------------------

@test "read-your-writes: the writing process reads what it wrote so far; another process reads the old content" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os, subprocess
f = open("f.yaml", "w")
f.write("new")
f.flush()
print("mine:", open("f.yaml").read())
print("os.open:", os.read(os.open("f.yaml", os.O_RDONLY), 100).decode())
print("cat:", subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.strip())
f.close()
print("after:", open("f.yaml").read())'
	assert_loaded "$PYNAME"
	assert_success
	assert_line "mine: new"
	assert_line "os.open: new"
	assert_line "cat: old"
	assert_line "after: new"
	assert_no_temps .
}

@test "read-your-writes: perl, through another spelling of the path, the file closed under commit = exit" {
	conf_yaml 'commit = "exit"'
	echo old > f.yaml
	mkdir d
	run wrapped perl -e '
open(my $w, ">", "f.yaml") or die; print $w "new"; close($w);
open(my $r, "<", "d/../f.yaml") or die; print "perl: ", <$r>, "\n";
print "cat: ", `cat f.yaml`;'
	assert_loaded perl
	assert_success
	assert_line "perl: new"
	assert_line "cat: old"
	assert_equal "$(cat f.yaml)" new
}

@test "control: without the library the same read-back sees the file as written (so the test can tell)" {
	echo old > f.yaml
	run "$PY" -c '
f = open("f.yaml", "w")
f.write("new")
f.flush()
print("mine:", open("f.yaml").read())'
	assert_line "mine: new"
}

# ---- backup ----------------------------------------------------------------

@test "backup = \"~\": the previous version is kept as f.yaml~ (the old inode itself), replaced at each commit" {
	conf_yaml 'backup = "~"'
	echo v1 > f.yaml
	local v1
	v1=$(inode f.yaml)
	run wrapped bash -c 'echo v2 > f.yaml'
	assert_loaded bash
	assert_success
	assert_equal "$(cat f.yaml)" v2
	assert_equal "$(cat f.yaml~)" v1
	assert_equal "$(inode f.yaml~)" "$v1"
	assert_equal "$(stat -c %h f.yaml~)" 1
	run wrapped "$WRITER" open f.yaml v3
	assert_success
	assert_equal "$(cat f.yaml)" v3
	assert_equal "$(cat f.yaml~)" v2
	assert_no_temps .
}

@test "backup: the backup is replaced by a rename (never missing), and before the target is" {
	conf_yaml 'backup = ".bak"'
	echo v1 > f.yaml
	echo v0 > f.yaml.bak
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o trace -e trace=link,linkat,rename,renameat,renameat2,unlink,unlinkat \
		"$ATOMICALLY" "$WRITER" open f.yaml v2
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml.bak)" v1
	run grep -E 'link|rename' trace
	# The old file linked under a temp name, that renamed over the backup,
	# then the new content renamed over the target; nothing unlinked (but
	# the lock file, by its last holder).
	output=$(grep -v "\"$LOCKS/" <<< "$output")
	assert_line --index 0 --regexp '^[0-9]+ +linkat\([0-9]+, "f\.yaml", [0-9]+, "\.f\.yaml\.atomically\.[0-9]+\.[0-9a-f]+", 0\) = 0'
	assert_line --index 1 --regexp '^[0-9]+ +renameat\([0-9]+, "\.f\.yaml\.atomically\.[^"]+", [0-9]+, "f\.yaml\.bak"\) = 0'
	assert_line --index 2 --regexp '^[0-9]+ +linkat\(AT_FDCWD, "/proc/self/fd/[0-9]+", [0-9]+, "\.f\.yaml\.atomically\.'
	assert_line --index 3 --regexp '^[0-9]+ +renameat\([0-9]+, "\.f\.yaml\.atomically\.[^"]+", [0-9]+, "f\.yaml"\) = 0'
	refute_output --partial unlink
}

@test "backup: a new file has no previous version, and no backup is made" {
	conf_yaml 'backup = "~"'
	run wrapped bash -c 'echo v1 > f.yaml'
	assert_loaded bash
	assert_success
	assert_file_not_exists f.yaml~
}

@test "backup: a backup name too long for the file system fails the commit; the target keeps its content" {
	conf_yaml 'backup = "~~"'
	local name
	name=$(printf 'a%.0s' $(seq 249)).yaml
	echo old > "$name"
	run wrapped "$WRITER" open "$name" new
	assert_loaded writer
	assert_equal "$status" 2
	assert_output "close: File name too long"
	assert_equal "$(cat "$name")" old
	assert_no_temps .
	grep -q "not committed, the old content is kept: cannot keep the old file as its backup: File name too long" "$LIBLOG" ||
		fail "no message: $(cat "$LIBLOG")"
}

# ---- durability ------------------------------------------------------------

# syncs DURABILITY: write f.yaml under strace with that durability; the
# fsync/fdatasync calls (with the paths of their descriptors) in $trace.
syncs() {
	conf_yaml "durability = \"$1\""
	echo old > f.yaml
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -y -o sync.trace \
		-e trace=fsync,fdatasync "$ATOMICALLY" "$WRITER" open f.yaml new
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml)" new
	trace=$(grep -E 'fsync|fdatasync' sync.trace || true)
	dir=$(pwd -P)
}

@test "durability full: fsync of the temp file and of the directory" {
	syncs full
	echo "$trace" | grep -Eq "^[0-9]+ +fsync\([0-9]+$(temp_re "$dir" f.yaml)\) += 0" ||
		fail "no fsync of the temp: $trace"
	echo "$trace" | grep -Eq "^[0-9]+ +fsync\([0-9]+<$dir>\) += 0" ||
		fail "no fsync of the directory: $trace"
	assert_equal "$(echo "$trace" | grep -c ' fsync(')" 2
	assert_equal "$(echo "$trace" | grep -c fdatasync)" 0
}

@test "durability file: one fsync of the file, none of the directory" {
	syncs file
	echo "$trace" | grep -Eq "^[0-9]+ +fsync\([0-9]+$(temp_re "$dir" f.yaml)\) += 0" ||
		fail "no fsync of the temp: $trace"
	assert_equal "$(echo "$trace" | grep -c ' fsync(')" 1
	assert_equal "$(echo "$trace" | grep -c fdatasync)" 0
}

@test "durability data: fdatasync of the file, no fsync" {
	syncs data
	echo "$trace" | grep -Eq "^[0-9]+ +fdatasync\([0-9]+$(temp_re "$dir" f.yaml)\) += 0" ||
		fail "no fdatasync of the temp: $trace"
	assert_equal "$(echo "$trace" | grep -c ' fsync(')" 0
}

@test "durability none: neither fsync nor fdatasync, still a new inode" {
	before=$(echo old > f.yaml; inode f.yaml)
	syncs none
	assert_equal "$trace" ""
	assert_not_equal "$(inode f.yaml)" "$before"
}

# ---- lock files ------------------------------------------------------------

@test "lock file: <dirdev>-<dirino>-NAME.lock under the runtime dir, removed by its last holder" {
	echo old > f.yaml
	run wrapped "$WRITER" open f.yaml v0
	assert_loaded writer
	assert_success
	lock="$LOCKS/$(lock_name . f.yaml)"
	assert_equal "$(locks_used)" "$lock"
	[[ "$(basename "$lock")" =~ ^[0-9a-f]+-[0-9a-f]+-f\.yaml\.lock$ ]] || fail "odd lock name $lock"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		wrapped "$WRITER" open f.yaml "v$i" || fail "write $i failed"
	done
	assert_equal "$(cat f.yaml)" v10
	# Every write locked the same name, and left nothing behind.
	assert_equal "$(locks_used | sort -u)" "$lock"
	assert_equal "$(locks_used | wc -l)" 11
	assert_equal "$(ls -A "$LOCKS")" ""
	# Never the target: the target has a new inode every time.
	[ "$(basename "$(locks_used | head -1)")" != f.yaml ]
}

@test "lock file: different spellings of one path share one lock file" {
	mkdir sub
	echo old > f.yaml
	run wrapped bash -c 'echo a > f.yaml; echo b > ./f.yaml; echo c > sub/../f.yaml; echo d > "$PWD//f.yaml"'
	assert_loaded bash
	assert_success
	assert_equal "$(cat f.yaml)" d
	assert_equal "$(locks_used | wc -l)" 4
	assert_equal "$(locks_used | sort -u)" "$LOCKS/$(lock_name . f.yaml)"
}

@test "lock_dir = \"sidecar\": .NAME.lock beside the file, kept across writes" {
	conf_yaml "" 'lock_dir = "sidecar"'
	echo old > f.yaml
	run wrapped "$WRITER" open f.yaml one
	assert_loaded writer
	assert_success
	assert_file_exists .f.yaml.lock
	first=$(inode .f.yaml.lock)
	run wrapped "$WRITER" open f.yaml two
	assert_success
	assert_equal "$(cat f.yaml)" two
	assert_equal "$(inode .f.yaml.lock)" "$first"
	assert_no_locks
	assert_no_temps .
}

@test "lock_dir = a directory: the lock file is made there" {
	mkdir locks
	conf_yaml "" "lock_dir = \"$PWD/locks\""
	echo old > f.yaml
	run wrapped "$WRITER" open f.yaml new
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_equal "$(locks_used)" "$PWD/locks/$(lock_name . f.yaml)"
	assert_equal "$(ls -A locks)" ""  # removed by its last holder
	assert_no_locks
	assert_file_not_exists .f.yaml.lock
}

# hold_lock: a background writer holds the lock of f.yaml for ~3 s; its
# pid in $holder.
hold_lock() {
	echo old > f.yaml
	with_env_bg "$WRITER" open f.yaml slow-writer-text 10 300
	holder=$!
	wait_for_temp .
}

@test "lock_timeout = 0: the open fails at once, naming the file, the wait and the holder's pid" {
	hold_lock
	printf 'path "*.yaml" { lock_timeout = 0 }\n' > quick.conf
	start=$(now_ms)
	run "$ATOMICALLY" -c quick.conf "$WRITER" open f.yaml other
	took=$(($(now_ms) - start))
	assert_equal "$status" 1
	assert_line --regexp "^atomically: $PWD/f\\.yaml: .*pid $holder([^0-9].*)? 0 s([^0-9]|$)"
	assert_line "f.yaml: Resource temporarily unavailable"
	[ "$took" -lt 1500 ] || fail "lock_timeout = 0 waited $took ms"
	wait "$holder" || fail "the holder failed"
	assert_loaded writer
	assert_equal "$(cat f.yaml)" slow-writer-text
	assert_no_temps .
}

@test "lock_timeout = 1: the open fails after about a second, naming the holder" {
	hold_lock
	printf 'path "*.yaml" { lock_timeout = 1 }\n' > one.conf
	start=$(now_ms)
	run "$ATOMICALLY" -c one.conf "$WRITER" open f.yaml other
	took=$(($(now_ms) - start))
	assert_equal "$status" 1
	assert_line --regexp "^atomically: $PWD/f\\.yaml: .*pid $holder([^0-9].*)? 1 s([^0-9]|$)"
	[ "$took" -ge 900 ] || fail "gave up after $took ms, before the timeout"
	[ "$took" -lt 2500 ] || fail "gave up after $took ms"
	wait "$holder" || fail "the holder failed"
	assert_loaded writer
	assert_equal "$(cat f.yaml)" slow-writer-text
	assert_no_temps .
}

@test "lock_timeout = -1: a second writer waits for the holder and then commits" {
	hold_lock
	printf 'path "*.yaml" { lock_timeout = -1 }\n' > forever.conf
	run "$ATOMICALLY" -c forever.conf "$WRITER" open f.yaml second
	assert_success
	wait "$holder" || fail "the holder failed"
	assert_loaded writer
	assert_equal "$(cat f.yaml)" second
	assert_no_temps .
}

@test "re-entrant lock: one process opens the same file twice for writing, no deadlock" {
	conf_yaml 'lock_timeout = 2'
	echo old > f.yaml
	start=$(now_ms)
	run wrapped timeout 20 "$PY" -c '
f1 = open("f.yaml", "w")
f2 = open("f.yaml", "w")
f1.write("one")
f2.write("two")
f1.close()
f2.close()
print("done")'
	took=$(($(now_ms) - start))
	assert_loaded "$PYNAME"
	assert_success
	assert_output done
	[ "$took" -lt 1800 ] || fail "took $took ms: the second open waited for the first"
	assert_equal "$(cat f.yaml)" two
	assert_no_temps .
}

# ---- exit, close, dup2, fork ----------------------------------------------

@test "exit without close: writer noclose still commits" {
	echo old > f.yaml
	before=$(inode f.yaml)
	run wrapped "$WRITER" noclose f.yaml written-not-closed
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml)" written-not-closed
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
}

@test "os._exit without close: python's _exit commits the open file" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"by _exit")
os._exit(0)'
	assert_loaded "$PYNAME"
	assert_success
	assert_equal "$(cat f.yaml)" "by _exit"
	assert_no_temps .
}

# stdio_prog NAME END: a C program that fprintf's into f.yaml without
# fflush or fclose and ends with END (a statement).
stdio_prog() {
	cat > "$1.c" <<EOF
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	FILE *f = fopen("f.yaml", "w");
	if (!f)
		return 1;
	fprintf(f, "buffered by stdio\n");
	$2;
}
EOF
	gcc -O0 -o "$1" "$1.c" || fail "cannot build $1"
}

@test "exit() without fclose: stdio buffers are flushed, then the file is committed" {
	stdio_prog noflush 'exit(0)'
	echo old > f.yaml
	run wrapped ./noflush
	assert_loaded noflush
	assert_success
	assert_equal "$(cat f.yaml)" "buffered by stdio"
	assert_no_temps .
}

@test "_exit() after fflush, without fclose: the file is committed" {
	stdio_prog underscore 'fflush(NULL); _exit(0)'
	echo old > f.yaml
	run wrapped ./underscore
	assert_loaded underscore
	assert_success
	assert_equal "$(cat f.yaml)" "buffered by stdio"
	assert_no_temps .
}

@test "close in bash: exec 3>f.yaml ... exec 3>&- commits at the close, not before" {
	echo old > f.yaml
	# $(cat f.yaml) is another process: it reads what others read (not
	# $(<f.yaml): bash 5.2 reads that in the shell itself, without a fork).
	# The shell itself (read < f.yaml) reads its own pending content.
	run wrapped bash -c '
exec 3>f.yaml
echo new >&3
read -r mine < f.yaml
before=$(cat f.yaml)
exec 3>&-
after=$(cat f.yaml)
echo "$mine $before $after"'
	assert_loaded bash
	assert_success
	assert_output "new old new"
	assert_no_temps .
}

@test "dup2 over a tracked descriptor commits it (bash exec 3>/dev/null)" {
	echo old > f.yaml
	# $(cat f.yaml) is another process: it reads what others read (not
	# $(<f.yaml): bash 5.2 reads that in the shell itself, without a fork).
	run wrapped bash -c '
exec 3>f.yaml
echo new >&3
before=$(cat f.yaml)
exec 3>/dev/null
after=$(cat f.yaml)
echo "$before $after"'
	assert_loaded bash
	assert_success
	assert_output "old new"
	assert_no_temps .
}

@test "dup2 over a tracked descriptor commits it (python os.dup2)" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os, subprocess
def others():              # what another process reads
    return subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.strip()
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"new")
dup = os.dup(fd)           # a second alias: closing one does not commit
os.close(fd)
print("after close of one alias:", others())
null = os.open("/dev/null", os.O_WRONLY)
os.dup2(null, dup)         # replaces the last alias: commits
print("after dup2:", others())'
	assert_loaded "$PYNAME"
	assert_success
	assert_line "after close of one alias: old"
	assert_line "after dup2: new"
	assert_no_temps .
}

@test "fork: a child that writes and closes the inherited descriptor does not commit; the parent does" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os, subprocess
def others():              # what another process reads
    return subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.strip()
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
pid = os.fork()
if pid == 0:
    os.write(fd, b"from the child")
    os.close(fd)
    os._exit(0)
os.waitpid(pid, 0)
pid = os.fork()
if pid == 0:
    os._exit(0)            # exits with the descriptor still open
os.waitpid(pid, 0)
print("the parent reads:", open("f.yaml").read().strip())
print("before the parent closes:", others())
os.close(fd)
print("after the parent closes:", others())'
	assert_loaded "$PYNAME"
	assert_success
	assert_line "before the parent closes: old"
	assert_line "the parent reads: from the child"
	assert_line "after the parent closes: from the child"
	assert_no_temps .
}

# ---- exec ------------------------------------------------------------------

@test "exec: 'sh -c \"exec prog > f.yaml\"' commits when prog exits (SPEC §3 Processes)" {
	echo old > f.yaml
	printf 'new\n' > src.txt
	run wrapped sh -c 'exec cat src.txt > f.yaml'
	assert_loaded cat
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_no_temps .
}

@test "exec: a bash redirection to an external command commits (printf new | cat > f.yaml)" {
	echo old > f.yaml
	run wrapped bash -c 'printf "new\n" | cat > f.yaml'
	assert_loaded cat
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_no_temps .
}

# ---- deferred unlink -------------------------------------------------------

@test "rm of a matched file removes it (the deferred unlink runs at exit)" {
	echo old > f.yaml
	echo other > other.txt
	run wrapped rm f.yaml other.txt
	assert_loaded rm
	assert_success
	assert_file_not_exists f.yaml
	assert_file_not_exists other.txt
	grep -q "f.yaml: unlink deferred" "$LIBLOG" || fail "the unlink was not deferred: $(cat "$LIBLOG")"
}

@test "deferred unlink: the next open for writing of another file carries it out" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os
os.unlink("f.yaml")
open("g.yaml", "w").write("g")
print("f.yaml exists:", os.path.exists("f.yaml"))'
	assert_loaded "$PYNAME"
	assert_success
	assert_output "f.yaml exists: False"
	assert_file_not_exists f.yaml
	assert_equal "$(cat g.yaml)" g
}

@test "deferred unlink: unlink then rename onto the name keeps the renamed file (perl)" {
	echo old > f.yaml
	echo new > f.yaml.tmp
	run wrapped perl -e 'unlink "f.yaml" or die "unlink: $!"; rename "f.yaml.tmp", "f.yaml" or die "rename: $!"'
	assert_loaded perl
	assert_success
	# The deferred unlink must not remove, at exit, what the rename put there.
	assert_file_exists f.yaml
	assert_equal "$(cat f.yaml)" new
	assert_file_not_exists f.yaml.tmp
}

@test "deferred unlink: unlink then rename onto the name keeps the renamed file (python)" {
	echo old > f.yaml
	echo new > f.yaml.tmp
	run wrapped "$PY" -c '
import os
os.remove("f.yaml")
os.rename("f.yaml.tmp", "f.yaml")'
	assert_loaded "$PYNAME"
	assert_success
	assert_file_exists f.yaml
	assert_equal "$(cat f.yaml)" new
}

@test "deferred unlink: unlink then symlink, link or mkdir of the name succeeds" {
	echo other > other.txt
	for op in symlink link mkdir; do
		echo old > f.yaml
		run wrapped "$PY" -c '
import os, sys
os.unlink("f.yaml")
op = sys.argv[1]
if op == "symlink": os.symlink("other.txt", "f.yaml")
if op == "link": os.link("other.txt", "f.yaml")
if op == "mkdir": os.mkdir("f.yaml")
print(op, "ok")' "$op"
		assert_loaded "$PYNAME"
		assert_success
		assert_output "$op ok"
		case $op in
		symlink) [ -L f.yaml ] || fail "f.yaml is not the symlink made after the unlink" ;;
		link) assert_equal "$(inode f.yaml)" "$(inode other.txt)" ;;
		mkdir) [ -d f.yaml ] || fail "f.yaml is not the directory made after the unlink" ;;
		esac
		rm -rf f.yaml
	done
}

@test "deferred unlink: the unlinking process no longer finds the file (stat, open for reading)" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os
os.unlink("f.yaml")
print("exists:", os.path.exists("f.yaml"))
try:
    print("read:", open("f.yaml").read().strip())
except FileNotFoundError:
    print("read: ENOENT")'
	assert_loaded "$PYNAME"
	assert_success
	assert_line "exists: False"
	assert_line "read: ENOENT"
	assert_file_not_exists f.yaml
}

@test "a file the process deletes while writing it is not brought back by the commit" {
	for how in unlink unlinkat; do
		echo old > f.yaml
		: > "$LIBLOG"
		run wrapped "$PY" -c '
import os, sys
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"scratch\n")
if sys.argv[1] == "unlink":
    os.unlink("f.yaml")
else:
    d = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    os.unlink("f.yaml", dir_fd=d)
os.write(fd, b"more\n")
os.close(fd)
print("exists:", os.path.exists("f.yaml"))' "$how"
		assert_loaded "$PYNAME"
		assert_success
		assert_output "exists: False"
		assert_file_not_exists f.yaml
		assert_no_temps .
		grep -q 'f.yaml: not committed: the program deleted it' "$LIBLOG" ||
			fail "$how: no message: $(cat "$LIBLOG")"
	done
}

# delete_while_writing: the python3 program of the two tests below:
# writes NAME (a file made new, or one that existed), deletes it by HOW
# (libc's unlink, unlinkat or remove: errno is left as it was), reads it
# (which must fail), deletes it again (which must fail with ENOENT),
# closes it, and says what it saw.
delete_while_writing='
import ctypes, os, sys
name, how = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
def delete():
    ctypes.set_errno(0)
    if how == "remove":
        r = libc.remove(name.encode())
    elif how == "unlinkat":
        r = libc.unlinkat(os.open(".", os.O_RDONLY | os.O_DIRECTORY), name.encode(), 0)
    else:
        r = libc.unlink(name.encode())
    if r != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return ctypes.get_errno()
f = open(name, "w"); f.write("new"); f.flush()
print("errno after the delete:", delete())
try:
    open(name).read(); print("read: done")
except OSError as e:
    print("read:", e.strerror)
try:
    delete(); print("second delete: done")
except OSError as e:
    print("second delete:", e.strerror)
f.close()
print("exists:", os.path.exists(name))'

@test "a file made and deleted before its commit: each delete as without the library (unlink, unlinkat, remove)" {
	for how in unlink unlinkat remove; do
		rm -f n.yaml
		run "$PY" -c "$delete_while_writing" n.yaml "$how"
		assert_success
		local plain=$output
		rm -f n.yaml
		run wrapped "$PY" -c "$delete_while_writing" n.yaml "$how"
		assert_success
		assert_equal "$output" "$plain"
		assert_equal "$output" "$(printf 'errno after the delete: 0\nread: No such file or directory\nsecond delete: No such file or directory\nexists: False')"
		assert_file_not_exists n.yaml
		assert_no_temps .
	done
	assert_loaded "$PYNAME"
}

@test "an unlink while another thread commits the file: an unlink that returns 0 leaves no file, as without the library" {
	# The commit that had begun before the unlink's mark renamed the file
	# into place after the unlink had answered 0 (296 of 300 rounds).
	run "$B/unlink_race" r.yaml 100
	assert_success
	assert_output "unlink returned 0 yet the file exists: 0; unlink failed: 0"
	for how in "" existing; do
		run wrapped "$B/unlink_race" r.yaml 100 $how
		assert_success
		assert_output "unlink returned 0 yet the file exists: 0; unlink failed: 0"
	done
	assert_loaded unlink_race
}

@test "remove() of a file being written is not undone by the commit, as unlink is not" {
	echo old > f.yaml
	run wrapped "$PY" -c "$delete_while_writing" f.yaml remove
	assert_loaded "$PYNAME"
	assert_success
	assert_output "$(printf 'errno after the delete: 0\nread: No such file or directory\nsecond delete: No such file or directory\nexists: False')"
	assert_file_not_exists f.yaml
	assert_no_temps .
	grep -q 'f.yaml: not committed: the program deleted it' "$LIBLOG" ||
		fail "no message: $(cat "$LIBLOG")"
}

@test "a file deleted while pending, then created anew (O_EXCL), ends as the new one" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os
a = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(a, b"first\n")
os.unlink("f.yaml")
b = os.open("f.yaml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(b, b"second\n")
os.close(b)
os.close(a)'
	assert_loaded "$PYNAME"
	assert_success
	assert_equal "$(cat f.yaml)" second
	assert_no_temps .
}

@test "install-style unlink + O_EXCL create is an atomic replace: no unlink reaches the kernel" {
	echo old > f.yaml
	before=$(inode f.yaml)
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o trace -e trace=unlink,unlinkat,rename,renameat,renameat2 \
		"$ATOMICALLY" "$PY" -c '
import os
os.unlink("f.yaml")
fd = os.open("f.yaml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b"new\n")
os.close(fd)'
	assert_loaded "$PYNAME"
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	run grep -E 'unlink(at)?\(.*"f\.yaml"' trace
	assert_failure
	grep -Eq 'rename(at2?)?\(.*"f\.yaml"(, [A-Z_0]+)?\) += 0' trace ||
		fail "f.yaml was not renamed over: $(cat trace)"
	assert_no_temps .
}

@test "install-style: coreutils install replaces a matched file atomically" {
	echo old > f.yaml
	echo new > src.txt
	before=$(inode f.yaml)
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o trace -e trace=unlink,unlinkat,rename,renameat,renameat2 \
		"$ATOMICALLY" install -m 0640 src.txt f.yaml
	assert_loaded install
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_equal "$(stat -c %a f.yaml)" 640
	run grep -E 'unlink(at)?\(.*"f\.yaml"' trace
	assert_failure
	assert_no_temps .
}

@test "install-style: a reader never sees the file missing while python deletes and recreates it" {
	echo old > f.yaml
	echo old > old.ref
	echo new > new.ref
	"$CHECKREAD" f.yaml old.ref new.ref 1500 > check.out 3>&- &
	reader=$!
	run wrapped "$PY" -c '
import os, time
for i in range(40):
    os.unlink("f.yaml")
    fd = os.open("f.yaml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    time.sleep(0.005)
    os.write(fd, b"new\n" if i % 2 == 0 else b"old\n")
    os.close(fd)'
	assert_loaded "$PYNAME"
	assert_success
	wait "$reader" || fail "checkread saw a torn or missing file: $(cat check.out)"
	assert_no_temps .
}

# ---- hard links -------------------------------------------------------------

@test "hardlinks = break (default): the written name gets a new inode, the other keeps the old content" {
	echo old > f.yaml
	ln f.yaml other.yaml
	run wrapped "$WRITER" open f.yaml new
	assert_loaded writer
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_equal "$(cat other.yaml)" old
	assert_not_equal "$(inode f.yaml)" "$(inode other.yaml)"
}

@test "hardlinks = inplace: written in place, both names see the new content" {
	conf_yaml 'hardlinks = "inplace"'
	echo old > f.yaml
	ln f.yaml other.yaml
	before=$(inode f.yaml)
	run wrapped "$WRITER" open f.yaml new
	assert_loaded writer
	assert_success
	assert_equal "$(cat other.yaml)" new
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
}

@test "hardlinks = fail: the open fails with EMLINK, nothing changes" {
	conf_yaml 'hardlinks = "fail"'
	echo old > f.yaml
	ln f.yaml other.yaml
	before=$(inode f.yaml)
	run wrapped "$WRITER" open f.yaml new
	assert_loaded writer
	assert_equal "$status" 1
	assert_output --partial "f.yaml: Too many links"
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	grep -q "f.yaml: has 2 hard links" "$LIBLOG" || fail "no warning: $(cat "$LIBLOG")"
	assert_no_temps .
}

# ---- logging ---------------------------------------------------------------

@test "logging: a successful write at the default level prints nothing" {
	run wrapped "$WRITER" open probe.yaml x
	assert_loaded writer
	echo old > f.yaml
	before=$(inode f.yaml)
	run "$ATOMICALLY" "$WRITER" open f.yaml new
	assert_success
	assert_output ""
	# The library did act (an O_TRUNC write alone keeps the inode).
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	run "$ATOMICALLY" bash -c 'echo a > f.yaml; echo b >> f.yaml; cat f.yaml > /dev/null'
	assert_success
	assert_output ""
}

@test "logging: log_file in the config gets a failure's warning, stderr stays clean" {
	conf_yaml 'hardlinks = "fail"' "log_level = \"debug\"
log_file = \"$LIBLOG\""
	echo old > f.yaml
	ln f.yaml other.yaml
	run "$ATOMICALLY" "$WRITER" open f.yaml new
	assert_loaded writer
	assert_equal "$status" 1
	assert_output "f.yaml: Too many links"
	grep -Eq "^atomically: $PWD/f\\.yaml: has 2 hard links" "$LIBLOG" ||
		fail "the warning is not in log_file: $(cat "$LIBLOG")"
}

@test "logging: ATOMICALLY_LOG=info:FILE overrides the config's level and file" {
	conf_yaml 'hardlinks = "fail"' "log_level = \"error\"
log_file = \"$PWD/conf.log\""
	run wrapped "$WRITER" open probe.yaml x
	assert_loaded writer
	echo old > f.yaml
	run env ATOMICALLY_LOG="info:$PWD/env.log" "$ATOMICALLY" "$WRITER" open g.yaml new
	assert_success
	assert_output ""
	grep -Eq "^atomically: $PWD/g\\.yaml: committed" env.log ||
		fail "no info message in the ATOMICALLY_LOG file: $(cat env.log)"
	ln f.yaml other.yaml
	run env ATOMICALLY_LOG="info:$PWD/env.log" "$ATOMICALLY" "$WRITER" open f.yaml new
	assert_equal "$status" 1
	assert_output "f.yaml: Too many links"
	grep -Eq "^atomically: $PWD/f\\.yaml: has 2 hard links" env.log ||
		fail "the warning is not in the ATOMICALLY_LOG file: $(cat env.log)"
	refute grep -q "active in pid" env.log
	assert_file_not_exists conf.log
}

@test "logging: every message starts with 'atomically: ' and names the file" {
	echo old > f.yaml
	run wrapped "$WRITER" open f.yaml new
	assert_loaded writer
	assert_success
	run grep -v '^atomically: ' "$LIBLOG"
	assert_failure
	run grep -v -e '^atomically: active in pid ' -e "^atomically: $PWD/f\\.yaml: " "$LIBLOG"
	assert_failure
}

# ---- the rules a process receives -----------------------------------------

@test "rules: a config too long for the library's room in its data still loads whole (300 rules)" {
	# Each process copies the encoded rules into a 3 KB room in the
	# library's data, or into memory of its own when they do not fit:
	# here some 12 KB.  The last rule, the only one to match, must work.
	{
		for i in $(seq 1 300); do
			printf 'path "/nowhere/a-rather-long-directory-name/number-%d/*.yaml" { }\n' "$i"
		done
		printf 'path "*.dat" { }\n'
	} > "$CONF"
	echo old > f.dat
	before=$(inode f.dat)
	run wrapped "$WRITER" open f.dat new
	assert_success
	grep -Eq "^atomically: active in pid [0-9]+ \\(writer\\), 301 rules" "$LIBLOG" ||
		fail "the library did not load the 301 rules: $(head -n 3 "$LIBLOG")"
	assert_equal "$(cat f.dat)" new
	assert_not_equal "$(inode f.dat)" "$before"
	assert_redirected f.dat
}

# ---- syscall(): the same calls by number ---------------------------------------

# A program that makes its calls through syscall() (libuv closes with
# syscall(SYS_close)) gets what the hooks give the functions: the open of
# a matched file a temp, the close its commit, the unlink held back and
# carried out before an rmdir of the directory.  Without the syscall hook
# the close passed by: the temp was never committed, and the next open
# took its number.
@test "syscall(): openat, write and close by number redirect and commit; unlinkat and rmdir by number as the functions" {
	cat > sys.py <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_openat, SYS_close, SYS_unlinkat, SYS_mkdirat, SYS_rmdir = 257, 3, 263, 258, 84
AT_FDCWD = -100
for i in (1, 2):
    fd = libc.syscall(ctypes.c_long(SYS_openat), ctypes.c_long(AT_FDCWD), b"f%d.json" % i,
                      ctypes.c_long(os.O_WRONLY | os.O_CREAT | os.O_TRUNC), ctypes.c_long(0o644))
    assert fd >= 0, ctypes.get_errno()
    os.write(fd, b"new %d\n" % i)
    assert libc.syscall(ctypes.c_long(SYS_close), ctypes.c_long(fd)) == 0
os.mkdir("d")
open("d/g.json", "w").write("x")
assert libc.syscall(ctypes.c_long(SYS_unlinkat), ctypes.c_long(AT_FDCWD), b"d/g.json", ctypes.c_long(0)) == 0
r = libc.syscall(ctypes.c_long(SYS_rmdir), b"d")
print("rmdir", r, os.strerror(ctypes.get_errno()) if r else "")
PY
	[ "$(uname -m)" = x86_64 ] || skip "the system call numbers of sys.py are x86_64's"
	echo old > f1.json
	before=$(inode f1.json)
	run wrapped "$PY" sys.py
	assert_success
	assert_loaded "$PYNAME"
	assert_output "rmdir 0 "
	assert_equal "$(cat f1.json)" "new 1"
	assert_equal "$(cat f2.json)" "new 2"
	assert_not_equal "$(inode f1.json)" "$before"
	grep -q "f1.json: committed" "$LIBLOG" && grep -q "f2.json: committed" "$LIBLOG" ||
		fail "not committed: $(cat "$LIBLOG")"
	assert_file_not_exists d
}

# ---- one path, one pending file ---------------------------------------------------

# A second open for writing of a path the process is writing already
# opens the same pending file: one content, one commit, and the two
# descriptors are one file to fstat.  With a temp per open, the last
# close won and the other's writes were lost: `exec 3> f; echo a >&3;
# echo b >> f` kept only a.
@test "two opens of one path in one process: one pending file (bash exec 3>, then >>), as without the library" {
	run bash -c 'exec 3> f.json; echo a >&3; echo b >> f.json; exec 3>&-; cat f.json'
	assert_success
	local plain=$output
	rm f.json
	run wrapped bash -c 'exec 3> f.json; echo a >&3; echo b >> f.json; exec 3>&-; cat f.json'
	assert_success
	assert_loaded bash
	assert_output "$plain"
	assert_equal "$(cat f.json)" "$(printf 'a\nb')"
	grep -q 'f.json: opened again: the same pending file' "$LIBLOG" || fail "$(cat "$LIBLOG")"
	assert_commits 'f\.json' 1
	assert_no_temps .
}

@test "two opens of one path in one process: python 'w', 'a' and 'r+' share it; sameopenfile holds; as without the library" {
	cat > twice.py <<'PY'
import os
a = open("g.json", "w"); a.write("one\n"); a.flush()
b = open("g.json", "a"); b.write("two\n"); b.flush()
print("same", os.path.sameopenfile(a.fileno(), b.fileno()))
c = open("g.json", "r+"); print("reads", repr(c.read()))
d = open("g.json", "w"); d.write("three\n"); d.flush()  # O_TRUNC: for all of them
b.write("four\n"); b.flush()
a.close(); b.close(); c.close(); d.close()
print(repr(open("g.json").read()))
PY
	run "$PY" twice.py
	assert_success
	local plain=$output
	rm g.json
	run wrapped "$PY" twice.py
	assert_success
	assert_loaded "$PYNAME"
	assert_output "$plain"
	assert_line "same True"
	assert_commits 'g\.json' 1
	assert_no_temps .
}

# A second open shares the pending file; when the rest of that open fails
# (fopen's fdopen, made to fail here), the library gives up that one
# descriptor, not the file: the first descriptor's writes are committed.
# (It discarded and freed the shared file: its writes were lost, and the
# record's memory, reused by the next open, was committed in its place.)
@test "a shared open that fails (fopen's fdopen) gives up its descriptor, not the pending file" {
	run env LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$B/failfdopen.so" FAILFDOPEN_TRIGGER="$PWD/trigger" \
		ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$B/fopen_shared" f.json trigger other.json
	assert_success
	assert_loaded fopen_shared
	assert_output "fopen: NULL"
	assert_equal "$(cat f.json)" "$(printf 'one\ntwo')"
	assert_equal "$(cat other.json)" other
	assert_commits 'f\.json' 1
	assert_commits 'other\.json' 1
	assert_no_temps .
}
