# summary.bats - `atomically --summary` (and -v): what the library did in
# the run, added up by the launcher from every process of it (the
# preloaded ones and its own seccomp supervisor): commits, unchanged
# files, deletions, failures, in-place fallbacks, lock waits.

load helpers

setup() {
	common_setup
	printf 'path "*.json" { durability = "none" }\n' > "$CONF"
}

# summary_line: the counts line of the summary in $output.
summary_line() {
	grep '^atomically: summary: [0-9]* committed' <<< "$output" ||
		fail "no summary in: $output"
}

@test "--summary adds up a run's processes: a static shell, and the programs it starts" {
	echo old > a.json
	local bb
	bb=$(command -v busybox) || skip "no busybox here (make check installs busybox-static)"
	LC_ALL=C readelf -l "$bb" | grep -q 'Requesting program interpreter' &&
		skip "$bb is not statically linked (make check installs busybox-static)"
	# busybox's own redirection is committed by the launcher's seccomp
	# supervisor; bash and python under it load the library.
	cat > job.sh <<'JOB'
echo new > a.json                    # committed
: >> a.json                          # nothing appended: unchanged
python3 -c "open('b.json', 'w').write('b')"
python3 -c "import os; f = open('gone.json', 'w'); f.write('x'); os.unlink('gone.json'); f.close()"
JOB
	run "$ATOMICALLY" --summary "$bb" sh -c 'echo s > s.json; bash job.sh'
	assert_success
	assert_equal "$(summary_line)" "atomically: summary: 3 committed, 1 unchanged, 0 not committed (old content kept), 1 deleted before their commit, 0 written in place (fallback)"
	assert_equal "$(cat a.json b.json s.json)" "$(printf 'new\nbs')"
	assert_file_not_exists gone.json
	# The tally file is gone with the run.
	run find "$LOCKS" -name 'tally.*'
	assert_output ""
}

@test "-v gives the summary; the default run says nothing, and -q after -v takes it back" {
	run "$ATOMICALLY" -v bash -c 'echo new > a.json'
	assert_success
	assert_output --partial "a.json: committed"
	summary_line
	run "$ATOMICALLY" bash -c 'echo new > a.json'
	assert_success
	assert_output ""
	run "$ATOMICALLY" -v -q bash -c 'echo new > a.json'
	assert_success
	assert_output ""
}

@test "--summary names the files not committed and those written in place" {
	command -v strace > /dev/null || skip "no strace"
	echo old > a.json
	echo old > b.json
	# The first fsync fails (a.json: not committed, the old content
	# kept); every rename fails with EXDEV (b.json: written in place).
	printf 'path "a.json" { durability = "full" }\npath "b.json" { durability = "none" }\n' > "$CONF"
	run strace -f -o /dev/null -e trace=fsync,rename,renameat,renameat2 \
		-e inject=fsync:error=EIO:when=1 -e inject=rename,renameat,renameat2:error=EXDEV \
		"$ATOMICALLY" --summary bash -c 'echo new > a.json; echo new > b.json'
	assert_equal "$(cat a.json b.json)" "$(printf 'old\nnew')"
	assert_equal "$(summary_line)" "atomically: summary: 1 committed, 0 unchanged, 1 not committed (old content kept), 0 deleted before their commit, 1 written in place (fallback)"
	assert_line --regexp "^atomically: summary: not committed: $PWD/a\\.json \\(pid [0-9]+\\)$"
	assert_line --regexp "^atomically: summary: written in place: $PWD/b\\.json \\(pid [0-9]+\\)$"
}

@test "--summary gives the longest lock waits, and the locks given up" {
	# The last rule that matches a path decides.
	printf '%s\n' 'path "*.json" { lock = "process" durability = "none" }' \
		'path "t.json" { lock = "process" lock_timeout = 0 }' > "$CONF"
	echo 0 > c.json
	echo 0 > t.json
	# python holds both locks for 0.6 s from when it says so; bash then
	# writes both: it gives up on t.json at once, and waits for c.json.
	run "$ATOMICALLY" --summary bash -c '
		python3 -c "
import time
open(\"c.json\").read(); open(\"t.json\").read()
open(\"held\", \"w\").close(); time.sleep(0.6)" &
		while [ ! -e held ]; do sleep 0.02; done
		echo 1 > t.json
		echo 1 > c.json
		wait'
	assert_equal "$(cat c.json t.json)" "$(printf '1\n0')"
	assert_line --regexp '^atomically: summary: 1 lock wait, 0\.[3-9][0-9] s in all; the longest:$'
	assert_line --regexp "^atomically: summary:   0\\.[3-9][0-9] s $PWD/c\\.json \\(pid [0-9]+\\)$"
	assert_line --regexp "^atomically: summary: gave up waiting for its lock: $PWD/t\\.json \\(pid [0-9]+(, after [0-9.]+ s)?\\)$"

	# The control: the same writes with no holder wait for nothing.
	run "$ATOMICALLY" --summary bash -c 'echo 2 > c.json; echo 2 > t.json'
	assert_success
	refute_line --partial "lock wait"
	refute_line --partial "gave up"
}
