# libcs.bats - one LD_PRELOAD for programs of both C libraries
# (docs/DESIGN.md, "One LD_PRELOAD for glibc and musl"): the launcher
# names the library as DIR/$LIB/libatomically.so, which glibc expands to
# the tree beside the library and musl does not expand; so a musl program
# (Alpine-style, here the writer built with musl-gcc) starts whatever the
# tree holds, where the glibc library named directly keeps it from
# starting at all.  With the musl build (built wherever musl-gcc is), a
# tree of both kinds runs wrapped throughout; without it (a copy of the
# build with no musl build beside it), musl programs run plain, and a
# musl COMMAND is covered by the seccomp supervisor.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	common_setup
	MUSL_WRITER="$B/musl/writer"
	[ -x "$MUSL_WRITER" ] || skip "$MUSL_WRITER is not built: no musl-gcc (make check installs musl-tools)"
	GLIBC_LIB=$("$TOP/scripts/glibc_lib_token.sh")
}

# without_musl_build: a copy of the launcher and the glibc libraries in
# $NOMUSL, with the tree but no musl build: $NOMUSL/atomically.
without_musl_build() {
	NOMUSL="$BATS_TEST_TMPDIR/nomusl"
	mkdir -p "$NOMUSL"
	cp "$ATOMICALLY" "$B/libatomically.so" "$B/libatomically-conf.so" "$NOMUSL/"
	"$TOP/scripts/preload_tree.sh" "$NOMUSL" "$GLIBC_LIB"
	[ ! -e "$NOMUSL/\$LIB/libatomically.so" ] || fail "the copy has a musl build"
}

@test "a musl program and its glibc child (sh), one LD_PRELOAD: each loads its own build, the pending file crosses the exec" {
	echo old > f.yaml
	run wrapped "$B/musl/proc_spawn" fork_exec f.yaml
	assert_success
	assert_loaded proc_spawn
	assert_loaded sh
	assert_line "before: old"
	assert_line "after: parent child"
	assert_commits f.yaml 1

	# The control: the musl build named directly keeps the glibc child
	# from starting (glibc's dynamic linker cannot load it).
	echo old > f.yaml
	run env ATOMICALLY_RULES="$(eval "$("$ATOMICALLY" --env)"; printf '%s' "$ATOMICALLY_RULES")" \
		LD_PRELOAD="$B/musl/libatomically.so" "$B/musl/proc_spawn" fork_exec f.yaml
	refute_line "after: parent child"
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

@test "no musl build: a musl program in a wrapped tree starts and writes as without the library; the glibc build named directly keeps it from starting (control)" {
	without_musl_build
	echo old > f.yaml
	# The control: the glibc library named directly.
	run -127 env LD_PRELOAD="$B/libatomically.so" "$MUSL_WRITER" open f.yaml new
	assert_output --partial "Error"
	assert_equal "$(cat f.yaml)" old

	# Under the launcher's LD_PRELOAD (a wrapped bash runs it): musl
	# finds no library at the literal $LIB and runs the program plain.
	run env ATOMICALLY_LOG="debug:$LIBLOG" "$NOMUSL/atomically" \
		bash -c '"$0" open f.yaml new; echo "status $?"' "$MUSL_WRITER"
	assert_success
	assert_output "status 0"
	assert_equal "$(cat f.yaml)" new
	assert_loaded bash
	assert_commits f.yaml 0
}

@test "no musl build: a musl COMMAND is covered by the seccomp supervisor" {
	without_musl_build
	grep -qw user_notif /proc/sys/kernel/seccomp/actions_avail 2> /dev/null ||
		skip "this kernel has no seccomp user notification"
	echo old > f.yaml
	local before
	before=$(inode f.yaml)
	run --separate-stderr "$NOMUSL/atomically" -v "$MUSL_WRITER" open f.yaml new
	assert_success
	[[ "$stderr" == *"linked against musl"*"the supervisor covers"* ]] || fail "$stderr"
	[[ "$stderr" == *"f.yaml: committed"* ]] || fail "$stderr"
	assert_equal "$(cat f.yaml)" new
	[ "$(inode f.yaml)" != "$before" ] || fail "f.yaml was written in place"
}

@test "with the musl build: a musl COMMAND loads it through the launcher's name, and commits" {
	[ -e "$B/\$LIB/libatomically.so" ] || fail "the build has no musl library at \$LIB"
	echo old > f.yaml
	run --separate-stderr env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$MUSL_WRITER" open f.yaml new
	assert_success
	[ -z "$stderr" ] || fail "$stderr"
	assert_loaded writer
	assert_commits f.yaml 1
	assert_equal "$(cat f.yaml)" new
}

@test "a musl COMMAND starts whatever names the glibc build: the caller's LD_PRELOAD (its path, a link to it), or no tree beside it" {
	echo old > f.yaml
	# The caller's LD_PRELOAD names the glibc build: the launcher names it
	# its own way in its place (the musl build is then found).
	for pre in "$LIB" "$B/$GLIBC_LIB/libatomically.so"; do
		: > "$LIBLOG"
		run --separate-stderr env LD_PRELOAD="$pre" ATOMICALLY_LOG="debug:$LIBLOG" \
			"$ATOMICALLY" "$MUSL_WRITER" open f.yaml "via $pre"
		assert_success
		assert_loaded writer
		assert_commits f.yaml 1
	done
	# A copy of the launcher and the glibc build with no tree at all: the
	# library named by its path is left out for the musl program, which
	# the supervisor covers.
	grep -qw user_notif /proc/sys/kernel/seccomp/actions_avail 2> /dev/null ||
		skip "this kernel has no seccomp user notification"
	local bare="$BATS_TEST_TMPDIR/bare"
	mkdir -p "$bare"
	cp "$ATOMICALLY" "$B/libatomically.so" "$B/libatomically-conf.so" "$bare/"
	run --separate-stderr "$bare/atomically" -v "$MUSL_WRITER" open f.yaml bare
	assert_success
	[[ "$stderr" == *"f.yaml: committed"* ]] || fail "$stderr"
	assert_equal "$(cat f.yaml)" bare
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
	assert_equal "$(realpath "$lib/\$LIB/libatomically.so")" "$(realpath "$lib/musl/libatomically.so")"
	run make -C "$TOP" --no-print-directory uninstall DESTDIR="$stage" PREFIX=/opt/at
	assert_success
	run find "$stage" -mindepth 1
	assert_output ""
}
