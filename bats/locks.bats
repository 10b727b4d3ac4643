# locks.bats - lock = "process": a load-modify-save cycle per process, run
# by many processes at once, loses no update (SPEC sections 3 and 6).

load helpers

setup() {
	common_setup
	PY=/usr/bin/python3
	[ -x "$PY" ] || PY=$(command -v python3)
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

@test "16 processes x 50 load-modify-save increments under lock = process: no lost update" {
	run wrapped "$PY" -c 'pass'
	assert_loaded python3
	run increments 16 50 env ATOMICALLY_LOG="warn:$LIBLOG" "$ATOMICALLY"
	assert_success
	assert_output 800
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
	grep -q 'counter.json: locked by pid [0-9]*; gave up after waiting 0 s' "$LIBLOG" ||
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
