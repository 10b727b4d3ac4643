# libcs.bats - one LD_PRELOAD for programs of both C libraries
# (docs/DESIGN.md, "One LD_PRELOAD for glibc and musl"): the launcher
# names the library as DIR/$LIB/libatomically.so, which glibc expands to
# the tree beside the library and musl does not expand; so a musl program
# (Alpine-style, here the writer built with musl-gcc) starts whatever the
# tree holds, where the glibc library named directly keeps it from
# starting at all.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	common_setup
	MUSL_WRITER="$B/writer-musl"
	[ -x "$MUSL_WRITER" ] || skip "$MUSL_WRITER is not built: no musl-gcc (make check installs musl-tools)"
	GLIBC_LIB=$("$TOP/scripts/glibc_lib_token.sh")
}

@test "the launcher names the library through \$LIB, and glibc programs load it through that name" {
	assert_file_exists "$B/$GLIBC_LIB/libatomically.so"
	assert_file_exists "$B/$GLIBC_LIB/libatomically-conf.so"
	run "$ATOMICALLY" bash -c 'printenv LD_PRELOAD'
	assert_success
	assert_output "$B/\$LIB/libatomically.so"
	run "$ATOMICALLY" --env
	assert_line "export LD_PRELOAD='$B/\$LIB/libatomically.so'"

	echo old > f.yaml
	run wrapped bash -c 'echo new > f.yaml'
	assert_success
	assert_loaded bash
	assert_commits f.yaml 1
	# A bare LD_PRELOAD of that value works too (no launcher: the
	# config library is found beside the library, through the link).
	: > "$LIBLOG"
	run env ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$B/\$LIB/libatomically.so" \
		bash -c 'echo newer > f.yaml'
	assert_success
	assert_loaded bash
	assert_commits f.yaml 1
}

@test "a musl program in a wrapped tree starts and writes as without the library; named directly, the library keeps it from starting (control)" {
	[ ! -e "$B/musl/libatomically.so" ] || skip "a musl build of the library is here: bats/musl.bats covers it"
	echo old > f.yaml
	# The control: the glibc library named directly.
	run -127 env LD_PRELOAD="$B/libatomically.so" "$MUSL_WRITER" open f.yaml new
	assert_output --partial "Error"
	assert_equal "$(cat f.yaml)" old

	# Under the launcher's LD_PRELOAD (a wrapped bash runs it): musl
	# finds no library at the literal $LIB and runs the program plain.
	run wrapped bash -c '"$0" open f.yaml new; echo "status $?"' "$MUSL_WRITER"
	assert_success
	assert_output "status 0"
	assert_equal "$(cat f.yaml)" new
	assert_loaded bash
	assert_commits f.yaml 0
}

@test "a musl COMMAND with no musl build of the library: the seccomp supervisor covers it" {
	[ ! -e "$B/musl/libatomically.so" ] || skip "a musl build of the library is here: bats/musl.bats covers it"
	grep -qw user_notif /proc/sys/kernel/seccomp/actions_avail 2> /dev/null ||
		skip "this kernel has no seccomp user notification"
	echo old > f.yaml
	local before
	before=$(inode f.yaml)
	run --separate-stderr "$ATOMICALLY" -v "$MUSL_WRITER" open f.yaml new
	assert_success
	[[ "$stderr" == *"linked against musl"*"the supervisor covers"* ]] || fail "$stderr"
	[[ "$stderr" == *"f.yaml: committed"* ]] || fail "$stderr"
	assert_equal "$(cat f.yaml)" new
	[ "$(inode f.yaml)" != "$before" ] || fail "f.yaml was written in place"
}

@test "make install puts the tree beside the installed library" {
	local stage="$BATS_TEST_TMPDIR/stage" lib
	run make -C "$TOP" --no-print-directory install DESTDIR="$stage" PREFIX=/opt/at
	assert_success
	lib="$stage/opt/at/lib/atomically"
	assert_equal "$(realpath "$lib/$GLIBC_LIB/libatomically.so")" "$(realpath "$lib/libatomically.so")"
	run env -u LD_PRELOAD "$stage/opt/at/bin/atomically" bash -c 'printenv LD_PRELOAD'
	assert_success
	assert_output "$(realpath "$lib")/\$LIB/libatomically.so"
	run make -C "$TOP" --no-print-directory uninstall DESTDIR="$stage" PREFIX=/opt/at
	assert_success
	run find "$stage" -mindepth 1
	assert_output ""
}
