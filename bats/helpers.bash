# helpers.bash - what every suite loads: the bats libraries, a clean
# environment per test, and the proof that the library is loaded.

bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# The build under test: build/, or another build of the same sources
# (make check-asan runs the suites against build-asan/ this way); a
# relative path is taken from the top of the tree.
B="${ATOMICALLY_BUILD:-build}"
case $B in /*) ;; *) B="$TOP/$B" ;; esac
# A sanitizer's runtime that must be loaded first into every process that
# loads a sanitized library (ASan refuses to start otherwise), e.g.
# ".../libasan.so:.../libubsan.so": it stands in for an empty LD_PRELOAD
# in every test, and comes first in $PRELOAD.  Empty for a plain build.
SAN_PRELOAD="${ATOMICALLY_SAN_PRELOAD:-}"
ATOMICALLY="$B/atomically"
LIB="$B/libatomically.so"
# The name the launcher gives it in LD_PRELOAD: through glibc's $LIB, so
# that musl programs find their own build (bats/libcs.bats).
PRELOAD_NAME="$B/\$LIB/libatomically.so"
WRITER="$B/writer"
WRITER_FORTIFY="$B/writer-fortify"
CHECKREAD="$B/checkread"
# What a test puts in LD_PRELOAD to load the library without the launcher.
PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD:}$LIB"

# Each test runs in its own directory, with no config or lock directory
# of the machine's or the user's leaking in: the config is $CONF (the
# test writes it), locks go under the test's own runtime directory.
common_setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	unset ATOMICALLY_RULES ATOMICALLY_LOG LD_PRELOAD
	[ -z "$SAN_PRELOAD" ] || export LD_PRELOAD="$SAN_PRELOAD"
	export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg"
	export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
	mkdir -p -m 700 "$XDG_RUNTIME_DIR"
	export LOCKS="$XDG_RUNTIME_DIR/atomically"
	export CONF="$BATS_TEST_TMPDIR/atomically.conf"
	export ATOMICALLY_CONF="$CONF"
	export LIBLOG="$BATS_TEST_TMPDIR/lib.log"
	: > "$LIBLOG"
	printf 'path "*.yaml" { }\npath "*.json" { }\n' > "$CONF"
}

# wrapped COMMAND...: run COMMAND under the launcher, with the library's
# debug messages (which start with the proof that it is loaded) in $LIBLOG.
wrapped() {
	ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$@"
}

# locks_used: the lock files the library says (in $LIBLOG) it locked, in
# order, one per line: a path, or a name beside the file for "sidecar".
# Lock files in a lock directory are removed by their last holder, so
# the log is where a test sees which one was used.
locks_used() {
	sed -n 's/^atomically: .*: locked (lock file \(.*\))$/\1/p' "$LIBLOG"
}

# preloaded COMMAND...: run COMMAND with a bare LD_PRELOAD, no launcher.
preloaded() {
	ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$PRELOAD" "$@"
}

# assert_loaded NAME: the library announced itself in a process whose
# name is NAME.  glibc ignores a preload it cannot load, silently: a test
# that skipped this proof could pass with the library absent.
assert_loaded() {
	grep -Eq "^atomically: active in pid [0-9]+ \\($1\\)" "$LIBLOG" ||
		fail "the library was not loaded in '$1'; its log: $(cat "$LIBLOG")"
}

# commits NAME: how many commits of a file named NAME (a regex) the
# library's log shows: its routine "committed" lines ("committed
# (full)", "committed (full, 6 bytes appended in place)"), not a message that says more (the warning "committed before
# exec of ...", "committed, but syncing its directory failed").
commits() {
	grep -cE "/$1: committed( \([a-z]+(, [0-9]+ bytes appended in place)?\))?\$" "$LIBLOG" || true
}

# assert_commits NAME N: the log shows exactly N commits of NAME.
assert_commits() {
	local n
	n=$(commits "$1")
	[ "$n" = "$2" ] || fail "$1 was committed $n times, not $2; the log: $(cat "$LIBLOG")"
}

# inode FILE
inode() {
	stat -c %i "$1"
}

# assert_no_temps DIR: no temp file of ours is left in DIR.
assert_no_temps() {
	local left
	left=$(find "${1:-.}" -maxdepth 1 -name '.*.atomically.*')
	[ -z "$left" ] || fail "temp files left: $left"
}

# san_keep_reports DIR: under make check-asan the sanitizers write their
# reports into the reporting process's current directory (see
# scripts/sanitizers.sh); move those under DIR into the test's directory,
# where they are collected after the run.  For a file system or a
# directory that teardown is about to remove.
san_keep_reports() {
	[ -n "$SAN_PRELOAD" ] && [ -d "$1" ] || return 0
	find "$1" -xdev -type f -name 'atomically-*san.*' \
		-exec mv -t "$BATS_TEST_TMPDIR" -- {} + 2> /dev/null || true
}

# wait_for_file FILE [TENTHS]: until FILE exists (a writer got going).
wait_for_file() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	fail "$1 never appeared"
}

# temp_holders DIR: the pids of the processes that have a temp of ours in
# DIR open: an anonymous one (O_TMPFILE, which /proc shows as
# "DIR/#INODE (deleted)") or a named one (.NAME.atomically.PID.RANDOM).
temp_holders() {
	local dir
	dir=$(cd "${1:-.}" && pwd -P) || return 1
	find /proc/[0-9]*/fd -maxdepth 1 \( -lname "$dir/#* (deleted)" -o \
		-lname "$dir/.*.atomically.*" \) 2> /dev/null | cut -d/ -f3 | sort -un
}

# temp_re DIR NAME: an extended regex for a temp of NAME in DIR as strace -y
# shows a descriptor of it: named (<DIR/.NAME.atomically.PID.RANDOM>) or
# anonymous (<DIR/#INODE>(deleted)).
temp_re() {
	local name=${2//./\\.}
	printf '%s' "<$1/(\\.$name\\.atomically\\.[^>]*|#[0-9]+)>(\\(deleted\\))?"
}

# wait_for_log REGEX [TENTHS]: until the library's log ($LIBLOG) has a
# line matching REGEX (a writer announced its temp: cheaper than looking
# through every process's descriptors on a busy machine).
wait_for_log() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		grep -Eq "$1" "$LIBLOG" && return 0
		sleep 0.1
	done
	fail "no line matching '$1' in the library's log: $(cat "$LIBLOG")"
}

# wait_for_temp DIR [TENTHS]: until some process is writing a temp in DIR.
wait_for_temp() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		[ -n "$(temp_holders "${1:-.}")" ] && return 0
		sleep 0.1
	done
	fail "no process is writing a temp in ${1:-.}"
}

# require_root REASON: skip unless root, saying why the test needs it.
require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root: $1"
}

# no_sanitizer REASON: skip under a sanitizer build (make check-asan),
# saying why the test cannot run there.
no_sanitizer() {
	[ -z "$SAN_PRELOAD" ] || skip "not under a sanitizer: $1"
}

# T: the test's own directory.
T() { printf '%s' "$BATS_TEST_TMPDIR"; }

# no_config_anywhere: no config file can be found (so -p alone, or the
# embedded default, applies).
no_config_anywhere() {
	[ ! -e /etc/atomically.conf ] ||
		skip "/etc/atomically.conf exists on this machine and would be found"
	unset ATOMICALLY_CONF
	mkdir -p "$XDG_CONFIG_HOME"
}

# find_python: PY, the real python interpreter (not a pyenv shim, which
# would run a dozen shell processes under the library first), and PYNAME,
# the name the library gives it in its "active in pid N (NAME)" line.
# For a file's setup_file: found once per file.
find_python() {
	PY="$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3)"
	export PY PYNAME="${PY##*/}"
}

# assert_one_warning FILE WORD...: the library's log ($LIBLOG) holds
# exactly one message beyond its routine debug and info lines; it names
# FILE and holds each WORD.
assert_one_warning() {
	local file=$1 w warnings
	shift
	warnings=$(grep -Ev -e '^atomically: active in pid ' -e ': writing ([^ ]+|in place|an anonymous temp)$' \
		-e ': committed( \([a-z]+\))?$' -e ': removed \.[^ ]*, left by pid ' -e ': unlink deferred' \
		-e ': adopted across exec ' -e ': locked \(lock file [^ ]+\)$' "$LIBLOG" || true)
	[ -n "$warnings" ] || fail "no warning; the log: $(cat "$LIBLOG")"
	[ "$(printf '%s\n' "$warnings" | wc -l)" = 1 ] ||
		fail "more than one warning: $warnings"
	[[ "$warnings" == "atomically: $file: "* ]] ||
		fail "the warning does not start by naming $file: $warnings"
	for w in "$@"; do
		[[ "$warnings" == *"$w"* ]] || fail "the warning does not say '$w': $warnings"
	done
}

# The mounts a test makes, undone by its teardown: mount_here DIR
# MOUNT-ARGS... mounts on DIR (made if needed) and remembers it in
# $MOUNTS (set and emptied by the file's setup); unmount_all unmounts
# them, the last first, even when the test failed, so that no mount (nor
# the loop device of one) is left behind and bats can remove the test's
# directory.
mount_here() {
	local dir=$1
	shift
	mkdir -p "$dir"
	mount "$@" "$dir" || fail "cannot mount $* on $dir"
	(cd "$dir" && pwd -P) >> "$MOUNTS"
}

unmount_all() {
	local m
	[ -s "$MOUNTS" ] || return 0
	tac "$MOUNTS" | while IFS= read -r m; do
		san_keep_reports "$m"
		mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m"; }
	done
}
