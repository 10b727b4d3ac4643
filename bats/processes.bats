#!/usr/bin/env bats
# processes.bats - the library in every way programs live and die (SPEC §3
# "Processes" and "Locks", issue 3): threads, a close in a signal handler,
# fork in a threaded program, children started with fork, vfork,
# posix_spawn, system and popen, the exec handover, and the ways a
# process exits.  Every test runs real programs (bash, python3, the C
# programs tests/helpers/proc_*.c) under the library and proves that the library
# was loaded in them; every race test also runs without the library (the
# control) and asserts that the control shows the failure the library
# prevents, so that the test is known to be able to fail.

load helpers

# ---- helpers of this file ------------------------------------------------

setup_file() {
	find_python
}

setup() {
	common_setup
	BACKGROUND=
	THREADS="$B/proc_threads"
	SIGNALS="$B/proc_signal"
	EXITS="$B/proc_exit"
	SPAWN="$B/proc_spawn"
	local p
	for p in "$THREADS" "$SIGNALS" "$EXITS" "$SPAWN" "$WRITER" "$CHECKREAD"; do
		[ -x "$p" ] || fail "$p is not built: make ${p#"$TOP"/}"
	done
}

# A test that started a process in the background and failed before it
# ended: end it (by its pid).
teardown() {
	if [ -n "${BACKGROUND:-}" ]; then
		kill "$BACKGROUND" 2>/dev/null || true
		wait "$BACKGROUND" 2>/dev/null || true
	fi
}

# conf TEXT: the config is TEXT (one or more sections).
conf() {
	printf '%s\n' "$1" > "$CONF"
}

# assert_counts_zero WORD...: each WORD=N in $output has N = 0.
assert_counts_zero() {
	local w
	for w in "$@"; do
		[[ "$output" =~ (^|[[:space:]])$w=0([[:space:]]|$) ]] ||
			fail "$w is not 0: $output"
	done
}

# assert_count_positive WORD: WORD=N in $output has N > 0.
assert_count_positive() {
	[[ "$output" =~ (^|[[:space:]])$1=[1-9][0-9]*([[:space:]]|$) ]] ||
		fail "$1 is not above 0: $output"
}

# control_dir NAME: a fresh directory NAME for a control run, entered.
control_dir() {
	mkdir "$BATS_TEST_TMPDIR/$1" && cd "$BATS_TEST_TMPDIR/$1" || fail "cannot make $1"
}

# lock_probe NAME: try to take the lock of NAME once (lock_timeout = 0)
# from a third process, the C writer under the launcher with a config of
# its own; its status in $probe_status.
lock_probe() {
	printf 'path "*.yaml" { lock_timeout = 0 }\n' > "$BATS_TEST_TMPDIR/zero.conf"
	probe_status=0
	ATOMICALLY_LOG="debug:$BATS_TEST_TMPDIR/probe.log" \
		"$ATOMICALLY" -c "$BATS_TEST_TMPDIR/zero.conf" "$WRITER" open "$1" probe \
		2>>"$BATS_TEST_TMPDIR/probe.err" || probe_status=$?
}

# ---- 1. O_EXCL races ---------------------------------------------------------

# racers.sh KIND N: N processes of KIND (bash: `set -C; echo $$ > f`;
# python: open(f, "x")) race to create race.json.  They start together:
# each says it is ready, then waits for one byte from a fifo, and the
# fifo gets N bytes once all are ready.  Prints one "won PID" or "lost"
# line per racer.
write_racers() {
	cat > racers.sh <<'EOF'
kind=$1 n=$2
rm -f race.json ready.txt go.fifo
mkfifo go.fifo
exec 9<>go.fifo   # held open: the racers' opens do not wait for a writer
for ((i = 0; i < n; i++)); do
	if [ "$kind" = bash ]; then
		bash -c 'echo r >> ready.txt; read -r -n 1 _ < go.fifo
			set -C
			if { echo $$ > race.json; } 2>/dev/null; then echo "won $$"; else echo lost; fi' &
	else
		"$PY" -c '
import os
with open("ready.txt", "a") as f:
    f.write("r\n")
os.read(os.open("go.fifo", os.O_RDONLY), 1)
try:
    with open("race.json", "x") as f:
        f.write(str(os.getpid()))
    os.write(1, b"won %d\n" % os.getpid())
except FileExistsError:
    os.write(1, b"lost\n")' &
	fi
done
for ((t = 0; t < 600; t++)); do
	[ "$({ wc -l < ready.txt; } 2>/dev/null || echo 0)" -ge "$n" ] && break
	sleep 0.05
done
printf "%${n}s" "" | tr " " x >&9   # one byte (not NUL: bash read skips those) per racer
wait
EOF
}

# assert_one_winner: the race printed one "won PID" among N-1 "lost", and
# race.json holds PID.
assert_one_winner() {
	local n=$1 won
	assert_success
	won=$(grep -c '^won ' <<< "$output" || true)
	[ "$won" = 1 ] || fail "$won winners: $output"
	[ "$(grep -c '^lost$' <<< "$output")" = $((n - 1)) ] || fail "not $((n - 1)) losers: $output"
	assert_equal "$(tr -d ' \n' < race.json)" "$(sed -n 's/^won //p' <<< "$output")"
}

# O_EXCL is never redirected (SPEC §3): the library must not break it.
# Exactly one winner is also what happens without the library (the
# control below): the point here is that the library keeps it so.
@test "O_EXCL race: 16 bash 'set -C' processes, 5 rounds: exactly one wins each round" {
	conf 'path "race.json" { }'
	write_racers
	for round in 1 2 3 4 5; do
		: > "$LIBLOG"
		run wrapped bash racers.sh bash 16
		assert_loaded bash
		[ "$(grep -c 'active in pid .* (bash)' "$LIBLOG")" -ge 17 ] ||
			fail "round $round: not every racer loaded the library: $(cat "$LIBLOG")"
		assert_one_winner 16
		! grep -q 'race.json: writing' "$LIBLOG" || fail "race.json was redirected: $(cat "$LIBLOG")"
		assert_no_temps .
	done
	# The control: without the library, exactly one wins as well.
	run bash racers.sh bash 16
	assert_one_winner 16
}

@test "O_EXCL race: 16 python open(..., 'x') processes, 5 rounds: exactly one wins each round" {
	conf 'path "race.json" { }'
	write_racers
	for round in 1 2 3 4 5; do
		: > "$LIBLOG"
		run wrapped bash racers.sh python 16
		assert_loaded "$PYNAME"
		[ "$(grep -c "active in pid .* ($PYNAME)" "$LIBLOG")" = 16 ] ||
			fail "round $round: not every racer loaded the library: $(cat "$LIBLOG")"
		assert_one_winner 16
		! grep -q 'race.json: writing' "$LIBLOG" || fail "race.json was redirected: $(cat "$LIBLOG")"
		assert_no_temps .
	done
	# The control: without the library, exactly one wins as well.
	run bash racers.sh python 16
	assert_one_winner 16
}

# ---- 2. threads ----------------------------------------------------------------

# durability = "none" in the thread tests: they are about the descriptor
# and lock tables, and 3,000 commits with two fsyncs each would spend
# minutes in the journal.

@test "threads: 16 threads x 200 writes (open, dup, dup2, stdio, dup2 over a pending file) leave every file whole" {
	conf 'path "*.json" { durability = "none" }'
	run wrapped timeout 60 "$THREADS" write 16 200 01234
	assert_loaded proc_threads
	assert_success
	assert_counts_zero torn bad errors
	# Every close committed exactly its file: 3,800 versions (the dup2
	# over a pending file counts two) and the 19 first versions.
	versions=$(sed -n 's/.*versions=\([0-9]*\).*/\1/p' <<< "$output")
	[ "$versions" = 3800 ] || fail "versions=$versions: $output"
	assert_equal "$(grep -c ': committed' "$LIBLOG")" $((versions + 19))
	assert_no_temps .

	# The control: the same writes without the library are seen torn by
	# the reader thread (truncated, half written, mixed by two writers).
	control_dir control
	run timeout 60 "$THREADS" write 16 200 01234
	assert_failure
	assert_count_positive torn
}

# ---- 3. close() in a signal handler ----------------------------------------

@test "signal handler: close() from a SIGALRM handler every 200 us for 1 s commits, no deadlock, no temp" {
	conf 'path "*.json" { }'
	run wrapped timeout 20 "$SIGNALS" 1000 200
	assert_loaded proc_signal
	[ "$status" != 124 ] || fail "deadlock: killed by timeout: $output"
	assert_count_positive handler_closes
	assert_counts_zero torn bad errors
	assert_success
	assert_no_temps .

	# The control: without the library, the reader thread sees torn files.
	control_dir control
	run timeout 20 "$SIGNALS" 1000 200
	assert_failure
	assert_count_positive torn
}

# The same, made deterministic: strace turns the fsync of m0.json's
# commit into a SIGALRM, so that the handler's close of h.json runs while
# the library is committing m0.json.  That close must commit h.json at
# once, as every close does (SPEC §3 Commit).
@test "signal handler: a close() in a handler that interrupts the library's own commit commits its file" {
	conf 'path "*.json" { }'
	# fsyncs: 1 and 2 commit the first h.json (file, directory), 3 is
	# m0.json's file: the signal arrives inside that commit.
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o strace.log -e trace=fsync \
		-e inject=fsync:signal=SIGALRM:when=3 "$ATOMICALLY" "$SIGNALS" once
	assert_loaded proc_signal
	grep -q -- '--- SIGALRM' strace.log || fail "no signal was injected: $(cat strace.log)"
	assert_success
	assert_line --partial "handler_closes=1"
	assert_line --partial "h.json=committed"
	assert_commits h.json 2
	assert_no_temps .
}

# ---- 4. fork in a threaded program --------------------------------------------

@test "fork in a threaded program: 8 writing threads, 100 children each writing a file of its own, all committed" {
	conf 'path "*.json" { durability = "none" }'
	# Stdio among the threads' methods: a child's _exit must not flush
	# the parent's buffers into the parent's temps (also a test of its
	# own below).
	run wrapped timeout 60 "$THREADS" fork 8 100 01234 100
	assert_loaded proc_threads
	[ "$status" != 124 ] || fail "deadlock: killed by timeout: $output"
	assert_success
	assert_line "children=100 child_failures=0"
	assert_counts_zero torn bad errors
	for k in $(seq 0 99); do
		assert_commits "c$k\\.json" 1
	done
	assert_no_temps .

	# The control: without the library, the reader thread sees torn files.
	control_dir control
	run timeout 60 "$THREADS" fork 8 100 01234 100
	assert_failure
	assert_count_positive torn
}

# ---- 5. who commits: children do not ---------------------------------------------

# assert_parent_commits: the output of proc_spawn or of the python
# equivalents: the child's write did not commit, the parent's close did.
# "before" and "after" are read by another process (cat), or from the
# disk past the library (proc_spawn): the parent itself would read its
# own pending content.
assert_parent_commits() {
	assert_success
	assert_line "before: old"
	assert_line "after: parent child"
	assert_commits f.yaml 1
	assert_no_temps .
}

@test "fork (python): the child writes and os._exit()s without closing; only the parent's close commits" {
	echo old > f.yaml
	before=$(inode f.yaml)
	run wrapped "$PY" -c '
import os, subprocess
def others():              # f.yaml as another process reads it
    return " ".join(subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.split())
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"parent\n")
pid = os.fork()
if pid == 0:
    os.write(fd, b"child\n")
    os._exit(0)
os.waitpid(pid, 0)
print("mine:", " ".join(open("f.yaml").read().split()))
print("before:", others())
os.close(fd)
print("after:", others())'
	assert_loaded "$PYNAME"
	assert_line "mine: parent child"
	assert_parent_commits
	assert_not_equal "$(inode f.yaml)" "$before"
}

@test "subprocess.Popen (python): the child inherits the descriptor, the parent's close commits" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os, subprocess
def others():              # f.yaml as another process reads it
    return " ".join(subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.split())
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"parent\n")
subprocess.run(["sh", "-c", "echo child >&%d" % fd], pass_fds=[fd], check=True)
print("before:", others())
os.close(fd)
print("after:", others())'
	assert_loaded "$PYNAME"
	assert_loaded sh
	assert_parent_commits
}

@test "os.posix_spawn (python): the child inherits the descriptor, the parent's close commits" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os, subprocess
def others():              # f.yaml as another process reads it
    return " ".join(subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.split())
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.set_inheritable(fd, True)
os.write(fd, b"parent\n")
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "echo child >&%d" % fd], os.environ)
assert os.waitpid(pid, 0)[1] == 0
print("before:", others())
os.close(fd)
print("after:", others())'
	assert_loaded "$PYNAME"
	assert_loaded sh
	assert_parent_commits
}

# (os.popen is subprocess with close_fds: its child cannot inherit the
# descriptor; C's popen is in the next test.)
@test "os.system (python): the shell child inherits the descriptor, the parent's close commits" {
	echo old > f.yaml
	run wrapped "$PY" -c '
import os, subprocess
def others():              # f.yaml as another process reads it
    return " ".join(subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.split())
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.set_inheritable(fd, True)
os.write(fd, b"parent\n")
assert os.system("echo child >&%d" % fd) == 0
print("before:", others())
os.close(fd)
print("after:", others())'
	assert_loaded "$PYNAME"
	assert_loaded sh
	assert_parent_commits
}

@test "C children (fork, fork+exit, vfork, vfork+close, fork+exec, vfork+exec, posix_spawn, system, popen) never commit the parent's file" {
	for mode in fork fork_exit vfork vfork_close fork_exec vfork_exec posix_spawn system popen; do
		echo old > f.yaml
		: > "$LIBLOG"
		run wrapped "$SPAWN" "$mode" f.yaml
		assert_loaded proc_spawn
		case $mode in *exec | posix_spawn | system | popen) assert_loaded sh ;; esac
		[ "$status" = 0 ] || fail "$mode: status $status: $output"
		assert_line "mine: parent child" || fail "$mode: the parent does not read its own pending content: $output"
		assert_line "before: old" || fail "$mode: committed before the parent's close: $output"
		assert_line "after: parent child" || fail "$mode: $output"
		[ "$(commits f.yaml)" = 1 ] || fail "$mode: $(commits f.yaml) commits: $(cat "$LIBLOG")"
		assert_no_temps .
	done
}

# ---- 5b. children do not inherit locks --------------------------------------------

@test "locks: a posix_spawn child that opens the parent's locked file waits and gives up (lock_timeout = 1)" {
	conf 'path "*.yaml" { lock_timeout = 1 }'
	echo old > f.yaml
	run wrapped "$PY" -c '
import os, sys
f = open("f.yaml", "w")
f.write("parent")
f.flush()
pid = os.posix_spawn(sys.argv[1], ["writer", "open", "f.yaml", "child"], os.environ)
print("child status:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print("parent pid:", os.getpid())
f.close()' "$WRITER"
	assert_loaded "$PYNAME"
	assert_loaded writer
	assert_line "child status: 1"
	parent=$(sed -n 's/^parent pid: //p' <<< "$output")
	# The child is another process: the parent's lock holds it off.
	assert_line --partial "f.yaml: Resource temporarily unavailable"
	grep -Eq "f\\.yaml: locked by pid $parent([^0-9]|$)" "$LIBLOG" ||
		fail "no message naming the parent $parent: $(cat "$LIBLOG")"
	assert_equal "$(cat f.yaml)" parent
	assert_no_temps .
}

@test "locks: long-lived children (fork, posix_spawn) do not keep the parent's lock after its close" {
	echo old > f.yaml
	mkfifo ctl.fifo
	# The parent: opens f.yaml, starts two children that live until their
	# pipe closes, then waits for a line on ctl.fifo, closes f.yaml, waits
	# for another line, and lets the children go.  Started by the
	# launcher itself, so that $! is the launcher (teardown kills it, and
	# its child dies with it).
	ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$PY" -c '
import os
f = open("f.yaml", "w")
f.write("parent")
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    # Its copy of f closed: a child that kept it would keep the file
    # pending (afterclose.bats), and this test is about the lock.
    os.close(f.fileno())
    os.close(w)
    os.read(r, 1)
    os._exit(0)
spawned = os.posix_spawn("/bin/sh", ["sh", "-c", "read x"], os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, r, 0)])
os.close(r)
print("holding", flush=True)
ctl = open("ctl.fifo")
ctl.readline()
f.close()
print("closed", flush=True)
ctl.readline()
os.close(w)
os.waitpid(pid, 0)
os.waitpid(spawned, 0)' < /dev/null > parent.out 2>&1 &
	BACKGROUND=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^holding$' parent.out && break
		sleep 0.1
	done
	grep -q '^holding$' parent.out || fail "the parent never held the lock: $(cat parent.out)"
	exec 7> ctl.fifo
	# The control: the probe can fail: it does while the parent holds.
	lock_probe f.yaml
	[ "$probe_status" = 1 ] || fail "the probe took a held lock (status $probe_status)"
	echo close >&7
	for ((i = 0; i < 100; i++)); do
		grep -q '^closed$' parent.out && break
		sleep 0.1
	done
	grep -q '^closed$' parent.out || fail "the parent never closed: $(cat parent.out)"
	assert_equal "$(cat f.yaml)" parent
	# Both children are still alive; neither may hold the lock.
	lock_probe f.yaml
	echo done >&7
	exec 7>&-
	wait "$BACKGROUND" || fail "the parent failed: $(cat parent.out)"
	BACKGROUND=
	assert_loaded "$PYNAME"
	assert_loaded sh
	[ "$probe_status" = 0 ] ||
		fail "a child kept the parent's lock: probe status $probe_status: $(cat probe.err probe.log)"
	assert_equal "$(cat f.yaml)" probe
	assert_no_temps .
}

# A fork while another thread of the parent waits for a lock: the child
# must not keep the lock file that thread has open (lock descriptors are
# closed in fork children, SPEC §3 "Processes").  Made deterministic: a
# holder process has the lock; thread A opens f.yaml and waits for it
# (its lock file is open: the main thread sees it in /proc/self/fd);
# then the main thread forks a long-lived child; then the holder lets go,
# thread A writes and closes.  A third process must then get the lock.
@test "locks: a child forked while another thread waits for a lock does not keep that lock" {
	conf 'path "*.yaml" { lock_timeout = 30 }'
	printf 'path "*.yaml" { lock_timeout = 0 }\n' > zero.conf
	echo old > f.yaml
	run wrapped timeout 60 "$PY" -c '
import os, subprocess, sys, threading, time
launcher, writer, zero = sys.argv[1:4]

def probe(what):
    p = subprocess.run([launcher, "-c", zero, writer, "open", "f.yaml", what],
                       capture_output=True, text=True)
    print(f"probe {what}: status {p.returncode}", flush=True)

def lock_file_open():
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").endswith("f.yaml.lock"):
                return True
        except OSError:
            pass
    return False

holder = subprocess.Popen([sys.executable, "-c", """
import sys
f = open("f.yaml", "w")
f.write("holder")
print("locked", flush=True)
sys.stdin.readline()
f.close()"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
assert holder.stdout.readline() == "locked\n"
probe("held")                       # the control: the probe can fail

def thread_a():
    with open("f.yaml", "w") as f:
        f.write("thread")
t = threading.Thread(target=thread_a)
t.start()
for _ in range(1000):
    if lock_file_open():            # thread A waits for the lock
        break
    time.sleep(0.01)
else:
    sys.exit("thread A never opened its lock file")
r, w = os.pipe()
pid = os.fork()
if pid == 0:                        # lives until the pipe closes
    os.close(w)
    os.read(r, 1)
    os._exit(0)
os.close(r)
holder.stdin.write("go\n")
holder.stdin.flush()
holder.wait()
t.join()
print("content:", open("f.yaml").read(), flush=True)
probe("free")
os.close(w)
os.waitpid(pid, 0)' "$ATOMICALLY" "$WRITER" "$BATS_TEST_TMPDIR/zero.conf"
	assert_loaded "$PYNAME"
	assert_success
	assert_line "probe held: status 1"
	assert_line "content: thread"
	assert_line "probe free: status 0"
	assert_no_temps .
}

# ---- 6. exec: the new image commits ----------------------------------------------

# assert_exec_commit TEXT: f.yaml holds TEXT, in a new inode, committed once.
assert_exec_commit() {
	assert_success
	assert_equal "$(cat f.yaml)" "$1"
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_commits f.yaml 1
	grep -q 'f.yaml: adopted across exec' "$LIBLOG" ||
		fail "f.yaml was not handed over across exec: $(cat "$LIBLOG")"
	assert_no_temps .
}

@test "exec: sh -c 'exec prog > f.yaml': prog's image commits, once" {
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped sh -c "exec '$WRITER' stdout - new-by-exec > f.yaml"
	assert_loaded writer
	assert_exec_commit new-by-exec
}

@test "exec: the file committed by the new image keeps the old file's mode (0644, 0640, 0604)" {
	local m
	for m in 644 640 604; do
		printf 'old\n' > f.yaml
		chmod "$m" f.yaml
		run wrapped sh -c "exec '$WRITER' stdout - new > f.yaml"
		assert_loaded writer
		assert_success
		assert_equal "$(cat f.yaml)" new
		assert_equal "$(stat -c %a f.yaml)" "$m"
	done
}

@test "exec: bash -c 'prog > f.yaml' (bash opens, then execs): committed once" {
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped bash -c "'$WRITER' stdout - new-by-bash > f.yaml"
	assert_loaded writer
	assert_exec_commit new-by-bash
}

@test "exec: bash -c '{ echo a; /bin/echo b; } > f.yaml': both lines, committed once" {
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped bash -c '{ echo a; /bin/echo b; } > f.yaml'
	assert_loaded bash
	assert_loaded echo
	assert_success
	assert_equal "$(cat f.yaml)" "$(printf 'a\nb')"
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_commits f.yaml 1
	assert_no_temps .
}

@test "exec: bash 'exec 3> f.yaml; echo x >&3; /bin/echo y >&3; exec 3>&-': committed once, at the close" {
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	# $(cat f.yaml) is another process: it reads what others read (not
	# $(<f.yaml): bash 5.2 reads that in the shell itself, without a fork).
	run wrapped bash -c '
exec 3> f.yaml
echo x >&3
/bin/echo y >&3
seen=$(cat f.yaml)
exec 3>&-
echo "before the close: $seen"'
	assert_loaded bash
	assert_loaded echo
	assert_success
	assert_output "before the close: old"
	assert_equal "$(cat f.yaml)" "$(printf 'x\ny')"
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_commits f.yaml 1
	assert_no_temps .
}

# slow_write_while_read: bash -c 'writer ... > f.yaml' writes 20 pieces 50
# ms apart while checkread reads f.yaml over and over; checkread's report
# in $output, its status in $status.
slow_write_while_read() {
	printf 'old\n' > f.yaml
	cp f.yaml old.txt
	text=$(printf 'line-%03d;' $(seq 1 200))
	printf '%s' "$text" > new.txt
	"$CHECKREAD" f.yaml old.txt new.txt 2500 > read.out &
	reader=$!
	sleep 0.2
	"$@" bash -c "'$WRITER' stdout - '$text' 20 50 > f.yaml" || fail "the writer failed"
	status=0
	wait "$reader" || status=$?
	output=$(cat read.out)
}

@test "exec: a reader never sees a partial file during a slow bash -c 'prog > f.yaml'" {
	slow_write_while_read wrapped
	assert_loaded writer
	assert_equal "$status" 0
	assert_counts_zero partial missing
	assert_equal "$(cat f.yaml)" "$(cat new.txt)"
	assert_commits f.yaml 1
	assert_no_temps .

	# The control: without the library the reader sees the file empty and
	# half written.
	control_dir control
	slow_write_while_read env
	assert_equal "$status" 1
	assert_count_positive partial
}

# ---- 7. exit paths ---------------------------------------------------------------

# exit_run MODE TEXT: proc_exit MODE f.yaml TEXT under the library, f.yaml
# holding "old" before; its inode before in $before.
exit_run() {
	echo old > f.yaml
	before=$(inode f.yaml)
	: > "$LIBLOG"
	run wrapped "$EXITS" "$1" f.yaml "$2"
	assert_loaded proc_exit
	[ "$status" = 0 ] || fail "$1: status $status: $output"
}

# assert_exit_commit MODE TEXT: f.yaml holds TEXT in a new inode, committed
# once, no temp left.
assert_exit_commit() {
	[ "$(cat f.yaml)" = "$2" ] || fail "$1: f.yaml holds '$(cat f.yaml)', not '$2'"
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_commits f.yaml 1
	assert_no_temps .
}

@test "exit paths: exit() and a return from main flush stdio, then commit" {
	for mode in exit return; do
		exit_run "$mode" "by-$mode"
		assert_exit_commit "$mode" "by-$mode"
	done
}

@test "exit paths: _exit, _Exit and quick_exit commit what was written (after an fflush)" {
	for mode in _exit _Exit quick_exit; do
		exit_run "flushed-$mode" "by-$mode"
		assert_exit_commit "$mode" "by-$mode"
	done
}

# _exit, _Exit and quick_exit do not flush stdio (POSIX): an unflushed
# buffer is lost with or without the library.  The library commits what
# reached the file: the same content as the control without it.
@test "exit paths: _exit, _Exit and quick_exit without fflush commit what reached the file, as without the library" {
	for mode in _exit _Exit quick_exit; do
		echo old > f.yaml
		run "$EXITS" "$mode" f.yaml "by-$mode"
		assert_success
		control=$(cat f.yaml)
		exit_run "$mode" "by-$mode"
		assert_exit_commit "$mode" "$control"
	done
}

# The program's own exit handlers run before the commit at exit: a file
# they finish and close is committed whole, and until then it is not
# published (the handler, reading the disk past the library as another
# process would, still sees the old content).
@test "exit paths: an atexit handler that fcloses the file sees the old content and commits the whole" {
	exit_run atexit by-atexit
	assert_output "in handler: old"
	assert_exit_commit atexit by-atexit
}

@test "exit paths: an at_quick_exit handler that fcloses the file sees the old content and commits the whole" {
	exit_run at_quick_exit by-at_quick_exit
	assert_output "in handler: old"
	assert_exit_commit at_quick_exit by-at_quick_exit
}

@test "exit paths: abort() and SIGKILL commit nothing, the target keeps its old content" {
	for mode in abort kill; do
		echo old > f.yaml
		before=$(inode f.yaml)
		: > "$LIBLOG"
		run wrapped "$EXITS" "$mode" f.yaml "by-$mode"
		assert_loaded proc_exit
		case $mode in
		abort) assert_equal "$status" 134 ;;
		kill) assert_equal "$status" 137 ;;
		esac
		assert_equal "$(cat f.yaml)" old
		assert_equal "$(inode f.yaml)" "$before"
		assert_commits f.yaml 0
		# The temp was anonymous: it went with the process.
		assert_no_temps .
	done
}

@test "exit paths: close_range(3, ~0U, 0) and closefrom(3) commit the files they close" {
	for mode in close_range closefrom; do
		echo old > f.yaml
		: > "$LIBLOG"
		run wrapped "$EXITS" "$mode" f.yaml "by-$mode"
		assert_loaded proc_exit
		# It kills itself after the close: only the close can have committed.
		assert_equal "$status" 137
		assert_output "after: by-$mode"
		assert_equal "$(cat f.yaml)" "by-$mode"
		assert_commits f.yaml 1
		assert_no_temps .
	done
}

@test "exit paths: a fork child's _exit does not flush the parent's stdio buffer into its pending file" {
	echo old > f.yaml
	run wrapped "$EXITS" fork_exit f.yaml once
	assert_loaded proc_exit
	assert_success
	assert_equal "$(cat f.yaml)" once
	assert_commits f.yaml 1
	assert_no_temps .

	# The control: without the library the child's _exit flushes nothing.
	echo old > f.yaml
	run "$EXITS" fork_exit f.yaml once
	assert_success
	assert_equal "$(cat f.yaml)" once
}

@test "exit paths: a fork child's _exit does not flush the parent's buffered standard output" {
	echo old > f.yaml
	run wrapped "$EXITS" fork_stdout f.yaml printed-once
	assert_loaded proc_exit
	assert_success
	assert_output printed-once

	# The control: without the library the line is printed once.
	run "$EXITS" fork_stdout f.yaml printed-once
	assert_success
	assert_output printed-once
}

@test "exit paths: a commit at exit that fails (EIO on fsync) turns status 0 into failure_exit_code" {
	strace -f -o /dev/null -e trace=none -e inject=fsync:error=EIO:when=1 true 2>/dev/null ||
		skip "this strace cannot inject fsync errors"
	for mode in exit return _exit; do
		echo old > f.yaml
		before=$(inode f.yaml)
		: > "$LIBLOG"
		ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o strace.log -e trace=fsync \
			-e inject=fsync:error=EIO:when=1 "$ATOMICALLY" "$EXITS" "$mode" f.yaml new
		assert_loaded proc_exit
		grep -q 'fsync(.*INJECTED' strace.log || fail "$mode: no fsync was failed: $(cat strace.log)"
		[ "$status" = 74 ] || fail "$mode: status $status, not failure_exit_code 74"
		assert_equal "$(cat f.yaml)" old
		assert_equal "$(inode f.yaml)" "$before"
		grep -q "f.yaml: .*Input/output error" "$LIBLOG" ||
			fail "$mode: no message names the file and the error: $(cat "$LIBLOG")"
		assert_no_temps .
	done
	# failure_exit_code = 0 leaves the status alone.
	printf 'failure_exit_code = 0\npath "*.yaml" { }\n' > "$CONF"
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -o /dev/null -e trace=fsync \
		-e inject=fsync:error=EIO:when=1 "$ATOMICALLY" "$EXITS" exit f.yaml new
	assert_success
	assert_equal "$(cat f.yaml)" old
}

# ---- 8. a descriptor number reused between threads -----------------------------

@test "fd reuse: one thread closes a pending file while another opens and closes an unmatched file in its number" {
	conf 'path "*.json" { durability = "none" }'
	run wrapped timeout 60 "$THREADS" reuse 2 2000
	assert_loaded proc_threads
	assert_success
	assert_counts_zero torn bad errors
	assert_line --partial "versions=4000"
	# Each matched file committed exactly once per close (plus its first
	# version), the unmatched ones never taken over.
	assert_commits 'r0\.json' 2001
	assert_commits 'r1\.json' 2001
	! grep -q 'u[0-9]\.txt' "$LIBLOG" || fail "an unmatched file was taken over: $(grep 'u[0-9]\.txt' "$LIBLOG" | head)"
	assert_no_temps .

	# The control: without the library the reader sees torn files.
	control_dir control
	run timeout 60 "$THREADS" reuse 2 2000
	assert_failure
	assert_count_positive torn
}

# ---- the library's own descriptors ----------------------------------------

# A program that closes every descriptor it did not open itself (daemons,
# closefrom(3) before exec, python's os.closerange) must not close the
# library's: the directory of a pending file, its temp, its lock file.

# own_fds_run HOW: python opens f.yaml for writing, writes, then closes or
# dup2()s over every other descriptor above it in the way HOW says, then
# closes f.yaml; prints what each step saw.
own_fds_run() {
	echo old > f.yaml
	before=$(inode f.yaml)
	run wrapped "$PY" -c '
import os, sys
how = sys.argv[1]
fd = os.open("f.yaml", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"new\n")
above = [int(n) for n in os.listdir("/proc/self/fd") if int(n) > fd]
if how == "closerange":
    os.closerange(fd + 1, 65536)
elif how == "loop":
    for n in range(fd + 1, 4096):
        try:
            os.close(n)
        except OSError:
            pass
elif how == "dup2":
    null = os.open("/dev/null", os.O_WRONLY)
    for n in above:
        os.dup2(null, n)
        os.write(n, b"x")  # the program has its own file there now
print("above", len(above))
os.close(fd)
print("closed")
' "$1"
}

@test "own descriptors: os.closerange over them leaves the pending file whole; it commits" {
	own_fds_run closerange
	assert_loaded "$PYNAME"
	assert_success
	assert_line closed
	assert_equal "$(cat f.yaml)" new
	[ "$(inode f.yaml)" != "$before" ] || fail "written in place"
	assert_commits f.yaml 1
	assert_no_temps .
}

@test "own descriptors: close() of each number in turn leaves them open; it commits" {
	own_fds_run loop
	assert_loaded "$PYNAME"
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_commits f.yaml 1
}

@test "own descriptors: dup2 onto one of them works for the program, and ours moves away" {
	own_fds_run dup2
	assert_loaded "$PYNAME"
	assert_success
	# The library has descriptors of its own there (directory, temp, lock).
	assert_line --regexp '^above [1-9]'
	assert_equal "$(cat f.yaml)" new
	assert_commits f.yaml 1
	assert_no_temps .
}

@test "own descriptors: lock = process survives closefrom(3) in the holder" {
	printf 'path "f.yaml" { lock = "process" lock_timeout = 0 }\n' > "$CONF"
	echo old > f.yaml
	wrapped "$PY" -c '
import os, time
open("f.yaml").read()
os.closerange(3, 65536)
time.sleep(2)' &
	BACKGROUND=$!
	sleep 0.8
	run wrapped "$PY" -c 'open("f.yaml").read()'
	assert_failure
	assert_output --partial "Resource temporarily unavailable"
	wait "$BACKGROUND"
	BACKGROUND=
}

# ---- threads appending to one file ------------------------------------------------

# Threads that each open one log for appending and write lines to it:
# unwrapped, every line lands (O_APPEND).  Each open gets the process's one
# pending file of the path, so no thread's lines are lost; with a temp per
# open (a copy of the log each), the last close won and the others' lines
# were gone.
@test "threads: 8 threads appending 200 lines each to one matched file: every line kept, as without the library" {
	cat > appenders.py <<'PY'
import threading
def append(t):
    with open("log.json", "a") as f:
        for i in range(200):
            f.write("%d %d\n" % (t, i)); f.flush()
threads = [threading.Thread(target=append, args=(t,)) for t in range(8)]
for th in threads: th.start()
for th in threads: th.join()
PY
	: > log.json
	run "$PY" appenders.py
	assert_success
	assert_equal "$(wc -l < log.json)" 1600
	: > log.json
	run wrapped "$PY" appenders.py
	assert_success
	assert_loaded "$PYNAME"
	assert_equal "$(wc -l < log.json)" 1600
	assert_equal "$(sort log.json | uniq | wc -l)" 1600
	assert_no_temps .
}

# The same in C, each line its own open, write and close, many times
# over: a thread's open that copied the log while another thread's
# commit of it was under way started from the content that commit
# replaced, and its own commit then took the other's line away (the
# in-process lock, re-entrant, does not keep threads apart).  An open
# waits for such a commit, and publishes its file before it copies.
@test "threads: 8 threads x 1,000 cycles of open, append a line, close, on one matched file: every line kept, as without the library" {
	printf 'path "*.json" { durability = "none" }\n' > "$CONF"
	: > log.json
	run "$THREADS" append 8 1000
	assert_success
	assert_output "lines=8000 missing=0 extra=0 errors=0"
	: > log.json
	run wrapped "$THREADS" append 8 1000
	assert_loaded proc_threads
	assert_success
	assert_output "lines=8000 missing=0 extra=0 errors=0"
	assert_no_temps .
}
