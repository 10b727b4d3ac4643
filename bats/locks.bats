# locks.bats - lock = "process": a load-modify-save cycle per process, run
# by many processes at once, loses no update (SPEC sections 3 and 6), in
# python and in a C program that does stat, then read, then write.

load helpers

setup() {
	common_setup
	PY=/usr/bin/python3
	[ -x "$PY" ] || PY=$(command -v python3)
	LMS="$B/lms_counter"
	WARNLOG="$BATS_TEST_TMPDIR/warn.log"
	printf 'path "counter.json" { lock = "process" }\n' > "$CONF"
	# One increment: load the counter (it may not exist yet), add one,
	# save it with a plain open(O_TRUNC) and write.
	cat > inc.py <<'PY'
import json
try:
    n = json.load(open("counter.json"))["n"]
except FileNotFoundError:
    n = 0
with open("counter.json", "w") as f:
    json.dump({"n": n + 1}, f)
PY
}

# increments PROCS ROUNDS [LAUNCHER...]: PROCS loops of ROUNDS increments,
# all at once; prints the final counter.
increments() {
	local procs=$1 rounds=$2 p
	shift 2
	rm -f counter.json
	for ((p = 0; p < procs; p++)); do
		(for ((i = 0; i < rounds; i++)); do "$@" "$PY" inc.py 2>/dev/null; done) &
	done
	wait
	"$PY" -c 'import json; print(json.load(open("counter.json"))["n"])'
}

@test "16 processes x 30 load-modify-save increments under lock = process: no lost update" {
	run wrapped "$PY" -c 'pass'
	assert_loaded python3
	run increments 16 30 env ATOMICALLY_LOG="warn:$LIBLOG" "$ATOMICALLY"
	assert_success
	assert_output 480
	assert_no_temps .
}

@test "control: the same increments without the library lose updates" {
	run increments 16 20
	# Lost updates, or a run that read a half-written file and failed:
	# either way fewer than 320.
	[ "$output" -lt 320 ] || fail "no update was lost without the library: $output"
}

@test "lock = process: the lock is taken at the first read and held until exit" {
	echo '{"n": 41}' > counter.json
	# The first process reads, then sleeps holding the lock; the second
	# (lock_timeout = 0) cannot even read.
	printf 'path "counter.json" { lock = "process" lock_timeout = 0 }\n' > "$CONF"
	wrapped "$PY" -c 'import time; open("counter.json").read(); time.sleep(2)' &
	local holder=$!
	sleep 0.7
	run wrapped "$PY" -c 'open("counter.json").read()'
	assert_failure
	assert_output --partial "Resource temporarily unavailable"
	grep -q 'counter.json: locked by pid [0-9]* (.*python3.* -c import time.*); gave up after waiting 0 s' "$LIBLOG" ||
		fail "no message naming the file, the holder and the wait: $(cat "$LIBLOG")"
	wait "$holder"
	run wrapped "$PY" -c 'print(open("counter.json").read().strip())'
	assert_success
	assert_output '{"n": 41}'
}

@test "lock = process: a stat of a file that does not exist yet takes the lock too" {
	printf 'path "counter.json" { lock = "process" lock_timeout = 0 }\n' > "$CONF"
	wrapped "$PY" -c 'import os, time; os.path.exists("counter.json"); time.sleep(2)' &
	local holder=$!
	sleep 0.7
	run wrapped "$PY" -c 'open("counter.json", "w").write("x")'
	assert_failure
	assert_file_not_exists counter.json
	wait "$holder"
}

@test "lock = process is re-entrant: a process that reads, then writes, never waits for itself" {
	printf 'path "counter.json" { lock = "process" lock_timeout = 0 }\n' > "$CONF"
	echo '{"n": 1}' > counter.json
	run wrapped "$PY" inc.py
	assert_success
	assert_loaded python3
	assert_equal "$(cat counter.json)" '{"n": 2}'
}

# lms_increments PROCS ROUNDS FIRST_PAUSE_MS [LAUNCHER...]: PROCS loops of
# ROUNDS runs of lms_counter (stat, read, write) on counter.json, all at
# once, starting with no file; prints the final content of counter.json.
# The first run of each loop finds no counter with its stat and pauses
# FIRST_PAUSE_MS before it creates one: a wide stat-then-create window,
# which only a lock taken by the stat closes.  A run that fails leaves its
# exit status in failed.runs and its message in failed.err.
lms_increments() {
	local procs=$1 rounds=$2 first=$3 p i
	shift 3
	rm -f counter.json
	: > failed.runs
	: > failed.err
	for ((p = 0; p < procs; p++)); do
		(for ((i = 0; i < rounds; i++)); do
			"$@" "$LMS" counter.json $((i == 0 ? first : 0)) 2>>failed.err ||
				echo $? >> failed.runs
		done) &
	done
	wait
	cat counter.json
}

# assert_no_failed_runs: every run of lms_increments succeeded.
assert_no_failed_runs() {
	[ ! -s failed.runs ] ||
		fail "$(wc -l < failed.runs) runs failed, statuses $(sort failed.runs | uniq -c | tr -s ' \n' ' '); first messages: $(head -3 failed.err)"
}

# lms_probe: one increment under the launcher, with debug messages: the
# library is loaded in lms_counter and commits its write.
lms_probe() {
	rm -f counter.json
	run wrapped "$LMS" counter.json
	assert_success
	assert_loaded lms_counter
	grep -q 'counter.json: committed' "$LIBLOG" ||
		fail "the probe's write was not committed by the library: $(cat "$LIBLOG")"
	assert_equal "$(cat counter.json)" 1
}

@test "C stat-read-write: 16 processes x 30 increments under lock = process: no lost update" {
	lms_probe
	run lms_increments 16 30 100 env ATOMICALLY_LOG="warn:$WARNLOG" "$ATOMICALLY"
	assert_success
	assert_no_failed_runs
	assert_output 480
	assert_no_temps .
	[ ! -s "$WARNLOG" ] || fail "the library warned: $(head -5 "$WARNLOG")"
}

@test "C stat-read-write control: the same increments without the library lose updates" {
	run lms_increments 16 30 100
	# Lost updates, runs that read a half-written (empty) file and gave
	# up, or a final file that is no number: anything but a clean 480.
	if [[ "$output" =~ ^[0-9]+$ ]] && [ "$output" -ge 480 ] && [ ! -s failed.runs ]; then
		fail "no update was lost without the library: $output"
	fi
}

@test "C stat-read-write under lock = write (the default): no torn read, but updates are lost" {
	# The write lock makes each save atomic and serialises the saves, but
	# the load before it runs unlocked: two processes load the same
	# value and both save value + 1.  This is why lock = "process" exists.
	printf 'path "counter.json" { lock = "write" }\n' > "$CONF"
	lms_probe
	run lms_increments 16 10 100 env ATOMICALLY_LOG="warn:$WARNLOG" "$ATOMICALLY"
	assert_success
	# Every load saw a whole file (the control's runs read empty ones).
	assert_no_failed_runs
	[[ "$output" =~ ^[0-9]+$ ]] || fail "the counter is no number: $output"
	[ "$output" -lt 160 ] || fail "lock = write lost no update: $output"
	assert_no_temps .
	[ ! -s "$WARNLOG" ] || fail "the library warned: $(head -5 "$WARNLOG")"
}

# descendant_named PID NAME: a process named NAME below PID.
descendant_named() {
	local p q
	# pgrep without a sanitizer's runtime: procps hangs at its start
	# under a preloaded ASan (make check-asan).
	for p in $(env -u LD_PRELOAD pgrep -x "$2"); do
		q=$p
		while [ "$q" -gt 1 ]; do
			q=$(awk '/^PPid:/ { print $2 }' "/proc/$q/status" 2> /dev/null) || break
			[ -n "$q" ] || break
			[ "$q" = "$1" ] && echo "$p" && return 0
		done
	done
	return 1
}

@test "C stat-then-create under lock = process: the stat of a counter that does not exist yet takes the lock" {
	printf 'path "counter.json" { lock = "process" lock_timeout = 0 }\n' > "$CONF"
	# The holder finds no counter with stat, then pauses 2 s before
	# creating it; the second run (lock_timeout = 0) fails at its stat.
	wrapped "$LMS" counter.json 2000 &
	local holder=$! child
	sleep 0.7
	# The holder: the lms_counter below the background job (other test
	# runs on the machine may have theirs).
	child=$(descendant_named "$holder" lms_counter) || fail "no lms_counter under $holder"
	run wrapped "$LMS" counter.json
	assert_failure 1
	assert_output "lms_counter: stat counter.json: Resource temporarily unavailable"
	local pid
	pid=$(sed -n 's/.*counter.json: locked by pid \([0-9]*\) (.*lms_counter counter.json.*); gave up after waiting 0 s.*/\1/p' "$LIBLOG")
	[ -n "$pid" ] || fail "no message naming the file, the holder and the wait: $(cat "$LIBLOG")"
	assert_file_not_exists counter.json
	wait "$holder" || fail "the holder failed"
	assert_loaded lms_counter
	# The pid named is the holder's lms_counter, which then created the
	# counter.
	assert_equal "$pid" "$child"
	assert_equal "$(cat counter.json)" 1
}

@test "lock = process: after a stat that gave up waiting, the process cannot save over the update it never read" {
	printf 'path "counter.json" { lock = "process" lock_timeout = 1 }\n' > "$CONF"
	echo 41 > counter.json
	# The holder reads 41, keeps the lock 2.5 s, saves 42.
	wrapped "$PY" -c '
import time
n = int(open("counter.json").read())
time.sleep(2.5)
open("counter.json", "w").write("%d\n" % (n + 1))' &
	local holder=$!
	sleep 0.5
	# The other's exists() gives up after 1 s and says "no file"; its
	# save must not then wait again, get the lock and write 1.
	run wrapped "$PY" -c '
import os
n = int(open("counter.json").read()) if os.path.exists("counter.json") else 0
open("counter.json", "w").write("%d\n" % (n + 1))'
	assert_failure
	assert_output --partial "Resource temporarily unavailable"
	wait "$holder" || fail "the holder failed"
	assert_loaded python3
	assert_equal "$(cat counter.json)" 42
	grep -q 'counter.json: not touched: this process gave up waiting for its lock before' "$LIBLOG" ||
		fail "no message: $(cat "$LIBLOG")"
}
