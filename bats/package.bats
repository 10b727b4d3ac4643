# package.bats - the Debian package that `make deb` builds (and `make
# check` builds before the suites run): what it holds, a scratch root it
# is unpacked into running a wrapped program through its launcher, and
# a real install and purge that leave nothing behind.

load helpers

setup_file() {
	export DEB
	DEB=$(ls "$TOP"/build/deb/atomically_*.deb 2> /dev/null | head -n 1)
}

setup() {
	common_setup
	if [ -z "$DEB" ]; then
		# make check builds it first and sets this: there, no package
		# is a failure, not a skip.
		[ -z "$ATOMICALLY_DEB_REQUIRED" ] || fail "no package in build/deb: make deb failed?"
		skip "no package in build/deb: run make deb first"
	fi
	MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	GLIBC_LIB=$("$TOP/scripts/glibc_lib_token.sh")
}

@test "the package holds the launcher, the library in its multiarch directory, man pages, an example config and completion" {
	run dpkg-deb -c "$DEB"
	assert_success
	for f in ./usr/bin/atomically \
		"./usr/lib/$MULTIARCH/atomically/libatomically.so" \
		"./usr/lib/$MULTIARCH/atomically/libatomically-conf.so" \
		"./usr/lib/$MULTIARCH/atomically/$GLIBC_LIB/libatomically.so -> .*" \
		./usr/share/man/man1/atomically.1.gz ./usr/share/man/man5/atomically.conf.5.gz \
		./usr/share/doc/atomically/examples/atomically.conf \
		./usr/share/bash-completion/completions/atomically \
		./usr/share/doc/atomically/copyright; do
		grep -qE " $f\$" <<< "$output" || fail "$f is not in the package: $output"
	done
	run dpkg-deb -f "$DEB" Package Architecture Depends
	assert_success
	assert_line "Package: atomically"
	assert_line --regexp '^Depends: .*libconfuse'
}

@test "unpacked into a scratch root, its launcher wraps a program with its own library" {
	local root="$BATS_TEST_TMPDIR/root"
	dpkg-deb -x "$DEB" "$root"
	local lib="$root/usr/lib/$MULTIARCH/atomically/libatomically.so"
	echo old > state.yaml
	local ino
	ino=$(inode state.yaml)

	run env ATOMICALLY_LOG="debug:$LIBLOG" "$root/usr/bin/atomically" -p '*.yaml' \
		python3 -c 'import os; open("state.yaml", "w").write("new\n"); print(os.environ["LD_PRELOAD"])'
	assert_success
	assert_output "$(dirname "$(realpath "$lib")")/\$LIB/libatomically.so"
	assert_loaded python3
	assert_equal "$(cat state.yaml)" new
	assert_commits state.yaml 1
	[ "$(inode state.yaml)" != "$ino" ] || fail "state.yaml was written in place"

	run "$root/usr/bin/atomically" --version
	assert_success
	assert_line "atomically $(dpkg-deb -f "$DEB" Version)"
	assert_line "library: $(realpath "$lib")"
	assert_line --regexp '^commit: [0-9a-f]{7,}'
}

@test "installed with dpkg, it wraps a program; purged, it leaves none of its files" {
	require_root
	if dpkg-query -W -f='${Status}' atomically 2> /dev/null | grep -q 'ok installed'; then
		skip "a package atomically is installed on this machine already: not replaced by a test"
	fi
	local files
	files=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }')
	run dpkg -i "$DEB"
	assert_success

	echo old > state.yaml
	run env ATOMICALLY_LOG="debug:$LIBLOG" /usr/bin/atomically -p '*.yaml' \
		bash -c 'echo new > state.yaml; printenv LD_PRELOAD'
	local status_wrapped=$status output_wrapped=$output
	run dpkg --purge atomically
	assert_success
	[ "$status_wrapped" = 0 ] || fail "the installed atomically failed ($status_wrapped): $output_wrapped"
	assert_equal "$output_wrapped" "/usr/lib/$MULTIARCH/atomically/\$LIB/libatomically.so"
	assert_loaded bash
	assert_equal "$(cat state.yaml)" new
	assert_commits state.yaml 1
	local f
	for f in $files; do
		[ ! -e "$f" ] || fail "$f is left after the purge"
	done
	[ ! -e "/usr/lib/$MULTIARCH/atomically" ] || fail "the library's directory is left"
}
