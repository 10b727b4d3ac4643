#!/usr/bin/env bats
# config.bats - the config file (SPEC section 2): errors with FILE:LINE,
# the inert library under a bad config, discovery, the embedded default,
# pattern anchoring, last match wins, unsafe files, and settings that
# reach the library.

bats_require_minimum_version 1.5.0
load helpers

# ---- helpers of this file ----------------------------------------------

# xdg_config TEXT: write the XDG config file.
xdg_config() {
	mkdir -p "$XDG_CONFIG_HOME/atomically"
	printf '%b' "$1" > "$XDG_CONFIG_HOME/atomically/atomically.conf"
}
XDG_FILE() { printf '%s' "$XDG_CONFIG_HOME/atomically/atomically.conf"; }

# refused_with_line FILE LINE [WORD]: the launcher, given FILE with -c,
# exits 125 before running the command (which would create "marker"),
# and its stderr names FILE:LINE (and WORD, when given).
refused_with_line() {
	local file=$1 line=$2 word=${3:-}
	rm -f marker
	run --separate-stderr "$ATOMICALLY" -c "$file" touch marker
	assert_failure 125
	assert_file_not_exists marker
	[[ "$stderr" == *"atomically: $file:$line: "* ]] ||
		fail "stderr does not name $file:$line: $stderr"
	[[ -z "$word" || "$stderr" == *"$word"* ]] ||
		fail "stderr does not mention '$word': $stderr"
	# the same through $ATOMICALLY_CONF, and --check-config agrees
	ATOMICALLY_CONF="$file" run --separate-stderr "$ATOMICALLY" touch marker
	assert_failure 125
	assert_file_not_exists marker
	[[ "$stderr" == *"atomically: $file:$line: "* ]] ||
		fail "via ATOMICALLY_CONF, stderr does not name $file:$line: $stderr"
	run --separate-stderr "$ATOMICALLY" --check-config "$file"
	assert_failure 125
	[[ "$stderr" == *"atomically: $file:$line: "* ]] ||
		fail "--check-config does not name $file:$line: $stderr"
}

# explain_source PATH: the "FILE:LINE" (or "-p") that --explain names for
# PATH, or "none".
explain_source() {
	local out
	out=$("$ATOMICALLY" --explain "$1") || true
	case "$out" in
	*"no rule matches"*) echo none ;;
	*) out=${out#*: }; echo "${out%%: path *}" ;;
	esac
}

# count_lines FIXED FILE: lines of FILE holding the fixed string.
count_lines() {
	grep -cF -- "$1" "$2" || true
}

setup() {
	common_setup
}

# ---- bad configs: the launcher exits 125 with FILE:LINE ------------------

@test "bad config: a syntax error" {
	printf '# a comment\n\nlog_level = = "warn"\npath "*.yaml" { }\n' > bad.conf
	refused_with_line bad.conf 3
}

@test "bad config: an unknown option, after comments of every kind" {
	printf '# one\n// two\n/* three\n   four */\npath "*.yaml" {\n    colour = "blue"\n}\n' > bad.conf
	refused_with_line "$(T)/bad.conf" 6 colour
}

@test "bad config: an unknown global option" {
	printf 'log_level = "warn"\nlog_levle = "info"\n' > bad.conf
	refused_with_line bad.conf 2 log_levle
}

@test "bad config: a bad enumerated value" {
	printf '# durability\npath "*.yaml" {\n    lock = "write"\n    durability = "sometimes"\n}\n' > bad.conf
	refused_with_line bad.conf 4 sometimes
	printf 'log_level = "loud"\n' > bad2.conf
	refused_with_line bad2.conf 1 loud
	printf 'path "*.yaml" { }\npath "*.json" { lock = "forever" }\n' > bad3.conf
	refused_with_line bad3.conf 2 forever
}

@test "bad config: a bad number" {
	printf 'path "*.yaml" {\n\n    lock_timeout = soon\n}\n' > bad.conf
	refused_with_line bad.conf 3 lock_timeout
	printf '\nfailure_exit_code = 300\n' > bad2.conf
	refused_with_line bad2.conf 2 failure_exit_code
	printf 'path "*.yaml" {\n    lock_timeout = -2\n}\n' > bad3.conf
	refused_with_line bad3.conf 2 lock_timeout
}

@test "bad config: a bad boolean" {
	printf 'path "*.yaml" {\n    enabled = maybe\n}\n' > bad.conf
	refused_with_line bad.conf 2 enabled
}

@test "bad config: a bad pattern, and every bad pattern is reported" {
	printf '# patterns\npath "*.yaml" { }\npath "[a-" { }\npath "ok.json" { }\npath "x[" { }\n' > bad.conf
	refused_with_line bad.conf 3 '[a-'
	[[ "$stderr" == *"bad.conf:5: "*'x['* ]] || fail "the second bad pattern is not reported: $stderr"
}

@test "bad config: a component '.' or '..' with an escaped dot, which no normalised path has" {
	printf 'path "/srv/app/\\\\./state.yaml" { }\n' > dot.conf
	refused_with_line dot.conf 1 'escaped dot'
	printf 'path "/srv/.\\\\./x.yaml" { }\n' > dots.conf
	refused_with_line dots.conf 1 'escaped dot'
	# a name that starts with an escaped dot is a name
	printf 'path "/srv/\\\\.hidden.yaml" { }\n' > name.conf
	run "$ATOMICALLY" --check-config name.conf
	assert_success
}

@test "bad config: an unquoted pattern" {
	printf '\npath *.yaml { }\n' > bad.conf
	refused_with_line bad.conf 2 quoted
}

@test "bad config: a section left open at the end of the file" {
	printf 'path "*.json" { }\npath "*.yaml" {\n    durability = "none"\n' > bad.conf
	refused_with_line bad.conf 2
}

@test "bad config: an unterminated string" {
	printf 'path "*.json" { }\nlog_file = "oops\n' > bad.conf
	refused_with_line bad.conf 2
}

@test "bad config: a duplicate section" {
	printf 'path "*.yaml" { }\npath "*.json" { }\npath "*.yaml" { }\n' > bad.conf
	refused_with_line bad.conf 3
}

@test "bad config: a file that cannot be read" {
	rm -f marker
	run --separate-stderr "$ATOMICALLY" -c "$(T)/no-such.conf" touch marker
	assert_failure 125
	assert_file_not_exists marker
	[[ "$stderr" == *"atomically: $(T)/no-such.conf: "* ]] || fail "stderr: $stderr"
	ATOMICALLY_CONF="$(T)/no-such.conf" run --separate-stderr "$ATOMICALLY" touch marker
	assert_failure 125
	assert_file_not_exists marker
}

# ---- a bad config under a bare LD_PRELOAD: inert, reported once ------------

@test "bad config, bare LD_PRELOAD: the program runs unwrapped, the error is logged once" {
	printf '# bad\n\npath "*.yaml" {\n    durability = "sometimes"\n}\n' > "$CONF"
	echo old > a.yaml
	echo old > b.yaml
	echo old > c.yaml
	local a b c
	a=$(inode a.yaml)
	b=$(inode b.yaml)
	c=$(inode c.yaml)
	run preloaded bash -c 'echo x > a.yaml; bash -c "echo y > b.yaml"; bash -c "bash -c \"echo z > c.yaml\"; echo \$ATOMICALLY_RULES"'
	assert_success
	assert_output "inert"
	[ "$(cat a.yaml)$(cat b.yaml)$(cat c.yaml)" = xyz ]
	[ "$(inode a.yaml)" = "$a" ] || fail "a.yaml was replaced under a bad config"
	[ "$(inode b.yaml)" = "$b" ] || fail "b.yaml was replaced under a bad config"
	[ "$(inode c.yaml)" = "$c" ] || fail "c.yaml was replaced under a bad config"
	# the library was loaded: it is what reports the error, once
	[ "$(count_lines "$CONF:4: " "$LIBLOG")" -eq 1 ] ||
		fail "the error with $CONF:4 is not logged exactly once: $(cat "$LIBLOG")"
	[ "$(count_lines "sometimes" "$LIBLOG")" -eq 1 ] || fail "log: $(cat "$LIBLOG")"
	[ "$(count_lines "config is bad" "$LIBLOG")" -eq 1 ] || fail "log: $(cat "$LIBLOG")"
	! grep -q "active in" "$LIBLOG" || fail "the library is active: $(cat "$LIBLOG")"
	assert_no_temps .
}

@test "bad config, bare LD_PRELOAD: the error goes to stderr once" {
	printf 'path "*.yaml" { }\nbogus = 1\n' > "$CONF"
	echo old > a.yaml
	local a
	a=$(inode a.yaml)
	run --separate-stderr env LD_PRELOAD="$PRELOAD" bash -c 'echo x > a.yaml; bash -c "echo y > a.yaml"; bash -c "echo z >> a.yaml"; true'
	assert_success
	[ "$(printf '%s\n' "$stderr" | grep -cF "$CONF:2: ")" -eq 1 ] ||
		fail "the error with $CONF:2 is not on stderr exactly once: $stderr"
	[ "$(inode a.yaml)" = "$a" ]
	[ "$(cat a.yaml)" = "$(printf 'y\nz')" ]
}

@test "unsafe config, bare LD_PRELOAD: refused once, the program runs unwrapped" {
	printf 'path "*.yaml" { }\n' > "$CONF"
	chmod 666 "$CONF"
	echo old > a.yaml
	local a
	a=$(inode a.yaml)
	run preloaded bash -c 'echo x > a.yaml; bash -c "echo y > a.yaml"; true'
	assert_success
	[ "$(inode a.yaml)" = "$a" ] || fail "a.yaml was replaced under a refused config"
	[ "$(count_lines "$CONF: refused" "$LIBLOG")" -eq 1 ] ||
		fail "the refusal is not logged exactly once: $(cat "$LIBLOG")"
}

# ---- a good config under a bare LD_PRELOAD --------------------------------

@test "good config, bare LD_PRELOAD: a C program's write is redirected" {
	echo old > f.yaml
	echo old > f.txt
	local y t
	y=$(inode f.yaml)
	t=$(inode f.txt)
	run preloaded "$WRITER" open f.yaml new
	assert_success
	assert_loaded writer
	[ "$(cat f.yaml)" = new ]
	[ "$(inode f.yaml)" != "$y" ] || fail "f.yaml was not replaced"
	grep -q "f.yaml: committed" "$LIBLOG" || fail "log: $(cat "$LIBLOG")"
	run preloaded "$WRITER" open f.txt new
	assert_success
	[ "$(inode f.txt)" = "$t" ] || fail "f.txt, not matched, was replaced"
}

@test "good config, bare LD_PRELOAD: bash is redirected and logs, its children too" {
	echo old > a.yaml
	echo old > b.yaml
	local a b
	a=$(inode a.yaml)
	b=$(inode b.yaml)
	run preloaded bash -c 'echo x > a.yaml; bash -c "echo y > b.yaml; echo \${ATOMICALLY_RULES:+rules-set}"; true'
	assert_success
	assert_output "rules-set"
	[ "$(inode a.yaml)" != "$a" ] || fail "a.yaml was not replaced"
	[ "$(inode b.yaml)" != "$b" ] || fail "b.yaml was not replaced"
	[ "$(count_lines "(bash)" "$LIBLOG")" -eq 2 ] ||
		fail "not both bash processes announced the library: $(cat "$LIBLOG")"
	grep -q "a.yaml: committed" "$LIBLOG" || fail "no commit of a.yaml logged: $(cat "$LIBLOG")"
	grep -q "b.yaml: committed" "$LIBLOG" || fail "no commit of b.yaml logged: $(cat "$LIBLOG")"
}

# ---- discovery -------------------------------------------------------------

@test "discovery: -c beats ATOMICALLY_CONF beats XDG" {
	printf 'path "*.yaml" { }\n' > opt.conf
	printf '\npath "*.yaml" { }\n' > env.conf
	xdg_config '\n\npath "*.yaml" { }\n'
	export ATOMICALLY_CONF="$(T)/env.conf"
	run "$ATOMICALLY" -c opt.conf --explain a.yaml
	assert_success
	assert_output --partial ": opt.conf:1: path"
	run "$ATOMICALLY" --explain a.yaml
	assert_success
	assert_output --partial ": $(T)/env.conf:2: path"
	unset ATOMICALLY_CONF
	run "$ATOMICALLY" --explain a.yaml
	assert_success
	assert_output --partial ": $(XDG_FILE):3: path"
	# an empty ATOMICALLY_CONF is no config
	ATOMICALLY_CONF= run "$ATOMICALLY" --check-config
	assert_success
	assert_output "$(XDG_FILE): ok, 1 rules"
}

@test "discovery: \$HOME/.config when XDG_CONFIG_HOME is unset or relative" {
	unset ATOMICALLY_CONF XDG_CONFIG_HOME
	export HOME="$(T)/home"
	mkdir -p "$HOME/.config/atomically"
	printf 'path "*.toml" { }\n' > "$HOME/.config/atomically/atomically.conf"
	run "$ATOMICALLY" --check-config
	assert_success
	assert_output "$HOME/.config/atomically/atomically.conf: ok, 1 rules"
	XDG_CONFIG_HOME=relative/dir run "$ATOMICALLY" --check-config
	assert_success
	assert_output "$HOME/.config/atomically/atomically.conf: ok, 1 rules"
}

@test "discovery: the library under a bare LD_PRELOAD finds the XDG config" {
	unset ATOMICALLY_CONF
	xdg_config 'path "*.toml" { }\n'
	echo old > a.toml
	echo old > a.yaml
	local t y
	t=$(inode a.toml)
	y=$(inode a.yaml)
	run preloaded "$WRITER" open a.toml new
	assert_success
	assert_loaded writer
	run preloaded "$WRITER" open a.yaml new
	assert_success
	[ "$(inode a.toml)" != "$t" ] || fail "a.toml (XDG config) was not replaced"
	[ "$(inode a.yaml)" = "$y" ] || fail "a.yaml (not in the XDG config) was replaced"
}

@test "discovery: the embedded default when no file is found" {
	no_config_anywhere
	local n
	n=$(grep -c '^path ' "$TOP/conf/atomically.conf")
	run --separate-stderr "$ATOMICALLY" --check-config
	assert_success
	assert_output "(embedded default): ok, $n rules"
	[ -z "$stderr" ]
}

@test "embedded default: matches structured text and state files, not code or databases" {
	no_config_anywhere
	local p
	for p in x.yaml a.json sub/b.yml c.toml d.ini e.conf f.xml g.env CHANGELOG.md CHANGELOG \
		release.changelog Cargo.lock yarn.lock poetry.lock; do
		run "$ATOMICALLY" --explain "$p"
		assert_success
		assert_output --partial ": path \""
		refute_output --partial "excluded"
	done
	for p in x.c foo.lock x.db x.sqlite x.log README.md Makefile; do
		run "$ATOMICALLY" --explain "$p"
		assert_failure 1
		assert_output "$(T)/$p: no rule matches: written as usual"
	done
}

@test "embedded default: a wrapped program's matched write is redirected, others not" {
	no_config_anywhere
	echo old > x.yaml
	echo old > x.db
	local y d
	y=$(inode x.yaml)
	d=$(inode x.db)
	run wrapped bash -c 'echo new > x.yaml; echo new > x.db'
	assert_success
	assert_loaded bash
	[ "$(inode x.yaml)" != "$y" ] || fail "x.yaml was not replaced"
	[ "$(inode x.db)" = "$d" ] || fail "x.db was replaced"
}

@test "--explain names the embedded default as the source of its rules" {
	no_config_anywhere
	run "$ATOMICALLY" --explain x.yaml
	assert_success
	assert_output --partial "(embedded default)"
	refute_output --partial ": -p: "
}

# ---- patterns ----------------------------------------------------------------

@test "patterns with '/' are relative to the config file's directory" {
	mkdir -p D/sub elsewhere/sub
	printf 'path "sub/*.json" { }\n' > D/atomically.conf
	cd elsewhere
	run "$ATOMICALLY" -c ../D/atomically.conf --explain ../D/sub/a.json
	assert_success
	assert_output --partial "$(T)/D/sub/a.json: ../D/atomically.conf:1: path \"$(T)/D/sub/*.json\""
	run "$ATOMICALLY" -c ../D/atomically.conf --explain sub/a.json
	assert_failure 1
	assert_output --partial "no rule matches"

	# and the library acts on the file the pattern names, not on ./sub
	echo old > ../D/sub/a.json
	echo old > sub/a.json
	local d e
	d=$(inode ../D/sub/a.json)
	e=$(inode sub/a.json)
	run wrapped -c ../D/atomically.conf bash -c 'echo new > ../D/sub/a.json; echo new > sub/a.json'
	assert_success
	assert_loaded bash
	[ "$(inode ../D/sub/a.json)" != "$d" ] || fail "D/sub/a.json was not replaced"
	[ "$(inode sub/a.json)" = "$e" ] || fail "./sub/a.json was replaced"
}

@test "patterns relative to a config directory whose name has glob characters" {
	local D="$(T)/we[ir]d*dir"
	mkdir -p "$D/sub" "$(T)/wei*dir/sub"
	printf 'path "sub/*.json" { }\n' > "$D/atomically.conf"
	run "$ATOMICALLY" -c "$D/atomically.conf" --explain "$D/sub/a.json"
	assert_success
	run "$ATOMICALLY" -c "$D/atomically.conf" --explain "$(T)/wei*dir/sub/a.json" "$(T)/werdXdir/sub/a.json"
	assert_failure 1
}

@test "patterns: '~/' is the home directory, '/' is absolute" {
	export HOME="$(T)/home"
	mkdir -p "$HOME/notes" notes abs
	printf 'path "~/notes/*.md" { }\npath "%s/x/../abs/*.json" { }\n' "$(T)" > "$CONF"
	run "$ATOMICALLY" --explain "$HOME/notes/a.md"
	assert_success
	assert_output --partial "$CONF:1: path \"$HOME/notes/*.md\""
	run "$ATOMICALLY" --explain notes/a.md
	assert_failure 1
	run "$ATOMICALLY" --explain abs/a.json
	assert_success
	assert_output --partial "$CONF:2: path \"$(T)/abs/*.json\""
	run "$ATOMICALLY" --explain x/a.json
	assert_failure 1
}

@test "patterns: '**' crosses directories" {
	printf 'path "deep/**/*.json" { }\n' > "$CONF"
	run "$ATOMICALLY" --explain deep/a/b/c.json deep/c.json
	assert_success
	assert_line --index 0 --partial "$CONF:1:"
	run "$ATOMICALLY" --explain other/a/c.json
	assert_failure 1
}

@test "the last matching section wins; enabled = false excludes" {
	cat > "$CONF" <<-'EOF'
	path "*.yaml" { }
	path "skip*.yaml" {
	    enabled = false
	}
	path "skip-but-keep.yaml" { durability = "none" }
	EOF
	[ "$(explain_source a.yaml)" = "$CONF:1" ]
	run "$ATOMICALLY" --explain skip1.yaml
	assert_failure 1
	assert_output "$(T)/skip1.yaml: $CONF:2: path \"skip*.yaml\" (enabled = false: excluded)"
	run "$ATOMICALLY" --explain skip-but-keep.yaml
	assert_success
	assert_output --partial "$CONF:5: path \"skip-but-keep.yaml\": durability=none"

	echo old > a.yaml
	echo old > skip1.yaml
	echo old > skip-but-keep.yaml
	local a s k
	a=$(inode a.yaml)
	s=$(inode skip1.yaml)
	k=$(inode skip-but-keep.yaml)
	run wrapped bash -c 'for f in a.yaml skip1.yaml skip-but-keep.yaml; do echo new > $f; done'
	assert_success
	assert_loaded bash
	[ "$(inode a.yaml)" != "$a" ] || fail "a.yaml was not replaced"
	[ "$(inode skip1.yaml)" = "$s" ] || fail "skip1.yaml (excluded) was replaced"
	[ "$(inode skip-but-keep.yaml)" != "$k" ] || fail "skip-but-keep.yaml was not replaced"
}

# ---- config files other users can change -----------------------------------

@test "a world-writable config given with -c or ATOMICALLY_CONF is refused" {
	printf 'path "*.yaml" { }\n' > w.conf
	chmod 666 w.conf
	rm -f marker
	run --separate-stderr "$ATOMICALLY" -c w.conf touch marker
	assert_failure 125
	assert_file_not_exists marker
	[[ "$stderr" == *"atomically: w.conf: refused: it is writable by every user"* ]] ||
		fail "stderr: $stderr"
	ATOMICALLY_CONF="$(T)/w.conf" run --separate-stderr "$ATOMICALLY" touch marker
	assert_failure 125
	assert_file_not_exists marker
	[[ "$stderr" == *"$(T)/w.conf: refused"* ]] || fail "stderr: $stderr"
}

@test "a world-writable XDG config is skipped with a warning" {
	no_config_anywhere
	xdg_config 'path "*.txt" { }\n'
	chmod 666 "$(XDG_FILE)"
	run --separate-stderr "$ATOMICALLY" --explain a.txt
	assert_failure 1
	[[ "$stderr" == *"atomically: ignoring $(XDG_FILE): it is writable by every user"* ]] ||
		fail "no warning: $stderr"
	# the embedded default applies instead, and the command runs
	run --separate-stderr "$ATOMICALLY" --check-config
	assert_success
	assert_output --partial "(embedded default): ok"
	run --separate-stderr wrapped touch marker
	assert_success
	assert_loaded touch
	assert_file_exists marker
	[ "$(grep -c "ignoring $(XDG_FILE)" <<<"$stderr")" -eq 1 ] || fail "not one warning: $stderr"
}

@test "a config writable by a group other users may be in is refused" {
	require_root "to give the file to another group"
	getent group users >/dev/null || skip "no group 'users'"
	printf 'path "*.yaml" { }\n' > g.conf
	chgrp users g.conf
	chmod 664 g.conf
	run --separate-stderr "$ATOMICALLY" -c g.conf true
	assert_failure 125
	[[ "$stderr" == *"g.conf: refused: it is writable by a group"* ]] || fail "stderr: $stderr"
	# group-writable by root's group is as safe as root
	chgrp 0 g.conf
	run "$ATOMICALLY" --check-config g.conf
	assert_success
}

@test "a config owned by another user is refused" {
	require_root "to give the file to another user"
	printf 'path "*.yaml" { }\n' > o.conf
	chown 65534 o.conf
	chmod 644 o.conf
	run --separate-stderr "$ATOMICALLY" -c o.conf true
	assert_failure 125
	[[ "$stderr" == *"o.conf: refused: it is owned by another user"* ]] || fail "stderr: $stderr"
	# found by XDG instead: skipped with a warning
	no_config_anywhere
	xdg_config 'path "*.toml" { }\n'
	chown 65534 "$(XDG_FILE)"
	run --separate-stderr "$ATOMICALLY" --check-config
	assert_success
	assert_output --partial "(embedded default)"
	[[ "$stderr" == *"ignoring $(XDG_FILE): it is owned by another user"* ]] || fail "stderr: $stderr"
}

# ---- settings reach the library --------------------------------------------

# fsyncs DURABILITY: sets $got to "FSYNC FDATASYNC", the calls a wrapped
# writer made under a section with that durability.
fsyncs() {
	printf 'path "*.yaml" { durability = "%s" }\n' "$1" > "$CONF"
	: > "$LIBLOG"
	ATOMICALLY_LOG="debug:$LIBLOG" strace -f -qq -o trace -e trace=fsync,fdatasync \
		"$ATOMICALLY" "$WRITER" open f.yaml "$1" || fail "the writer failed"
	assert_loaded writer
	grep -q "f.yaml: committed" "$LIBLOG" || fail "not committed: $(cat "$LIBLOG")"
	[ "$(cat f.yaml)" = "$1" ] || fail "f.yaml holds $(cat f.yaml)"
	got="$(grep -c ' fsync(' trace || true) $(grep -c ' fdatasync(' trace || true)"
}

@test "durability reaches the library (strace: fsync and fdatasync)" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace refused)"
	local got
	fsyncs full
	[ "$got" = "2 0" ] || fail "durability=full: fsync, fdatasync = $got; expected the file and the directory fsynced"
	fsyncs file
	[ "$got" = "1 0" ] || fail "durability=file: fsync, fdatasync = $got"
	fsyncs data
	[ "$got" = "0 1" ] || fail "durability=data: fsync, fdatasync = $got"
	fsyncs none
	[ "$got" = "0 0" ] || fail "durability=none: fsync, fdatasync = $got"
}

@test "lock_dir = \"sidecar\" reaches the library: .NAME.lock beside the file" {
	printf 'lock_dir = "sidecar"\npath "*.yaml" { }\n' > "$CONF"
	run wrapped "$WRITER" open f.yaml new
	assert_success
	assert_loaded writer
	assert_file_exists .f.yaml.lock
	[ -z "$(ls -A "$LOCKS" 2>/dev/null)" ] || fail "a lock in the runtime dir: $(ls -A "$LOCKS")"

	# the default: in the runtime directory, not beside the file
	rm -f .f.yaml.lock
	: > "$LIBLOG"
	printf 'path "*.yaml" { }\n' > "$CONF"
	run wrapped "$WRITER" open f.yaml new
	assert_success
	assert_file_not_exists .f.yaml.lock
	[[ $(locks_used) = "$LOCKS/"*f.yaml.lock ]] || fail "no lock in $LOCKS: $(locks_used)"
}

@test "a relative lock_dir is relative to the config file's directory" {
	mkdir -p D/locks elsewhere
	printf 'lock_dir = "locks"\npath "*.yaml" { }\n' > D/atomically.conf
	cd elsewhere
	run wrapped -c ../D/atomically.conf "$WRITER" open f.yaml new
	assert_success
	assert_loaded writer
	[[ $(locks_used) = "$(cd ../D/locks && pwd)/"*f.yaml.lock ]] ||
		fail "no lock in D/locks: $(locks_used)"
}

@test "lock = \"none\" reaches the library: no lock file" {
	printf 'path "*.yaml" { lock = "none" }\n' > "$CONF"
	run wrapped "$WRITER" open f.yaml new
	assert_success
	assert_loaded writer
	grep -q "f.yaml: committed" "$LIBLOG" || fail "not committed: $(cat "$LIBLOG")"
	[ -z "$(ls -A "$LOCKS" 2>/dev/null)" ] || fail "a lock file with lock = none: $(ls -A "$LOCKS")"
}

@test "log_level and a relative log_file reach the library" {
	mkdir -p D elsewhere
	printf 'log_level = "debug"\nlog_file = "lib.log"\npath "*.yaml" { }\n' > D/atomically.conf
	cd elsewhere
	# no ATOMICALLY_LOG: the config decides
	run --separate-stderr "$ATOMICALLY" -c ../D/atomically.conf "$WRITER" open f.yaml new
	assert_success
	[ -z "$stderr" ] || fail "logged on stderr rather than in the file: $stderr"
	assert_file_exists ../D/lib.log
	grep -Eq '^atomically: active in pid [0-9]+ \(writer\)' ../D/lib.log ||
		fail "the library did not log into D/lib.log: $(cat ../D/lib.log)"
	grep -q "f.yaml: committed" ../D/lib.log || fail "$(cat ../D/lib.log)"
}
