#!/usr/bin/env bats
# secure.bats - secure-execution mode (issue 13, item 6): a set-user-ID
# program's environment is its caller's, who may be another user; the
# library takes nothing from it.  The test plays the caller: nobody,
# running a set-user-ID root program with an environment of its choosing.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
}



# With the library in a standard directory, set-user-ID (as an
# /etc/ld.so.preload install or a packaged one would be), ld.so preloads
# it by its bare name even into a set-user-ID program.
secure_setup() {
	require_root "a set-user-ID root program and a library in a standard directory"
	SYSLIBDIR=$(dirname "$(ldd /bin/sh | awk '/libc\.so/ { print $3 }')")
	SECLIB="libatomically-bats-$$-$BATS_TEST_NUMBER.so"
	install -m 4755 "$LIB" "$SYSLIBDIR/$SECLIB"
	install -m 4755 "$WRITER" writer-suid
	install -m 0755 "$WRITER" writer-plain
	chmod 777 .
	RULES=$("$ATOMICALLY" --env -p '*.json' | sed -n "s/^export ATOMICALLY_RULES='\(.*\)'$/\1/p")
	[ -n "$RULES" ] || fail "no rules from --env"
}

teardown() {
	[ -z "${SECLIB:-}" ] || rm -f "$SYSLIBDIR/$SECLIB"
}

# as_nobody PROGRAM ARGS...: become PROGRAM (exec: call it in a subshell),
# run as nobody, with the library
# preloaded by name and the attacker's environment: rules that match
# *.json and a log file of its choosing.
as_nobody() {
	# Relative paths: the test's directory is open to nobody, the ones
	# above it are not.
	exec setpriv --reuid=nobody --regid=nogroup --clear-groups env -u XDG_RUNTIME_DIR \
		LD_PRELOAD="$SECLIB" ATOMICALLY_RULES="$RULES" ATOMICALLY_LOG="debug:chosen.log" \
		ATOMICALLY_CONF=chosen.conf "$@"
}

@test "secure-execution mode: a set-user-ID root program takes nothing from its caller's environment (no log file of the caller's choosing, no rules)" {
	secure_setup
	# The control: the same program not set-user-ID (nobody runs it as
	# nobody): the library is preloaded and obeys the environment.
	(as_nobody ./writer-plain open mine.json new)
	[ -e chosen.log ] || fail "the control: the library did not obey ATOMICALLY_LOG"
	grep -q 'mine.json: committed (' chosen.log || fail "$(cat chosen.log)"
	rm chosen.log

	# Set-user-ID root: loaded (seen in its maps while it writes slowly),
	# but it takes nothing from the environment: no log file, no rules.
	echo old > root.json
	(as_nobody ./writer-suid open root.json new 2 400) &
	pid=$!
	sleep 0.3
	grep -q "$SECLIB" "/proc/$pid/maps" 2> /dev/null || maps=no
	wait "$pid"
	[ "${maps:-yes}" = yes ] || fail "the library was not loaded into the set-user-ID program: the test proves nothing"
	[ ! -e chosen.log ] || fail "a root-owned log file at the caller's path: $(ls -l chosen.log)"
	assert_equal "$(cat root.json)" new
	[ -z "$(find . -maxdepth 1 -name '.root.json.atomically.*')" ] || fail "a temp left"
}
