#!/usr/bin/env bats
# sticky.bats - never weaker than the kernel in shared directories (issue
# 13, items 1 and 2).  The library follows the last symlink of a path
# itself, and replaces files by rename: in a sticky directory open to
# everyone (/tmp) the kernel guards both, with fs.protected_symlinks and
# fs.protected_regular, and a wrapped program must meet those guards as
# the unwrapped one does.  Each test plays the attacker, nobody, who
# plants a link or a file in such a directory (one the test makes, like
# /tmp), and first shows its control: the same command unwrapped, and what
# the kernel does with it.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	# The victim who is not root: a user of the file's own.
	if [ "$(id -u)" = 0 ] && command -v useradd > /dev/null; then
		VICTIM="atomv$$"
		useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$VICTIM" &&
			export VICTIM VICTIM_GID="$(id -g "$VICTIM")" || VICTIM=""
	fi
}

teardown_file() {
	[ -z "${VICTIM:-}" ] || userdel "$VICTIM"
}

setup() {
	common_setup
	RESTORE=""
}

# The sysctls the test set, back as they were.
teardown() {
	local r
	for r in $RESTORE; do
		echo "${r#*=}" > "/proc/sys/fs/${r%%=*}"
	done
}

# kernel_rule NAME VALUE: fs.NAME is in force for the test: set to VALUE
# when it is 0 (teardown restores it); otherwise left as the machine has
# it.  With the rule off the kernel refuses nothing, and the test could
# show nothing.
kernel_rule() {
	local now
	now=$(cat "/proc/sys/fs/$1") || skip "no fs.$1 in this kernel"
	[ "$now" = 0 ] || return 0
	echo "$2" > "/proc/sys/fs/$1" 2> /dev/null ||
		skip "fs.$1 is 0 here and cannot be set: the kernel would refuse nothing"
	RESTORE="$RESTORE $1=$now"
}

# sticky_setup: s/, a directory like /tmp (root's, sticky, writable by
# everyone) in the test's directory, with both kernel rules in force, and
# the way down to it open to every user.
sticky_setup() {
	require_root "a link or a file of another user (nobody) in a sticky directory"
	kernel_rule protected_symlinks 1
	kernel_rule protected_regular 2
	local d="$BATS_TEST_TMPDIR"
	while [ -n "$d" ]; do
		chmod o+x "$d"
		[ "$d" != "$BATS_RUN_TMPDIR" ] || break
		d=${d%/*}
	done
	mkdir -m 1777 s
}

# plant OWNER NAME TARGET: a symlink s/NAME -> TARGET that OWNER planted.
plant() {
	ln -s "$3" "s/$2"
	chown -h "$1" "s/$2"
}

# theirs DIR/NAME: nobody's file, open to everyone (0666), holding "theirs".
theirs() {
	rm -f "$1"
	echo theirs > "$1"
	chown nobody:nogroup "$1"
	chmod 666 "$1"
}

# victim_setup: the user made by setup_file can run the launcher, reach
# s/ and write the library's log; its locks go to a runtime directory of
# its own.
victim_setup() {
	[ -n "${VICTIM:-}" ] || skip "no user could be made (useradd)"
	mkdir -m 700 vrun
	chown "$VICTIM" vrun "$LIBLOG"
	as victim test -x "$ATOMICALLY" -a -w s ||
		skip "the user $VICTIM cannot run $ATOMICALLY or reach $(T)/s"
}

# fresh_log WHO: an empty $LIBLOG, of WHO's (the library writes only a log
# file of the user it runs as).
fresh_log() {
	rm -f "$LIBLOG"
	: > "$LIBLOG"
	[ "$1" = root ] || chown "$VICTIM" "$LIBLOG"
}

# as WHO COMMAND...: COMMAND run by WHO: root (the test itself) or victim.
as() {
	local who=$1
	shift
	if [ "$who" = root ]; then
		"$@"
	else
		setpriv --reuid="$VICTIM" --regid="$VICTIM_GID" --clear-groups \
			env XDG_RUNTIME_DIR="$(T)/vrun" "$@"
	fi
}

# as_wrapped WHO COMMAND...: the same under the launcher, its debug
# messages in $LIBLOG.
as_wrapped() {
	local who=$1
	shift
	as "$who" env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$@"
}

# refused WHAT: the last command (its status in $st, its stderr in err)
# was refused with EACCES.
refused() {
	[ "$st" != 0 ] || fail "$1: it succeeded"
	grep -q 'Permission denied' err || fail "$1: not refused with EACCES: $(cat err)"
}

# assert_quiet: the library logged nothing but that it was loaded: the
# program's calls went to the kernel as they were.
assert_quiet() {
	! grep -v '^atomically: active in pid ' "$LIBLOG" ||
		fail "the library had more to say than that it was loaded"
}

# ---- fs.protected_symlinks ----------------------------------------------------

@test "protected_symlinks: nobody's link in a sticky directory to root's file; root's write through it is refused, as unwrapped (embedded default)" {
	sticky_setup
	echo precious > victim.json
	ino=$(inode victim.json)
	plant nobody report.json ../victim.json
	# The control: the kernel refuses root to follow it.
	st=0
	bash -c 'echo x > s/report.json' 2> err || st=$?
	refused "the control"
	assert_equal "$(cat victim.json)" precious

	no_config_anywhere
	st=0
	wrapped bash -c 'echo x > s/report.json' 2> err || st=$?
	assert_loaded bash
	refused "wrapped"
	assert_quiet
	assert_equal "$(cat victim.json)" precious
	assert_equal "$(inode victim.json)" "$ino"
	[ -L s/report.json ] || fail "the link is gone"
	assert_no_temps .
}

@test "protected_symlinks: the same under -p '**', for a file no default rule names" {
	sticky_setup
	echo precious > important
	plant nobody report ../important
	st=0
	bash -c 'echo x > s/report' 2> err || st=$?
	refused "the control"

	st=0
	wrapped -p '**' bash -c 'echo x > s/report' 2> err || st=$?
	assert_loaded bash
	refused "wrapped"
	assert_equal "$(cat important)" precious
	assert_no_temps .
}

@test "protected_symlinks: every link of a chain is judged in its own directory (root's own link to nobody's)" {
	sticky_setup
	echo precious > victim.json
	plant nobody b.json ../victim.json
	ln -s b.json s/a.json           # root's own: followed
	st=0
	bash -c 'echo x > s/a.json' 2> err || st=$?
	refused "the control"

	st=0
	wrapped -p '**' bash -c 'echo x > s/a.json' 2> err || st=$?
	assert_loaded bash
	refused "wrapped"
	assert_equal "$(cat victim.json)" precious
	assert_no_temps .
}

@test "protected_symlinks: a dangling link of nobody's creates no file where it points" {
	sticky_setup
	plant nobody new.json ../created.json
	st=0
	bash -c 'echo x > s/new.json' 2> err || st=$?
	refused "the control"
	[ ! -e created.json ] || fail "the control: the kernel created it"

	no_config_anywhere
	st=0
	wrapped bash -c 'echo x > s/new.json' 2> err || st=$?
	assert_loaded bash
	refused "wrapped"
	[ ! -e created.json ] || fail "a file was created where nobody's link points: $(ls -l created.json)"
	assert_no_temps .
}

@test "protected_symlinks: root's own link, and a link of the directory's owner, are followed, and the write is atomic" {
	sticky_setup
	echo old > mine.json
	ln -s ../mine.json s/mine.json
	# A sticky directory of nobody's, with nobody's link in it.
	mkdir -m 1777 t
	chown nobody t
	echo old > dirowner.json
	ln -s ../dirowner.json t/link.json
	chown -h nobody t/link.json
	# The control: the kernel lets root follow both.
	bash -c 'echo plain > s/mine.json; echo plain > t/link.json'
	assert_equal "$(cat mine.json)" plain
	assert_equal "$(cat dirowner.json)" plain

	m=$(inode mine.json)
	d=$(inode dirowner.json)
	run wrapped bash -c 'echo new > s/mine.json; echo new > t/link.json'
	assert_success
	assert_loaded bash
	assert_equal "$(cat mine.json)" new
	assert_equal "$(cat dirowner.json)" new
	[ "$(inode mine.json)" != "$m" ] || fail "mine.json was written in place"
	[ "$(inode dirowner.json)" != "$d" ] || fail "dirowner.json was written in place"
	assert_commits mine.json 1
	assert_commits link.json 1
	[ -L s/mine.json ] && [ -L t/link.json ] || fail "a link is no longer a link"
}

# ---- fs.protected_regular, and other users' files in sticky directories -------

@test "protected_regular: nobody's file in a sticky directory; root's O_CREAT write is refused, as unwrapped (world- and group-writable)" {
	sticky_setup
	modes=1777
	[ "$(cat /proc/sys/fs/protected_regular)" -lt 2 ] || modes="1777 1770"
	no_config_anywhere
	for mode in $modes; do
		mkdir -m "$mode" "d$mode"
		theirs "d$mode/data.json"
		ino=$(inode "d$mode/data.json")
		st=0
		bash -c 'echo x > "$0"' "d$mode/data.json" 2> err || st=$?
		refused "the control ($mode)"

		st=0
		wrapped bash -c 'echo x > "$0"' "d$mode/data.json" 2> err || st=$?
		assert_loaded bash
		refused "wrapped ($mode)"
		assert_quiet
		assert_equal "$(cat "d$mode/data.json")" theirs
		assert_equal "$(inode "d$mode/data.json")" "$ino"
		assert_equal "$(stat -c %U "d$mode/data.json")" nobody
		assert_no_temps "d$mode"
	done
}

@test "protected_regular: the same for a victim who is not root (before, the rename failed and the write went into nobody's file)" {
	sticky_setup
	victim_setup
	theirs s/data.json
	st=0
	as victim bash -c 'echo x > s/data.json' 2> err || st=$?
	refused "the control"

	no_config_anywhere
	st=0
	as_wrapped victim bash -c 'echo x > s/data.json' 2> err || st=$?
	assert_loaded bash
	refused "wrapped"
	assert_quiet
	assert_equal "$(cat s/data.json)" theirs
	assert_no_temps s
}

@test "another user's file in a sticky directory, opened without O_CREAT, is written in place, as unwrapped: same inode, same owner, nothing to say (root, and a victim who is not root)" {
	sticky_setup
	victim_setup
	no_config_anywhere
	py='import sys; f = open(sys.argv[1], "r+"); f.write("mine\n"); f.truncate(); f.close()'
	for who in root victim; do
		theirs s/data.json
		ino=$(inode s/data.json)
		as "$who" /usr/bin/python3 -c "$py" s/data.json
		assert_equal "$(cat s/data.json)" mine
		assert_equal "$(inode s/data.json)" "$ino"

		theirs s/data.json
		ino=$(inode s/data.json)
		fresh_log "$who"
		as_wrapped "$who" /usr/bin/python3 -c "$py" s/data.json
		assert_loaded 'python3[.0-9]*'
		assert_equal "$(cat s/data.json)" mine
		assert_equal "$(inode s/data.json)" "$ino"
		assert_equal "$(stat -c %U s/data.json)" nobody
		assert_quiet
		assert_no_temps s
	done
}

@test "the directory owner's file in a sticky directory, written by another user, is written in place, as unwrapped (no rename refused, nothing to say)" {
	sticky_setup
	victim_setup
	no_config_anywhere
	for run in plain wrapped; do
		rm -f s/shared.json
		echo old > s/shared.json
		chmod 666 s/shared.json
		ino=$(inode s/shared.json)
		fresh_log victim
		if [ "$run" = plain ]; then
			as victim bash -c 'echo mine > s/shared.json'
		else
			as_wrapped victim bash -c 'echo mine > s/shared.json'
			assert_loaded bash
			assert_quiet
		fi
		assert_equal "$(cat s/shared.json)" mine
		assert_equal "$(inode s/shared.json)" "$ino"
		assert_equal "$(stat -c %U s/shared.json)" root
	done
}

# outcome WHO PRELUDE COMMAND...: run COMMAND as WHO (PRELUDE: "" or
# as_wrapped) on a fresh s/data.json of nobody's, and say what came of it:
# the exit status, the content, the owner, and whether the name still
# holds the same file (the file is kept open meanwhile, so that its inode
# number cannot come back).
outcome() {
	local who=$1 prelude=$2 st=0 same=new
	shift 2
	theirs s/data.json
	exec 7< s/data.json
	${prelude:-as} "$who" "$@" > /dev/null 2>&1 7<&- || st=$?
	[ "$(inode s/data.json 2> /dev/null)" != "$(stat -L -c %i /proc/self/fd/7)" ] || same=same
	exec 7<&-
	printf 'status %s, content %s, owner %s, inode %s\n' "$st" \
		"$(cat s/data.json 2> /dev/null || echo '(none)')" \
		"$(stat -c %U s/data.json 2> /dev/null || echo '(none)')" "$same"
}

@test "real programs on another user's file in a sticky directory: python3, tee, cp, install, rm give what they give unwrapped (root, and a victim who is not root)" {
	sticky_setup
	victim_setup
	no_config_anywhere
	echo mine > src.txt
	chmod 644 src.txt
	local -a cmds=(
		"/usr/bin/python3 -c open('s/data.json','w').write('mine')"
		"tee s/data.json"
		"cp src.txt s/data.json"
		"install -m 644 src.txt s/data.json"
		"rm s/data.json"
	)
	for who in root victim; do
		for c in "${cmds[@]}"; do
			read -ra argv <<< "$c"
			plain=$(outcome "$who" "" "${argv[@]}" < src.txt)
			fresh_log "$who"
			wrapped=$(outcome "$who" as_wrapped "${argv[@]}" < src.txt)
			assert_loaded "${argv[0]##*/}[.0-9]*"
			assert_quiet
			[ "$plain" = "$wrapped" ] ||
				fail "$who: $c: unwrapped: $plain; wrapped: $wrapped; the log: $(cat "$LIBLOG")"
		done
	done
}

# blocked_on_lock: some process waits for a lock file under $LOCKS (its
# request is in /proc/locks, behind the holder's).
blocked_on_lock() {
	local ino
	for ino in $(find "$LOCKS" -type f -printf '%i\n'); do
		grep -Eq -- "-> .*:$ino " /proc/locks && return 0
	done
	return 1
}

@test "protected_regular: nobody's file planted while the write waited for its lock is not replaced; the program's own open meets the kernel's rule" {
	sticky_setup
	printf 'path "*.json" { lock_timeout = -1 }\n' > "$CONF"
	theirs s/race.json
	st=0
	bash -c 'echo x > s/race.json' 2> err || st=$?
	refused "the control"
	rm s/race.json

	# A writer holds the lock of the name, which no file holds yet; a
	# second one, past its look at the name, waits for the lock.
	# (The launcher itself, not a subshell: its child dies with it.)
	ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$WRITER" open s/race.json first 2 10000 &
	holder=$!
	wait_for_temp s
	(st=0; wrapped bash -c 'echo x > s/race.json' 2> err || st=$?; echo "$st" > st) &
	second=$!
	for ((i = 0; i < 50; i++)); do
		blocked_on_lock && break
		sleep 0.1
	done
	blocked_on_lock || fail "the second writer never waited for the lock"
	# nobody plants a file there, and the holder dies (commits nothing).
	theirs s/race.json
	kill -9 "$holder"
	wait "$holder" || true
	wait "$second"
	assert_loaded writer
	assert_loaded bash
	st=$(cat st)
	refused "wrapped: $(cat "$LIBLOG")"
	assert_equal "$(cat s/race.json)" theirs
	assert_equal "$(stat -c %U s/race.json)" nobody
}
