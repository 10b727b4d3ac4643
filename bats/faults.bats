#!/usr/bin/env bats
# faults.bats - a fault at each step of a replacement (SPEC §3 "Commit",
# §6 "Faults"; issue 5 item 2), injected with strace into the one call
# that makes the step: creating the temp (openat with O_TMPFILE; the named
# temp's openat where there is no /proc), the program's write, the fsync
# (fdatasync), the linkat that names an anonymous temp, the rename, the
# directory's fsync; errors (EIO, ENOSPC, EDQUOT) and SIGKILL.  After each:
# the target is intact (or, after the rename, wholly new), the program saw
# the error (open, write, close, or its exit status: 74 when it would have
# exited 0), a warning names the file, no temp is left (after the next
# writer ran, for a writer killed with a named temp).  Also: the
# descriptor limit reached while the library makes the temp (EMFILE), and
# a directory the writer may write but not read.
#
# Not repeated here, see failures.bats: EIO on fsync (close, fclose,
# python, the exit status), on fdatasync, on rename, on the directory's
# fsync; a real ENOSPC on a 1 MiB tmpfs (python, dd, bash, a shell's
# child); read-only mounts; an unwritable directory; a bind-mounted file.
# temps.bats: a writer killed at the rename, its named temp swept by the
# next writer.
#
# The writer runs with a bare LD_PRELOAD and the rules compiled once
# (ATOMICALLY_RULES, as `atomically --env` hands them to CI steps), not
# under the launcher: strace counts calls per process (when=N), and the
# launcher's own calls must not be counted, nor faulted.  Which call is
# the Nth is found by a dry run of the same program, and each test checks
# that the call strace faulted is the one it meant.

load helpers

setup_file() {
	find_python
}

setup() {
	common_setup
	command -v strace > /dev/null || skip "strace is missing (Debian: strace)"
	strace -f -o /dev/null -e trace=none -e inject=fsync:error=EDQUOT:when=1 true 2> /dev/null ||
		skip "this strace cannot inject faults"
	rules 'path "*.yaml" { }'
	echo old > f.yaml
	NOBODY_DIR=
	TMPFS=
}

teardown() {
	[ -z "$TMPFS" ] || umount "$TMPFS" 2> /dev/null || umount -l "$TMPFS" 2> /dev/null || true
	if [ -n "$NOBODY_DIR" ] && [ -d "$NOBODY_DIR" ]; then
		chmod -R u+rwx "$NOBODY_DIR" 2> /dev/null
		rm -rf "$NOBODY_DIR"
	fi
}

# ---- helpers of this file ------------------------------------------------

# rules CONFIG-TEXT: the config, compiled once into ATOMICALLY_RULES.
rules() {
	printf '%s\n' "$1" > "$CONF"
	unset ATOMICALLY_RULES
	eval "$("$ATOMICALLY" --env | grep '^export ATOMICALLY_RULES=')"
	[ -n "${ATOMICALLY_RULES:-}" ] || fail "atomically --env gave no ATOMICALLY_RULES"
}

# traced TRACE SYSCALL [INJECT] -- COMMAND...: COMMAND with the library
# (debug log in $LIBLOG), under strace tracing SYSCALL into TRACE (-y:
# descriptors shown with their paths), INJECT an -e inject expression.
traced() {
	local trace=$1 sys=$2 inject=()
	shift 2
	if [ "$1" != -- ]; then
		inject=(-e "inject=$1")
		shift
	fi
	shift
	strace -f -y -o "$trace" -e trace="$sys" "${inject[@]}" \
		-E LD_PRELOAD="$LIB" -E ATOMICALLY_LOG="debug:$LIBLOG" "$@"
}

# nth SYSCALL REGEX COMMAND...: which call of SYSCALL, counted in
# COMMAND's process as strace's when= counts, is the first whose line in a
# dry run (strace -y) matches the extended regex REGEX.  f.yaml holds
# "old" before and after.
nth() {
	local sys=$1 re=$2 n
	shift 2
	echo old > f.yaml
	traced dry.trace "$sys" -- "$@" > /dev/null 2>&1 || true
	echo old > f.yaml
	n=$(RE="$re" SYS="$sys" awk '$2 ~ "^" ENVIRON["SYS"] "\\(" { n++; if ($0 ~ ENVIRON["RE"]) { print n; exit } }' dry.trace)
	[ -n "$n" ] || fail "no $sys call matches /$re/ in a run of $*: $(cat dry.trace)"
	echo "$n"
}

# fault SYSCALL REGEX ACTION COMMAND...: run COMMAND (with `run`) with
# ACTION (error=ERRNO, or signal=SIGKILL) injected into the call of
# SYSCALL that REGEX names (see nth); f.yaml holds "old" and its inode is
# in $before.  The library was loaded; the call faulted is that one.
fault() {
	local sys=$1 re=$2 action=$3 n
	shift 3
	n=$(nth "$sys" "$re" "$@")
	before=$(inode f.yaml)
	: > "$LIBLOG"
	[ "$action" != signal=SIGKILL ] || action=error=EIO:signal=SIGKILL  # the call never runs
	run traced fault.trace "$sys" "$sys:$action:when=$n" -- "$@"
	assert_loaded "${1##*/}"
	case $action in
	*signal=SIGKILL)
		# The last call the process entered is the one meant, and it died there.
		grep -q '+++ killed by SIGKILL +++' fault.trace ||
			fail "the process was not killed: $(tail -n 5 fault.trace)"
		grep -E "^[0-9]+ +$sys\\(" fault.trace | tail -n 1 | grep -Eq "$re" ||
			fail "killed at another call than /$re/: $(tail -n 5 fault.trace)"
		;;
	*)
		grep -E "$re" fault.trace | grep -q '(INJECTED)' ||
			fail "the call /$re/ was not the one faulted: $(grep -n INJECTED fault.trace || tail -n 5 fault.trace)"
		;;
	esac
}

# The calls, as strace -y shows them.  An anonymous temp is DIR/#INODE
# (deleted); a named one .f.yaml.atomically.PID.RANDOM.
TMPFILE_OPEN='openat\(.*O_TMPFILE'
NAMED_OPEN='openat\(.*"\.f\.yaml\.atomically\.[0-9]+\.[0-9a-f]+", .*O_EXCL'
DATA_WRITE='write\([0-9]+<[^>]*(#[0-9]+>\(deleted\)|\.f\.yaml\.atomically\.[^>]*>), "new'
FILE_FSYNC='fsync\([0-9]+<[^>]*(#[0-9]+>\(deleted\)|\.f\.yaml\.atomically\.[^>]*>)\)'
FILE_FDATASYNC='fdatasync\([0-9]+<[^>]*(#[0-9]+>\(deleted\)|\.f\.yaml\.atomically\.[^>]*>)\)'
NAMING_LINK='linkat\(.*"\.f\.yaml\.atomically\.[0-9]+\.[0-9a-f]+"'
RENAME='renameat2?\(.*"\.f\.yaml\.atomically\.[^"]*", [0-9]+<[^>]*>, "f\.yaml"'
dir_fsync_re() { printf 'fsync\\([0-9]+<%s>\\)' "$(pwd -P)"; }

# assert_intact: f.yaml is the old file, content and inode; no temp.
assert_intact() {
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
}

# strerror ERRNO: its text, as perror prints it.
strerror() {
	case $1 in
	EIO) echo "Input/output error" ;;
	ENOSPC) echo "No space left on device" ;;
	EDQUOT) echo "Disk quota exceeded" ;;
	EMFILE) echo "Too many open files" ;;
	esac
}

# next_writer_cleans: the next writer of f.yaml under the library commits,
# and no temp is left.
next_writer_cleans() {
	: > "$LIBLOG"
	run preloaded "$WRITER" open f.yaml next
	assert_success
	assert_loaded writer
	assert_equal "$(cat f.yaml)" next
	assert_no_temps .
}

# ---- creating the temp ----------------------------------------------------

@test "openat(O_TMPFILE) fails with EIO, ENOSPC, EDQUOT: the open fails with it, the target is intact, no temp" {
	local e
	for e in EIO ENOSPC EDQUOT; do
		fault openat "$TMPFILE_OPEN" "error=$e" "$WRITER" open f.yaml new
		assert_equal "$status" 1
		assert_output "f.yaml: $(strerror "$e")"
		assert_intact
	done
}

@test "without /proc (named temps): the named temp's openat fails with EIO, ENOSPC, EDQUOT: the open fails with it, the target is intact, no temp" {
	require_root "unmounts /proc in a private mount namespace"
	command -v unshare > /dev/null || skip "unshare (util-linux) is missing"
	local e n
	for e in EIO ENOSPC EDQUOT; do
		# The dry run and the faulted run, both without /proc.
		echo old > f.yaml
		unshare -m --propagation private sh -c 'umount -l /proc || exit 99; exec "$@"' sh \
			strace -f -y -o dry.trace -e trace=openat -E LD_PRELOAD="$LIB" \
			-E ATOMICALLY_LOG="debug:$LIBLOG" "$WRITER" open f.yaml new > /dev/null 2>&1 || true
		n=$(RE="$NAMED_OPEN" awk '$2 ~ /^openat\(/ { n++; if ($0 ~ ENVIRON["RE"]) { print n; exit } }' dry.trace)
		[ -n "$n" ] || fail "no named temp was made without /proc: $(cat dry.trace)"
		echo old > f.yaml
		before=$(inode f.yaml)
		: > "$LIBLOG"
		run unshare -m --propagation private sh -c 'umount -l /proc || exit 99; exec "$@"' sh \
			strace -f -y -o fault.trace -e trace=openat -e "inject=openat:error=$e:when=$n" \
			-E LD_PRELOAD="$LIB" -E ATOMICALLY_LOG="debug:$LIBLOG" "$WRITER" open f.yaml new
		assert_loaded writer
		grep -E "$NAMED_OPEN" fault.trace | grep -q '(INJECTED)' ||
			fail "the named temp's openat was not the call faulted: $(cat fault.trace)"
		assert_equal "$status" 1
		assert_output "f.yaml: $(strerror "$e")"
		assert_intact
	done
}

@test "a file system out of inodes (tmpfs, nr_inodes): no temp can be made: the open fails with ENOSPC, the target is intact, a warning names the file" {
	require_root "mounting a tmpfs"
	mkdir mnt
	mount -t tmpfs -o size=1m,nr_inodes=2,mode=755 tmpfs mnt || fail "cannot mount a tmpfs"
	TMPFS=$(pwd -P)/mnt
	echo old > mnt/f.yaml  # the root directory and f.yaml: no inode is left
	before=$(inode mnt/f.yaml)
	! echo x 2> /dev/null > mnt/g.yaml || fail "the tmpfs still had an inode free"
	: > "$LIBLOG"
	run wrapped bash -c 'echo new > mnt/f.yaml'
	local st=$status out=$output
	cp mnt/f.yaml content
	ls -A mnt > left
	umount mnt && TMPFS=
	assert_loaded bash
	assert_equal "$st" 1
	[[ "$out" == *"mnt/f.yaml: No space left on device"* ]] || fail "bash did not say ENOSPC: $out"
	assert_equal "$(cat content)" old
	assert_equal "$(cat left)" f.yaml
	# Unwrapped, this open would have worked (it needs no new inode): the
	# user has to learn from the library why it failed.
	assert_one_warning "$(pwd -P)/mnt/f.yaml" "No space left on device"
}

# ---- the program's write ----------------------------------------------------

@test "the program's write fails with EIO, ENOSPC, EDQUOT: it sees the error, the target is intact, a warning, no temp" {
	local e
	for e in EIO ENOSPC EDQUOT; do
		fault write "$DATA_WRITE" "error=$e" "$WRITER" open f.yaml new
		assert_equal "$status" 2
		assert_output "write: $(strerror "$e")"
		assert_intact
		assert_one_warning "$PWD/f.yaml" "not committed" "$(strerror "$e")"
	done
}

@test "a write that fails with EDQUOT in a program that carries on: close() raises it, the exit status is 74" {
	fault write "$DATA_WRITE" error=EDQUOT "$PY" -c '
import os
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
try:
    os.write(fd, b"new")
except OSError as e:
    print("write:", e.strerror)
try:
    os.close(fd)
    print("closed")
except OSError as e:
    print("close:", e.strerror)'
	assert_equal "$status" 74
	assert_line "write: Disk quota exceeded"
	assert_line "close: Disk quota exceeded"
	assert_intact
	assert_one_warning "$PWD/f.yaml" "not committed" "Disk quota exceeded"
}

# ---- fsync, fdatasync ---------------------------------------------------------

@test "fsync of the temp fails with ENOSPC, EDQUOT: close returns -1 with it (exit 74 at exit), the target is intact, no temp" {
	local e
	for e in ENOSPC EDQUOT; do
		fault fsync "$FILE_FSYNC" "error=$e" "$WRITER" open f.yaml new
		assert_equal "$status" 2
		assert_output "close: $(strerror "$e")"
		assert_intact
		assert_one_warning "$PWD/f.yaml" "not committed" "fsync" "$(strerror "$e")"
		# The same with the commit at exit: the status 0 becomes 74.
		fault fsync "$FILE_FSYNC" "error=$e" "$WRITER" noclose f.yaml new
		assert_equal "$status" 74
		assert_intact
		assert_one_warning "$PWD/f.yaml" "not committed" "fsync" "$(strerror "$e")"
	done
}

@test "fdatasync of the temp (durability data) fails with ENOSPC: close returns -1 with it, the target is intact, no temp" {
	rules 'path "*.yaml" { durability = "data" }'
	fault fdatasync "$FILE_FDATASYNC" error=ENOSPC "$WRITER" open f.yaml new
	assert_equal "$status" 2
	assert_output "close: No space left on device"
	assert_intact
	assert_one_warning "$PWD/f.yaml" "not committed" "No space left on device"
}

# ---- linkat: the anonymous temp gets its name ---------------------------------

@test "linkat naming the temp fails with EIO, ENOSPC, EDQUOT: close returns -1 with it (exit 74 at exit), the target is intact, no temp" {
	local e
	for e in EIO ENOSPC EDQUOT; do
		fault linkat "$NAMING_LINK" "error=$e" "$WRITER" open f.yaml new
		assert_equal "$status" 2
		assert_output "close: $(strerror "$e")"
		assert_intact
		assert_one_warning "$PWD/f.yaml" "not committed" "$(strerror "$e")"
		fault linkat "$NAMING_LINK" "error=$e" "$WRITER" noclose f.yaml new
		assert_equal "$status" 74
		assert_intact
	done
}

# ---- the rename ----------------------------------------------------------------

@test "the rename fails with ENOSPC, EDQUOT: close returns -1 with it (exit 74 at exit), the target is intact, the named temp removed" {
	local e
	for e in ENOSPC EDQUOT; do
		fault renameat "$RENAME" "error=$e" "$WRITER" open f.yaml new
		assert_equal "$status" 2
		assert_output "close: $(strerror "$e")"
		assert_intact
		assert_one_warning "$PWD/f.yaml" "not committed" "rename" "$(strerror "$e")"
		fault renameat "$RENAME" "error=$e" "$WRITER" noclose f.yaml new
		assert_equal "$status" 74
		assert_intact
	done
}

# ---- the directory's fsync ---------------------------------------------------------

@test "the directory's fsync fails with EIO at exit: the new content is in place, the exit status is 74, a warning" {
	fault fsync "$(dir_fsync_re)" error=EIO "$WRITER" noclose f.yaml new
	assert_equal "$status" 74
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "directory" "Input/output error"
}

# ---- SIGKILL at each step ---------------------------------------------------------

@test "SIGKILL at the temp's openat(O_TMPFILE): the target is intact, no temp" {
	fault openat "$TMPFILE_OPEN" signal=SIGKILL "$WRITER" open f.yaml new
	assert_equal "$status" 137
	assert_intact
	next_writer_cleans
}

@test "SIGKILL at the program's write: the target is intact, no temp (anonymous)" {
	fault write "$DATA_WRITE" signal=SIGKILL "$WRITER" open f.yaml new
	assert_equal "$status" 137
	assert_intact
	next_writer_cleans
}

@test "SIGKILL at the temp's fsync: the target is intact, no temp" {
	fault fsync "$FILE_FSYNC" signal=SIGKILL "$WRITER" open f.yaml new
	assert_equal "$status" 137
	assert_intact
	next_writer_cleans
}

@test "SIGKILL at the linkat naming the temp: the target is intact, no temp" {
	fault linkat "$NAMING_LINK" signal=SIGKILL "$WRITER" open f.yaml new
	assert_equal "$status" 137
	assert_intact
	next_writer_cleans
}

@test "SIGKILL at the rename: the target is intact; the named temp left is removed by the next writer" {
	fault renameat "$RENAME" signal=SIGKILL "$WRITER" open f.yaml new
	assert_equal "$status" 137
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	compgen -G '.f.yaml.atomically.*' > /dev/null ||
		fail "no named temp was left at the rename: $(ls -A)"
	next_writer_cleans
	grep -q 'f.yaml: removed \.f\.yaml\.atomically\.[0-9]*\.[0-9a-f]*, left by pid' "$LIBLOG" ||
		fail "the next writer did not say it removed the temp: $(cat "$LIBLOG")"
}

@test "SIGKILL at the directory's fsync: the target is wholly new, no temp" {
	fault fsync "$(dir_fsync_re)" signal=SIGKILL "$WRITER" open f.yaml new
	assert_equal "$status" 137
	assert_equal "$(cat f.yaml)" new
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_no_temps .
	next_writer_cleans
}

# ---- the descriptor limit ----------------------------------------------------------

# emfile_py: a program that opens /dev/null until EMFILE, closes FREE of
# them, notes its open descriptors, then opens f.yaml for writing (O_TRUNC),
# writes "new" and closes it; on a failed open it closes 8 more and tries
# again.  It prints what each step gave, and whether the descriptors it
# has after a failed open are those it had before.
emfile_py() {
	cat <<'EOF'
import os, sys
free = int(sys.argv[1])
fds = []
while True:
    try:
        fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        break
for _ in range(free):
    os.close(fds.pop())
def mine():
    return sorted(os.listdir("/proc/self/fd"))
def replace(text):
    fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
    os.write(fd, text)
    os.close(fd)
had = mine()
try:
    replace(b"new")
    print("open: ok")
except OSError as e:
    print("open:", e.strerror)
    print("descriptors as before:", mine() == had)
    for _ in range(8):
        os.close(fds.pop())
    replace(b"again")
    print("again: ok")
EOF
}

@test "EMFILE: the descriptor limit reached while the library makes its temp: the open fails with EMFILE, nothing is left, the next open works" {
	emfile_py > emfile.py
	# Control: without the library, one descriptor left is enough.
	run bash -c "ulimit -n 32 && exec '$PY' emfile.py 1"
	assert_success
	assert_line "open: ok"
	# With it: 1 to 6 descriptors left.  Each open either fails with
	# EMFILE, leaving the target intact and the process's descriptors as
	# they were (then, 8 more closed, the same open replaces the file), or
	# replaces the file.  With one left it fails; with six it works.
	local free outcome=""
	for free in 1 2 3 4 5 6; do
		echo old > f.yaml
		before=$(inode f.yaml)
		: > "$LIBLOG"
		run wrapped bash -c "ulimit -n 32 && exec '$PY' emfile.py $free"
		assert_loaded "$PYNAME"
		assert_success
		if [[ "$output" == *"open: Too many open files"* ]]; then
			assert_line "descriptors as before: True"
			assert_line "again: ok"
			assert_equal "$(cat f.yaml)" again
			outcome+=" $free:EMFILE"
		else
			assert_line "open: ok"
			assert_equal "$(cat f.yaml)" new
			outcome+=" $free:ok"
		fi
		assert_not_equal "$(inode f.yaml)" "$before"
		assert_no_temps .
		grep -q "f.yaml: committed" "$LIBLOG" ||
			fail "with $free left, the file was not committed by the library: $(cat "$LIBLOG")"
	done
	[[ "$outcome" == " 1:EMFILE"* ]] || fail "one descriptor left was enough:$outcome"
	[[ "$outcome" == *" 6:ok" ]] || fail "six descriptors left were not enough:$outcome"
	echo "# descriptors left: outcome:$outcome" >&3
}

# ---- a directory the writer may write but not read ------------------------------

# unreadable_dir FALLBACK: as nobody, d/ is nobody's with mode 0311 (write
# and search, no read: a drop box), d/f.yaml nobody's ("old").
unreadable_dir() {
	require_root "running a writer as nobody"
	NOBODY_DIR=$(mktemp -d /tmp/atomically-faults.XXXXXX)
	chmod 755 "$NOBODY_DIR"
	mkdir "$NOBODY_DIR/d" "$NOBODY_DIR/run"
	echo old > "$NOBODY_DIR/d/f.yaml"
	chown nobody:nogroup "$NOBODY_DIR/d" "$NOBODY_DIR/d/f.yaml" "$NOBODY_DIR/run"
	chmod 700 "$NOBODY_DIR/run"
	chmod 311 "$NOBODY_DIR/d"
	LIBLOG="$NOBODY_DIR/lib.log"
	: > "$LIBLOG"
	chown nobody:nogroup "$LIBLOG"
	printf 'path "*.yaml" { fallback = "%s" }\n' "$1" > "$NOBODY_DIR/atomically.conf"
	before=$(inode "$NOBODY_DIR/d/f.yaml")
	run setpriv --reuid=nobody --regid=nogroup --clear-groups env \
		XDG_RUNTIME_DIR="$NOBODY_DIR/run" ATOMICALLY_CONF="$NOBODY_DIR/atomically.conf" \
		ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$WRITER" open "$NOBODY_DIR/d/f.yaml" new
	assert_loaded writer
}

@test "a directory the writer may write but not read (mode 0311), fallback = fail: the open fails, the target is intact, a warning" {
	unreadable_dir fail
	assert_equal "$status" 1
	assert_equal "$(cat "$NOBODY_DIR/d/f.yaml")" old
	assert_equal "$(inode "$NOBODY_DIR/d/f.yaml")" "$before"
	grep -q "^atomically: $NOBODY_DIR/d/f.yaml: .*fallback = fail" "$LIBLOG" ||
		fail "no warning naming the file and the fallback: $(cat "$LIBLOG")"
}

@test "a directory the writer may write but not read (mode 0311), fallback = inplace: replaced atomically, or in place with a warning" {
	unreadable_dir inplace
	assert_success
	assert_equal "$(cat "$NOBODY_DIR/d/f.yaml")" new
	# Either the library replaced it (a new inode), or it says it wrote in place.
	[ "$(inode "$NOBODY_DIR/d/f.yaml")" != "$before" ] ||
		grep -q "^atomically: $NOBODY_DIR/d/f.yaml: .*in place" "$LIBLOG" ||
		fail "written in place without a word: $(cat "$LIBLOG")"
}
