#!/usr/bin/env bats
# appends.bats - an append costs what is appended (issue 16, item 3): the
# temp of an O_WRONLY|O_APPEND open holds a hole for the old content, and
# the commit adds the appended bytes to the target in place when they fit
# the page the file ends in; otherwise the hole is filled and the temp
# renamed over the target, as before.  Readers, kills and concurrent
# appenders see the old file or the old file plus the whole append.
# Every test proves the library was loaded; every race and kill test runs
# its control without it and shows the control fail.

load helpers

setup_file() {
	find_python
}

setup() {
	common_setup
	printf 'path "CHANGELOG" { }\npath "*.log.json" { }\n' > "$CONF"
}

# APPEND: an appender that writes PART1, pauses, writes PART2, closes;
# the pause is where a reader or a kill lands.
APPEND='
import os, sys, time
path, part1, part2, pause = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
os.write(fd, part1.encode())
time.sleep(pause)
os.write(fd, part2.encode())
os.close(fd)'

# old_or_whole FILE: FILE is the same as the file old, or as the file whole.
old_or_whole() {
	cmp -s "$1" old || cmp -s "$1" whole
}

@test "bash >> of a line to a large CHANGELOG: added in place (same inode), no copy of the old content" {
	seq 1 200000 > CHANGELOG  # 1.2 MB
	before=$(inode CHANGELOG)
	cp CHANGELOG expected
	run wrapped bash -c 'echo "- a new entry" >> CHANGELOG; echo "- another" >> CHANGELOG'
	assert_loaded bash
	assert_success
	printf -- '- a new entry\n- another\n' >> expected
	cmp CHANGELOG expected
	assert_equal "$(inode CHANGELOG)" "$before"
	assert_equal "$(grep -c ': committed (full, 1[0-9] bytes appended in place)$' "$LIBLOG")" 2
	assert_no_temps .
	# Nothing of the old content was read or copied: the only data the
	# library moves is the line (strace: no copy_file_range, no large read).
	command -v strace > /dev/null || skip "strace is not installed"
	rules=$(eval "$("$ATOMICALLY" --env)" && printf '%s' "$ATOMICALLY_RULES")
	run strace -f -qq -e trace=copy_file_range,sendfile,ioctl -o trace.txt \
		env LD_PRELOAD="$PRELOAD" ATOMICALLY_RULES="$rules" bash -c 'echo "- third" >> CHANGELOG'
	assert_success
	refute grep -E 'copy_file_range|FICLONE' trace.txt
	assert_equal "$(tail -1 CHANGELOG)" "- third"
}

@test "append: the program sees the sizes it would see (python 'a': tell, fstat), and reads back the whole file" {
	seq 1 1000 > CHANGELOG
	size=$(stat -c %s CHANGELOG)
	run wrapped "$PY" -c '
import os
f = open("CHANGELOG", "a")
print("tell", f.tell())
f.write("x\n"); f.flush()
print("fstat", os.fstat(f.fileno()).st_size)
print("stat", os.stat("CHANGELOG").st_size)
print("tail", repr(open("CHANGELOG").read()[-8:]))
f.close()'
	assert_loaded "$PYNAME"
	assert_success
	assert_line "tell $size"
	assert_line "fstat $((size + 2))"
	assert_line "stat $((size + 2))"
	assert_line "tail '\\n1000\\nx\\n'"
	assert_equal "$(tail -1 CHANGELOG)" x
}

# WAYS: a program that appends a line, then reaches below the end of the
# file some way, then appends another; each way run plain and wrapped
# must leave the same bytes (the hole of an append's temp is filled
# first, whoever reaches it: hole.h).
WAYS='
import ctypes, fcntl, os, subprocess, sys, threading
how = sys.argv[1]
fd = os.open("CHANGELOG", os.O_WRONLY | os.O_APPEND)
os.write(fd, b"A\n")
size = os.fstat(fd).st_size
if how == "ftruncate":
    os.ftruncate(fd, 10)
elif how == "ftruncate-syscall":
    ctypes.CDLL(None, use_errno=True).syscall(77, fd, 10)   # SYS_ftruncate
elif how == "ftruncate-threads":
    ts = [threading.Thread(target=os.ftruncate, args=(fd, size)) for _ in range(2)]
    [t.start() for t in ts]; [t.join() for t in ts]
elif how == "setfl-pwrite":
    fcntl.fcntl(fd, fcntl.F_SETFL, 0); os.pwrite(fd, b"Z", 0)
elif how == "pwritev2-noappend":
    os.pwritev(fd, [b"N"], 1, 0x20)                           # RWF_NOAPPEND
elif how == "fallocate":
    os.posix_fallocate(fd, 0, size + 100)
elif how == "truncate-by-name":
    os.truncate("CHANGELOG", 7)
elif how == "second-open-rdwr":
    with open("CHANGELOG", "r+") as g:
        g.seek(2); g.write("Y")
elif how == "second-open-trunc":
    os.close(os.open("CHANGELOG", os.O_WRONLY | os.O_APPEND | os.O_TRUNC))
elif how == "proc-rdwr":
    with open("/proc/self/fd/%d" % fd, "r+") as g:
        g.seek(4); g.write("P")
elif how == "proc-trunc":
    os.close(os.open("/proc/self/fd/%d" % fd, os.O_WRONLY | os.O_TRUNC))
elif how == "proc-read":
    print(open("/proc/self/fd/%d" % fd, "rb").read()[-8:])
elif how == "child-ftruncate":
    subprocess.run([sys.executable, "-c", "import os; os.ftruncate(%d, 12)" % fd], pass_fds=[fd], check=True)
elif how == "child-setfl-pwrite":
    subprocess.run([sys.executable, "-c", "import os, fcntl; fcntl.fcntl(%d, fcntl.F_SETFL, 0); os.pwrite(%d, b\"C\", 1)" % (fd, fd)], pass_fds=[fd], check=True)
os.write(fd, b"B\n")
os.close(fd)'

@test "append: every way below the end (truncations, writes at offsets, allocations, second opens, /proc/self/fd, threads, children): the same bytes as without the library" {
	for how in ftruncate ftruncate-syscall ftruncate-threads setfl-pwrite pwritev2-noappend fallocate \
		   truncate-by-name second-open-rdwr second-open-trunc proc-rdwr proc-trunc proc-read \
		   child-ftruncate child-setfl-pwrite; do
		seq 1 1000 > CHANGELOG
		"$PY" -c "$WAYS" $how > plain.out || fail "$how: the plain run failed"
		mv CHANGELOG plain
		seq 1 1000 > CHANGELOG
		: > "$LIBLOG"
		run wrapped "$PY" -c "$WAYS" $how
		assert_loaded "$PYNAME"
		[ "$status" = 0 ] || fail "$how: status $status: $output $(grep -v debug "$LIBLOG" | tail -3)"
		[ "$output" = "$(cat plain.out)" ] || fail "$how: printed $output, plain $(cat plain.out)"
		cmp plain CHANGELOG || fail "$how: wrapped $(od -c CHANGELOG | head -2), plain $(od -c plain | head -2)"
		! grep -q 'not committed' "$LIBLOG" || fail "$how: $(grep 'not committed' "$LIBLOG")"
		assert_no_temps .
	done
}

@test "append: errno, times and the inode as without the library: nothing appended and fsync'd (same inode), futimens kept, commit = exit in the order of the closes" {
	seq 1 100 > CHANGELOG
	before=$(inode CHANGELOG)
	run wrapped "$PY" -c '
import os
f = open("CHANGELOG", "a"); os.fsync(f.fileno()); f.close()'
	assert_loaded "$PYNAME"
	assert_success
	assert_equal "$(inode CHANGELOG)" "$before"
	for write in 'f.write("x\n"); f.flush()' 'pass'; do
		run wrapped "$PY" -c "
import os
f = open('CHANGELOG', 'a'); $write; os.utime(f.fileno(), (1e9, 1e9)); f.close()"
		assert_success
		assert_equal "$(stat -c %Y CHANGELOG)" 1000000000
	done
	printf 'path "CHANGELOG" { commit = "exit" }\n' > "$CONF"
	seq 1 100 > CHANGELOG
	run wrapped bash -c 'echo one >> CHANGELOG; echo two >> CHANGELOG; echo three >> CHANGELOG'
	assert_success
	assert_equal "$(tail -3 CHANGELOG | tr '\n' ' ')" "one two three "
}

@test "append: the launcher commits what its command handed over whole, so a background job's later line lands in the file" {
	seq 1 100 > CHANGELOG
	run wrapped bash -c 'exec >> CHANGELOG; exec "$0" bash -c "(sleep 1; echo late) & echo early"' "$ATOMICALLY"
	assert_success
	sleep 2
	assert_equal "$(tail -2 CHANGELOG | tr '\n' ' ')" "early late "
}

@test "append on tmpfs with huge pages (a block larger than a page): the copy, as before" {
	require_root "mounts a tmpfs with huge=always"
	mkdir hmnt
	mount -t tmpfs -o huge=always,size=64m none hmnt || skip "this kernel has no tmpfs huge=always"
	seq 1 3000 > hmnt/CHANGELOG
	[ "$(stat -c %o hmnt/CHANGELOG)" -gt 4096 ] || { umount hmnt; skip "tmpfs says its blocks are pages here"; }
	run wrapped bash -c 'echo new >> hmnt/CHANGELOG'
	assert_equal "$(tail -1 hmnt/CHANGELOG)" new
	grep -q 'CHANGELOG: committed (full)$' "$LIBLOG" || { umount hmnt; fail "$(cat "$LIBLOG")"; }
	umount hmnt
	assert_success
}

@test "append across a page boundary: committed whole, by rename (a reader never sees half of it)" {
	head -c 4090 /dev/zero | tr '\0' a > CHANGELOG
	before=$(inode CHANGELOG)
	run wrapped bash -c 'echo 0123456789 >> CHANGELOG'
	assert_loaded bash
	assert_success
	assert_equal "$(tail -c 11 CHANGELOG)" 0123456789
	assert_equal "$(stat -c %s CHANGELOG)" 4101
	assert_not_equal "$(inode CHANGELOG)" "$before"
	grep -q 'CHANGELOG: committed (full)$' "$LIBLOG"
	assert_no_temps .
}

# reader_during MODE: a reader polls CHANGELOG while the appender is
# between its two writes; prints what it saw that was neither the old
# file nor the old file plus the whole append.
reader_during() {
	local pid seen bad=0
	seq 1 3000 > CHANGELOG
	cp CHANGELOG old
	cp CHANGELOG whole
	printf 'part1-part2\n' >> whole
	if [ "$1" = wrapped ]; then
		wrapped "$PY" -c "$APPEND" CHANGELOG part1- 'part2
' 1 &
	else
		"$PY" -c "$APPEND" CHANGELOG part1- 'part2
' 1 &
	fi
	pid=$!
	for _ in $(seq 1 30); do
		sleep 0.05
		old_or_whole CHANGELOG || bad=$((bad + 1))
	done
	wait $pid
	echo "$bad"
}

@test "append: a reader during the append sees the old file or the old file plus the whole append" {
	run reader_during wrapped
	assert_loaded "$PYNAME"
	assert_output 0
	assert_equal "$(tail -1 CHANGELOG)" part1-part2
}

@test "append: control: without the library a reader sees half an append" {
	run reader_during plain
	refute_output 0
}

# kill_rounds MODE N: N appenders killed between their two writes;
# prints how many left the file neither old nor old plus whole appends.
kill_rounds() {
	local bad=0 pid
	seq 1 3000 > CHANGELOG
	for _ in $(seq 1 "$2"); do
		cp CHANGELOG before
		if [ "$1" = wrapped ]; then
			ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$PRELOAD" \
			ATOMICALLY_RULES="$RULES" "$PY" -c "$APPEND" CHANGELOG half- 'whole
' 5 &
		else
			"$PY" -c "$APPEND" CHANGELOG half- 'whole
' 5 &
		fi
		pid=$!
		sleep 0.$((RANDOM % 3 + 2))
		kill -9 $pid
		wait $pid 2> /dev/null || true
		cmp -s CHANGELOG before || bad=$((bad + 1))
	done
	echo "$bad"
}

@test "append: SIGKILL between the writes of an append leaves the old file, 10 times out of 10" {
	RULES=$(eval "$("$ATOMICALLY" --env)" && printf '%s' "$ATOMICALLY_RULES")
	run kill_rounds wrapped 10
	assert_loaded "$PYNAME"
	assert_output 0
	assert_no_temps .
}

@test "append: control: without the library SIGKILL leaves half an append" {
	run kill_rounds plain 3
	assert_output 3
}

# appenders MODE: 16 processes, each 40 appends of one line written in
# two pieces; prints the lines that are not whole, then the line count.
appenders() {
	local script='
import os, sys, time
for i in range(40):
    fd = os.open("CHANGELOG", os.O_WRONLY | os.O_APPEND)
    os.write(fd, ("w%s-" % sys.argv[1]).encode())
    time.sleep(0.001)
    os.write(fd, ("%d\n" % i).encode())
    os.close(fd)'
	: > CHANGELOG
	echo '# changes' > CHANGELOG
	for w in $(seq 1 16); do
		if [ "$1" = wrapped ]; then
			wrapped "$PY" -c "$script" "$w" &
		else
			"$PY" -c "$script" "$w" &
		fi
	done
	wait
	grep -vcE '^(# changes|w[0-9]+-[0-9]+)$' CHANGELOG || true
	wc -l < CHANGELOG
}

@test "append: 16 processes x 40 appends of a line in two writes: every line whole and kept" {
	run appenders wrapped
	assert_loaded "$PYNAME"
	assert_line -n 0 0
	assert_line -n 1 641
	for w in $(seq 1 16); do
		assert_equal "$(grep -c "^w$w-" CHANGELOG)" 40
	done
}

@test "append: control: without the library the same appenders tear lines" {
	run appenders plain
	refute_line -n 0 0
}

@test "append: a child that still writes after its parent's exit: its lines land in the file (the whole temp is committed)" {
	seq 1 100 > CHANGELOG
	run wrapped "$PY" -c '
import os, time
f = open("CHANGELOG", "a")
f.write("parent\n"); f.flush()
if os.fork() == 0:
    time.sleep(0.5)
    f.write("child\n"); f.flush()
    os._exit(0)
os._exit(0)'
	assert_loaded "$PYNAME"
	assert_success
	sleep 1
	assert_equal "$(tail -2 CHANGELOG)" "$(printf 'parent\nchild')"
	assert_equal "$(head -1 CHANGELOG)" 1
}

@test "append to a file with two names, or with backup: the copy, as before (the other name keeps the old content)" {
	seq 1 100 > CHANGELOG
	ln CHANGELOG other
	run wrapped bash -c 'echo new >> CHANGELOG'
	assert_loaded bash
	assert_success
	assert_equal "$(tail -1 CHANGELOG)" new
	assert_equal "$(tail -1 other)" 100
	rm other
	printf 'path "CHANGELOG" { backup = "~" }\n' > "$CONF"
	run wrapped bash -c 'echo newer >> CHANGELOG'
	assert_success
	assert_equal "$(tail -1 CHANGELOG)" newer
	assert_equal "$(tail -1 'CHANGELOG~')" new
}
