#!/usr/bin/env bats
# clean.bats - `atomically --clean [-n] DIR...` (SPEC section 4): removes
# the named temps (.NAME.atomically.PID.RANDOM) whose writer is dead, in
# DIR and below, and names each; never one whose writer lives; -n only
# reports.  Nothing else is touched: not a look-alike, not a symlink, not
# a directory, nothing behind a symlink or on another mount.

bats_require_minimum_version 1.5.0
load helpers

# No process has this pid: the kernel gives pids below PID_MAX_LIMIT,
# which is 4194304 (and pid_max is at most that).
GONE=4194304

setup() {
	common_setup
	MOUNTS=()
}

teardown() {
	[ -z "${LIVE:-}" ] || kill "$LIVE" 2> /dev/null || true
	local m
	for m in "${MOUNTS[@]}"; do
		umount -l "$m" 2> /dev/null || true
	done
}

# killed_writer PATH: a writer of PATH (holding "old") killed by strace on
# entering the rename of its commit, after its temp got a name: a real
# leftover, whose path (beside PATH) is then in DEAD.
killed_writer() {
	local dir=${1%/*} base=${1##*/}
	echo old > "$1"
	run strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:error=EIO:signal=SIGKILL:when=1 \
		env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$WRITER" open "$1" dead
	assert_equal "$status" 137
	assert_loaded writer
	assert_equal "$(cat "$1")" old
	# The temp's name holds the target's name cut to NAME_MAX - 40.
	DEAD=$(compgen -G "$dir/.${base:0:215}.atomically.*") ||
		fail "no named temp was left by the killed writer of $1: $(ls -A "$dir")"
}

# pid_of TEMP: the writer's pid in the name of TEMP.
pid_of() {
	local p=${1%.*}
	printf '%s' "${p##*.}"
}

@test "--clean removes the temps of killed writers in DIR and below, one line each, and exits 0" {
	mkdir -p conf/app
	killed_writer ./f.yaml
	local top=$DEAD
	killed_writer ./conf/app/g.json
	local deep=$DEAD
	run --separate-stderr "$ATOMICALLY" --clean .
	assert_success
	[ -z "$stderr" ] || fail "stderr: $stderr"
	assert_equal "${#lines[@]}" 2
	assert_line "removed $top (pid $(pid_of "$top") is gone)"
	assert_line "removed $deep (pid $(pid_of "$deep") is gone)"
	assert_file_not_exists "$top"
	assert_file_not_exists "$deep"
	# The targets are untouched.
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(cat conf/app/g.json)" old
	# Nothing left: nothing said.
	run --separate-stderr "$ATOMICALLY" --clean .
	assert_success
	assert_output ""
	[ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "-n removes nothing and reports what --clean then removes" {
	mkdir -p a/b
	killed_writer ./a/f.yaml
	killed_writer ./a/b/g.yaml
	touch "a/b/.h.json.atomically.$GONE.0a1b2c"
	local before
	before=$(cd a && find . | sort)
	# An absolute DIR, with a trailing slash: the paths are DIR's.
	run --separate-stderr "$ATOMICALLY" --clean -n "$(T)/a/"
	assert_success
	[ -z "$stderr" ] || fail "stderr: $stderr"
	assert_equal "${#lines[@]}" 3
	assert_line "would remove $(T)/a/b/.h.json.atomically.$GONE.0a1b2c (pid $GONE is gone)"
	assert_equal "$(cd a && find . | sort)" "$before"
	local dry
	dry=$(sed 's/^would remove /removed /' <<< "$output" | sort)

	run "$ATOMICALLY" --clean --dry-run "$(T)/a/"
	assert_success
	assert_equal "$(cd a && find . | sort)" "$before"

	run "$ATOMICALLY" --clean "$(T)/a/"
	assert_success
	assert_equal "$(sort <<< "$output")" "$dry"
	assert_no_temps a
	assert_no_temps a/b
}

@test "a temp whose writer lives is kept (-v says so); once it is gone, --clean removes it" {
	mkdir -p deep/er
	sleep 60 &
	LIVE=$!
	local live="deep/er/.f.yaml.atomically.$LIVE.abcdef"
	echo "a live writer's" > "$live"
	killed_writer deep/f.yaml
	run --separate-stderr "$ATOMICALLY" --clean deep
	assert_success
	assert_output "removed $DEAD (pid $(pid_of "$DEAD") is gone)"
	assert_file_exists "$live"

	run "$ATOMICALLY" --clean -v -n deep
	assert_success
	assert_output "kept $live (pid $LIVE is alive)"
	run "$ATOMICALLY" --clean -v deep
	assert_success
	assert_output "kept $live (pid $LIVE is alive)"
	assert_file_exists "$live"

	local pid=$LIVE
	kill "$LIVE"
	wait "$LIVE" 2> /dev/null || true
	LIVE=
	run "$ATOMICALLY" --clean deep
	assert_success
	assert_output "removed $live (pid $pid is gone)"
	assert_file_not_exists "$live"
}

@test "names that only look like temps are left alone" {
	mkdir ws
	local n keep=(
		".f.yaml.atomically.$GONE.abcde"       # 5 hex digits
		".f.yaml.atomically.$GONE.abcdef0"     # 7
		".f.yaml.atomically.$GONE.ABCDEF"      # upper case
		".f.yaml.atomically.$GONE.abcdeg"      # not hex
		".f.yaml.atomically.12x.abcdef"        # not a pid
		".f.yaml.atomically..abcdef"           # no pid
		".f.yaml.atomically.99999999999.abcdef" # 11 digits
		"..atomically.$GONE.abcdef"            # no NAME
		"f.yaml.atomically.$GONE.abcdef"       # no leading dot
		".f.yaml.atomically.$GONE.abcdef~"     # a backup of one
		".f.yaml.atomic.$GONE.abcdef"
		".f.yaml.$GONE.abcdef"
		".f.yaml.lock"
	)
	for n in "${keep[@]}"; do
		echo keep > "ws/$n"
	done
	echo temp > "ws/.f.yaml.atomically.$GONE.abcdef"
	run --separate-stderr "$ATOMICALLY" --clean ws
	assert_success
	[ -z "$stderr" ] || fail "stderr: $stderr"
	assert_output "removed ws/.f.yaml.atomically.$GONE.abcdef (pid $GONE is gone)"
	for n in "${keep[@]}"; do
		assert_file_exists "ws/$n"
	done
}

@test "only regular files are removed: a symlink, a fifo, a directory named like a temp stay" {
	mkdir ws outside
	echo precious > outside/precious
	local link="ws/.l.yaml.atomically.$GONE.abcdef"
	local fifo="ws/.p.yaml.atomically.$GONE.abcdef"
	local dir="ws/.d.yaml.atomically.$GONE.abcdef"
	ln -s "$(T)/outside/precious" "$link"
	mkfifo "$fifo"
	mkdir "$dir"
	# A directory named like a temp is walked like any other.
	echo temp > "$dir/.in.yaml.atomically.$GONE.abcdef"
	run --separate-stderr "$ATOMICALLY" --clean ws
	assert_success
	[ -z "$stderr" ] || fail "stderr: $stderr"
	assert_output "removed $dir/.in.yaml.atomically.$GONE.abcdef (pid $GONE is gone)"
	[ -L "$link" ] || fail "the symlink named like a temp was removed"
	assert_equal "$(cat outside/precious)" precious
	[ -p "$fifo" ] || fail "the fifo named like a temp was removed"
	[ -d "$dir" ] || fail "the directory named like a temp was removed"
}

@test "symlinks below DIR are not followed; a DIR named on the command line is" {
	mkdir -p ws elsewhere
	echo temp > "elsewhere/.e.yaml.atomically.$GONE.abcdef"
	ln -s "$(T)/elsewhere" ws/link
	run --separate-stderr "$ATOMICALLY" --clean ws
	assert_success
	assert_output ""
	assert_file_exists "elsewhere/.e.yaml.atomically.$GONE.abcdef"

	# Named, the link is the user's choice.
	run "$ATOMICALLY" --clean ws/link
	assert_success
	assert_output "removed ws/link/.e.yaml.atomically.$GONE.abcdef (pid $GONE is gone)"
	assert_file_not_exists "elsewhere/.e.yaml.atomically.$GONE.abcdef"
}

@test "--clean does not cross into other mounts; a mount named as DIR is cleaned" {
	require_root "mounts a tmpfs and a bind mount"
	mkdir -p ws/tmp ws/bound elsewhere
	mount -t tmpfs tmpfs ws/tmp || skip "cannot mount a tmpfs here"
	MOUNTS+=("$(T)/ws/tmp")
	echo temp > "ws/.w.yaml.atomically.$GONE.abcdef"
	echo temp > "ws/tmp/.t.yaml.atomically.$GONE.abcdef"
	echo temp > "elsewhere/.b.yaml.atomically.$GONE.abcdef"
	# A bind mount of the same file system has the same device: only
	# the mount id (statx, Linux 5.8) tells it apart.
	local bind=
	if mount --bind elsewhere ws/bound; then
		MOUNTS+=("$(T)/ws/bound")
		bind=1
	fi
	run "$ATOMICALLY" --clean -n -v ws
	assert_success
	assert_line "skipped ws/tmp (another mount)"
	[ -z "$bind" ] || assert_line "skipped ws/bound (another mount)"

	run --separate-stderr "$ATOMICALLY" --clean ws
	assert_success
	assert_output "removed ws/.w.yaml.atomically.$GONE.abcdef (pid $GONE is gone)"
	assert_file_exists "ws/tmp/.t.yaml.atomically.$GONE.abcdef"
	assert_file_exists "elsewhere/.b.yaml.atomically.$GONE.abcdef"

	run "$ATOMICALLY" --clean ws/tmp
	assert_success
	assert_output "removed ws/tmp/.t.yaml.atomically.$GONE.abcdef (pid $GONE is gone)"
}

@test "a temp of a long name, cut short in the temp's name, is recognised" {
	local long
	long=$(printf 'n%.0s' {1..240}).yaml
	killed_writer "./$long"
	[[ "$DEAD" != *"$long"* ]] || fail "the name was not cut in the temp's: $DEAD"
	run "$ATOMICALLY" --clean .
	assert_success
	assert_output "removed $DEAD (pid $(pid_of "$DEAD") is gone)"
	assert_file_not_exists "$DEAD"
}

@test "a DIR that does not exist, or is a file: a message, exit 1; the other DIRs are cleaned" {
	mkdir ws
	echo temp > "ws/.f.yaml.atomically.$GONE.abcdef"
	echo data > plain.yaml
	run --separate-stderr "$ATOMICALLY" --clean nope plain.yaml ws
	assert_failure 1
	assert_output "removed ws/.f.yaml.atomically.$GONE.abcdef (pid $GONE is gone)"
	[[ "$stderr" == *"atomically: nope: No such file or directory"* ]] || fail "stderr: $stderr"
	[[ "$stderr" == *"atomically: plain.yaml: Not a directory"* ]] || fail "stderr: $stderr"
	assert_equal "$(cat plain.yaml)" data
}

@test "a temp that cannot be removed: a message, exit 1; the others are removed all the same" {
	mkdir ws
	echo temp > "ws/.a.yaml.atomically.$GONE.abcdef"
	echo temp > "ws/.b.yaml.atomically.$GONE.abcdef"
	# The first removal fails.
	run --separate-stderr strace -o /dev/null -e trace=unlinkat \
		-e inject=unlinkat:error=EACCES:when=1 "$ATOMICALLY" --clean ws
	assert_failure 1
	local left
	left=$(compgen -G "ws/.*.atomically.*") || fail "both temps were removed"
	[ "$(wc -l <<< "$left")" -eq 1 ] || fail "left: $left"
	[[ "$stderr" == "atomically: $left: cannot remove: Permission denied" ]] || fail "stderr: $stderr"
	assert_equal "${#lines[@]}" 1
	assert_line --regexp "^removed ws/\.[ab]\.yaml\.atomically\.$GONE\.abcdef \(pid $GONE is gone\)$"
	refute_line --partial "$left"
}

@test "a temp gone before its removal (another --clean was first) is no error" {
	mkdir ws
	echo temp > "ws/.a.yaml.atomically.$GONE.abcdef"
	run --separate-stderr strace -o /dev/null -e trace=unlinkat \
		-e inject=unlinkat:error=ENOENT "$ATOMICALLY" --clean ws
	assert_success
	assert_output ""
	[ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "a directory that cannot be read: a message, exit 1; the rest is cleaned" {
	mkdir -p ws/sub
	echo temp > "ws/.a.yaml.atomically.$GONE.abcdef"
	echo temp > "ws/sub/.b.yaml.atomically.$GONE.abcdef"
	# Each directory is read twice: once for journals (two reads: the
	# entries, then the end), then for temps, whose first read lists it
	# whole.  So reads 1-3 are ws's, 4-5 sub's journals, 6 sub's temps.
	run --separate-stderr strace -o /dev/null -e trace=getdents64 \
		-e inject=getdents64:error=EIO:when=6 "$ATOMICALLY" --clean ws
	assert_failure 1
	[[ "$stderr" == "atomically: ws/sub: cannot read: Input/output error" ]] || fail "stderr: $stderr"
	assert_output "removed ws/.a.yaml.atomically.$GONE.abcdef (pid $GONE is gone)"
	assert_file_exists "ws/sub/.b.yaml.atomically.$GONE.abcdef"
}

@test "-q: errors only" {
	mkdir ws
	echo temp > "ws/.a.yaml.atomically.$GONE.abcdef"
	run --separate-stderr "$ATOMICALLY" --clean -q ws nope
	assert_failure 1
	assert_output ""
	[[ "$stderr" == "atomically: nope: No such file or directory" ]] || fail "stderr: $stderr"
	assert_file_not_exists "ws/.a.yaml.atomically.$GONE.abcdef"
}

@test "under the library (a CI step after --env), a temp is gone when --clean says so" {
	mkdir ws
	local temp="ws/.a.yaml.atomically.$GONE.abcdef"
	echo temp > "$temp"
	run "$ATOMICALLY" --env -p '**'
	assert_success
	# The library is loaded into the launcher too, and stays inert there
	# (a plain process: it runs the core itself); active, it would hold
	# back the unlink of a matched file until the launcher's exit
	# (tombstone.c).  The launcher is made to pause after each line it
	# writes, and the reader looks then.
	(
		eval "$output"
		ATOMICALLY_LOG="debug:$LIBLOG" strace -o /dev/null -e trace=write \
			-e inject=write:delay_exit=500000 "$ATOMICALLY" --clean ws
	) | {
		read -r line
		echo "$line"
		[ -e "$temp" ] && echo "still there"
		cat > /dev/null
	} > seen
	grep -Eq '^atomically: inert in pid [0-9]+ \(atomically\): it runs the core itself' "$LIBLOG" ||
		fail "the library was not loaded (and inert) in the launcher; its log: $(cat "$LIBLOG")"
	assert_equal "$(cat seen)" "removed $temp (pid $GONE is gone)"
	assert_file_not_exists "$temp"
}

@test "--clean reads no config: a broken one does not stop it" {
	printf 'path "*.yaml" {\n' > "$CONF"
	mkdir ws
	echo temp > "ws/.a.yaml.atomically.$GONE.abcdef"
	run --separate-stderr "$ATOMICALLY" --clean ws
	assert_success
	assert_output "removed ws/.a.yaml.atomically.$GONE.abcdef (pid $GONE is gone)"
	[ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "usage errors exit 125 and remove nothing" {
	mkdir ws
	local temp="ws/.a.yaml.atomically.$GONE.abcdef"
	echo temp > "$temp"

	run --separate-stderr "$ATOMICALLY" --clean
	assert_failure 125
	[[ "$stderr" == *"--clean needs a DIR"* ]] || fail "stderr: $stderr"

	run --separate-stderr "$ATOMICALLY" -n true
	assert_failure 125
	[[ "$stderr" == *"-n goes with --clean only"* ]] || fail "stderr: $stderr"

	# The config plays no part: saying otherwise is a mistake.
	run --separate-stderr "$ATOMICALLY" -p '*.yaml' --clean ws
	assert_failure 125
	[[ "$stderr" == *"--clean takes no -c or -p"* ]] || fail "stderr: $stderr"
	run --separate-stderr "$ATOMICALLY" -c "$CONF" --clean ws
	assert_failure 125

	# A -n after a DIR would be a DIR, and the others cleaned for real.
	run --separate-stderr "$ATOMICALLY" --clean ws -n
	assert_failure 125
	[[ "$stderr" == *"-n: options go before the first DIR"* ]] || fail "stderr: $stderr"
	assert_output ""
	assert_file_exists "$temp"

	# After --, it is a DIR.
	mkdir ./-n
	run --separate-stderr "$ATOMICALLY" --clean -- -n ws
	assert_success
	assert_output "removed $temp (pid $GONE is gone)"
}
