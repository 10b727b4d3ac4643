# install.bats - `make install` puts a working launcher, library and man
# pages where PREFIX and DESTDIR say.

load helpers

setup() {
	common_setup
}

@test "make install with DESTDIR and PREFIX installs a launcher that finds its library" {
	run make -C "$TOP" --no-print-directory install DESTDIR="$BATS_TEST_TMPDIR/stage" PREFIX=/opt/at
	assert_success
	local root="$BATS_TEST_TMPDIR/stage/opt/at"
	assert_file_executable "$root/bin/atomically"
	assert_file_exists "$root/lib/atomically/libatomically.so"
	assert_file_exists "$root/lib/atomically/libatomically-conf.so"
	assert_file_exists "$root/share/man/man1/atomically.1"
	assert_file_exists "$root/share/man/man5/atomically.conf.5"

	# The staged launcher preloads the staged library, not the build's.
	echo old > f.yaml
	run env ATOMICALLY_LOG="debug:$LIBLOG" "$root/bin/atomically" -p '*.yaml' \
		bash -c 'echo new > f.yaml; printenv LD_PRELOAD'
	assert_success
	assert_output "$root/lib/atomically/libatomically.so"
	assert_loaded bash
	assert_equal "$(cat f.yaml)" new
	grep -q 'f.yaml: committed' "$LIBLOG"
}

@test "the installed man pages are valid roff" {
	command -v groff >/dev/null || skip "groff is not installed"
	for page in "$TOP/docs/atomically.1" "$TOP/docs/atomically.conf.5"; do
		run groff -man -Tutf8 -ww -z "$page"
		assert_success
		assert_output ""
	done
}
