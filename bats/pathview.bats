#!/usr/bin/env bats
# pathview.bats - inside the writer, the path is the pending file (issue
# 12, items 3 and 6): the stat family by name and by descriptor describe
# one file, chmod/chown/utime/truncate by name change it, a rename or a
# link of it takes what was written, and the program's fsync commits.
#
# Each behaviour is run by a real program (python3, node, vim) twice,
# without the library and under it, and the two runs must agree (what the
# program printed, its exit status, the file's content and mode); under
# the library the file must also have been written in a temp and
# committed, so that a library that stopped redirecting would fail.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	find_python
}

# describe FILE...: each FILE's name, mode, size and content (or why not).
describe() {
	local f
	for f in "$@"; do
		stat -c '%n %a %s' "$f" 2>&1 && cat "$f" 2>&1 || true
	done
}

# same_as_plain SCRIPT FILE...: run the python SCRIPT without the library
# and under it, each time from fresh FILEs (which hold "old"); both print
# and leave the same, and the library committed the first FILE.
same_as_plain() {
	local script=$1 f plain_out plain_files
	shift
	for f in "$@"; do printf 'old\n' > "$f"; done
	run "$PY" -c "$script"
	assert_success
	plain_out=$output
	plain_files=$(describe "$@")
	for f in "$@"; do rm -f "$f"; printf 'old\n' > "$f"; done
	run wrapped "$PY" -c "$script"
	assert_success
	assert_loaded "$PYNAME"
	assert_equal "$output" "$plain_out"
	assert_equal "$(describe "$@")" "$plain_files"
	grep -qF "$(pwd -P)/$1: committed (" "$LIBLOG" ||
		fail "$1 was not committed by the library: $(cat "$LIBLOG")"
	assert_no_temps .
}

@test "python: fstat of the descriptor and stat of the name are one file: same inode, one link" {
	same_as_plain '
import os
old = os.stat("a.yaml")
f = open("a.yaml", "r+"); f.write("new"); f.flush()
n = open("n.yaml", "w"); n.write("x"); n.flush()
for fd, name, before in ((f.fileno(), "a.yaml", old), (n.fileno(), "n.yaml", None)):
    a, b = os.fstat(fd), os.stat(name)
    print(name, "fd==name", (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino),
          "same as before", before is not None and a.st_ino == before.st_ino,
          "links", a.st_nlink, b.st_nlink, os.lstat(name).st_nlink,
          "size", a.st_size, b.st_size, oct(a.st_mode), oct(b.st_mode),
          "exists", os.path.exists(name), os.access(name, os.R_OK | os.W_OK),
          "sameopenfile", os.path.sameopenfile(fd, os.open(name, os.O_WRONLY)))
' a.yaml
	assert_output --partial "a.yaml fd==name True same as before True links 1 1 1 size 4 4"
	assert_output --partial "n.yaml fd==name True same as before False links 1 1 1 size 1 1"
}

@test "python: chmod, utime and truncate by name while the file is open change the file written" {
	same_as_plain '
import os
f = open("a.yaml", "w"); f.write("new content"); f.flush()
os.chmod("a.yaml", 0o640)
os.truncate("a.yaml", 3)
os.utime("a.yaml", (1000000000, 1000000000))
st = os.stat("a.yaml")
print(oct(st.st_mode), int(st.st_mtime), st.st_size)
n = open("n.yaml", "w"); n.write("x"); n.flush()
os.chmod("n.yaml", 0o600)
print(oct(os.stat("n.yaml").st_mode))
f.close(); n.close()
st = os.stat("a.yaml")
print(oct(st.st_mode), int(st.st_mtime), st.st_size)
' a.yaml n.yaml
	assert_output --partial "0o100640 1000000000 3"
	assert_output --partial "0o100600"
}

@test "python: chmod by name of a pending file another user owns is refused, as the kernel refuses it" {
	require_root
	local dir script
	dir=$(mktemp -d /tmp/atomically-pathview.XXXXXX)
	# Open to everyone but not sticky: another user's file in a sticky
	# directory is never pending, the kernel writes it (sticky.bats).
	chmod 777 "$dir"
	mkdir -m 700 "$dir/run" && chown daemon "$dir/run"
	printf 'path "*.yaml" { }\n' > "$dir/atomically.conf"
	: > "$dir/lib.log" && chown daemon "$dir/lib.log"  # the library trusts only its own log file
	script='
import os
f = open("a.yaml", "w"); f.write("new"); f.flush()
try:
    os.chmod("a.yaml", 0o600); print("chmod allowed")
except PermissionError:
    print("chmod refused")
f.close()
'
	for wrap in "" "$ATOMICALLY"; do
		printf 'old\n' > "$dir/a.yaml"
		chown nobody "$dir/a.yaml" && chmod 666 "$dir/a.yaml"
		run setpriv --reuid=daemon --regid=daemon --clear-groups env -C "$dir" \
			XDG_RUNTIME_DIR="$dir/run" ATOMICALLY_CONF="$dir/atomically.conf" \
			ATOMICALLY_LOG="debug:$dir/lib.log" $wrap /usr/bin/python3 -c "$script"
		assert_success
		assert_output "chmod refused"
		# Replaced, the file is daemon's: giving it to nobody needs
		# privilege (metadata.c), as after a rename by hand.
		owner=nobody
		[ -z "$wrap" ] || owner=daemon
		assert_equal "$(stat -c '%a %U' "$dir/a.yaml") $(cat "$dir/a.yaml")" "666 $owner new"
	done
	LIBLOG=$dir/lib.log assert_loaded python3
	grep -qF "$dir/a.yaml: committed (" "$dir/lib.log" || fail "not committed: $(cat "$dir/lib.log")"
	rm -rf "$dir"
}

@test "python: a pending file renamed away takes what was written, and what is written after" {
	same_as_plain '
import os
f = open("a.yaml", "w"); f.write("first\n"); f.flush()
os.rename("a.yaml", "b.yaml")
f.write("second\n"); f.close()
print(os.path.exists("a.yaml"), open("b.yaml").read().split())
' a.yaml
}

@test "python: a file renamed over a pending one wins; the pending writes go with the old file" {
	printf 'other\n' > other.yaml
	same_as_plain '
import os
f = open("a.yaml", "w"); f.write("lost\n"); f.flush()
open("c.yaml", "w").write("winner\n")
os.rename("c.yaml", "a.yaml")
f.write("more\n"); f.close()
print(open("a.yaml").read().split())
' c.yaml a.yaml
	assert_output "['winner']"
}

@test "node: fstatSync and statSync (libuv's statx by syscall) agree on a file being written" {
	command -v node > /dev/null || skip "node is not installed"
	local js='
const fs = require("fs");
const fd = fs.openSync("a.json", "w"); fs.writeSync(fd, "{\"a\": 2}");
const a = fs.fstatSync(fd), b = fs.statSync("a.json");
console.log(a.ino === b.ino, a.nlink, b.nlink, a.size, b.size);
fs.chmodSync("a.json", 0o600); fs.closeSync(fd);
console.log((fs.statSync("a.json").mode & 0o777).toString(8), fs.readFileSync("a.json", "utf8"));
'
	printf '{}\n' > a.json
	run node -e "$js"
	assert_success
	local plain=$output
	printf '{}\n' > a.json
	run wrapped node -e "$js"
	assert_success
	assert_loaded node
	assert_equal "$output" "$plain"
	grep -qF "$(pwd -P)/a.json: committed (" "$LIBLOG" || fail "not committed: $(cat "$LIBLOG")"
}

@test "a target another process deletes while it is written: the close succeeds, the commit makes it anew" {
	local script='
import os, subprocess, sys
f = open("a.yaml", "w"); f.write("new\n"); f.flush()
subprocess.run(["rm", "a.yaml"], check=True)
f.write("more\n"); f.close()
print("closed")
'
	printf 'old\n' > a.yaml
	run "$PY" -c "$script"   # control: the close succeeds, the file is gone
	assert_success
	assert_output closed
	assert_file_not_exists a.yaml
	printf 'old\n' > a.yaml
	run wrapped "$PY" -c "$script"
	assert_success
	assert_output closed
	assert_loaded "$PYNAME"
	assert_equal "$(cat a.yaml)" "$(printf 'new\nmore')"
	! grep -E "not committed|failed" "$LIBLOG" || fail "a failure was logged"
}

# ---- fsync ------------------------------------------------------------------

# The writer: writes NEW over a.yaml, fsyncs, and is killed before it
# closes the file.
FSYNC_KILLED='
import os, signal
f = open("a.yaml", "w"); f.write("new\n"); f.flush(); os.fsync(f.fileno())
os.kill(os.getpid(), signal.SIGKILL)
'

@test "fsync = commit (default): a writer killed after its fsync keeps what it synced" {
	printf 'old\n' > a.yaml
	run "$PY" -c "$FSYNC_KILLED"   # control: in place, synced
	assert_equal "$status" 137
	assert_equal "$(cat a.yaml)" new
	printf 'old\n' > a.yaml
	local before
	before=$(inode a.yaml)
	run wrapped "$PY" -c "$FSYNC_KILLED"
	assert_equal "$status" 137
	assert_loaded "$PYNAME"
	assert_equal "$(cat a.yaml)" new
	[ "$(inode a.yaml)" != "$before" ] || fail "written in place"
	grep -qF "committed (full) while still open" "$LIBLOG" || fail "$(cat "$LIBLOG")"
	assert_no_temps .
}

@test "fsync = temp: the fsync syncs the temp only; killed before the close, the old content stays" {
	printf 'path "*.yaml" { fsync = "temp" }\n' > "$CONF"
	printf 'old\n' > a.yaml
	run wrapped "$PY" -c "$FSYNC_KILLED"
	assert_equal "$status" 137
	assert_loaded "$PYNAME"
	assert_equal "$(cat a.yaml)" old
	assert_no_temps .
}

@test "fsync then more writes: the commit at the fsync, the rest written in place, as unwrapped" {
	same_as_plain '
import os
f = open("a.yaml", "w"); f.write("one\n"); f.flush(); os.fsync(f.fileno())
f.write("two\n"); f.close()
print(open("a.yaml").read().split())
' a.yaml
	assert_output "['one', 'two']"
}

@test "fsync of an unchanged file (opened without O_TRUNC) commits nothing: same inode" {
	printf 'old\n' > a.yaml
	local before
	before=$(inode a.yaml)
	run wrapped "$PY" -c '
import os
f = open("a.yaml", "r+"); os.fsync(f.fileno()); f.close()'
	assert_success
	assert_loaded "$PYNAME"
	assert_equal "$(inode a.yaml)" "$before"
}

# ---- vim ----------------------------------------------------------------------

# vim_state DIR: what vim left: each file's kind and content.
vim_state() {
	local f
	for f in "$1"/*; do
		printf '%s %s %s\n' "${f##*/}" "$(stat -c %F "$f")" "$(cat "$f" 2>&1)"
	done
}

# vim_save DIR FILE BACKUPCOPY: vim -es saves FILE (real.yaml, or
# link.yaml, a symlink to it, in DIR) with the option, plain and wrapped:
# the same status, and the same files left (backupcopy=no replaces a
# symlink with a file, with or without the library).
vim_save() {
	local dir=$1 file=$2 bc=$3 plain
	rm -rf "$dir" && mkdir -p "$dir"
	printf 'a: old\n' > "$dir/real.yaml"
	[ "$file" = real.yaml ] || ln -s real.yaml "$dir/$file"
	run vim -es -V1 -i NONE -u NONE -c "set nocompatible backupcopy=$bc" -c '%s/old/new/' -c wq "$dir/$file"
	plain="$status $(vim_state "$dir")"
	[[ "$plain" == *"a: new"* ]] || fail "control: vim did not save $dir/$file with backupcopy=$bc"
	rm -rf "$dir" && mkdir -p "$dir"
	printf 'a: old\n' > "$dir/real.yaml"
	[ "$file" = real.yaml ] || ln -s real.yaml "$dir/$file"
	: > "$LIBLOG"
	run wrapped vim -es -V1 -i NONE -u NONE -c "set nocompatible backupcopy=$bc" -c '%s/old/new/' -c wq "$dir/$file"
	assert_loaded vim
	assert_equal "$bc $dir/$file: $status $(vim_state "$dir")" "$bc $dir/$file: $plain"
	grep -qF ": committed (" "$LIBLOG" || fail "$bc $dir/$file: not committed: $(cat "$LIBLOG")"
}

@test "vim: every backupcopy, in /tmp (backupskip) and elsewhere, through a symlink: saved as unwrapped" {
	local elsewhere
	# /tmp is in vim's backupskip (it then writes in place); /var/tmp is not
	elsewhere=$(mktemp -d /var/tmp/atomically-vim.XXXXXX)
	for bc in yes no auto; do
		for dir in "$BATS_TEST_TMPDIR/t" "$elsewhere/t"; do
			for file in real.yaml link.yaml; do
				vim_save "$dir" "$file" "$bc"
			done
		done
	done
	rm -rf "$elsewhere"
}
