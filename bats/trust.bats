#!/usr/bin/env bats
# trust.bats - never weaker than the kernel, and nothing forged (issue 13):
# what the library and the launcher print cannot be forged by a file
# name, and the log file they write is one they can trust.  Each test
# plays the attacker: a name chosen to forge a line, a symlink or a file
# of another user where the log goes.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
}

# The name of a file that, printed as it is, forges a line of the
# library's own: "atomically: forged.json: committed (full)".
FORGER=$'x\natomically: forged.json: committed (full)\ny.json'

@test "log: a file name with a newline forges no line: it is printed escaped, on the file's own line" {
	# The control: printed as it is, the name makes the forged line.
	[ "$(printf 'atomically: %s: committed (full)\n' "$FORGER" | grep -c '^atomically: forged')" = 1 ]

	run wrapped bash -c 'echo new > "$0"' "$FORGER"
	assert_success
	assert_loaded bash
	assert_equal "$(cat "$FORGER")" new
	! grep -q '^atomically: forged' "$LIBLOG" || fail "a forged line: $(cat "$LIBLOG")"
	grep -qF 'x\natomically: forged.json: committed (full)\ny.json: committed (' "$LIBLOG" ||
		fail "the name is not escaped on one line: $(cat "$LIBLOG")"
}

@test "log: a backslash is escaped too, so that the escape of a newline cannot be forged either" {
	name='a\nb.json'
	run wrapped bash -c 'echo new > "$0"' "$name"
	assert_success
	grep -qF 'a\\nb.json: committed (' "$LIBLOG" || fail "$(cat "$LIBLOG")"
}

@test "--clean: a temp whose name holds a newline is reported on one line, escaped" {
	mkdir d
	# A dead writer's temp (a pid above pid_max cannot be alive).
	pid_max=$(cat /proc/sys/kernel/pid_max)
	dead=$((pid_max + 1))
	temp=$(printf '.%s.atomically.%d.abcdef' "$FORGER" "$dead")
	: > "d/$temp"
	run --separate-stderr "$ATOMICALLY" --clean d
	assert_success
	[ "${#lines[@]}" = 1 ] || fail "not one line: $output"
	assert_output --partial 'removed d/.x\natomically: forged.json: committed (full)\ny.json.atomically.'
	[ ! -e "d/$temp" ] || fail "the temp is still there"
}

@test "log_file: a symlink there is not followed; the messages go to stderr" {
	echo precious > victim
	ln -s victim log
	run --separate-stderr env ATOMICALLY_LOG="debug:$PWD/log" "$ATOMICALLY" bash -c 'echo new > f.json'
	assert_success
	assert_equal "$(cat victim)" precious
	assert_equal "$(cat f.json)" new
	[[ $stderr = *"f.json: committed ("* ]] || fail "the messages went nowhere: $stderr"

	# The control: a plain append through the link writes the victim.
	echo x >> log
	[ "$(cat victim)" != precious ]
}

@test "log_file: a file of another user there is not written; the messages go to stderr" {
	require_root "a file of another user"
	: > log
	chown nobody log
	chmod 666 log
	run --separate-stderr env ATOMICALLY_LOG="debug:$PWD/log" "$ATOMICALLY" bash -c 'echo new > f.json'
	assert_success
	assert_equal "$(stat -c %s log)" 0
	[[ $stderr = *"f.json: committed ("* ]] || fail "the messages went nowhere: $stderr"

	# A log file of one's own is written.
	rm log
	run env ATOMICALLY_LOG="debug:$PWD/log" "$ATOMICALLY" bash -c 'echo newer > f.json'
	assert_success
	grep -q 'f.json: committed (' log || fail "$(cat log)"
}

@test "--env >> \$GITHUB_ENV: an LD_PRELOAD with a newline is refused, nothing written" {
	export GITHUB_ENV=$PWD/github.env
	echo EARLIER=1 > "$GITHUB_ENV"
	st=0
	LD_PRELOAD=$'x.so\nBASH_ENV=/tmp/evil' "$ATOMICALLY" --env >> "$GITHUB_ENV" 2> err || st=$?
	[ "$st" = 125 ] || fail "status $st: $(cat err)"
	grep -q "LD_PRELOAD holds a newline" err || fail "$(cat err)"
	assert_equal "$(cat "$GITHUB_ENV")" EARLIER=1
}

# ---- a stale or forged ATOMICALLY_PENDING ------------------------------------------------

@test "ATOMICALLY_PENDING forged (or stale): the program's descriptors it names stay open, as they were; one warning" {
	mkdir d
	echo x > x.txt
	script='
import os
os.write(2, b"alive\n")
print("fd0", os.get_inheritable(0), "fd1", os.get_inheritable(1), "fd3", os.fstat(3).st_size,
      os.get_inheritable(3), "fd4 dir", os.path.isdir("/proc/self/fd/4"), os.get_inheritable(4))'
	for entry in '3/0.1.2/garbage' '3/4.3.-/garbage' '3/4.3.-/r1,0,0'; do
		run --separate-stderr "$ATOMICALLY" bash -c \
			'exec 3>>x.txt 4<d; export ATOMICALLY_PENDING="$$:$1"; exec "$0" -c "$2"' \
			/usr/bin/python3 "$entry" "$script"
		assert_success
		assert_output "fd0 True fd1 True fd3 2 True fd4 dir True True"
		[[ $stderr = *alive* ]] || fail "$entry: stderr closed? $stderr"
		[ "$(grep -c 'could not be adopted' <<< "$stderr")" = 1 ] || fail "$entry: $stderr"
	done
}
