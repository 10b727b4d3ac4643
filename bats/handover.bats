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
