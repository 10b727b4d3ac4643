#!/usr/bin/env bats
# programs.bats - the matrix of real, unmodified programs (SPEC 1, 3, 6):
# bash `>` and `>>`, cp over an existing file, tee, dd, install, python3,
# perl, and the C writer (plain and _FORTIFY_SOURCE=2) through each of its
# open methods.  For each one:
#
#   rename   the target is replaced by a rename, after the temp's fsync,
#            followed by a directory fsync (seen in strace);
#   reader   a reader racing a slow write sees only old or new content
#            (CONTROL without the library: partial reads);
#   kill     SIGKILL in the middle of a slow write leaves the old content
#            (CONTROL without the library: a torn file);
#   unmatched  f.txt (not matched by the config) is written in place: same
#            inode, no temp, no lock file;
#
# plus O_EXCL creation, which must keep failing on an existing file, and
# the launcher's PR_SET_PDEATHSIG.
#
# A "writer function" w_NAME TARGET writes the content of ./new.txt into
# TARGET with program NAME, prefixed by $RUN (wrapped, traced, or empty for
# a control without the library), in $CHUNKS pieces with $DELAY_MS between
# them (0: as fast as the program goes).

load helpers

setup() { common_setup; }

# ---- helpers of this file ----------------------------------------------

# The python3 to run, and its name as the kernel shows it (comm): prefer
# /usr/bin/python3 (comm "python3") over a pyenv shim, whose exec'd
# interpreter would be python3.X.
if [ -x /usr/bin/python3 ]; then
	PY=/usr/bin/python3
	PY_COMM=python3
else
	PY=$(command -v python3)
	PY_COMM=$("$PY" -c 'import os, sys; print(os.path.basename(os.path.realpath(sys.executable))[:15])' 2>/dev/null)
fi

RUN=wrapped
CHUNKS=1
DELAY_MS=0

# traced COMMAND...: `wrapped`, under strace -f, the trace in ./trace, each
# descriptor decorated with its path (-y).
traced() {
	ATOMICALLY_LOG="debug:$LIBLOG" strace -f -y -qq -o "$BATS_TEST_TMPDIR/trace" \
		-e trace=fsync,fdatasync,rename,renameat,renameat2,openat,open,creat,unlink,unlinkat,linkat \
		"$ATOMICALLY" "$@"
}

# seconds DELAY_MS: 50 -> 0.050
seconds() {
	printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# lines CHAR N: N lines of 4095 CHARs (N * 4 KiB).
lines() {
	local line i
	line=$(printf '%4095s' '' | tr ' ' "$1")
	for ((i = 0; i < $2; i++)); do
		printf '%s\n' "$line"
	done
}

# small_contents / big_contents: old.txt (the target's content before) and
# new.txt (what the writer writes); big ones are 64 KiB each.
small_contents() {
	printf 'old content of the file\n' > old.txt
	printf 'new\n' > new.txt
}
big_contents() {
	lines o 16 > old.txt
	lines n 16 > new.txt
}

# expect_for WRITER: what the target holds once WRITER wrote new.txt over
# old.txt: appended for >>, overwritten at the start for O_RDWR (no
# O_TRUNC), replaced for the others.
expect_for() {
	case $1 in
	*_append) cat old.txt new.txt ;;
	*_rdwr | *_rdwrat)
		cat new.txt
		tail -c +$(($(stat -c %s new.txt) + 1)) old.txt
		;;
	*) cat new.txt ;;
	esac
}

# comm_of WRITER: the name of the process that opens the target.
comm_of() {
	case $1 in
	w_bash*) echo bash ;;
	w_python) echo "$PY_COMM" ;;
	w_c_*) echo writer ;;
	w_cf_*) echo writer-fortify ;;
	*) echo "${1#w_}" ;;
	esac
}

# new_text VAR: VAR = the exact content of new.txt (trailing newlines kept).
new_text() {
	IFS= read -r -d '' "$1" < new.txt || true
}

# producer: new.txt to stdout, slowly (not under the library).
producer() {
	local t
	new_text t
	"$WRITER" stdout - "$t" "$CHUNKS" "$DELAY_MS"
}

# copy_with COMMAND... TARGET: run COMMAND SOURCE TARGET (cp, install),
# the source being new.txt when fast; when slow, a FIFO fed by the slow
# producer (cp and install both accept a FIFO source and read it to its
# end).  The producer must not run inside a $(...): its open of the FIFO
# would block with the substitution's pipe still open.
copy_with() {
	local target=${*: -1} rc src=new.txt feeder=
	if ((DELAY_MS)); then
		rm -f src.fifo
		mkfifo src.fifo
		producer > src.fifo &
		feeder=$!
		src=src.fifo
	fi
	$RUN "${@:1:$#-1}" "$src" "$target"
	rc=$?
	# a command that died before opening the FIFO leaves the feeder
	# blocked in its open: release it (when the command read to the end,
	# the feeder is already gone).
	[ -z "$feeder" ] || kill "$feeder" 2> /dev/null || true
	wait
	return $rc
}

# ---- the writer functions ------------------------------------------------

# bash: builtin echo with a plain `>` redirection, as in
# bash -c 'echo new > f.yaml' (fast only).
w_bash_echo() {
	$RUN bash -c 'echo "$(< new.txt)" > "$1"' _ "$1"
}

# bash: a `{ ...; sleep; ...; }` group redirected with `>` (each line by the
# builtin echo; sleep, a child, inherits the descriptor).
w_bash() {
	$RUN bash -c '
		d=$2 first=1
		{ while IFS= read -r l; do
			[ -n "$first" ] || [ "$d" = 0.000 ] || sleep "$d"
			first=
			echo "$l"
		done < new.txt; } > "$1"' _ "$1" "$(seconds "$DELAY_MS")"
}

# bash: the same group with `>>`.
w_bash_append() {
	$RUN bash -c '
		d=$2 first=1
		{ while IFS= read -r l; do
			[ -n "$first" ] || [ "$d" = 0.000 ] || sleep "$d"
			first=
			echo "$l"
		done < new.txt; } >> "$1"' _ "$1" "$(seconds "$DELAY_MS")"
}

# cp onto an EXISTING target (cp creates new files with O_EXCL, by design
# never redirected).
w_cp() {
	copy_with cp "$1"
}

# install: unlinks the target, then re-creates it with O_EXCL.
w_install() {
	copy_with install -m 644 "$1"
}

w_tee() {
	producer | $RUN tee "$1" > /dev/null
}

w_dd() {
	producer | $RUN dd of="$1" status=none
}

w_python() {
	$RUN "$PY" -c '
import sys, time
target, delay, chunks = sys.argv[1], int(sys.argv[2]) / 1000, int(sys.argv[3])
with open("new.txt") as src:
    data = src.read()
step = -(-len(data) // chunks)
f = open(target, "w")
for i in range(0, len(data), step):
    if i and delay:
        time.sleep(delay)
    f.write(data[i:i + step])
    f.flush()
f.close()
' "$1" "$DELAY_MS" "$CHUNKS"
}

w_perl() {
	$RUN perl -e '
use strict;
use Time::HiRes qw(sleep);
my ($target, $delay, $chunks) = @ARGV;
open(my $in, "<", "new.txt") or die "new.txt: $!";
my $data = do { local $/; <$in> };
close($in);
my $step = int((length($data) + $chunks - 1) / $chunks);
open(my $f, ">", $target) or die "$target: $!";
$f->autoflush(1);
for (my $i = 0; $i < length($data); $i += $step) {
    sleep($delay / 1000) if $i && $delay;
    print $f substr($data, $i, $step);
}
close($f) or die "close $target: $!";
' "$1" "$DELAY_MS" "$CHUNKS"
}

# c_write PROGRAM METHOD TARGET
c_write() {
	local t
	new_text t
	$RUN "$1" "$2" "$3" "$t" "$CHUNKS" "$DELAY_MS"
}

# w_c_METHOD (build/writer) and w_cf_METHOD (build/writer-fortify).
for m in open openat creat fopen freopen rdwr rdwrat; do
	eval "w_c_$m() { c_write \"\$WRITER\" $m \"\$1\"; }"
	eval "w_cf_$m() { c_write \"\$WRITER_FORTIFY\" $m \"\$1\"; }"
done
unset m

# ---- checks on the trace and the processes --------------------------------

# assert_commit_in_trace NAME: in ./trace, a temp of NAME is renamed over
# NAME; that very temp was fsynced before, and the directory after.
assert_commit_in_trace() {
	local name=${1//./\\.} dir rn rline tmp fs ds ln fd
	local tpat="\\.$name\\.atomically\\.[0-9]+\\.[^\"/>]+"
	dir=$(pwd -P)
	rn=$(grep -nE "^[0-9]+ +rename(at2?)?\(.*\"([^\"]*/)?$tpat\", .*\"([^\"]*/)?$name\"" trace | head -n 1)
	[ -n "$rn" ] || fail "no rename of a temp over $1 in the trace: $(grep -E 'rename|sync' trace)"
	rline=${rn%%:*}
	tmp=$(grep -oE "$tpat" <<< "$rn" | head -n 1)
	# An anonymous temp (O_TMPFILE) got its name from a linkat of its
	# descriptor: that descriptor is the one to find fsynced.
	ln=$(grep -E "^[0-9]+ +linkat\(.*\"/proc/self/fd/[0-9]+\", .*\"${tmp//./\\.}\"" trace | head -n 1)
	if [ -n "$ln" ]; then
		fd=$(sed -E 's|.*"/proc/self/fd/([0-9]+)".*|\1|' <<< "$ln")
		fs=$(grep -nE "^[0-9]+ +f(data)?sync\($fd<$dir/#[0-9]+>\(deleted\)\)" trace | head -n 1)
	else
		fs=$(grep -nE "^[0-9]+ +f(data)?sync\([0-9]+<[^>]*/${tmp//./\\.}>\)" trace | head -n 1)
	fi
	[ -n "$fs" ] || fail "the temp $tmp was never fsynced: $(grep -E 'rename|sync' trace)"
	((${fs%%:*} < rline)) || fail "the temp $tmp was fsynced after the rename: $(grep -E 'rename|sync' trace)"
	ds=$(grep -nE '^[0-9]+ +fsync\([0-9]+<' trace | grep -F "<$dir>)" |
		awk -F: -v r="$rline" '$1 > r' | head -n 1)
	[ -n "$ds" ] || fail "no fsync of $dir after the rename: $(grep -E 'rename|sync' trace)"
}

# temp_pid COMM: the process named COMM that is writing a temp here: of
# those that hold it (children it forks, e.g. bash's for `sleep`, inherit
# the descriptor), the one whose parent does not.  Only processes named
# COMM are looked at: fast on a busy machine.
temp_pid() {
	local dir p ppid holders=" "
	dir=$(pwd -P)
	for p in $(pgrep -x "$1"); do
		[ -n "$(find "/proc/$p/fd" -maxdepth 1 \( -lname "$dir/#* (deleted)" -o \
			-lname "$dir/.*.atomically.*" \) 2> /dev/null)" ] && holders+="$p "
	done
	for p in $holders; do
		ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2> /dev/null) || continue
		[[ "$holders" == *" $ppid "* ]] || { echo "$p"; return 0; }
	done
	return 1
}

# holder_pid FILE COMM: a process named COMM that has FILE open.
holder_pid() {
	local p c fd
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" != "$$" ] || continue
		read -r c 2> /dev/null < "$p/comm" || continue
		[ "$c" = "$2" ] || continue
		for fd in "$p"/fd/*; do
			if [ "$fd" -ef "$1" ]; then
				echo "${p#/proc/}"
				return 0
			fi
		done 2> /dev/null
	done
	return 1
}

# wait_for_torn FILE: until FILE is non-empty and no longer old.txt.
wait_for_torn() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1" ] && ! cmp -s "$1" old.txt && return 0
		sleep 0.02
	done
	fail "$1 never started to change"
}

# gone PID: the process is dead (or a zombie) within 2 s.
gone() {
	local i s
	for ((i = 0; i < 40; i++)); do
		s=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2> /dev/null) || return 0
		[ -z "$s" ] || [ "$s" = Z ] && return 0
		sleep 0.05
	done
	return 1
}

assert_no_locks() {
	[ ! -d "$LOCKS" ] || [ -z "$(ls -A "$LOCKS")" ] ||
		fail "lock files were made: $(ls -A "$LOCKS")"
	# Its last holder removes a lock file: the log says whether one was.
	! locks_used | grep -q "^$LOCKS/" || fail "locked in the runtime directory: $(locks_used)"
}

# ---- the scenarios --------------------------------------------------------

# 1. The target is replaced by a rename after the temp's fsync, and the
# directory fsynced after it.  The old inode is kept alive by descriptor 8,
# so that a new inode cannot reuse its number.
check_rename_after_fsync() {
	local w=$1 before
	small_contents
	# An append that fits the page the file ends in is added in place
	# (check_append_in_place): two pages do not fit.
	[[ $w != *_append ]] || lines n 2 > new.txt
	cp old.txt f.yaml
	expect_for "$w" > expect.txt
	exec 8< f.yaml
	before=$(inode f.yaml)
	RUN=traced
	run "$w" f.yaml
	exec 8<&-
	assert_success
	assert_loaded "$(comm_of "$w")"
	cmp -s f.yaml expect.txt || fail "f.yaml is not the new content: $(cat f.yaml)"
	[ "$(inode f.yaml)" != "$before" ] || fail "f.yaml kept its inode $before: written in place"
	assert_commit_in_trace f.yaml
	assert_no_temps
}

# 1b. An append of a line (which fits the page the file ends in) is added
# to the target itself, which is then fsynced: the inode stays, no temp is
# renamed (issue 16: appends cost what is appended).
check_append_in_place() {
	local w=$1 before dir
	small_contents
	cp old.txt f.yaml
	expect_for "$w" > expect.txt
	before=$(inode f.yaml)
	RUN=traced
	run "$w" f.yaml
	assert_success
	assert_loaded "$(comm_of "$w")"
	cmp -s f.yaml expect.txt || fail "f.yaml is not the old content and the line: $(cat f.yaml)"
	[ "$(inode f.yaml)" = "$before" ] || fail "f.yaml was replaced"
	grep -qE 'f\.yaml: committed \(full, 4 bytes appended in place\)$' "$LIBLOG" ||
		fail "not appended in place: $(cat "$LIBLOG")"
	dir=$(pwd -P)
	grep -qE "^[0-9]+ +fsync\([0-9]+<$dir/f\.yaml>\) = 0" trace ||
		fail "f.yaml itself was not fsynced: $(grep -E 'sync|rename' trace)"
	! grep -qE 'rename(at2?)?\(' trace || fail "a rename: $(grep rename trace)"
	assert_no_temps
}

# 2. A reader racing a slow write (16 chunks, 50 ms apart) sees only the
# whole old or the whole new content; with "control", no library, and the
# reader must see partial content (so the test can fail).
check_reader() {
	local w=$1 control=$2 job rc
	big_contents
	cp old.txt f.yaml
	expect_for "$w" > expect.txt
	CHUNKS=16 DELAY_MS=50
	[ -z "$control" ] || RUN=
	"$w" f.yaml > /dev/null 2> writer.err 3>&- &
	job=$!
	run "$CHECKREAD" f.yaml old.txt expect.txt 1500
	rc=0
	wait "$job" || rc=$?
	[ "$rc" = 0 ] || fail "the writer failed ($rc): $(cat writer.err)"
	cmp -s f.yaml expect.txt || fail "f.yaml is not the new content at the end"
	if [ -n "$control" ]; then
		assert_failure
		assert_output --regexp 'partial=[1-9]'
	else
		assert_success
		assert_output --regexp 'partial=0 missing=0$'
		assert_output --regexp '(old|new)=[1-9]'
		assert_loaded "$(comm_of "$w")"
		assert_no_temps
	fi
}

# 3. SIGKILL to the writer process (the owner named in its temp's name) in
# the middle of a slow write leaves the old content, and no temp: the temp
# was anonymous (O_TMPFILE), so it went with the process.
check_kill() {
	local w=$1 comm pid job
	comm=$(comm_of "$w")
	big_contents
	cp old.txt f.yaml
	CHUNKS=16 DELAY_MS=100
	"$w" f.yaml > /dev/null 2>&1 3>&- &
	job=$!
	wait_for_log '/f\.yaml: writing '
	sleep 0.3
	# Looked for again for a while: on a loaded machine one look may
	# fall between a fork and an exec, or before /proc shows the temp.
	local i
	for ((i = 0; i < 30; i++)); do
		pid=$(temp_pid "$comm") && break
		sleep 0.1
	done
	[ -n "$pid" ] || fail "no $comm is writing a temp here: $(pgrep -x $comm | while read p; do ls -l /proc/$p/fd | grep -v pipe; done; cat "$LIBLOG")"
	kill -9 "$pid"
	wait "$job" || true
	assert_loaded "$comm"
	cmp -s f.yaml old.txt || fail "f.yaml is not the old content after SIGKILL ($(stat -c %s f.yaml) bytes)"
	assert_no_temps .
}

# 3'. CONTROL: the same kill without the library tears the target.
check_kill_control() {
	local w=$1 comm pid job
	comm=$(comm_of "$w")
	big_contents
	cp old.txt f.yaml
	expect_for "$w" > expect.txt
	CHUNKS=16 DELAY_MS=50 RUN=
	"$w" f.yaml > /dev/null 2>&1 3>&- &
	job=$!
	wait_for_torn f.yaml
	pid=$(holder_pid f.yaml "$comm") || fail "no $comm has f.yaml open"
	kill -9 "$pid"
	wait "$job" || true
	! cmp -s f.yaml old.txt || fail "control: f.yaml is the old content"
	! cmp -s f.yaml expect.txt || fail "control: f.yaml is the new content: the writer finished before the kill"
}

# 4. f.txt is not matched (the config matches *.yaml and *.json): written
# in place, as without the library.
check_unmatched() {
	local w=$1 before
	small_contents
	cp old.txt f.txt
	expect_for "$w" > expect.txt
	exec 8< f.txt
	before=$(inode f.txt)
	RUN=traced
	run "$w" f.txt
	exec 8<&-
	assert_success
	assert_loaded "$(comm_of "$w")"
	cmp -s f.txt expect.txt || fail "f.txt is not the new content: $(cat f.txt)"
	if [ "$w" = w_install ]; then
		# install replaces the file itself: the real unlink must happen.
		grep -qE '^[0-9]+ +unlink(at)?\(.*"([^"]*/)?f\.txt"' trace ||
			fail "install's unlink of f.txt did not reach the kernel"
	else
		[ "$(inode f.txt)" = "$before" ] || fail "f.txt changed inode: $before -> $(inode f.txt)"
	fi
	! grep -qE 'f\.txt\.atomically\.|rename' trace ||
		fail "a temp or a rename in the trace: $(grep -E 'f\.txt\.atomically\.|rename' trace)"
	! grep -q 'f\.txt' "$LIBLOG" || fail "the library acted on f.txt: $(cat "$LIBLOG")"
	assert_no_temps
	assert_no_locks
}

# ---- 1. replaced by rename after fsync -----------------------------------

@test "bash echo >: replaced by rename after fsync" { check_rename_after_fsync w_bash_echo; }
@test "bash { } >: replaced by rename after fsync" { check_rename_after_fsync w_bash; }
@test "bash >> of 8 KiB (more than the page the file ends in): replaced by rename after fsync" { check_rename_after_fsync w_bash_append; }
@test "bash >> of a line: added to the file itself, then fsynced; same inode, no rename" { check_append_in_place w_bash_append; }
@test "cp onto existing: replaced by rename after fsync" { check_rename_after_fsync w_cp; }
@test "install: replaced by rename after fsync" { check_rename_after_fsync w_install; }
@test "tee: replaced by rename after fsync" { check_rename_after_fsync w_tee; }
@test "dd of=: replaced by rename after fsync" { check_rename_after_fsync w_dd; }
@test "python3: replaced by rename after fsync" { check_rename_after_fsync w_python; }
@test "perl: replaced by rename after fsync" { check_rename_after_fsync w_perl; }
@test "writer open: replaced by rename after fsync" { check_rename_after_fsync w_c_open; }
@test "writer openat: replaced by rename after fsync" { check_rename_after_fsync w_c_openat; }
@test "writer creat: replaced by rename after fsync" { check_rename_after_fsync w_c_creat; }
@test "writer fopen: replaced by rename after fsync" { check_rename_after_fsync w_c_fopen; }
@test "writer freopen: replaced by rename after fsync" { check_rename_after_fsync w_c_freopen; }
@test "writer rdwr: replaced by rename after fsync" { check_rename_after_fsync w_c_rdwr; }
@test "writer rdwrat: replaced by rename after fsync" { check_rename_after_fsync w_c_rdwrat; }
@test "writer-fortify open: replaced by rename after fsync" { check_rename_after_fsync w_cf_open; }
@test "writer-fortify openat: replaced by rename after fsync" { check_rename_after_fsync w_cf_openat; }
@test "writer-fortify creat: replaced by rename after fsync" { check_rename_after_fsync w_cf_creat; }
@test "writer-fortify fopen: replaced by rename after fsync" { check_rename_after_fsync w_cf_fopen; }
@test "writer-fortify freopen: replaced by rename after fsync" { check_rename_after_fsync w_cf_freopen; }
@test "writer-fortify rdwr: replaced by rename after fsync" { check_rename_after_fsync w_cf_rdwr; }
@test "writer-fortify rdwrat: replaced by rename after fsync" { check_rename_after_fsync w_cf_rdwrat; }

# ---- 2. a reader never sees a partial file --------------------------------

@test "bash { } >: a reader sees only old or new" { check_reader w_bash; }
@test "bash { } >: control: without the library a reader sees partial content" { check_reader w_bash control; }
@test "bash >>: a reader sees only old or new" { check_reader w_bash_append; }
@test "bash >>: control: without the library a reader sees partial content" { check_reader w_bash_append control; }
@test "cp onto existing: a reader sees only old or new" { check_reader w_cp; }
@test "cp onto existing: control: without the library a reader sees partial content" { check_reader w_cp control; }
@test "install: a reader sees only old or new" { check_reader w_install; }
@test "install: control: without the library a reader sees partial content" { check_reader w_install control; }
@test "tee: a reader sees only old or new" { check_reader w_tee; }
@test "tee: control: without the library a reader sees partial content" { check_reader w_tee control; }
@test "dd of=: a reader sees only old or new" { check_reader w_dd; }
@test "dd of=: control: without the library a reader sees partial content" { check_reader w_dd control; }
@test "python3: a reader sees only old or new" { check_reader w_python; }
@test "python3: control: without the library a reader sees partial content" { check_reader w_python control; }
@test "perl: a reader sees only old or new" { check_reader w_perl; }
@test "perl: control: without the library a reader sees partial content" { check_reader w_perl control; }
@test "writer open: a reader sees only old or new" { check_reader w_c_open; }
@test "writer open: control: without the library a reader sees partial content" { check_reader w_c_open control; }
@test "writer rdwr: a reader sees only old or new" { check_reader w_c_rdwr; }
@test "writer rdwr: control: without the library a reader sees partial content" { check_reader w_c_rdwr control; }
@test "writer-fortify fopen: a reader sees only old or new" { check_reader w_cf_fopen; }
@test "writer-fortify fopen: control: without the library a reader sees partial content" { check_reader w_cf_fopen control; }

# ---- 3. SIGKILL in the middle leaves the old content ----------------------

@test "bash { } >: SIGKILL mid-write leaves the old content" { check_kill w_bash; }
@test "bash { } >: control: without the library SIGKILL tears the file" { check_kill_control w_bash; }
@test "bash >>: SIGKILL mid-write leaves the old content" { check_kill w_bash_append; }
@test "bash >>: control: without the library SIGKILL tears the file" { check_kill_control w_bash_append; }
@test "cp onto existing: SIGKILL mid-write leaves the old content" { check_kill w_cp; }
@test "cp onto existing: control: without the library SIGKILL tears the file" { check_kill_control w_cp; }
@test "install: SIGKILL mid-write leaves the old content" { check_kill w_install; }
@test "install: control: without the library SIGKILL tears the file" { check_kill_control w_install; }
@test "tee: SIGKILL mid-write leaves the old content" { check_kill w_tee; }
@test "tee: control: without the library SIGKILL tears the file" { check_kill_control w_tee; }
@test "dd of=: SIGKILL mid-write leaves the old content" { check_kill w_dd; }
@test "dd of=: control: without the library SIGKILL tears the file" { check_kill_control w_dd; }
@test "python3: SIGKILL mid-write leaves the old content" { check_kill w_python; }
@test "python3: control: without the library SIGKILL tears the file" { check_kill_control w_python; }
@test "perl: SIGKILL mid-write leaves the old content" { check_kill w_perl; }
@test "perl: control: without the library SIGKILL tears the file" { check_kill_control w_perl; }
@test "writer open: SIGKILL mid-write leaves the old content" { check_kill w_c_open; }
@test "writer open: control: without the library SIGKILL tears the file" { check_kill_control w_c_open; }
@test "writer openat: SIGKILL mid-write leaves the old content" { check_kill w_c_openat; }
@test "writer creat: SIGKILL mid-write leaves the old content" { check_kill w_c_creat; }
@test "writer fopen: SIGKILL mid-write leaves the old content" { check_kill w_c_fopen; }
@test "writer freopen: SIGKILL mid-write leaves the old content" { check_kill w_c_freopen; }
@test "writer rdwr: SIGKILL mid-write leaves the old content" { check_kill w_c_rdwr; }
@test "writer rdwr: control: without the library SIGKILL tears the file" { check_kill_control w_c_rdwr; }
@test "writer rdwrat: SIGKILL mid-write leaves the old content" { check_kill w_c_rdwrat; }
@test "writer-fortify open: SIGKILL mid-write leaves the old content" { check_kill w_cf_open; }
@test "writer-fortify openat: SIGKILL mid-write leaves the old content" { check_kill w_cf_openat; }
@test "writer-fortify creat: SIGKILL mid-write leaves the old content" { check_kill w_cf_creat; }
@test "writer-fortify fopen: SIGKILL mid-write leaves the old content" { check_kill w_cf_fopen; }
@test "writer-fortify fopen: control: without the library SIGKILL tears the file" { check_kill_control w_cf_fopen; }
@test "writer-fortify freopen: SIGKILL mid-write leaves the old content" { check_kill w_cf_freopen; }
@test "writer-fortify rdwr: SIGKILL mid-write leaves the old content" { check_kill w_cf_rdwr; }
@test "writer-fortify rdwrat: SIGKILL mid-write leaves the old content" { check_kill w_cf_rdwrat; }
@test "writer-fortify rdwrat: control: without the library SIGKILL tears the file" { check_kill_control w_cf_rdwrat; }

# The launcher forks the command with PR_SET_PDEATHSIG(SIGKILL): killing the
# launcher kills the command, which then commits nothing.
@test "launcher: SIGKILL to the launcher kills its command, the old content stays" {
	local launcher pid t
	big_contents
	cp old.txt f.yaml
	new_text t
	ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" "$WRITER" open f.yaml "$t" 16 100 > /dev/null 2>&1 3>&- &
	launcher=$!
	wait_for_log '/f\.yaml: writing '
	sleep 0.3
	pid=$(temp_pid writer) || fail "no writer is writing a temp here"
	assert_equal "$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")" "$launcher"
	kill -9 "$launcher"
	wait "$launcher" || true
	gone "$pid" || fail "the writer $pid survived its launcher"
	assert_loaded writer
	sleep 1 # longer than the rest of the write would have taken
	cmp -s f.yaml old.txt || fail "f.yaml is not the old content"
}

# ---- 4. unmatched paths are untouched -------------------------------------

@test "bash echo >: unmatched f.txt written in place" { check_unmatched w_bash_echo; }
@test "bash { } >: unmatched f.txt written in place" { check_unmatched w_bash; }
@test "bash >>: unmatched f.txt written in place" { check_unmatched w_bash_append; }
@test "cp onto existing: unmatched f.txt written in place" { check_unmatched w_cp; }
@test "install: unmatched f.txt replaced by install itself" { check_unmatched w_install; }
@test "tee: unmatched f.txt written in place" { check_unmatched w_tee; }
@test "dd of=: unmatched f.txt written in place" { check_unmatched w_dd; }
@test "python3: unmatched f.txt written in place" { check_unmatched w_python; }
@test "perl: unmatched f.txt written in place" { check_unmatched w_perl; }
@test "writer open: unmatched f.txt written in place" { check_unmatched w_c_open; }
@test "writer openat: unmatched f.txt written in place" { check_unmatched w_c_openat; }
@test "writer creat: unmatched f.txt written in place" { check_unmatched w_c_creat; }
@test "writer fopen: unmatched f.txt written in place" { check_unmatched w_c_fopen; }
@test "writer freopen: unmatched f.txt written in place" { check_unmatched w_c_freopen; }
@test "writer rdwr: unmatched f.txt written in place" { check_unmatched w_c_rdwr; }
@test "writer rdwrat: unmatched f.txt written in place" { check_unmatched w_c_rdwrat; }
@test "writer-fortify open: unmatched f.txt written in place" { check_unmatched w_cf_open; }
@test "writer-fortify openat: unmatched f.txt written in place" { check_unmatched w_cf_openat; }
@test "writer-fortify creat: unmatched f.txt written in place" { check_unmatched w_cf_creat; }
@test "writer-fortify fopen: unmatched f.txt written in place" { check_unmatched w_cf_fopen; }
@test "writer-fortify freopen: unmatched f.txt written in place" { check_unmatched w_cf_freopen; }
@test "writer-fortify rdwr: unmatched f.txt written in place" { check_unmatched w_cf_rdwr; }
@test "writer-fortify rdwrat: unmatched f.txt written in place" { check_unmatched w_cf_rdwrat; }

# ---- 5. O_EXCL creation still fails on an existing matched file ------------

# excl_setup: f.yaml exists with old content; its inode in $EXCL_INODE.
excl_setup() {
	printf 'old\n' > f.yaml
	EXCL_INODE=$(inode f.yaml)
}
assert_excl_untouched() {
	assert_equal "$(cat f.yaml)" old
	assert_equal "$(inode f.yaml)" "$EXCL_INODE"
	assert_no_temps
}

@test "O_EXCL: bash set -C; echo x > f.yaml fails" {
	excl_setup
	run wrapped bash -c 'set -C; echo x > f.yaml'
	assert_failure
	assert_output --partial 'cannot overwrite existing file'
	assert_loaded bash
	assert_excl_untouched
}

@test "O_EXCL: python3 open('f.yaml', 'x') raises FileExistsError" {
	excl_setup
	run wrapped "$PY" -c '
import sys
try:
    open("f.yaml", "x")
except FileExistsError:
    sys.exit(3)
'
	assert_equal "$status" 3
	assert_loaded "$PY_COMM"
	assert_excl_untouched
}

@test "O_EXCL: writer excl f.yaml exits 1" {
	excl_setup
	run wrapped "$WRITER" excl f.yaml x
	assert_equal "$status" 1
	assert_output --partial 'File exists'
	assert_loaded writer
	assert_excl_untouched
}

@test "O_EXCL: writer-fortify excl f.yaml exits 1" {
	excl_setup
	run wrapped "$WRITER_FORTIFY" excl f.yaml x
	assert_equal "$status" 1
	assert_output --partial 'File exists'
	assert_loaded writer-fortify
	assert_excl_untouched
}
