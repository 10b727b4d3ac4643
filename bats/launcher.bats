#!/usr/bin/env bats
# launcher.bats - the `atomically` launcher (SPEC section 4): exit
# statuses, LD_PRELOAD, -p/-c, --env, --explain, --check-config,
# --version/--help, -v/-q, the warnings about programs a preload cannot
# cover, and signals.  --clean has a suite of its own, clean.bats.

bats_require_minimum_version 1.5.0
load helpers

# ---- helpers of this file ----------------------------------------------

# empty_so: a shared object that does nothing, to stand for "what was in
# LD_PRELOAD before"; its path is printed.
empty_so() {
	local so="$BATS_TEST_TMPDIR/empty.so"
	[ -e "$so" ] || cc -shared -fPIC -o "$so" -x c /dev/null ||
		fail "cannot build an empty shared object"
	printf '%s' "$so"
}

# static_prog: a statically linked C program that exits 3 after creating
# the file named by its first argument; skips when -static cannot link.
static_prog() {
	local src="$BATS_TEST_TMPDIR/static.c" bin="$BATS_TEST_TMPDIR/static"
	printf '%s\n' '#include <stdio.h>' \
		'int main(int c, char **v) { FILE *f = c > 1 ? fopen(v[1], "w") : 0; if (f) fclose(f); return 3; }' > "$src"
	cc -static -o "$bin" "$src" 2>/dev/null ||
		skip "cannot link a static program here (no static libc: libc6-dev's libc.a)"
	printf '%s' "$bin"
}

# dead PID: the process is gone (or a zombie nobody reaped yet).
dead() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	[ -z "$st" ] || [[ "$st" == Z* ]]
}

# count_of PATTERN TEXT: how many lines of TEXT contain the fixed PATTERN.
count_of() {
	grep -cF -- "$1" <<<"$2" || true
}

setup() {
	common_setup
}

# ---- exit statuses -------------------------------------------------------

@test "exits 0 when the command succeeds, passing stdin and stdout through" {
	run wrapped bash -c 'read -r line; echo "got $line"' <<<"hello"
	assert_success
	assert_output "got hello"
	assert_loaded bash
}

@test "exits with the command's nonzero status" {
	run wrapped bash -c 'exit 42'
	assert_failure 42
	assert_loaded bash
	run wrapped bash -c 'exit 1'
	assert_failure 1
}

@test "exits 128+N when the command is killed by signal N" {
	run wrapped bash -c 'kill -KILL $$'
	assert_failure 137
	assert_loaded bash
	run wrapped bash -c 'kill -TERM $$'
	assert_failure 143
	run wrapped bash -c 'kill -USR1 $$'
	assert_failure 138
}

@test "exits 125 on usage errors, with a message" {
	run --separate-stderr "$ATOMICALLY"
	assert_failure 125
	[[ "$stderr" == *"usage: atomically"* ]] || fail "no usage on stderr: $stderr"

	run --separate-stderr "$ATOMICALLY" --no-such-option true
	assert_failure 125
	[[ "$stderr" == *"usage: atomically"* ]] || fail "no usage on stderr: $stderr"

	run --separate-stderr "$ATOMICALLY" -c
	assert_failure 125

	run --separate-stderr "$ATOMICALLY" --explain
	assert_failure 125
	[[ "$stderr" == *"--explain needs a PATH"* ]] || fail "stderr: $stderr"

	run --separate-stderr "$ATOMICALLY" --env true
	assert_failure 125
	[[ "$stderr" == *"--env takes no COMMAND"* ]] || fail "stderr: $stderr"
	assert_output ""
}

@test "exits 125 for a bad -p pattern, without running the command" {
	run --separate-stderr "$ATOMICALLY" -p '[a-' touch marker
	assert_failure 125
	[[ "$stderr" == *"-p [a-: bad pattern"* ]] || fail "stderr: $stderr"
	assert_file_not_exists marker
}

@test "exits 125 for a bad config, without running the command" {
	printf 'path "*.yaml" {\n  durability = "sometimes"\n}\n' > "$CONF"
	run --separate-stderr wrapped touch marker
	assert_failure 125
	[[ "$stderr" == *"atomically: $CONF:2: "*"sometimes"* ]] || fail "stderr: $stderr"
	assert_file_not_exists marker
}

@test "exits 125 when the config file named by -c does not exist" {
	run --separate-stderr "$ATOMICALLY" -c "$(T)/nope.conf" touch marker
	assert_failure 125
	[[ "$stderr" == *"$(T)/nope.conf"* ]] || fail "stderr does not name the file: $stderr"
	assert_file_not_exists marker
}

@test "exits 126 for a file that is not executable" {
	printf '#!/bin/sh\ntouch marker\n' > notexec
	chmod 644 notexec
	run -126 --separate-stderr "$ATOMICALLY" ./notexec
	[[ "$stderr" == *"notexec"* ]] || fail "stderr does not name it: $stderr"
	assert_file_not_exists marker

	# found by a PATH search
	mkdir bin && mv notexec bin/
	PATH="$(T)/bin:$PATH" run -126 --separate-stderr "$ATOMICALLY" notexec
	[[ "$stderr" == *"notexec"* ]] || fail "stderr does not name it: $stderr"

	# a directory
	mkdir adir
	run -126 "$ATOMICALLY" ./adir
}

@test "a PATH search skips a non-executable file for an executable one later in PATH" {
	mkdir bin1 bin2
	printf '#!/bin/sh\nexit 9\n' > bin1/prog
	printf '#!/bin/sh\necho ran; exit 0\n' > bin2/prog
	chmod 644 bin1/prog
	chmod 755 bin2/prog
	PATH="$(T)/bin1:$(T)/bin2:$PATH" run wrapped prog
	assert_success
	assert_output "ran"
	assert_loaded sh
}

@test "exits 127 for a missing command" {
	run -127 --separate-stderr "$ATOMICALLY" no-such-command-atomically-test
	[[ "$stderr" == *"no-such-command-atomically-test"* ]] || fail "stderr: $stderr"

	run -127 --separate-stderr "$ATOMICALLY" ./no-such-file
	[[ "$stderr" == *"no-such-file"* ]] || fail "stderr: $stderr"
}

@test "exits 127 for a script whose interpreter does not exist" {
	printf '#!/no/such/interpreter\n' > script
	chmod 755 script
	run -127 --separate-stderr "$ATOMICALLY" ./script
	[[ "$stderr" == *"script"* ]] || fail "stderr: $stderr"
}

@test "the command's own options and arguments reach it untouched" {
	run wrapped bash -c 'printf "[%s]" "$@"' prog -v --help -c x -- -p
	assert_success
	assert_output "[-v][--help][-c][x][--][-p]"
	assert_loaded bash

	run wrapped -- bash -c 'echo after-dashdash'
	assert_success
	assert_output "after-dashdash"
}

# ---- LD_PRELOAD ----------------------------------------------------------

@test "LD_PRELOAD: the library is set when there was none" {
	run wrapped bash -c 'printf "%s\n" "$LD_PRELOAD"; grep -c "libatomically.so" /proc/$$/maps'
	assert_success
	assert_line --index 0 "$PRELOAD_NAME"
	refute_line --index 1 "0"
	assert_loaded bash
}

@test "LD_PRELOAD: the library is prepended, keeping the existing value" {
	local so
	so=$(empty_so)
	LD_PRELOAD="$so" run wrapped bash -c 'cat /proc/self/environ | tr "\0" "\n" | grep "^LD_PRELOAD="; grep -q "libatomically.so" /proc/$$/maps && grep -q "empty.so" /proc/$$/maps && echo both-mapped'
	assert_success
	assert_line --index 0 "LD_PRELOAD=$PRELOAD_NAME:$so"
	assert_line --index 1 "both-mapped"
	assert_loaded bash

	# env(1) sees the same
	LD_PRELOAD="$so" run wrapped env
	assert_success
	assert_line "LD_PRELOAD=$PRELOAD_NAME:$so"
	assert_loaded env
}

@test "LD_PRELOAD: the library named by its path is named the launcher's way in its place, not added again" {
	local so
	so=$(empty_so)
	LD_PRELOAD="$LIB" run wrapped env
	assert_success
	assert_line "LD_PRELOAD=$PRELOAD_NAME"
	assert_loaded env

	LD_PRELOAD="$LIB:$so" run wrapped env
	assert_success
	assert_line "LD_PRELOAD=$PRELOAD_NAME:$so"

	LD_PRELOAD="$LIB $so" run wrapped env
	assert_success
	assert_line "LD_PRELOAD=$PRELOAD_NAME $so"

	# Through a link to it (the tree's), and twice: one name, in place.
	LD_PRELOAD="$so:$B/$("$TOP/scripts/glibc_lib_token.sh")/libatomically.so:$LIB" run wrapped env
	assert_success
	assert_line "LD_PRELOAD=$so:$PRELOAD_NAME"
}

@test "LD_PRELOAD: the library is not added again when it is already there, not first" {
	local so value
	so=$(empty_so)
	LD_PRELOAD="$so:$LIB" run wrapped env
	assert_success
	assert_loaded env
	value=$(grep '^LD_PRELOAD=' <<<"$output")
	[ "$(grep -o "libatomically.so" <<<"$value" | wc -l)" -eq 1 ] ||
		fail "LD_PRELOAD names the library more than once: $value"
	[[ "$value" == *"$so"* ]] || fail "LD_PRELOAD lost $so: $value"
}

@test "LD_PRELOAD: after ASan's runtime when separators come before it (\"\$LD_PRELOAD:libasan.so\" with LD_PRELOAD unset)" {
	# The dynamic linker skips the empty name: ASan's runtime is first,
	# and must stay so (it exits 1 otherwise, compat.bats).
	LD_PRELOAD=":/nonexistent/libasan.so.8" run --separate-stderr "$ATOMICALLY" --env
	assert_success
	assert_line --index 0 "export LD_PRELOAD=':/nonexistent/libasan.so.8:$PRELOAD_NAME'"
	LD_PRELOAD=" /nonexistent/libasan.so.8:/x.so" run --separate-stderr "$ATOMICALLY" --env
	assert_success
	assert_line --index 0 "export LD_PRELOAD=' /nonexistent/libasan.so.8:$PRELOAD_NAME:/x.so'"
}

@test "the rules are handed down: the command's processes do not parse the config" {
	echo old > f.yaml
	local before
	before=$(inode f.yaml)
	# The command ruins the config, then a child of it writes: the
	# child must still use the rules the launcher compiled, silently.
	run wrapped bash -c 'echo "path {" > "$ATOMICALLY_CONF"; bash -c "echo new > f.yaml; grep -c libconfuse /proc/\$\$/maps || true"'
	assert_success
	assert_output "0"
	assert_loaded bash
	[ "$(cat f.yaml)" = new ]
	[ "$(inode f.yaml)" != "$before" ] || fail "f.yaml was not replaced (same inode)"
	grep -q "f.yaml: committed" "$LIBLOG" || fail "no commit in the log: $(cat "$LIBLOG")"
}

# ---- -p and -c -----------------------------------------------------------

@test "-p alone, with no config file anywhere, matches that pattern and nothing else" {
	no_config_anywhere
	echo old > state.json
	echo old > x.yaml
	local js ya
	js=$(inode state.json)
	ya=$(inode x.yaml)
	run wrapped -p state.json bash -c 'echo new > state.json; echo new > x.yaml'
	assert_success
	assert_loaded bash
	[ "$(cat state.json)" = new ] && [ "$(cat x.yaml)" = new ]
	[ "$(inode state.json)" != "$js" ] || fail "state.json was not replaced"
	[ "$(inode x.yaml)" = "$ya" ] || fail "x.yaml was replaced, though only -p state.json was given"
	grep -q "state.json: committed" "$LIBLOG" || fail "no commit of state.json: $(cat "$LIBLOG")"
	! grep -q "x.yaml" "$LIBLOG" || fail "the library acted on x.yaml: $(cat "$LIBLOG")"

	run "$ATOMICALLY" -p state.json --explain x.yaml
	assert_failure 1
	assert_output "$(T)/x.yaml: no rule matches: written as usual"
}

@test "-p adds a rule after those of the config file, so it wins" {
	printf 'path "*.yaml" { enabled = false }\n' > "$CONF"
	run "$ATOMICALLY" --explain a.yaml b.yaml
	assert_failure 1
	run "$ATOMICALLY" -p a.yaml --explain a.yaml b.yaml
	assert_success
	assert_line --index 0 --partial "$(T)/a.yaml: -p: path \"a.yaml\": durability=full"
	assert_line --index 1 "$(T)/b.yaml: $CONF:1: path \"*.yaml\" (enabled = false: excluded)"
}

@test "-c FILE is the config used, over ATOMICALLY_CONF" {
	printf 'path "*.toml" { }\n' > other.conf
	echo old > a.toml
	echo old > a.yaml
	local to ya
	to=$(inode a.toml)
	ya=$(inode a.yaml)
	run wrapped -c other.conf bash -c 'echo new > a.toml; echo new > a.yaml'
	assert_success
	assert_loaded bash
	[ "$(inode a.toml)" != "$to" ] || fail "a.toml (matched by -c's file) was not replaced"
	[ "$(inode a.yaml)" = "$ya" ] || fail "a.yaml (matched only by \$ATOMICALLY_CONF) was replaced"
	run "$ATOMICALLY" --config other.conf --explain a.toml
	assert_success
	assert_output --partial "other.conf:1: path \"*.toml\""
}

# ---- --env ---------------------------------------------------------------

@test "--env prints export lines for eval" {
	run --separate-stderr "$ATOMICALLY" --env -p '*.yaml'
	assert_success
	[ "${#lines[@]}" -eq 5 ] || fail "expected 5 lines: $output"
	assert_line --index 0 "export LD_PRELOAD='$PRELOAD_NAME'"
	assert_line --index 1 --regexp "^export ATOMICALLY_RULES='[^'\"]+'$"
	assert_line --index 2 "export GIT_CONFIG_KEY_0='core.trustctime'"
	assert_line --index 3 "export GIT_CONFIG_VALUE_0='false'"
	assert_line --index 4 "export GIT_CONFIG_COUNT='1'"

	# an LD_PRELOAD already there is kept
	local so
	so=$(empty_so)
	LD_PRELOAD="$so" run "$ATOMICALLY" --env
	assert_success
	assert_line --index 0 "export LD_PRELOAD='$PRELOAD_NAME:$so'"

	# the rules are those of -c FILE
	printf 'path "*.toml" { }\n' > other.conf
	run "$ATOMICALLY" --env -c other.conf
	assert_success
	assert_line --index 1 --partial "*.toml"
	refute_line --index 1 --partial "*.yaml"

	# a bad config: 125, nothing on stdout for eval to run
	printf 'path "*.yaml" { lock = "sometimes" }\n' > "$CONF"
	run --separate-stderr "$ATOMICALLY" --env
	assert_failure 125
	assert_output ""
	[[ "$stderr" == *"$CONF:1: "* ]] || fail "stderr: $stderr"
}

@test "git under the launcher does not trust ctime: first among the user's GIT_CONFIG_*, which win; once" {
	run "$ATOMICALLY" sh -c 'git config --get core.trustctime; env | grep ^GIT_CONFIG_ | sort'
	assert_success
	assert_output "false
GIT_CONFIG_COUNT=1
GIT_CONFIG_KEY_0=core.trustctime
GIT_CONFIG_VALUE_0=false"

	# The user's own settings are kept, after ours: theirs win.
	GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=user.name GIT_CONFIG_VALUE_0=me \
	GIT_CONFIG_KEY_1=core.trustctime GIT_CONFIG_VALUE_1=true \
		run "$ATOMICALLY" sh -c 'git config --get core.trustctime; git config --get user.name; echo $GIT_CONFIG_COUNT'
	assert_success
	assert_output "true
me
3"

	# A launcher under another (or after --env) adds nothing more.
	run "$ATOMICALLY" "$ATOMICALLY" sh -c 'echo $GIT_CONFIG_COUNT'
	assert_output 1

	# A count as git reads it (strtoul): "-18446744073709551615" is 1.
	GIT_CONFIG_COUNT=-18446744073709551615 GIT_CONFIG_KEY_0=user.name GIT_CONFIG_VALUE_0=me \
		run "$ATOMICALLY" sh -c 'git config --get core.trustctime; git config --get user.name; echo $GIT_CONFIG_COUNT'
	assert_success
	assert_output "false
me
2"

	# $GITHUB_ENV form.
	export GITHUB_ENV=$PWD/github.env
	"$ATOMICALLY" --env >> "$GITHUB_ENV"
	grep -qx 'GIT_CONFIG_KEY_0=core.trustctime' github.env || fail "$(cat github.env)"
	grep -qx 'GIT_CONFIG_COUNT=1' github.env || fail "$(cat github.env)"
}

@test "--env then eval: a plain later command is wrapped" {
	echo old > f.yaml
	echo old > f.txt
	local before txt
	before=$(inode f.yaml)
	txt=$(inode f.txt)
	run "$ATOMICALLY" --env -p '*.yaml'
	assert_success
	local env_lines="$output"
	# eval in a subshell, so that this test's own commands stay unwrapped
	(
		eval "$env_lines"
		ATOMICALLY_LOG="debug:$LIBLOG" bash -c 'echo new > f.yaml; echo new > f.txt'
	)
	assert_loaded bash
	[ "$(cat f.yaml)" = new ]
	[ "$(inode f.yaml)" != "$before" ] || fail "f.yaml was not replaced"
	[ "$(inode f.txt)" = "$txt" ] || fail "f.txt was replaced"
	grep -q "f.yaml: committed" "$LIBLOG" || fail "no commit: $(cat "$LIBLOG")"
}

@test "--env >> \$GITHUB_ENV writes plain NAME=value lines" {
	export GITHUB_ENV="$BATS_TEST_TMPDIR/genv"
	: > "$GITHUB_ENV"
	echo "EARLIER=1" >> "$GITHUB_ENV"
	"$ATOMICALLY" --env >> "$GITHUB_ENV"
	run cat "$GITHUB_ENV"
	[ "${#lines[@]}" -eq 6 ] || fail "expected 6 lines: $output"
	assert_line --index 0 "EARLIER=1"
	assert_line --index 1 "LD_PRELOAD=$PRELOAD_NAME"
	assert_line --index 2 --regexp '^ATOMICALLY_RULES=[^'"'"'" ]+$'
	assert_line --index 5 "GIT_CONFIG_COUNT=1"
	refute_output --partial "export"
	refute_output --partial "'"

	# what the runner does with them: the next step is wrapped
	local -a vars
	mapfile -t vars < <(sed -n 2,3p "$GITHUB_ENV")
	echo old > f.yaml
	local before
	before=$(inode f.yaml)
	env "${vars[@]}" ATOMICALLY_LOG="debug:$LIBLOG" bash -c 'echo new > f.yaml'
	assert_loaded bash
	[ "$(inode f.yaml)" != "$before" ] || fail "f.yaml was not replaced"
}

@test "--env with \$GITHUB_ENV set but stdout elsewhere prints export lines" {
	export GITHUB_ENV="$BATS_TEST_TMPDIR/genv"
	: > "$GITHUB_ENV"
	run "$ATOMICALLY" --env
	assert_success
	assert_line --index 0 "export LD_PRELOAD='$PRELOAD_NAME'"
	[ ! -s "$GITHUB_ENV" ] || fail "wrote into \$GITHUB_ENV: $(cat "$GITHUB_ENV")"
}

# ---- --explain -----------------------------------------------------------

@test "--explain: matched, unmatched and excluded paths, with FILE:LINE" {
	cat > "$CONF" <<-'EOF'
	# comment line 1

	path "*.yaml" { }
	/* a comment
	   over lines */
	path "secret*.yaml" {
	    enabled = false
	}
	path "*.json" {
	    durability = "none"
	    lock = "process"
	    backup = "~"
	}
	EOF
	run "$ATOMICALLY" --explain a.yaml
	assert_success
	assert_output "$(T)/a.yaml: $CONF:3: path \"*.yaml\": durability=full lock=write lock_timeout=30 commit=close append=atomic hardlinks=break fallback=inplace backup=\"\" skip_unchanged=false fsync=commit"

	run "$ATOMICALLY" --explain sub/../b.json
	assert_success
	assert_output "$(T)/b.json: $CONF:9: path \"*.json\": durability=none lock=process lock_timeout=30 commit=close append=atomic hardlinks=break fallback=inplace backup=\"~\" skip_unchanged=false fsync=commit"

	run "$ATOMICALLY" --explain x.c
	assert_failure 1
	assert_output "$(T)/x.c: no rule matches: written as usual"

	run "$ATOMICALLY" --explain secret1.yaml
	assert_failure 1
	assert_output "$(T)/secret1.yaml: $CONF:6: path \"secret*.yaml\" (enabled = false: excluded)"

	# several paths: 0 when any is matched
	run "$ATOMICALLY" --explain x.c secret1.yaml /abs/dir/c.yaml
	assert_success
	assert_line --index 0 --partial "$(T)/x.c: no rule"
	assert_line --index 1 --partial "$(T)/secret1.yaml: $CONF:6:"
	assert_line --index 2 --partial "/abs/dir/c.yaml: $CONF:3:"
	run "$ATOMICALLY" --explain x.c secret1.yaml
	assert_failure 1
}

# ---- --check-config ------------------------------------------------------

@test "--check-config: a good config" {
	printf '# two rules\npath "*.yaml" { }\npath "*.json" { lock = "none" }\n' > good.conf
	run --separate-stderr "$ATOMICALLY" --check-config good.conf
	assert_success
	assert_output "good.conf: ok, 2 rules"

	# without FILE: the one found ($ATOMICALLY_CONF), or -c
	run "$ATOMICALLY" --check-config
	assert_success
	assert_output "$CONF: ok, 2 rules"
	run "$ATOMICALLY" -c good.conf --check-config
	assert_success
	assert_output "good.conf: ok, 2 rules"
}

@test "--check-config: a bad config exits 125 with FILE:LINE" {
	printf '# comment\npath "*.yaml" { }\n\nlock_dir = "sidecar"\ncolour = "blue"\n' > bad.conf
	run --separate-stderr "$ATOMICALLY" --check-config bad.conf
	assert_failure 125
	assert_output ""
	[[ "$stderr" == "atomically: bad.conf:5: "*"colour"* ]] || fail "stderr: $stderr"

	printf 'path "[a-" { }\npath "ok" { }\npath "b[" { }\n' > pats.conf
	run --separate-stderr "$ATOMICALLY" --check-config pats.conf
	assert_failure 125
	[[ "$stderr" == *"pats.conf:1: bad pattern \"[a-\""* ]] || fail "stderr: $stderr"
	[[ "$stderr" == *"pats.conf:3: bad pattern \"b[\""* ]] || fail "not every bad pattern reported: $stderr"

	run --separate-stderr "$ATOMICALLY" --check-config "$(T)/missing.conf"
	assert_failure 125
	[[ "$stderr" == *"$(T)/missing.conf"* ]] || fail "stderr: $stderr"
}

# ---- --version, --help ---------------------------------------------------

@test "--version names the version, the commit, the libc and the library, on stdout" {
	run --separate-stderr "$ATOMICALLY" --version
	assert_success
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 5 ] || fail "not 5 lines: $output"
	assert_line --index 0 --regexp '^atomically [0-9]+\.[0-9]+\.[0-9]+$'
	assert_line --index 1 --regexp '^commit: [0-9a-f]{7,}(-dirty)?$'
	assert_line --index 2 --regexp "^libc: glibc $(getconf GNU_LIBC_VERSION | cut -d' ' -f2) \\(built against [0-9]+\\.[0-9]+\\)$"
	assert_line --index 3 "library: $B/libatomically.so"
	if [ -e "$B/musl/libatomically.so" ]; then
		assert_line --index 4 "library for musl: $B/musl/libatomically.so"
	else
		assert_line --index 4 --partial "library for musl: none"
	fi
	# From a checkout, the commit is its HEAD's.
	if git -C "$TOP" rev-parse HEAD > /dev/null 2>&1; then
		assert_line --index 1 --regexp "^commit: $(git -C "$TOP" rev-parse HEAD | cut -c1-7)"
	fi
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr "$ATOMICALLY" --help
	assert_success
	[ -z "$stderr" ]
	assert_line --index 0 --partial "usage: atomically [-c FILE] [-p GLOB]..."
	assert_output --partial "--env"
	assert_output --partial "--explain"
	assert_output --partial "--check-config"
	assert_output --partial "--clean [-n]"
	assert_output --partial "--version"
	assert_output --partial "Exit status"
}

# ---- -v, -q ---------------------------------------------------------------

@test "-v shows info lines (what is committed); -vv also debug lines" {
	echo old > f.yaml
	# no ATOMICALLY_LOG here: the level is the launcher's to set
	run --separate-stderr "$ATOMICALLY" bash -c 'echo new > f.yaml; grep -c libatomically.so /proc/$$/maps'
	assert_success
	refute_output "0"
	[ -z "$stderr" ] || fail "messages at the default level: $stderr"

	run --separate-stderr "$ATOMICALLY" -v bash -c 'echo new > f.yaml; grep -c libatomically.so /proc/$$/maps'
	assert_success
	refute_output "0"
	[[ "$stderr" == *"atomically: $(T)/f.yaml: committed"* ]] || fail "no info line: $stderr"
	[[ "$stderr" != *"active in pid"* ]] || fail "a debug line at info level: $stderr"

	run --separate-stderr "$ATOMICALLY" -v -v bash -c 'echo new > f.yaml'
	assert_success
	[[ "$stderr" =~ atomically:\ active\ in\ pid\ [0-9]+\ \(bash\) ]] || fail "no debug line: $stderr"
	[[ "$stderr" == *"f.yaml: committed"* ]] || fail "no info line: $stderr"
}

@test "-q hides the library's warnings" {
	printf 'path "*.yaml" { hardlinks = "fail" }\n' > "$CONF"
	echo old > f.yaml
	ln f.yaml other-name.yaml
	# hardlinks = "fail": the open fails, with a warning
	run --separate-stderr "$ATOMICALLY" bash -c 'echo new > f.yaml'
	assert_failure 1
	[[ "$stderr" == *"atomically: $(T)/f.yaml: has 2 hard links"* ]] || fail "no warning: $stderr"

	run --separate-stderr "$ATOMICALLY" -q bash -c 'echo new > f.yaml; s=$?; grep -q libatomically.so /proc/$$/maps && echo loaded; exit $s'
	assert_failure 1
	assert_output "loaded"
	[[ "$stderr" != *"atomically:"* ]] || fail "-q let a warning through: $stderr"
	# the program's own error is still there: the library acted
	[[ "$stderr" == *"f.yaml"* ]] || fail "the open did not fail: $stderr"
	[ "$(cat f.yaml)" = old ]
}

# ---- programs a preload cannot cover -------------------------------------

@test "no warning for an ordinary dynamically linked program" {
	run --separate-stderr wrapped bash -c 'true'
	assert_success
	[ -z "$stderr" ] || fail "unexpected stderr: $stderr"
	assert_loaded bash
}

@test "warns about a statically linked program, and still runs it" {
	local prog
	prog=$(static_prog)
	run --separate-stderr "$ATOMICALLY" "$prog" "$(T)/ran"
	assert_failure 3
	[[ "$stderr" == *"atomically: warning: $prog: it is statically linked"* ]] ||
		fail "no warning: $stderr"
	assert_file_exists ran
}

@test "warns about a script whose interpreter is statically linked" {
	local prog
	prog=$(static_prog)
	printf '#!%s\n' "$prog" > script
	chmod 755 script
	run --separate-stderr "$ATOMICALLY" ./script
	assert_failure 3
	[[ "$stderr" == *"atomically: warning: ./script: its interpreter $prog: it is statically linked"* ]] ||
		fail "no warning: $stderr"
}

@test "warns about a set-user-ID program, and still runs it" {
	require_root "a set-user-ID program owned by root"
	cp /bin/true ./suid-true
	chmod u+s ./suid-true
	run --separate-stderr "$ATOMICALLY" ./suid-true
	assert_success
	[[ "$stderr" == *"atomically: warning: ./suid-true: it is set-user-ID"* ]] ||
		fail "no warning: $stderr"
}

@test "warns about a Go program, and still runs it" {
	command -v objcopy >/dev/null || skip "objcopy (binutils) is needed to fake a Go binary"
	# A Go binary is recognised by its .go.buildinfo section.
	printf 'x' > buildinfo
	objcopy --add-section .go.buildinfo=buildinfo /bin/true ./gotrue ||
		skip "objcopy cannot add a section to /bin/true"
	chmod 755 ./gotrue
	run --separate-stderr "$ATOMICALLY" ./gotrue
	assert_success
	[[ "$stderr" == *"atomically: warning: ./gotrue: it is a Go program"* ]] ||
		fail "no warning: $stderr"
}

# ---- signals -------------------------------------------------------------

@test "SIGTERM to the launcher reaches the command" {
	local pid status=0
	ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" bash -c \
		'trap "echo term > \"$1\"; exit 7" TERM; : > "$2"; while :; do sleep 0.05; done' \
		_ "$(T)/marker" "$(T)/ready" >/dev/null 2>&1 3>&- &
	pid=$!
	wait_for_file ready
	# a watchdog, so that a launcher that swallows the signal fails the
	# test rather than hanging it
	(sleep 10; kill -KILL "$pid") >/dev/null 2>&1 3>&- &
	local dog=$!
	kill -TERM "$pid"
	wait "$pid" || status=$?
	kill "$dog" 2>/dev/null || true
	[ "$status" -ne 137 ] || fail "the launcher hung after SIGTERM (killed by the watchdog)"
	[ "$status" -eq 7 ] || fail "the launcher exited $status, not the command's 7"
	assert_file_exists marker
	[ "$(cat marker)" = term ]
	assert_loaded bash
}

@test "SIGKILL of the launcher kills the command too" {
	local pid cpid i
	ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" bash -c \
		'echo $$ > "$1.tmp" && mv "$1.tmp" "$1"; exec sleep 30' _ "$(T)/cpid" \
		>/dev/null 2>&1 3>&- &
	pid=$!
	wait_for_file cpid
	cpid=$(cat cpid)
	kill -KILL "$pid"
	wait "$pid" || true
	for ((i = 0; i < 50; i++)); do
		dead "$cpid" && break
		sleep 0.1
	done
	if ! dead "$cpid"; then
		kill -KILL "$cpid" 2>/dev/null || true
		fail "the command (pid $cpid) outlived the launcher killed by SIGKILL"
	fi
	assert_loaded bash
}
