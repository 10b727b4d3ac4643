#!/usr/bin/env bats
# lastclose.bats - the last close across processes (issue 14, item 5): a
# pending file whose descriptor a child inherited is committed when the
# last process that holds it lets go, as the kernel releases a file, not
# when its owner closes it or ends: `Popen(stdout=f)`, `{ cmd & } > f`, a
# grandchild, a child without the library, a child killed by SIGKILL.
#
# The owner here always ends before its children (a parent that lives on
# and reaps them is afterclose.bats's).  Each case runs without the
# library too (the control), and checks what a reader sees while the
# children still write: under the library the old file, whole; without
# it, the file being written.  The library of before committed at the
# owner's end, as the file stood: the reader saw the half-written file,
# the lock was let go of, and what the children wrote after went to a
# file the next writer replaced, or, handed across an exec, to a temp
# thrown away as unchanged (lost, with exit status 0).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	find_python
}

teardown() {
	# A child a failed test left behind, and a waiter: every process
	# that still holds a temp of this test's directory, by its pid.
	local p
	[ -z "${CHILD:-}" ] || kill -9 "$CHILD" 2> /dev/null || true
	for p in $(temp_holders "$BATS_TEST_TMPDIR"); do
		kill -9 "$p" 2> /dev/null || true
	done
}

# on_disk FILE: FILE's lines joined by spaces, or (missing).
on_disk() {
	if [ -e "$1" ]; then tr '\n' ' ' < "$1" | sed 's/ $//'; else echo '(missing)'; fi
}

# settles FILE TEXT [TENTHS]: until FILE holds TEXT (on_disk), which the
# last holder's exit (and, under the library, the waiter's commit after
# it) brings.
settles() {
	local i
	for ((i = 0; i < ${3:-50}; i++)); do
		[ "$(on_disk "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 holds '$(on_disk "$1")', not '$2'; the log: $(cat "$LIBLOG")"
}

# detached CMD...: run CMD with its output in files (OUT, the standard
# output's), not in a pipe: the children it leaves behind hold its
# standard error, and bats' `run` would wait for them.  Fails unless CMD
# succeeds.
detached() {
	"$@" > stdout.txt 2> stderr.txt || fail "$* failed ($?): $(cat stderr.txt)"
	OUT=$(cat stdout.txt)
}

# pgid_of PID: its process group, from /proc (ps hangs under the ASan
# runtime that make check-asan preloads into every process).
pgid_of() {
	sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f3
}

# no_waiter: no process of ours is still waiting on a temp here.
no_waiter() {
	local i
	for ((i = 0; i < 30; i++)); do
		[ -z "$(temp_holders .)" ] && return 0
		sleep 0.1
	done
	fail "still holding a temp: $(temp_holders .)"
}

# popen.py MODE CMD: opens out.json with MODE ("w" also writes
# "parent"), starts `sh -c CMD` with it as standard output, closes it (the
# with block) and exits at once, printing the child's pid.
write_popen() {
	cat > popen.py << 'EOF'
import subprocess, sys
with open("out.json", sys.argv[1]) as f:
    if sys.argv[1] == "w":
        f.write("parent\n")
        f.flush()
    p = subprocess.Popen(["sh", "-c", sys.argv[2]], stdout=f)
print(p.pid)
EOF
}

# ---- Popen(stdout=f), the owner gone first --------------------------------------

# popen_race HOW: with open("out.json", "a"): Popen(child writes "child"
# after 0.6 s), the parent exits; 0.2 s later a reader looks (MID) and
# another writer appends "other" (under HOW too, or plain).
popen_race() {
	local how=$1
	write_popen
	printf 'old\n' > out.json
	case $how in
	plain) "$PY" popen.py a 'sleep 0.6; echo child' > /dev/null ;;
	*) "$how" "$PY" popen.py a 'sleep 0.6; echo child' > /dev/null ;;
	esac
	sleep 0.2
	MID=$(on_disk out.json)
	case $how in
	plain) sh -c 'echo other >> out.json' ;;
	*) "$how" sh -c 'echo other >> out.json' ;;
	esac
}

@test "Popen(stdout=f) in 'a' mode, the parent gone: the child's line is kept, a second writer waits for it, a reader saw the old file" {
	# The control: every write in place, the second writer's between.
	popen_race plain
	assert_equal "$MID" old
	settles out.json "old other child"

	for how in wrapped preloaded; do
		: > "$LIBLOG"
		popen_race "$how"
		assert_loaded "$PYNAME"
		assert_equal "$MID" old
		# The second writer got the lock when the child let go, and
		# appended to what the child wrote (the library of before:
		# "old other", the child's line lost).
		settles out.json "old child other"
		assert_commits out.json 2
		grep -q 'out.json: handed over, to be committed when the last process that holds it lets go' "$LIBLOG" ||
			fail "$how: not handed over: $(cat "$LIBLOG")"
		no_waiter
		assert_no_temps .
	done
}

@test "Popen(stdout=f) in 'w' mode, the parent gone: a reader sees the old file until the child let go, then parent's and child's lines" {
	write_popen
	printf 'old\n' > out.json
	"$PY" popen.py w 'sleep 0.6; echo child' > /dev/null
	sleep 0.2
	assert_equal "$(on_disk out.json)" parent
	settles out.json "parent child"

	printf 'old\n' > out.json
	old_ino=$(inode out.json)
	detached wrapped "$PY" popen.py w 'sleep 0.6; echo child'
	assert_loaded "$PYNAME"
	sleep 0.2
	assert_equal "$(on_disk out.json)" old
	settles out.json "parent child"
	[ "$(inode out.json)" != "$old_ino" ] || fail "written in place, not replaced"
	assert_commits out.json 1
	no_waiter
	assert_no_temps .
}

@test "Popen(stdout=f): the same in every lock and commit scope" {
	write_popen
	for rule in 'lock = "write"' 'lock = "process"' 'lock = "none"' 'commit = "exit"' \
		'lock = "process"
commit = "exit"' 'durability = "none"' 'fsync = "temp"'; do
		for dir in '' 'lock_dir = "sidecar"'; do
			printf '%s\npath "*.json" {\n%s\n}\n' "$dir" "$rule" > "$CONF"
			: > "$LIBLOG"
			printf 'old\n' > out.json
			detached wrapped "$PY" popen.py w 'sleep 0.5; echo child'
			sleep 0.2
			[ "$(on_disk out.json)" = old ] ||
				fail "[$dir $rule]: a reader saw '$(on_disk out.json)' while the child wrote"
			settles out.json "parent child"
			assert_commits out.json 1
			no_waiter
		done
	done
	assert_loaded "$PYNAME"
	assert_no_temps .
}

@test "Popen(stdout=f) under a bare LD_PRELOAD with the session's scopes (no session: the process's own), and a second writer: it waits" {
	write_popen
	for rule in 'lock = "session"' 'commit = "session"'; do
		printf 'path "*.json" {\n%s\n}\n' "$rule" > "$CONF"
		: > "$LIBLOG"
		printf 'old\n' > out.json
		detached preloaded "$PY" popen.py w 'sleep 0.6; echo child'
		sleep 0.2
		[ "$(on_disk out.json)" = old ] ||
			fail "[$rule]: a reader saw '$(on_disk out.json)' while the child wrote"
		preloaded sh -c 'echo other >> out.json'
		settles out.json "parent child other"
		assert_commits out.json 2
		no_waiter
	done
	assert_loaded "$PYNAME"
	assert_no_temps .
}

# ---- the shell's own close ------------------------------------------------------

# shell_case SCRIPT: SCRIPT (dash, then bash) writes out.json holding
# "old", leaving a background job that writes "child" 0.6 s later; the
# shell ends at once.  Checks what a reader sees 0.2 s later (MID, the
# control's and the library's) and the end (the control's).
shell_case() {
	local sh script=$1 plain_mid
	for sh in dash bash; do
		printf 'old\n' > out.json
		"$sh" -c "$script"
		sleep 0.2
		plain_mid=$(on_disk out.json)
		settles out.json "$END"
		[ "$plain_mid" != old ] || fail "$sh: the control saw the old file: the test cannot tell"

		: > "$LIBLOG"
		printf 'old\n' > out.json
		detached wrapped "$sh" -c "$script"
		assert_loaded "$sh"
		sleep 0.2
		[ "$(on_disk out.json)" = old ] ||
			fail "$sh: a reader saw '$(on_disk out.json)' while the job wrote"
		settles out.json "$END"
		assert_commits out.json 1
		no_waiter
	done
	assert_no_temps .
}

@test "{ job & } > f: the background job outlives the shell's own close (its dup2 back) and its exit" {
	END=child shell_case '{ (sleep 0.6; echo child) & } > out.json'
}

@test "exec > f; job &: the shell ends with the file still open, the job writes on" {
	END="parent child" shell_case 'exec > out.json; echo parent; (sleep 0.6; echo child) &'
}

@test "{ job & exec prog; } > f: the file is handed across the exec, the job's line kept (>> : was dropped as unchanged)" {
	END=child shell_case '{ (sleep 0.6; echo child) & exec /bin/true; } > out.json'

	# Appending: nothing written before the job's line.  The library of
	# before dropped the file as unchanged at /bin/true's exit, and the
	# job's line with it.
	printf 'old\n' > out.json
	detached wrapped sh -c '{ (sleep 0.6; echo child) & exec /bin/true; } >> out.json'
	assert_loaded true
	settles out.json "old child"
	no_waiter
}

@test "the owner execs with the file still open close-on-exec (Python's files are), its child writing on: handed over at the exec" {
	cat > execs.py << 'EOF'
import os, subprocess
f = open("out.json", "w")
f.write("parent\n")
f.flush()
subprocess.Popen(["sh", "-c", "sleep 0.6; echo child"], stdout=f)
os.execv("/bin/true", ["true"])
EOF
	printf 'old\n' > out.json
	"$PY" execs.py
	sleep 0.2
	assert_equal "$(on_disk out.json)" parent
	settles out.json "parent child"

	printf 'old\n' > out.json
	detached wrapped "$PY" execs.py
	assert_loaded "$PYNAME"
	sleep 0.2
	assert_equal "$(on_disk out.json)" old
	settles out.json "parent child"
	assert_commits out.json 1
	no_waiter
}

@test "commit = \"exit\": a file the exec closes (close-on-exec) is committed before the exec (was lost with the image)" {
	printf 'path "*.json" {\ncommit = "exit"\n}\n' > "$CONF"
	cat > cloexec.py << 'EOF'
import os
f = open("out.json", "w")
f.write("new\n")
f.flush()
os.execv("/bin/true", ["true"])
EOF
	printf 'old\n' > out.json
	"$PY" cloexec.py
	assert_equal "$(on_disk out.json)" new

	printf 'old\n' > out.json
	run wrapped "$PY" cloexec.py
	assert_success
	assert_loaded "$PYNAME"
	assert_equal "$(on_disk out.json)" new
	assert_commits out.json 1
	assert_no_temps .
}

# ---- children that end badly, or without the library ----------------------------

@test "a child killed by SIGKILL while it holds the file: the parent's write and the child's are committed" {
	write_popen
	# The control: in place, as far as the child got.
	printf 'old\n' > out.json
	CHILD=$("$PY" popen.py w 'echo partial; exec sleep 30')
	sleep 0.3
	assert_equal "$(on_disk out.json)" "parent partial"
	kill -9 "$CHILD"
	settles out.json "parent partial"

	# The owner gone, the child killed: its death is the last close.
	printf 'old\n' > out.json
	: > "$LIBLOG"
	CHILD=$(wrapped "$PY" popen.py w 'echo partial; exec sleep 30')
	assert_loaded "$PYNAME"
	sleep 0.3
	assert_equal "$(on_disk out.json)" old
	kill -9 "$CHILD"
	settles out.json "parent partial"
	assert_commits out.json 1
	no_waiter
	assert_no_temps .

	# The owner alive, reaping the killed child: committed at the reap.
	cat > reap.py << 'EOF'
import os, signal, subprocess, time
with open("out.json", "w") as f:
    f.write("parent\n")
    f.flush()
    p = subprocess.Popen(["sh", "-c", "echo partial; exec sleep 30"], stdout=f)
time.sleep(0.3)
os.kill(p.pid, signal.SIGKILL)
p.wait()
print(open("out.json").read().split())
EOF
	printf 'old\n' > out.json
	: > "$LIBLOG"
	run wrapped "$PY" reap.py
	assert_success
	# Read back in the writer: its own pending file.
	assert_output "['parent', 'partial']"
	assert_equal "$(on_disk out.json)" "parent partial"
	assert_commits out.json 1
}

@test "SIGTERM to the whole process group (a cancelled job): the children die, the waiter does not, and commits what they wrote" {
	write_popen
	printf 'old\n' > out.json
	CHILD=$(setsid "$PY" popen.py w 'echo partial; exec sleep 30')
	sleep 0.3
	pgid=$(pgid_of "$CHILD")
	[ -n "$pgid" ] && [ "$pgid" != "$(pgid_of $$)" ] || fail "no group of its own: '$pgid'"
	kill -TERM -- "-$pgid"
	settles out.json "parent partial"

	printf 'old\n' > out.json
	CHILD=$(setsid env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$PY" popen.py w 'echo partial; exec sleep 30')
	assert_loaded "$PYNAME"
	sleep 0.3
	assert_equal "$(on_disk out.json)" old
	pgid=$(pgid_of "$CHILD")
	[ -n "$pgid" ] && [ "$pgid" != "$(pgid_of $$)" ] || fail "no group of its own: '$pgid'"
	kill -TERM -- "-$pgid"
	settles out.json "parent partial"
	assert_commits out.json 1
	no_waiter
	assert_no_temps .
}

@test "nested forks: a grandchild holds the file after its parent and the owner are gone; exactly one commit, after it" {
	cat > nest.py << 'EOF'
import os, sys, time
f = open("out.json", "w")
f.write("parent\n")
f.flush()
child = os.fork()
if child == 0:
    if os.fork() == 0:           # the grandchild, once the test has looked
        for _ in range(1000):
            if os.path.exists("go"):
                break
            time.sleep(0.01)
        os.write(f.fileno(), b"grandchild\n")
        os._exit(0)
    os.write(f.fileno(), b"child\n")
    os._exit(0)                  # the child ends at once
os.waitpid(child, 0)
f.close()
EOF
	# The grandchild writes when the test says so (./go): a loaded
	# machine must not let it write before the test has looked.
	printf 'old\n' > out.json
	rm -f go
	"$PY" nest.py
	sleep 0.2
	assert_equal "$(on_disk out.json)" "parent child"
	: > go
	settles out.json "parent child grandchild"

	printf 'old\n' > out.json
	rm -f go
	detached wrapped "$PY" nest.py
	assert_loaded "$PYNAME"
	sleep 0.2
	assert_equal "$(on_disk out.json)" old
	: > go
	settles out.json "parent child grandchild"
	assert_commits out.json 1
	no_waiter
	assert_no_temps .
}

@test "a child the library is not loaded in (LD_PRELOAD dropped) holds the file: committed when it lets go" {
	write_popen
	cmd='sleep 0.6; echo child'
	printf 'old\n' > out.json
	"$PY" popen.py w "$cmd" > /dev/null
	sleep 0.2
	assert_equal "$(on_disk out.json)" parent
	settles out.json "parent child"

	# env runs under the library, the sh it execs without it.
	cat > bare.py << 'EOF'
import subprocess, sys
with open("out.json", "w") as f:
    f.write("parent\n")
    f.flush()
    subprocess.Popen(["env", "-u", "LD_PRELOAD", "sh", "-c", sys.argv[1]], stdout=f)
EOF
	printf 'old\n' > out.json
	detached wrapped "$PY" bare.py "$cmd"
	assert_loaded "$PYNAME"
	assert_loaded env
	sleep 0.2
	assert_equal "$(on_disk out.json)" old
	settles out.json "parent child"
	run grep -E '^atomically: active in pid [0-9]+ \(sh\)' "$LIBLOG"
	assert_failure  # the sh that wrote was not under the library
	assert_commits out.json 1
	no_waiter
}

@test "two children let go at different times: one commit, after the last; a reader in between saw the old file" {
	# The second child writes when the test says so (./go), once it has
	# looked: a sleep of its own was outrun by a loaded machine.
	cat > two.py << 'EOF'
import subprocess
with open("out.json", "w") as f:
    subprocess.Popen(["sh", "-c", "sleep 0.2; echo first"], stdout=f)
    subprocess.Popen(["sh", "-c", "i=0; while [ ! -e go ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done; echo second"], stdout=f)
EOF
	printf 'old\n' > out.json
	rm -f go
	"$PY" two.py
	settles out.json first
	: > go
	settles out.json "first second"

	printf 'old\n' > out.json
	rm -f go
	detached wrapped "$PY" two.py
	assert_loaded "$PYNAME"
	sleep 0.5
	assert_equal "$(on_disk out.json)" old
	: > go
	settles out.json "first second"
	assert_commits out.json 1
	no_waiter
}

@test "a child's own flock LOCK_UN on the file while the waiter waits: the mark comes back, the file is not committed early" {
	# The job flocks and unlocks descriptor 3 (the pending file), which
	# drops the library's mark on that description with its own lock and
	# wakes the waiter; the library in flock puts the mark back when the
	# call returns, which strace delays by 10 ms, so that the waiter
	# surely runs first: it must look again before it commits.
	script='exec 3> out.json; echo parent >&3; (echo a >&3; sleep 0.2; flock 3; strace -f -o /dev/null -e trace=flock -e inject=flock:delay_exit=10000 flock -u 3; sleep 0.6; echo b >&3) & exec 3>&-'
	printf 'old\n' > out.json
	bash -c "$script"
	sleep 0.5
	assert_equal "$(on_disk out.json)" "parent a"
	settles out.json "parent a b"

	printf 'old\n' > out.json
	detached wrapped bash -c "$script"
	sleep 0.5
	assert_loaded flock
	assert_equal "$(on_disk out.json)" old
	settles out.json "parent a b"
	assert_commits out.json 1
	no_waiter
}

@test "the waiter never keeps the file itself open as its standard error (it would wait for itself)" {
	# Standard error is the pending file, by a way the library does not
	# see (a descriptor passed over a socket, then dup2'd): the waiter,
	# which keeps standard error for its messages, must not keep that.
	cat > stderr.py << 'EOF'
import os, socket, subprocess
f = open("out.json", "w")
f.write("parent\n")
f.flush()
a, b = socket.socketpair(socket.AF_UNIX)
socket.send_fds(a, [b"x"], [f.fileno()])
fds = socket.recv_fds(b, 1, 1)[1]
os.dup2(fds[0], 2)
os.close(fds[0])
subprocess.Popen(["sh", "-c", "sleep 0.6; echo child"], stdout=f)
f.close()
EOF
	printf 'old\n' > out.json
	"$PY" stderr.py
	sleep 0.2
	assert_equal "$(on_disk out.json)" parent
	settles out.json "parent child"

	# Messages to standard error (the default), at the default level.
	printf 'old\n' > out.json
	"$ATOMICALLY" "$PY" stderr.py
	sleep 0.2
	assert_equal "$(on_disk out.json)" old
	# The library at work: its waiter holds the temp.
	local p comms=""
	for p in $(temp_holders .); do comms+="$(cat /proc/$p/comm) "; done
	[[ "$comms" == *atomically* ]] || fail "no waiter holds the temp: '$comms'"
	settles out.json "parent child"
	no_waiter
}

@test "the waiter holds none of the program's descriptors: a command substitution ends with the program, not with its child" {
	# The child's standard error is not the pipe: only the program and,
	# had it kept them, the waiter hold the pipe open.
	cat > quiet.py << 'EOF'
import subprocess
with open("out.json", "w") as f:
    subprocess.Popen(["sh", "-c", "sleep 2; echo child"], stdout=f, stderr=subprocess.DEVNULL)
print("done")
EOF
	printf 'old\n' > out.json
	start=$(date +%s%N)
	out=$(wrapped "$PY" quiet.py 2>&1)
	took=$((($(date +%s%N) - start) / 1000000))
	assert_equal "$out" done
	assert_loaded "$PYNAME"
	[ "$took" -lt 1500 ] || fail "the substitution took ${took} ms: the waiter held the pipe"
	assert_equal "$(on_disk out.json)" old
	settles out.json child 40
	assert_commits out.json 1
	no_waiter
}
