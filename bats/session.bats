# session.bats - lock = "session" (SPEC section 5): the launcher is the
# session, and every process of COMMAND's tree shares its locks, held
# from the first touch of a file until COMMAND exits.  A script's
# load-modify-save, spread over several processes, then loses no update
# when many copies of it run at once.

load helpers

setup() {
	common_setup
	find_python
	printf 'path "n" { lock = "session" }\npath "f.json" { lock = "session" }\n' > "$CONF"
}

teardown() {
	# A test that failed half-way must not leave its sleepers behind.
	pkill -KILL -f "sleep 7[0-9]" 2> /dev/null || true
}

# steps N M CMD: N loops at once, each running CMD M times (sh -c CMD),
# every run of CMD under the launcher, as N parallel CI steps would.
steps() {
	local n=$1 m=$2 cmd=$3 j
	for j in $(seq "$n"); do
		(for i in $(seq "$m"); do "$ATOMICALLY" sh -c "$cmd"; done) &
	done
	wait
}

# The same without the library: the control.
plain_steps() {
	local n=$1 m=$2 cmd=$3 j
	for j in $(seq "$n"); do
		(for i in $(seq "$m"); do sh -c "$cmd"; done) &
	done
	wait
}

@test "session: SPEC 5's shell loop, 16 steps x 20, keeps all 320 increments" {
	echo 0 > n
	plain_steps 16 20 'v=$(cat n); echo $((v+1)) > n'
	local control
	control=$(cat n)
	[ "$control" -lt 320 ] || fail "the control kept every increment ($control): the race was not run"

	echo 0 > n
	steps 16 20 'v=$(cat n); echo $((v+1)) > n'
	assert_equal "$(cat n)" 320
	assert_no_temps
	# Each lock file went with the last session that held it.
	[ -z "$(ls -A "$LOCKS")" ] || fail "lock files left: $(ls -A "$LOCKS")"
}

@test "session: jq '.n += 1' f.json > tmp && mv tmp f.json, 16 steps x 5, keeps all 80" {
	local cmd='jq ".n += 1" f.json > tmp.$$ && mv tmp.$$ f.json'
	echo '{"n": 0}' > f.json
	plain_steps 16 5 "$cmd"
	local control
	control=$(jq .n f.json)
	[ "$control" -lt 80 ] || fail "the control kept every increment ($control)"

	echo '{"n": 0}' > f.json
	steps 16 5 "$cmd"
	assert_equal "$(jq .n f.json)" 80
	assert_no_temps
	run ls tmp.*
	assert_failure
}

@test "session: the lock is re-entrant across the tree, and held until COMMAND exits" {
	printf 'path "n" { lock = "session" lock_timeout = 0 }\n' > "$CONF"
	echo 41 > n
	# The parent reads n (the session takes its lock), then a child of
	# it reads and writes n: it must not wait for its own session.
	local script='import subprocess, time
open("n").read()
subprocess.run(["sh", "-c", "v=$(cat n); echo $((v+1)) > n"], check=True)
time.sleep(2)'
	wrapped "$PY" -c "$script" &
	local session=$!
	wait_for_log "locked .lock file"
	sleep 0.5
	# Until the whole command has exited, no one outside gets it.
	run "$ATOMICALLY" cat n
	assert_failure
	wait "$session"
	assert_equal "$(cat n)" 42
	run "$ATOMICALLY" cat n
	assert_success
	assert_output 42
}

@test "session: under lock = process the same child would wait for its parent (the control)" {
	printf 'path "n" { lock = "process" lock_timeout = 0 }\n' > "$CONF"
	echo 41 > n
	run "$ATOMICALLY" "$PY" -c 'import subprocess
open("n").read()
subprocess.run(["sh", "-c", "v=$(cat n); echo $((v+1)) > n"], check=True)'
	assert_failure
	assert_equal "$(cat n)" 41
}

@test "session: a process outside waits lock_timeout, and the message names the session" {
	printf 'path "n" { lock = "session" lock_timeout = 1 }\n' > "$CONF"
	echo 1 > n
	ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" sh -c 'cat n > /dev/null; sleep 73' &
	local session=$!
	# Held: the supervisor said so (a fixed sleep lost the race on a busy
	# machine).
	wait_for_log "/n: locked"
	run "$ATOMICALLY" "$PY" -c 'open("n").read()'
	assert_failure
	assert_output --partial "n: locked by pid $session ($ATOMICALLY sh -c cat n > /dev/null; sleep 73); gave up after waiting 1 s"
	kill "$session"
	wait "$session" || true
}

@test "session: the exit status is COMMAND's, a signal's as 128+N" {
	bats_require_minimum_version 1.5.0
	run "$ATOMICALLY" sh -c 'cat n 2> /dev/null; exit 3'
	assert_failure 3
	run "$ATOMICALLY" sh -c 'kill -TERM $$'
	assert_failure 143
	run -127 "$ATOMICALLY" /nonexistent/command
}

@test "session: killed with SIGKILL, the supervisor takes its whole tree with it" {
	echo 1 > n
	"$ATOMICALLY" sh -c 'cat n > /dev/null; (sleep 77 &); sleep 78 & sleep 79' &
	local session=$!
	for i in $(seq 50); do pgrep -f "sleep 77" > /dev/null && break; sleep 0.1; done
	pgrep -f "sleep 79" > /dev/null
	kill -KILL "$session"
	wait "$session" || true
	for i in $(seq 30); do pgrep -f "sleep 7[789]" > /dev/null || break; sleep 0.1; done
	run pgrep -af "sleep 7[789]"
	assert_failure
	# And its lock went with it.
	printf 'path "n" { lock = "session" lock_timeout = 0 }\n' > "$CONF"
	run "$ATOMICALLY" cat n
	assert_success
}

@test "session: the control: without a session, a killed launcher leaves the tree's orphans" {
	printf 'path "n" { lock = "process" }\n' > "$CONF"
	"$ATOMICALLY" sh -c '(sleep 77 &); sleep 79' &
	local launcher=$!
	for i in $(seq 50); do pgrep -f "sleep 77" > /dev/null && break; sleep 0.1; done
	kill -KILL "$launcher"
	wait "$launcher" || true
	sleep 0.3
	run pgrep -f "sleep 77"
	assert_success
}

@test "session: an atomically started inside a session joins it" {
	printf 'path "n" { lock = "session" lock_timeout = 0 }\n' > "$CONF"
	echo 1 > n
	# Had the inner launcher started a session of its own, its lock
	# would wait for the outer one's (and fail at once).
	run wrapped sh -c 'cat n > /dev/null; "$0" sh -c "echo 2 > n"; cat n' "$ATOMICALLY"
	assert_success
	assert_output 2
}

@test "session: a process outside the tree, given the session's name, is not served" {
	printf 'path "n" { lock = "session" lock_timeout = 0 }\n' > "$CONF"
	echo 1 > n
	"$ATOMICALLY" sh -c 'cat n > /dev/null; sleep 74' &
	local session=$!
	local value=""
	for i in $(seq 50); do
		value=$(tr '\0' '\n' < /proc/"$(pgrep -f -n "sleep 74")"/environ 2> /dev/null |
			sed -n 's/^ATOMICALLY_SESSION=//p') && [ -n "$value" ] && break
		sleep 0.1
	done
	[ -n "$value" ] || fail "the session's name was not found in its tree's environment"
	# Served, the stranger would read at once (the session holds n).
	ATOMICALLY_SESSION=$value run preloaded cat n
	assert_failure
	grep -q "the session $value does not serve this process, which is not of its tree" "$LIBLOG" ||
		fail "the stranger was not turned away: $(cat "$LIBLOG")"
	kill "$session"
	wait "$session" || true
}

@test "session: a socket of the session's name held by another process is not trusted" {
	printf 'path "n" { lock = "session" lock_timeout = 0 }\n' > "$CONF"
	echo 1 > n
	# A listener of our user under a name that gives another pid: it
	# would never answer, and must not be asked.
	local value="999999.0123456789abcdef"
	"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind("\0atomically-session." + sys.argv[1]); s.listen(8)
open("ready", "w").close(); time.sleep(30)' "$value" &
	local fake=$!
	wait_for_file ready
	ATOMICALLY_SESSION=$value run timeout 10 env LD_PRELOAD="$PRELOAD" ATOMICALLY_LOG="warn:$LIBLOG" cat n
	kill "$fake"
	assert_success
	assert_output 1
	grep -q "session $value is not there (Operation not permitted)" "$LIBLOG" ||
		fail "the false session was asked: $(cat "$LIBLOG")"
}

@test "session: --env starts no session: it says so once, and each process holds its own locks" {
	bats_require_minimum_version 1.5.0
	printf 'path "n" { lock = "session" lock_timeout = 0 }\n' > "$CONF"
	echo 1 > n
	run --separate-stderr "$ATOMICALLY" --env
	assert_success
	assert_line "export ATOMICALLY_SESSION=none"
	[[ "$stderr" == *"--env starts no session"* ]] || fail "no warning: $stderr"
	eval "$output"
	"$PY" -c 'import time; open("n").read(); time.sleep(2)' 2> "$BATS_TEST_TMPDIR/holder.err" &
	local holder=$!
	sleep 0.7
	run "$PY" -c 'open("n").read()'
	assert_failure
	wait "$holder"
	unset LD_PRELOAD ATOMICALLY_RULES ATOMICALLY_SESSION
	[ ! -s "$BATS_TEST_TMPDIR/holder.err" ] || fail "the holder warned: $(cat "$BATS_TEST_TMPDIR/holder.err")"
}

@test "session: with a bare LD_PRELOAD, the missing session is said once per process" {
	printf 'path "n" { lock = "session" }\n' > "$CONF"
	echo 1 > n
	ATOMICALLY_LOG="warn:$LIBLOG" LD_PRELOAD="$PRELOAD" sh -c 'cat n; cat n; echo 2 > n' > /dev/null
	assert_equal "$(cat n)" 2
	# cat, cat, sh: three processes, one line each.
	assert_equal "$(grep -c 'no atomically launcher above this process is one' "$LIBLOG")" 3
}

@test "session: 16 processes x 16 threads of one session write one file; a reader never sees it torn" {
	printf 'path "out.txt" { lock = "session" }\n' > "$CONF"
	# Each thread rewrites the file 20 times, each time with one write
	# of 64 lines of its process's letter.
	# A reader outside, with no library: how many of its reads were not
	# one whole file of one letter.
	cat > r.py <<'PY'
import os, time
bad = reads = 0
while not os.path.exists("done"):
    try:
        lines = open("out.txt").read().split("\n")[:-1]
    except FileNotFoundError:
        continue
    reads += 1
    if len(lines) != 64 or len(set(lines)) != 1:
        bad += 1
print(bad, reads)
PY
	race() {
		rm -f done
		"$PY" -c 'open("out.txt", "w").write(("Z" * 1023 + "\n") * 64)'
		"$PY" r.py > reads &
		local reader=$!
		"$@" sh -c 'for p in A B C D E F G H I J K L M N O P; do "$0" "$1" out.txt $p 20 & done; wait' "$PY" "$TOP/tests/helpers/thread_rewriter.py"
		local st=$?
		touch done
		wait "$reader"
		return $st
	}
	race env
	read -r bad reads < reads
	[ "$bad" -gt 0 ] || fail "the control's reader never saw a torn file ($reads reads)"

	race "$ATOMICALLY"
	read -r bad reads < reads
	assert_equal "$bad" 0
	[ "$reads" -gt 0 ] || fail "the reader read nothing"
	run "$PY" -c 'lines = open("out.txt").read().split("\n")[:-1]; assert len(lines) == 64 and len(set(lines)) == 1'
	assert_success
	assert_no_temps
}
