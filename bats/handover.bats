#!/usr/bin/env bats
# handover.bats - the exec handover (SPEC §3 "Processes", exec; DESIGN.md
# "fork, exec, exit"; src/preload/handover.c): a pending file whose descriptor
# survives an exec in the process that owns it crosses into the new image
# in ATOMICALLY_PENDING and stays pending, with its lock, until the new
# image closes it or exits.  The exec must change nothing about the file:
# what would have happened to it without the exec happens with it.  Each
# test here was written against a bug of the handover in which it did not:
#
#   1. a write that failed before the exec (EFBIG) was forgotten across
#      it: the truncated file was committed and the program exited 0;
#   2. a file opened read-write and never written was replaced (a new
#      inode and mtime) instead of being left untouched;
#   3. past 64 pending files the rest were committed before the exec
#      (readers saw them early; what the new image wrote went in place);
#      past 16 descriptors of one file the rest were not handed over
#      (the file committed when the 16 known ones closed, and what came
#      through the others went in place);
#   4. when the handover's memory could not be had (mmap failed), the
#      files were neither committed nor handed over, silently: what the
#      new image wrote went into an orphaned temp and was lost.
#
# And two found in review of the rewritten handover, before they shipped:
#
#   5. a file written in place (a fallback, hardlinks = "inplace") has no
#      temp; its record was refused on arrival, and its lock descriptor,
#      left open across every later exec, kept the file locked for as
#      long as any descendant lived;
#   6. the launcher, a plain process in which the library stays inert,
#      took nothing over when a wrapped shell execed it with a pending
#      file on its standard output: what COMMAND wrote was lost, exit 0.
#
# Where the same thing without the exec already behaves, the test runs it
# too (the control), so that both paths are seen to give the same result.
# Every test proves that the library was loaded in the images involved.
# The basic handover (sh -c 'exec prog > f', bash -c 'prog > f', the mode
# kept, a reader never sees a partial file) is in processes.bats.

load helpers

# ---- helpers of this file ------------------------------------------------

setup_file() {
	find_python
}

setup() {
	common_setup
	FAILMMAP="$B/failmmap.so"
}

# assert_loaded_in_both NAME: the library announced itself twice in the
# same pid as NAME: in the image that execs and in the new one (both NAME).
assert_loaded_in_both() {
	local lines
	assert_loaded "$1"
	lines=$(grep -E "^atomically: active in pid [0-9]+ \\($1\\)" "$LIBLOG" |
		sed -E 's/^atomically: active in pid ([0-9]+) .*/\1/' | sort | uniq -c | awk '$1 >= 2')
	[ -n "$lines" ] ||
		fail "the library was not loaded in both images of '$1'; its log: $(cat "$LIBLOG")"
}

# assert_committed_after_exec NAME: every commit the log shows comes after
# the library announced itself in the new image, named NAME: nothing was
# committed before the exec.
assert_committed_after_exec() {
	local early
	early=$(awk -v re="^atomically: active in pid [0-9]+ \\\\($1\\\\)" \
		'$0 ~ re { exec = 1 } /: committed( \([a-z]+\))?$/ && !exec { print }' "$LIBLOG")
	[ -z "$early" ] || fail "committed before the exec: $early"
}

# ---- 1. a failed write crosses the exec -------------------------------------

# efbig_run TAIL: bash under the library, with files limited to 1 KiB
# (ulimit -f 1) and SIGXFSZ ignored, opens f.yaml (which holds "good: 1"),
# writes 2,000 bytes into it (the write stops at 1,024: EFBIG), then runs
# TAIL, its last command, whose status 0 is the shell's.  The inode of
# f.yaml before in $before.
efbig_run() {
	printf 'good: 1\n' > f.yaml
	before=$(inode f.yaml)
	: > "$LIBLOG"
	run wrapped bash -c 'trap "" XFSZ; ulimit -f 1; exec 3> f.yaml; printf "%02000d" 7 >&3; '"$1"
}

# assert_efbig_kept [WORD...]: the old f.yaml is kept, the status is 74
# (failure_exit_code: the program would have exited 0), no temp is left,
# one warning names f.yaml (and holds each WORD).
assert_efbig_kept() {
	[ "$(cat f.yaml)" = "good: 1" ] ||
		fail "f.yaml was replaced, by $(wc -c < f.yaml) bytes: $(head -c 20 f.yaml)..."
	assert_equal "$(inode f.yaml)" "$before"
	assert_equal "$status" 74
	assert_no_temps .
	assert_one_warning "$PWD/f.yaml" "$@"
}

@test "exec: a write that failed (EFBIG) before the exec keeps the old file and exits 74, as without the exec" {
	# The control: the shell exits itself; its status 0 becomes 74.
	efbig_run true
	assert_loaded bash
	assert_output --partial "File too large"  # the shell saw the error
	assert_efbig_kept "not committed" "File too large"

	# The same after an exec: the new image knows that the file failed.
	efbig_run "exec /bin/true"
	assert_loaded bash
	assert_loaded true
	assert_output --partial "File too large"
	assert_efbig_kept
}

# ---- 2. untouched stays untouched --------------------------------------------

# untouched_run TAIL: bash under the library opens g.yaml read-write
# (<>, no O_TRUNC), writes nothing, then runs TAIL.  Its inode and mtime
# before (an old mtime, so that any rewrite shows) in $ino and $mtime.
untouched_run() {
	printf 'old: 1\n' > g.yaml
	touch -d '2001-02-03 04:05:06.789' g.yaml
	ino=$(inode g.yaml)
	mtime=$(stat -c %y g.yaml)
	: > "$LIBLOG"
	run wrapped bash -c 'exec 3<> g.yaml; '"$1"
}

# assert_untouched: g.yaml is the same file: inode, mtime, content.
assert_untouched() {
	assert_success
	[ "$(inode g.yaml)" = "$ino" ] || fail "g.yaml was replaced: inode $ino, now $(inode g.yaml)"
	[ "$(stat -c %y g.yaml)" = "$mtime" ] ||
		fail "g.yaml was modified: mtime $mtime, now $(stat -c %y g.yaml)"
	assert_equal "$(cat g.yaml)" "old: 1"
	assert_no_temps .
}

@test "exec: a file opened read-write (<>) and never written is left untouched across the exec, as without it" {
	# The control: no exec.
	untouched_run true
	assert_loaded bash
	grep -q 'g.yaml: writing' "$LIBLOG" || fail "g.yaml was not taken over: $(cat "$LIBLOG")"
	assert_untouched

	untouched_run "exec /bin/true"
	assert_loaded bash
	assert_loaded true
	grep -q 'g.yaml: adopted across exec' "$LIBLOG" ||
		fail "g.yaml was not handed over across exec: $(cat "$LIBLOG")"
	assert_untouched
}

# ---- 3. many files, many descriptors -----------------------------------------

# 70 files (more than 64) open in bash, each written, then an exec of
# python (many.py), which first has another process (grep) read them all:
# nothing may have been committed before the exec, a reader sees the old
# content of each.  (Python itself, the owner, would read back its own
# writes.)  Then it writes more to each and exits: each file commits
# once, whole, in the new image.
@test "exec: 70 pending files all cross the exec: none is committed before it, each once by the new image, whole" {
	local i names=() expected=
	export N=70
	for ((i = 1; i <= N; i++)); do
		echo old > "f$i.yaml"
		names+=("f$i.yaml")
		expected+="f$i.yaml:new-$i;more-$i"$'\n'
	done
	cat > many.py <<'PY'
import os, subprocess
n = int(os.environ["N"])
fds = [int(fd) for fd in os.environ["FDS"].split()]
names = ["f%d.yaml" % i for i in range(1, n + 1)]
seen = subprocess.run(["grep", "-Lx", "old"] + names, capture_output=True, text=True)
print("changed before the commit:", " ".join(seen.stdout.split()) or "none")
for i, fd in enumerate(fds, 1):
    os.write(fd, b"more-%d" % i)
print("written", len(fds))
PY
	run wrapped bash -c '
fds=
for ((i = 1; i <= N; i++)); do
	exec {fd}> "f$i.yaml"
	printf "new-%d;" "$i" >&$fd
	fds="$fds $fd"
done
FDS=$fds exec "$PY" many.py'
	assert_success
	assert_loaded bash
	assert_loaded "$PYNAME"
	assert_line "changed before the commit: none"
	assert_line "written $N"
	assert_equal "$(grep -c ': adopted across exec (1 descriptors)$' "$LIBLOG")" "$N"
	assert_committed_after_exec "$PYNAME"
	# Each file whole (NAME:CONTENT), and committed once (its name once
	# among the commits, in order: f1.yaml, f2.yaml...).
	assert_equal "$(grep -H '' "${names[@]}")" "${expected%$'\n'}"
	assert_equal "$(grep -oE '/f[0-9]+\.yaml: committed( \([a-z]+\))?$' "$LIBLOG" |
		sed -E 's|^/||; s|: .*||' | sort -V)" "$(printf '%s\n' "${names[@]}")"
	assert_no_temps .
}

# One file open in bash on 20 descriptors (more than 16: fd 3 and 19
# dups), then an exec of python (dups.py), which writes to each and
# closes it, all but the last: a reader (cat) still sees the old file;
# then the last.  Every descriptor crossed the exec as the file's: the
# commit comes with the last close, once, with all 20 writes in it.
@test "exec: a file on 20 descriptors crosses the exec on all of them: committed once, at the last close" {
	echo old > f.yaml
	before=$(inode f.yaml)
	cat > dups.py <<'PY'
import os, subprocess
fds = [int(fd) for fd in os.environ["FDS"].split()]
for k, fd in enumerate(fds[:-1]):
    os.write(fd, b"%d;" % k)
    os.close(fd)
seen = subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout
print("before the last close:", seen.strip())
os.write(fds[-1], b"last")
os.close(fds[-1])
print("descriptors", len(fds))
PY
	run wrapped bash -c '
exec 3> f.yaml
printf "a;" >&3
fds=3
for ((i = 2; i <= 20; i++)); do
	exec {fd}>&3
	fds="$fds $fd"
done
FDS=$fds exec "$PY" dups.py'
	assert_success
	assert_loaded bash
	assert_loaded "$PYNAME"
	assert_line "descriptors 20"
	assert_line "before the last close: old"
	grep -q 'f.yaml: adopted across exec (20 descriptors)$' "$LIBLOG" ||
		fail "f.yaml was not handed over on its 20 descriptors: $(grep adopted "$LIBLOG")"
	assert_committed_after_exec "$PYNAME"
	assert_equal "$(cat f.yaml)" "a;$(printf '%d;' $(seq 0 18))last"
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_commits 'f\.yaml' 1
	assert_no_temps .
}

# More files than the library's pool of records (256: the rest are
# mapped one by one, and unmapped when freed), the last on three
# descriptors, all committed before an exec of a program that will not
# load the library (env, itself wrapped, execs it without LD_PRELOAD):
# each once, whatever the order of its descriptors.
# (The rewritten handover read a freed record here and crashed.)
@test "exec: 300 pending files committed before the exec of a program without the library: each once, whole" {
	run wrapped bash -c '
ulimit -n 4096
for ((i = 1; i <= 300; i++)); do exec {fd}> "f$i.yaml"; printf "new-%d" "$i" >&$fd; done
exec {a}>&$fd {b}>&$fd
exec env -u LD_PRELOAD /bin/true'
	assert_success
	assert_loaded bash
	local i bad=
	for ((i = 1; i <= 300; i++)); do
		[ "$(cat "f$i.yaml")" = "new-$i" ] || bad+=" f$i.yaml"
	done
	[ -z "$bad" ] || fail "not whole:$bad"
	assert_equal "$(grep -c ': committed before exec of /bin/true, which will not load the library' "$LIBLOG")" 300
	assert_equal "$(grep -cE '/f[0-9]+\.yaml: committed \(' "$LIBLOG")" 300
	assert_no_temps .
}

# ---- 4. no memory for the handover --------------------------------------------

# build/failmmap.so (tests/helpers/failmmap.c) makes mmap fail with ENOMEM
# in the image that was running when $FAILMMAP_TRIGGER appeared: bash
# creates it (`: >`, a builtin: no child) just before it execs, so the
# handover's mmap fails in the old image, while the new image, which
# finds the trigger at its start, runs normally.  glibc's malloc and ld.so
# map memory by internal calls, which it does not catch.  The handover
# cannot be made: the file must then be committed before the exec, as
# when the new image will not load the library, with a warning; what the
# new image writes goes into the committed file in place.
@test "exec: when the handover's memory cannot be had (mmap fails), the file is committed before the exec, with a warning" {
	no_sanitizer "the sanitizers' runtimes interpose mmap ahead of failmmap.so"
	[ -f "$FAILMMAP" ] || fail "$FAILMMAP is not built: make ${FAILMMAP#"$TOP"/}"
	echo old > f.yaml
	# The launcher puts its library in front and keeps failmmap.so.
	FAILMMAP_TRIGGER="$PWD/trigger" LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$FAILMMAP" \
		run wrapped bash -c 'exec 3> f.yaml; printf a >&3; : > trigger; exec bash -c "printf b >&3"'
	assert_success
	assert_loaded_in_both bash
	# The injection hit the old image's mmap (at the exec: the trigger
	# is made just before it).
	assert_line --regexp '^failmmap: mmap of [0-9]+ bytes failed \(ENOMEM\)'
	assert_equal "$(cat f.yaml)" ab
	assert_commits 'f\.yaml' 1
	assert_one_warning "$PWD/f.yaml" exec
	assert_no_temps .
}

# ---- 5. a file written in place ---------------------------------------------------

# hardlinks = "inplace": the open of a file with two links writes the
# target itself, under the lock.  Across the exec it is still the
# library's (committed in place at the last close, its lock let go of
# then): another writer gets in at once afterwards, though a background
# child of the new image lives on.
@test "exec: a file written in place (hardlinks = inplace) crosses the exec; its lock goes with its last close" {
	printf 'path "*.yaml" {\n  hardlinks = "inplace"\n  lock_timeout = 1\n}\n' > "$CONF"
	echo zero > f.yaml
	ln f.yaml g.yaml
	run wrapped bash -c 'exec 3> f.yaml; echo one >&3
exec bash -c "echo two >&3; exec 3>&-; sleep 3 > /dev/null 2>&1 & exit 0"'
	assert_success
	assert_loaded_in_both bash
	grep -q 'f.yaml: writing in place' "$LIBLOG" || fail "not in place: $(cat "$LIBLOG")"
	grep -q 'f.yaml: adopted across exec (1 descriptors)' "$LIBLOG" ||
		fail "not handed over: $(cat "$LIBLOG")"
	! grep -q 'could not be adopted' "$LIBLOG" || fail "refused: $(cat "$LIBLOG")"
	assert_equal "$(cat g.yaml)" "$(printf 'one\ntwo')"  # in place: both names
	# The lock is free, though the sleep still runs.
	run wrapped sh -c 'echo three > f.yaml'
	assert_success
	assert_equal "$(cat g.yaml)" three
	assert_equal "$(inode f.yaml)" "$(inode g.yaml)"
}

# ---- 6. into the launcher -------------------------------------------------------

# A CI step after `atomically --env` (every process under the library)
# runs `bash -c 'atomically ... > f.yaml'`: bash opens f.yaml (a temp)
# and execs the launcher.  The library stays inert in the launcher (it
# runs the core itself); the launcher takes the file over with the core,
# holds it while COMMAND writes (COMMAND watching the descriptor for
# failed writes), and commits it when COMMAND is done.
launcher_under_env() {
	printf 'path "*.txt" { }\n' > own.conf
	eval "$("$ATOMICALLY" -p '*.yaml' --env)"
	run env ATOMICALLY_LOG="debug:$LIBLOG" bash -c "$1"
}

@test "exec of the launcher: a file on its standard output is adopted by the launcher and committed when COMMAND is done" {
	echo old > f.yaml
	before=$(inode f.yaml)
	launcher_under_env "'$ATOMICALLY' -c own.conf -- sh -c 'echo new; echo \"seen \$(cat f.yaml)\" >&2; echo more' > f.yaml"
	assert_success
	assert_loaded bash
	assert_loaded sh
	grep -Eq '^atomically: inert in pid [0-9]+ \(atomically\)' "$LIBLOG" ||
		fail "the library was not inert in the launcher: $(cat "$LIBLOG")"
	grep -q 'f.yaml: adopted across exec by the launcher (1 descriptors)' "$LIBLOG" ||
		fail "the launcher did not take the file over: $(cat "$LIBLOG")"
	assert_line "seen old"  # a reader sees the old file until the commit
	assert_equal "$(cat f.yaml)" "$(printf 'new\nmore')"
	assert_not_equal "$(inode f.yaml)" "$before"
	assert_commits 'f\.yaml' 1
	assert_no_temps .
}

@test "exec of the launcher: a write that fails in COMMAND keeps the old file, and the launcher exits 74" {
	echo old > f.yaml
	before=$(inode f.yaml)
	launcher_under_env "trap '' XFSZ; ulimit -f 1; '$ATOMICALLY' -c own.conf -- sh -c 'printf %02000d 7; exit 0' > f.yaml"
	assert_equal "$status" 74
	assert_loaded sh
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$before"
	grep -q "f.yaml: not committed, the old content is kept: a process it was shared with failed to write it" "$LIBLOG" ||
		fail "no warning: $(cat "$LIBLOG")"
	assert_no_temps .
}
