# sessionrename.bats - commit = "session": a rename of a file the session
# keeps AWAY (mv f.json g.json) is pending like its writes: the tree sees
# g.json with f.json's content and no f.json at once; everyone else sees
# nothing change until COMMAND exits 0, and then both at once; a failed
# COMMAND leaves both as they were.

load helpers

setup() {
	common_setup
	find_python
	printf 'path "*.json" { commit = "session" }\n' > "$CONF"
}

# session_paused SCRIPT: run SCRIPT under the launcher in the background
# ($SESSION its pid); once SCRIPT has run, it says so (the file
# "ready") and waits for the file "go" before the session ends.
session_paused() {
	wrapped sh -c "$1"'
		: > ready
		while [ ! -e go ]; do sleep 0.05; done' &
	SESSION=$!
	wait_for_file ready
}

# session_end: let the paused session end; its status into $status.
session_end() {
	: > go
	status=0
	wait "$SESSION" || status=$?
}

@test "session rename away: mv f.json g.json moves the pending content for the tree at once, for the others at the commit" {
	# The control: without the library, an outsider sees the move at once.
	echo old > f.json
	sh -c 'echo new > f.json && mv f.json g.json'
	assert_file_not_exists f.json
	assert_equal "$(cat g.json)" new
	rm g.json

	echo old > f.json
	session_paused 'echo new > f.json && mv f.json g.json && cat g.json && ! test -e f.json && echo inside-ok > seen'
	assert_equal "$(cat seen)" inside-ok
	# While the session runs, outside: the old f.json, no g.json.
	assert_equal "$(cat f.json)" old
	assert_file_not_exists g.json
	session_end
	assert_equal "$status" 0
	assert_equal "$(cat g.json)" new
	assert_file_not_exists f.json
	grep -q "f.json: removed (with its session)" "$LIBLOG" || fail "no removal: $(cat "$LIBLOG")"
	assert_no_temps
}

@test "session rename away: the command fails after the mv: f.json stays old, no g.json, its status kept" {
	echo old > f.json
	run wrapped sh -c 'echo new > f.json && mv f.json g.json && cat g.json && ! test -e f.json && exit 3'
	assert_failure 3
	assert_output new
	assert_equal "$(cat f.json)" old
	assert_file_not_exists g.json
	assert_no_temps
}

@test "session rename away: a file with nothing pending is moved as a copy, not a link: an append to g.json in the session leaves the outsider's f.json as it was" {
	echo old > f.json
	chmod 640 f.json
	local ino
	ino=$(inode f.json)
	session_paused 'mv f.json g.json && echo x >> g.json && cat g.json > seen && ! test -e f.json'
	assert_equal "$(cat seen)" "old
x"
	# A hard link would have let the append through to the old inode.
	assert_equal "$(cat f.json)" old
	assert_equal "$(inode f.json)" "$ino"
	assert_equal "$(stat -c %s f.json)" 4
	assert_file_not_exists g.json
	session_end
	assert_equal "$status" 0
	assert_equal "$(cat g.json)" "old
x"
	# The mode moves with the file, as a rename keeps it.
	assert_equal "$(stat -c %a g.json)" 640
	assert_file_not_exists f.json
	assert_no_temps
}

@test "session rename away: python's os.replace of a session file over another, and os.rename, pending until the end" {
	echo old > f.json
	echo other > g.json
	echo third > h.json
	session_paused "$PY"' -c "
import os
open(\"f.json\", \"w\").write(\"new\\n\")
os.replace(\"f.json\", \"g.json\")
os.rename(\"h.json\", \"i.json\")
print(open(\"g.json\").read().strip(), os.path.exists(\"f.json\"),
      open(\"i.json\").read().strip(), os.path.exists(\"h.json\"))
" > seen'
	assert_equal "$(cat seen)" "new False third False"
	assert_equal "$(cat f.json)" old
	assert_equal "$(cat g.json)" other
	assert_equal "$(cat h.json)" third
	assert_file_not_exists i.json
	session_end
	assert_equal "$status" 0
	assert_file_not_exists f.json
	assert_file_not_exists h.json
	assert_equal "$(cat g.json)" new
	assert_equal "$(cat i.json)" third
	assert_no_temps
}

@test "session rename away: mv's RENAME_NOREPLACE judges the tree's view: a g.json the session made counts, one it deleted does not" {
	echo old > f.json
	# g.json exists only in the session: mv must replace it (its first
	# try, RENAME_NOREPLACE, fails with EEXIST, then it renames over).
	run wrapped sh -c 'echo pending > g.json && mv f.json g.json && cat g.json'
	assert_success
	assert_output old
	assert_equal "$(cat g.json)" old
	assert_file_not_exists f.json
	# With mv -n (no clobber), a g.json the session made stops it.
	echo old > f.json
	rm g.json
	run wrapped sh -c 'echo pending > g.json; mv -n f.json g.json; cat g.json; test -e f.json && echo f-kept'
	assert_line pending
	assert_line f-kept
	assert_equal "$(cat f.json)" old
	assert_equal "$(cat g.json)" pending
	# A g.json the session deleted is not there for mv -n: it moves.
	run wrapped sh -c 'rm g.json; mv -n f.json g.json; cat g.json'
	assert_success
	assert_output old
	assert_equal "$(cat g.json)" old
	assert_file_not_exists f.json
}

@test "session rename away: descriptors of f.json still open write what g.json becomes, as after a real rename" {
	echo old > f.json
	run wrapped sh -c 'exec 3>> f.json; mv f.json g.json; echo more >&3; exec 3>&-; cat g.json'
	assert_success
	assert_output "old
more"
	assert_equal "$(cat g.json)" "old
more"
	assert_file_not_exists f.json
}

@test "session rename away: to a path no session rule keeps, the destination is written at once and the source's removal waits" {
	echo old > f.json
	session_paused 'echo new > f.json && mv f.json f.bak && cat f.bak > seen && ! test -e f.json'
	assert_equal "$(cat seen)" new
	# f.bak is no session file: there at once; f.json stays until the end.
	assert_equal "$(cat f.bak)" new
	assert_equal "$(cat f.json)" old
	session_end
	assert_equal "$status" 0
	assert_file_not_exists f.json
	assert_equal "$(cat f.bak)" new
	# A failed command leaves the source; the destination was never the
	# session's: a copy too many, nothing lost.
	rm f.bak
	echo old > f.json
	run wrapped sh -c 'mv f.json f.bak; exit 1'
	assert_failure 1
	assert_equal "$(cat f.json)" old
	assert_equal "$(cat f.bak)" old
	assert_no_temps
}

@test "session rename away: killed at each step of the commit: all old or all new after --clean" {
	command -v strace > /dev/null || skip "strace is missing (Debian: strace)"
	printf 'path "*.json" { commit = "session"\n durability = "full" }\n' > "$CONF"
	mkdir d
	# state: "old", "new", or a mix, of the four files.
	state() {
		local s=""
		[ "$(cat d/f1.json 2> /dev/null)" = old ] && [ ! -e d/g1.json ] && s="${s}o" || true
		[ ! -e d/f1.json ] && [ "$(cat d/g1.json 2> /dev/null)" = new ] && s="${s}n" || true
		[ "$(cat d/f2.json 2> /dev/null)" = old2 ] && [ ! -e d/g2.json ] && s="${s}o" || true
		[ ! -e d/f2.json ] && [ "$(cat d/g2.json 2> /dev/null)" = old2 ] && s="${s}n" || true
		case $s in oo) echo old ;; nn) echo new ;; *) echo "mix($s)" ;; esac
	}
	olds() {
		rm -f d/*.json
		echo old > d/f1.json
		echo old2 > d/f2.json
	}
	# The control: the same moves without the library, killed between
	# them: a mix.
	olds
	sh -c 'cd d && echo new > f1.json && mv f1.json g1.json && kill -KILL $$; mv f2.json g2.json' || true
	[[ "$(state)" == mix* ]] || fail "the control left no mix: $(state)"

	local old=0 new=0 completed=0 step s
	# The supervisor's main thread at the commit: linkat names the
	# journal, the first renameat puts it in place (the commit point),
	# the next one renames g1's temp, the unlinkats remove f1 and f2.
	for step in linkat:1 renameat:1 renameat:2 renameat:3 unlinkat:1 unlinkat:2; do
		olds
		strace -f -o /dev/null -e trace="${step%:*}" -e inject="${step%:*}:signal=KILL:when=${step#*:}" \
			"$ATOMICALLY" sh -c 'cd d && echo new > f1.json && mv f1.json g1.json && mv f2.json g2.json' 2> /dev/null || true
		run "$ATOMICALLY" --clean d
		assert_success
		[[ "$output" != *completed* ]] || completed=$((completed + 1))
		s=$(state)
		case $s in
		old) old=$((old + 1)) ;;
		new) new=$((new + 1)) ;;
		*) fail "killed at $step: $s" ;;
		esac
		[ -z "$(find d -name '.*')" ] || fail "killed at $step: left behind: $(find d -name '.*')"
	done
	echo "# old=$old new=$new completed-by-clean=$completed" >&3
	[ "$old" -gt 0 ] && [ "$completed" -gt 0 ] || fail "the kills did not fall on both sides of the commit point"
}
