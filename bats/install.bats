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
	assert_output "$root/lib/atomically/\$LIB/libatomically.so"
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

@test "make uninstall removes all that make install put, and the directories it made" {
	local stage="$BATS_TEST_TMPDIR/stage"
	run make -C "$TOP" --no-print-directory install DESTDIR="$stage" PREFIX=/opt/at
	assert_success
	assert_file_exists "$stage/opt/at/share/doc/atomically/examples/atomically.conf"
	assert_file_exists "$stage/opt/at/share/bash-completion/completions/atomically"
	# Something of someone else's in a directory install used stays.
	mkdir -p "$stage/opt/at/bin"
	echo other > "$stage/opt/at/bin/other-tool"

	run make -C "$TOP" --no-print-directory uninstall DESTDIR="$stage" PREFIX=/opt/at
	assert_success
	assert_equal "$(cat "$stage/opt/at/bin/other-tool")" other
	rm "$stage/opt/at/bin/other-tool"
	run make -C "$TOP" --no-print-directory uninstall DESTDIR="$stage" PREFIX=/opt/at
	assert_success
	run find "$stage" -mindepth 1
	assert_output ""
}

# complete WORDS...: the completions bash offers for the command line
# WORDS (the last is the word being completed), with bash-completion's
# helpers and our completion file loaded.
complete_line() {
	bash --norc -c '
		. /usr/share/bash-completion/bash_completion
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_atomically atomically "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' bash "$TOP/packaging/bash-completion/atomically" "$@"
}

@test "bash completion: options, config files after -c, directories after --clean, the command's own after it" {
	[ -r /usr/share/bash-completion/bash_completion ] ||
		skip "bash-completion is not installed (make check installs it)"
	run complete_line atomically --c
	assert_success
	assert_output "$(printf '%s\n' --config --check-config --clean)"

	mkdir adir
	touch a.conf b.txt
	run complete_line atomically -c ''
	assert_line a.conf
	refute_line b.txt
	assert_line adir

	run complete_line atomically --clean ''
	assert_line adir
	refute_line a.conf

	run complete_line atomically -p '*.json' ech
	assert_line echo

	# After the command: that command's completion (here, files).
	run complete_line atomically -q cat b
	assert_output b.txt
}
