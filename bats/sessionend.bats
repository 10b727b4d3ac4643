# sessionend.bats - when a session ends.  COMMAND's exit is not always
# the end of its work: a child it started may still write a pending file
# through a descriptor it inherited (Popen(stdout=f), cmd >> f &), or
# still use the session's locks and files itself.  The session lasts
# while a process of its tree uses it, lock_timeout at most; a process
# that outlives it goes on alone, as one outside, with locks of its own.

load helpers

setup() {
	common_setup
	find_python
	printf 'path "*.json" { commit = "session" lock = "session" }\n' > "$CONF"
}

teardown() {
	pkill -KILL -f "sleep 7[0-9]" 2> /dev/null || true
}

@test "session end: Popen(stdout=f) and exit: the child's later line is in the file the session commits" {
	echo old > out.json
	run wrapped "$PY" -c '
import subprocess
f = open("out.json", "a"); f.write("parent\n"); f.flush()
subprocess.Popen(["sh", "-c", "sleep 0.5; echo child"], stdout=f, stderr=subprocess.DEVNULL)'
	assert_success
	# Read at once: the session waited for the child before it committed.
	# Committed at COMMAND's exit, the file would lack the child's line
	# here (it would come later, written in place into the target).
	run cat out.json
	assert_output "$(printf 'old\nparent\nchild')"
	grep -q "out.json: committed" "$LIBLOG" || fail "not committed by the session: $(cat "$LIBLOG")"
}

@test "session end: the same without the library: the child's line comes after the parent's exit (the control)" {
	echo old > out.json
	"$PY" -c '
import subprocess
f = open("out.json", "a"); f.write("parent\n"); f.flush()
subprocess.Popen(["sh", "-c", "sleep 0.5; echo child"], stdout=f, stderr=subprocess.DEVNULL)'
	run cat out.json
	assert_output "$(printf 'old\nparent')"
	sleep 1
}

@test "session end: a job that inherited the shell's f, the shell exiting 0: the job's line is committed with the session" {
	echo old > out.json
	# The shell opens the file before it starts the job: the job holds
	# it when the shell exits.  (In `{ ...; } >> f &` the job opens it
	# itself, after the fork: a job that has not opened it yet when the
	# session ends writes it on its own, outside the session.)
	run wrapped sh -c 'exec 3>> out.json; echo first >&3; { sleep 0.5; echo job >&3; } 2> /dev/null & exit 0'
	assert_success
	run cat out.json
	assert_output "$(printf 'old\nfirst\njob')"
}

@test "session end: a command that fails while its child still writes: the child is waited for, and nothing is committed" {
	echo old > out.json
	run wrapped sh -c 'exec 3>> out.json; echo first >&3; { sleep 0.5; echo job >&3; } 2> /dev/null & exit 3'
	assert_failure 3
	run cat out.json
	assert_output old
	grep -q "exited with status 3: the session's files were not committed" "$LIBLOG" ||
		fail "$(cat "$LIBLOG")"
	# The child wrote into the discarded file, not into the target, later.
	sleep 0.8
	run cat out.json
	assert_output old
}

@test "session end: a process that used the session and outlives COMMAND: waited for, its later writes committed with the session" {
	echo 0 > n.json
	run wrapped sh -c '(echo 1 > n.json; sleep 0.5; echo 2 > n.json) & sleep 0.1'
	assert_success
	# Ended at COMMAND's exit, the session would have committed 1, and
	# the second write would have failed (the session gone).
	run cat n.json
	assert_output 2
	refute grep -q "is over\|not there" "$LIBLOG"
}

@test "session end: one still using it after lock_timeout is named, left running, and goes on alone" {
	printf 'path "*.json" { commit = "session" lock = "session" lock_timeout = 1 }\n' > "$CONF"
	echo 0 > n.json
	run wrapped sh -c '(echo 1 > n.json; sleep 2; echo 2 > n.json; echo done > seen; sleep 71) > /dev/null 2>&1 & sleep 0.1'
	assert_success
	grep -Eq "the session ends 1 s after its command, while pid [0-9]+ \(sh -c .*\) still uses it" "$LIBLOG" ||
		fail "not named: $(cat "$LIBLOG")"
	# Left running: the session did not wait for its end.
	[ ! -e seen ] || fail "the session waited for the process"
	run cat n.json
	assert_output 1
	# Its later write is its own: committed by itself, outside the session.
	for i in $(seq 50); do [ -s seen ] && break; sleep 0.1; done
	run cat n.json
	assert_output 2
	grep -q "the session of this process is over" "$LIBLOG" || fail "$(cat "$LIBLOG")"
}

@test "session end: a process that outlives its session takes its locks itself: an outsider's lock is waited for" {
	printf 'path "n.json" { lock = "session" lock_timeout = 1 }\n' > "$CONF"
	printf 'path "n.json" { lock = "process" lock_timeout = 30 }\n' > outsider.conf
	echo 0 > n.json
	# The job reads n.json itself (the session takes its lock for the
	# tree, and the job keeps it as the session's), and writes it 3 s
	# later, once the session has ended (lock_timeout 1).
	run wrapped sh -c '(read x < n.json; sleep 3; echo 9 > n.json; echo "rc=$?" > rc) > /dev/null 2>&1 & sleep 0.1'
	assert_success
	# Now an outsider holds n.json's lock (its shell read it), until killed.
	ATOMICALLY_LOG="debug:$LIBLOG.outsider" "$ATOMICALLY" -c outsider.conf \
		sh -c 'read x < n.json; sleep 74' &
	local outsider=$!
	for i in $(seq 50); do grep -q "n.json: locked" "$LIBLOG.outsider" 2> /dev/null && break; sleep 0.1; done
	grep -q "n.json: locked" "$LIBLOG.outsider" || fail "the outsider did not lock"
	for i in $(seq 60); do [ -s rc ] && break; sleep 0.1; done
	kill "$outsider"
	wait "$outsider" || true
	# With the session's lock still counted as held, the job would have
	# written at once.
	run cat rc
	assert_output --regexp "rc=[1-9]"
	run cat n.json
	assert_output 0
	grep -q "n.json: locked by pid [0-9]* (.*sh -c read x < n.json; sleep 74)" "$LIBLOG" ||
		fail "$(cat "$LIBLOG")"
}

@test "session end: lock = session, Popen(stdout=f): the waiter that commits at the child's last close holds the session, and a second writer's line is kept" {
	printf 'path "*.json" { lock = "session" }\n' > "$CONF"
	echo old > out.json
	run wrapped "$PY" -c '
import subprocess
f = open("out.json", "a"); f.write("parent\n"); f.flush()
subprocess.Popen(["sh", "-c", "sleep 0.5; echo child"], stdout=f, stderr=subprocess.DEVNULL)'
	assert_success
	# A second step appends.  With the session over at COMMAND's exit,
	# it would not wait, and the waiter's commit would drop its line.
	run wrapped sh -c 'echo other >> out.json'
	assert_success
	sleep 0.8
	run cat out.json
	assert_output "$(printf 'old\nparent\nchild\nother')"
}
