# sessioncommit.bats - commit = "session" (SPEC section 5): the files the
# whole tree of COMMAND writes stay pending until COMMAND exits; inside
# the session the pending file is the file, across processes; COMMAND's
# exit 0 commits them all, all or nothing, even across a crash; its
# failure leaves every target as it was.

load helpers
load powerfs

setup() {
	common_setup
	find_python
	printf 'path "*.txt" { commit = "session" }\npath "f.json" { commit = "session" lock = "session" }\n' > "$CONF"
	LOOPS="$BATS_TEST_TMPDIR/.loops"
	: > "$LOOPS"
}

teardown() {
	power_fs_teardown
}

# olds N DIR: DIR/f1.txt .. fN.txt hold "old".
olds() {
	for i in $(seq "$1"); do echo old > "$2/f$i.txt"; done
}

# count_new N DIR: how many of DIR/f1.txt .. fN.txt hold "new"; fails
# when one holds anything but "old" or "new".
count_new() {
	local n=0 c
	for i in $(seq "$1"); do
		c=$(cat "$2/f$i.txt")
		case $c in
		new) n=$((n + 1)) ;;
		old) ;;
		*) echo "f$i.txt holds '$c'" >&2; return 1 ;;
		esac
	done
	echo "$n"
}


# clean_as_said DIR: `--clean -n DIR`, then `--clean DIR`.  The first
# changes nothing, and says "would complete" exactly when the second
# completes a session's commit; COMPLETED: 1 when it did, else 0.
clean_as_said() {
	local before would
	before=$(ls -a "$1" | md5sum)
	run "$ATOMICALLY" --clean -n "$1"
	assert_success
	would=$output
	[ "$(ls -a "$1" | md5sum)" = "$before" ] || fail "--clean -n changed $1"
	run "$ATOMICALLY" --clean "$1"
	assert_success
	COMPLETED=0
	[[ "$output" != *completed* ]] || COMPLETED=1
	if [ "$COMPLETED" = 1 ]; then
		[[ "$would" == *"would complete the session commit"* ]] ||
			fail "-n did not say the commit would be completed: $would"
	else
		[[ "$would" != *"would complete"* ]] || fail "-n said: $would"
	fi
}

@test "commit = session: a three-file command that fails at its end leaves the three files old" {
	for f in a b c; do echo old > $f.txt; done
	local before
	before=$(inode a.txt)
	run wrapped sh -c 'echo new > a.txt; echo new > b.txt; echo new > c.txt; cat a.txt; exit 3'
	assert_failure 3
	assert_line new
	grep -q "sh exited with status 3: the session's files were not committed, and stay as they were: .*a.txt" "$LIBLOG" ||
		fail "no line naming the files: $(cat "$LIBLOG")"
	for f in a b c; do assert_equal "$(cat $f.txt)" old; done
	assert_equal "$(inode a.txt)" "$before"
	assert_no_temps
}

@test "commit = session: killed by a signal, the command commits nothing" {
	for f in a b c; do echo old > $f.txt; done
	run wrapped sh -c 'echo new > a.txt; echo new > b.txt; kill -KILL $$'
	assert_failure 137
	for f in a b; do assert_equal "$(cat $f.txt)" old; done
	assert_no_temps
}

@test "commit = session: a three-file command that succeeds commits all three; its later processes read the pending content" {
	for f in a b c; do echo old > $f.txt; done
	# Another process of the tree reads, appends, stats; outside the
	# session the files stay old until the end.
	run wrapped sh -c 'echo new > a.txt; printf new > b.txt; echo more >> b.txt
		echo new > c.txt
		cat a.txt b.txt; stat -c "size %s" b.txt
		'"$PY"' -c "print(open(\"c.txt\").read().strip())"
		env -u LD_PRELOAD cat a.txt'
	assert_success
	assert_equal "$output" "new
newmore
size 8
new
old"
	assert_equal "$(cat a.txt)" new
	assert_equal "$(cat b.txt)" newmore
	assert_equal "$(cat c.txt)" new
	assert_no_temps
}

@test "commit = session: jq '.n += 1' f.json > tmp && mv tmp f.json, 16 steps x 5, keeps all 80; a failed step renames nothing" {
	local cmd='jq ".n += 1" f.json > tmp.$$ && mv tmp.$$ f.json'
	echo '{"n": 0}' > f.json
	for j in $(seq 16); do
		(for i in $(seq 5); do sh -c "$cmd"; done) &
	done
	wait
	local control
	control=$(jq .n f.json)
	[ "$control" -lt 80 ] || fail "the control kept every increment ($control)"

	echo '{"n": 0}' > f.json
	for j in $(seq 16); do
		(for i in $(seq 5); do "$ATOMICALLY" sh -c "$cmd"; done) &
	done
	wait
	assert_equal "$(jq .n f.json)" 80
	# Inside the session, the renamed file is the file; a failure drops
	# the rename with the rest.
	run "$ATOMICALLY" sh -c "$cmd && jq -c . f.json && exit 1"
	assert_failure 1
	assert_line '{"n":81}'
	assert_equal "$(jq .n f.json)" 80
	assert_no_temps
	run ls tmp.*
	assert_failure
}

@test "commit = session: 16 processes x 16 threads of one session write one file; outside, it stays old until the end" {
	"$PY" -c 'open("out.txt", "w").write(("Z" * 1023 + "\n") * 64)'
	# The reader stops at the first read it began after COMMAND's end
	# ("done", made by COMMAND itself, before the commit).
	cat > r.py <<'PY'
import os
seen = set()
while True:
    ended = os.path.exists("done")
    with open("out.txt") as f:
        if ended:
            break
        seen.add(f.read()[:1])
print("".join(sorted(seen)))
PY
	"$PY" r.py > seen &
	local reader=$!
	run "$ATOMICALLY" sh -c 'for p in A B C D E F G H I J K L M N O P; do "$0" "$1" out.txt $p 10 & done; wait; : > done' "$PY" "$TOP/tests/helpers/thread_rewriter.py"
	wait "$reader"
	assert_success
	assert_equal "$(cat seen)" Z
	run "$PY" -c 'lines = open("out.txt").read().split("\n")[:-1]; assert len(lines) == 64 and len(set(lines)) == 1 and lines[0][0] != "Z", lines[0][:3]'
	assert_success
	assert_no_temps
}

@test "commit = session: the session's supervisor killed SESSION_KILLS (20) times during a 50-file commit: all old or all new after --clean, no temp" {
	printf 'path "*.txt" { commit = "session"\n durability = "full" }\n' > "$CONF"
	mkdir d
	# The control: the same writes without the library, killed at
	# random: a mix of old and new files.
	local mixed=0 t n
	for t in $(seq 20); do
		olds 50 d
		sh -c 'cd d && for i in $(seq 50); do echo new > f$i.txt; done' &
		sleep "0.00$((RANDOM % 10))"
		kill -KILL $! 2> /dev/null || true
		wait $! 2> /dev/null || true
		n=$(count_new 50 d) || n=torn
		case $n in 0|50) ;; *) mixed=$((mixed + 1)); break ;; esac
	done
	[ "$mixed" -gt 0 ] || fail "the control never left a mix: the kill was not during the writes"

	# 40 in make check (each trial is a fifty-file session and its
	# fsyncs: 100 took three of CI's twenty minutes), 100 in make
	# check-long.
	local old=0 new=0 completed=0 delay
	for t in $(seq "${SESSION_KILLS:-20}"); do
		olds 50 d
		rm -f d/written
		"$ATOMICALLY" sh -c 'cd d && for i in $(seq 50); do echo new > f$i.txt; done; : > written' 2> /dev/null &
		local session=$!
		# COMMAND is done when d/written appears: the commit follows.
		for i in $(seq 1000); do [ -e d/written ] && break; sleep 0.002; done
		delay=$((RANDOM % 30))
		sleep "0.0$(printf %02d $delay)"
		kill -KILL "$session" 2> /dev/null || true
		wait "$session" 2> /dev/null || true
		clean_as_said d
		completed=$((completed + COMPLETED))
		n=$(count_new 50 d) || fail "trial $t: a torn file"
		case $n in
		0) old=$((old + 1)) ;;
		50) new=$((new + 1)) ;;
		*) fail "trial $t (killed $delay ms after COMMAND): $n of 50 files new" ;;
		esac
		left=$(find d -name '.*' -newer "$CONF" | head -n 3)
		[ -z "$left" ] || fail "trial $t: left behind: $left"
	done
	# Where the kills fell depends on the machine's load; the test of
	# chosen steps below makes sure of both sides of the commit point.
	echo "# old=$old new=$new completed-by-clean=$completed" >&3
}

@test "commit = session: after its supervisor is killed, a process of the session commits nothing on its own" {
	echo old > a.txt
	echo old > b.txt
	# The shell writes a.txt, then waits; the supervisor is killed; the
	# shell (had the keeper not killed it) would write b.txt.  Neither may
	# be committed.
	"$ATOMICALLY" sh -c 'echo new > a.txt; : > ready; sleep 72; echo new > b.txt' &
	local session=$!
	wait_for_file ready
	kill -KILL "$session"
	wait "$session" || true
	sleep 0.3
	assert_equal "$(cat a.txt)" old
	assert_equal "$(cat b.txt)" old
	run pgrep -f "sleep 72"
	assert_failure
}

@test "commit = session: power lost during a 50-file commit (ext4, durability full): all old or all new after recovery" {
	require_root "loop-mounts a file system image and shuts it down"
	command -v xfs_io > /dev/null || skip "xfs_io is missing (Debian: xfsprogs)"
	command -v strace > /dev/null || skip "strace is missing (Debian: strace)"
	make_fs ext4
	printf 'path "*.txt" { commit = "session"\n durability = "full" }\n' > "$CONF"
	local trials=${POWER_TRIALS:-4} t n delay old=0 new=0
	for ((t = 0; t < trials; t++)); do
		olds 50 mnt
		sync -f mnt
		rm -f written
		"$ATOMICALLY" sh -c 'for i in $(seq 50); do echo new > mnt/f$i.txt; done; : > written' 2> /dev/null &
		local session=$!
		for i in $(seq 400); do [ -e written ] && break; sleep 0.002; done
		delay=$((RANDOM % 20))
		sleep "0.0$(printf %02d $delay)"
		shut_down
		wait "$session" 2> /dev/null || true
		power_back
		run "$ATOMICALLY" --clean mnt
		n=$(count_new 50 mnt) || fail "trial $t: a torn file"
		case $n in
		0) old=$((old + 1)) ;;
		50) new=$((new + 1)) ;;
		*) fail "trial $t (cut $delay ms after COMMAND): $n of 50 files new" ;;
		esac
		assert_no_temps mnt
	done
	echo "# power cut: old=$old new=$new" >&3

	# The control: the same writes without the library, then another
	# program's fsync (it commits ext4's journal: the truncations, not the
	# data), then the power cut: emptied files.
	local bad=0
	for ((t = 0; t < 4 && bad == 0; t++)); do
		olds 50 mnt
		sync -f mnt
		sh -c 'for i in $(seq 50); do echo new > mnt/f$i.txt; done'
		dd if=/dev/zero of=mnt/other.dat bs=4k count=1 conv=fsync status=none
		shut_down
		power_back
		n=$(count_new 50 mnt 2> /dev/null) || n=torn
		case $n in 0|50) ;; *) bad=1 ;; esac
	done
	[ "$bad" = 1 ] || fail "the control never lost a file"
}

@test "commit = session: a journal another user planted is not completed by --clean" {
	require_root "makes a file of another user"
	mkdir -m 1777 shared
	echo old > shared/t.txt
	local pid
	pid=$(sh -c 'echo $$')
	# plant JOURNAL-OWNER: a dead pid's temp of t.txt, and a journal
	# that says to rename it over t.txt, the journal owned by the user.
	plant() {
		echo planted > "shared/.t.txt.atomically.$pid.abcdef"
		"$PY" - "$BATS_TEST_TMPDIR/shared" ".t.txt.atomically.$pid.abcdef" t.txt > "shared/.atomically-journal.$pid.0123456789abcdef" <<'PY'
import sys
h = lambda s: s.encode().hex()
print("atomically-journal 1 primary")
print("f %s %s %s" % (h(sys.argv[1]), h(sys.argv[2]), h(sys.argv[3])))
print("end")
PY
		chown "$1" "shared/.atomically-journal.$pid.0123456789abcdef"
	}
	plant nobody
	run "$ATOMICALLY" --clean shared
	assert_equal "$(cat shared/t.txt)" old
	# The control: the same journal, ours, is completed.
	rm -f shared/.atomically-journal.* shared/.t.txt.*
	plant root
	run "$ATOMICALLY" --clean shared
	assert_success
	assert_output --partial "completed 1 session commit"
	assert_equal "$(cat shared/t.txt)" planted
}

@test "commit = session: an unlink is pending too: gone for the tree, back if the command fails, gone once it succeeds" {
	echo old > a.txt
	echo old > b.txt
	run wrapped sh -c 'rm a.txt; test -e a.txt && echo still there; cat a.txt; echo new > b.txt; exit 1'
	assert_failure 1
	assert_line --partial "a.txt: No such file or directory"
	refute_line "still there"
	assert_equal "$(cat a.txt)" old
	assert_equal "$(cat b.txt)" old
	# Deleted, then made anew; and deleted for good.
	run wrapped sh -c 'rm a.txt; echo again > a.txt; rm b.txt; rm b.txt || true'
	assert_success
	assert_line --partial "cannot remove 'b.txt': No such file or directory"
	assert_equal "$(cat a.txt)" again
	assert_file_not_exists b.txt
	assert_no_temps
}

@test "commit = session: killed at each step of a commit that writes 10 files and deletes 10: all old or all new after --clean, as --clean -n said" {
	command -v strace > /dev/null || skip "strace is missing (Debian: strace)"
	printf 'path "*.txt" { commit = "session"\n durability = "full" }\n' > "$CONF"
	mkdir d
	local old=0 new=0 completed=0 step n gone
	# The supervisor is killed at its Nth call of CALL: linkat names the
	# temps (before the commit point), the first renameat puts the
	# journal in place (the commit point), the next ones the files.
	for step in linkat:1 linkat:6 renameat:1 renameat:2 renameat:3 renameat:7 renameat:11 unlinkat:1 unlinkat:4; do
		olds 20 d
		strace -f -o /dev/null -e trace="${step%:*}" -e inject="${step%:*}:signal=KILL:when=${step#*:}" \
			"$ATOMICALLY" sh -c 'cd d && for i in $(seq 10); do echo new > f$i.txt; rm f$((i + 10)).txt; done' 2> /dev/null || true
		clean_as_said d
		completed=$((completed + COMPLETED))
		n=$(count_new 10 d) || fail "$step: a torn file"
		gone=$(for i in $(seq 11 20); do [ -e d/f$i.txt ] || echo x; done | wc -l)
		case $n/$gone in
		0/0) old=$((old + 1)) ;;
		10/10) new=$((new + 1)) ;;
		*) fail "killed at $step: $n of 10 files new, $gone of 10 deleted" ;;
		esac
		[ -z "$(find d -name '.*')" ] || fail "killed at $step: left behind: $(find d -name '.*')"
	done
	echo "# old=$old new=$new completed-by-clean=$completed" >&3
	[ "$old" -gt 0 ] && [ "$completed" -gt 0 ] || fail "the kills did not fall on both sides of the commit point"
}
