#!/usr/bin/env bash
# bench.sh - the benchmarks of SPEC §6, run by `make bench` after the
# build; then report.sh turns the figures into docs/PERFORMANCE.md.
#
# Every figure is a ratio of two commands measured side by side in one
# run: each benchmark runs in rounds, and each round runs every variant
# once, in an order that turns from round to round (AB, BA, ...), so that
# a change of load on the machine falls on both sides.  The ratio is
# taken round by round, and reported as the median of the rounds with
# their spread (min-max).  No figure is asserted: a missed target is
# reported, never an error.  A variant that fails to run is an error.
#
# Environment: BENCH_DIR (the work directory: default build/bench/work,
# on the file system of the tree), BENCH_ROUNDS (default 5: the rounds of
# the longest benchmarks; the others run more, as they are cheaper or
# noisier), BENCH_QUICK=1 (a check of the
# harness in a minute or two: every size cut down, the report written to
# build/bench/PERFORMANCE.md instead of docs/), BENCH_ONLY="GROUP..."
# (only those benchmarks, by the names of results.tsv: start tar
# small_full small_none stream edit reflink_xfs reflink_btrfs lock
# session session_commit append append_writers go_opens go_small, and evidence; the
# report then goes to build/bench/PERFORMANCE.md too).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
bb=$top/build/bench
bin=$top/build
work=${BENCH_DIR:-$bb/work}
rounds=${BENCH_ROUNDS:-5}
results=$bb/results.tsv
meta=$bb/meta.txt
python=/usr/bin/python3
failed=0
# The sizes of SPEC §6 and issue 6, or a fraction for BENCH_QUICK.
n_true=1000 n_dirs=100 n_small=2000 n_sponge=100 mib=1024 workers=16 cycles=200 n_commit=1000 n_opens=10000
n_appends=100 big_log=27000000
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	n_true=50 n_dirs=10 n_small=100 n_sponge=10 mib=64 workers=4 cycles=10 n_commit=100 n_opens=1000
	n_appends=20 big_log=2700000
fi

rm -rf "$work"
mkdir -p "$work" "$bb" || exit 1
work=$(cd "$work" && pwd)
: > "$results"
: > "$meta"
mounts=()
cleanup() {
	local m
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The library's lock files and the config it would find stay inside the
# work directory: only the rules given to each variant count.
export XDG_RUNTIME_DIR=$work/run XDG_CONFIG_HOME=$work/xdg TMPDIR=$work
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset ATOMICALLY_CONF ATOMICALLY_RULES ATOMICALLY_LOG LD_PRELOAD
export LMS_COUNTER=$bin/lms_counter WFA_DIR=$bb/npm

note() { printf '%s\n' "$*" >> "$meta"; }
say() { printf 'bench: %s\n' "$*" >&2; }

# rules CONF: the ATOMICALLY_RULES that `atomically [-c CONF] --env`
# hands out (no CONF: the embedded default), as `eval` would set it.
rules() {
	( eval "$("$bin/atomically" ${1:+-c "$1"} --env)" && printf '%s' "$ATOMICALLY_RULES" )
}
lib=$bin/libatomically.so
conf() { printf '%s\n' "$2" > "$work/$1.conf"; rules "$work/$1.conf"; }
if [ -e /etc/atomically.conf ]; then
	say "note: /etc/atomically.conf exists and replaces the embedded default"
	note "note: /etc/atomically.conf existed and replaced the embedded default"
fi
rules_default=$(rules) || exit 1
rules_full=$(conf full 'path "*.json" { durability = "full" }') || exit 1
rules_none=$(conf none 'path "*.json" { durability = "none" }') || exit 1
rules_lock=$(conf lock 'path "counter.json" {
	lock = "process"
	durability = "none"
}') || exit 1
# The command prefixes that run a program under the library with each
# set of rules.
lib_default=(env "LD_PRELOAD=$lib" "ATOMICALLY_RULES=$rules_default")
lib_full=(env "LD_PRELOAD=$lib" "ATOMICALLY_RULES=$rules_full")
lib_none=(env "LD_PRELOAD=$lib" "ATOMICALLY_RULES=$rules_none")
lib_lock=(env "LD_PRELOAD=$lib" "ATOMICALLY_RULES=$rules_lock")
# The same as options of timeit, which sets them in the child itself: an
# env(1) in front would time one more exec on the library's side only.
tl_default=(-e "LD_PRELOAD=$lib" -e "ATOMICALLY_RULES=$rules_default")
tl_full=(-e "LD_PRELOAD=$lib" -e "ATOMICALLY_RULES=$rules_full")
tl_none=(-e "LD_PRELOAD=$lib" -e "ATOMICALLY_RULES=$rules_none")
tl_lock=(-e "LD_PRELOAD=$lib" -e "ATOMICALLY_RULES=$rules_lock")
tl_empty=(-e "LD_PRELOAD=$bb/empty.so")
t() { "$bb/timeit" "$@"; }

# interleave GROUP ROUNDS [-c CHUNKS] VARIANT...: ROUNDS rounds of every
# VARIANT.  A variant V is the function run_V, which prints "WALL [CPU
# [...]]" (seconds; timeit's page faults are left out), and may add lines
# "NAME WALL [CPU]" for parts of it, recorded as variants of their own;
# pre_V and post_V, when defined, run untimed before and after it.
# With CHUNKS, a round runs each variant's work in that many pieces,
# run_V 1 .. run_V CHUNKS, the variants taking turns piece by piece so
# that a change of load within a round falls on both; the pieces are
# added up (pre_V runs before the first piece, post_V after the last).
# Each result is a line of results.tsv: GROUP VARIANT ROUND WALL CPU.
interleave() {
	local group=$1 n=$2 chunks=1 r c i k v out
	shift 2
	if [ "$1" = -c ]; then chunks=$2; shift 2; fi
	local vs=("$@") nv=$#
	want "$group" || return 0
	note "load $group start $(cut -d' ' -f1-3 /proc/loadavg)"
	for ((r = 1; r <= n; r++)); do
		say "$group: round $r/$n"
		: > "$work/round"
		for ((c = 1; c <= chunks; c++)); do
			for ((i = 0; i < nv; i++)); do
				k=$(( (i + r + c - 2) % nv ))
				v=${vs[$k]}
				if [ "$c" = 1 ] && declare -F "pre_$v" > /dev/null; then "pre_$v"; fi
				if ! out=$("run_$v" "$c"); then
					say "$group/$v failed in round $r"
					failed=1
					out="- -"
				fi
				if [ "$c" = "$chunks" ] && declare -F "post_$v" > /dev/null; then "post_$v"; fi
				# "VARIANT WALL CPU" lines, the parts under their own names
				{ printf '%s ' "$v"; cat; } <<< "$out" >> "$work/round"
			done
		done
		awk -v g="$group" -v r="$r" '
			NF < 2 { next }
			!($1 in w) { o[++n] = $1 }
			{ w[$1] += $2; if ($2 == "-") bad[$1] = 1
			  if (NF < 3 || $3 == "-") nocpu[$1] = 1; else c[$1] += $3 }
			END { for (i = 1; i <= n; i++) { v = o[i]
				printf "%s\t%s\t%s\t%s\t%s\n", g, v, r, bad[v] ? "-" : w[v], (bad[v] || nocpu[v]) ? "-" : c[v] } }' \
			"$work/round" >> "$results"
	done
	note "load $group end $(cut -d' ' -f1-3 /proc/loadavg)"
}
skip() { note "skip $1 $2"; say "skipped $1: $2"; }
# want GROUP: whether BENCH_ONLY (when set) names GROUP; the setup of a
# benchmark left out is skipped too.
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
# even N: N rounded up to an even number, for a benchmark of two short
# variants, so that each is first in a round as often as the other.
even() { echo $(( ($1 + 1) / 2 * 2 )); }

cd "$work" || exit 1
start_time=$(date +%s)
note "date $(date -u '+%Y-%m-%d %H:%M UTC')"
note "commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$top" diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
note "rounds $rounds"
note "cpu $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB"
note "kernel $(uname -srm)"
note "os $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
note "workfs $(findmnt -n -o FSTYPE,SOURCE,OPTIONS -T "$work" | tr -s ' ')"
note "workdir ${work#"$top"/}"

# --- 1. process start -------------------------------------------------
# A round's 1,000 starts run as 10 shells of 100, the two sides taking
# turns: a change of load within the round falls on both.
loop='i=0; while [ $i -lt '$((n_true / 10))' ]; do /bin/true; i=$((i + 1)); done'
run_start_lib() { t "${tl_default[@]}" sh -c "$loop"; }
run_start_empty() { t "${tl_empty[@]}" sh -c "$loop"; }
interleave start "$rounds" -c 10 start_lib start_empty

# --- 2. work that touches no matched path -----------------------------
# 10,000 files of a few hundred bytes in 100 directories; names the
# default config does not match.  As root, on an ext4 of its own (a loop
# device, made new for the run): the untar's time hangs on ext4's inode
# allocator (below), which the other files of the disk would disturb,
# and removing 190,000 files at the end would take minutes here.
if want tar; then
	tarfs=
	if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 > /dev/null; then
		truncate -s 3G tar.img && mkfs.ext4 -q -N 262144 tar.img && mkdir tarfs &&
			mount -o loop tar.img tarfs && tarfs=$work/tarfs && mounts+=("$tarfs") &&
			note "tarfs ext4 $(findmnt -n -o SOURCE,OPTIONS "$tarfs" | tr -s ' ')"
	fi
	cd "${tarfs:-$work}" || exit 1
	mkdir tree
	for ((d = 0; d < n_dirs; d++)); do
		mkdir "tree/d$d"
		for ((f = 0; f < 100; f++)); do
			printf 'line %d of a source file that no rule matches\n' {1..6} > "tree/d$d/f$f.c"
		done
	done
	tar -cf tree.tar tree  # the tree stays: see below
	# In two pieces, the two sides taking turns: the extraction, then the
	# reading, each side and each round in a tree of its own.  No tree is
	# deleted until the end of the whole run: ext4 skips inodes freed in the
	# last half minute when it allocates new ones, at a cost that grows with
	# their number (recently_deleted() in the profiles), and an untar just
	# after an rm -rf of 10,000 files took 1.4 to 3.5 s instead of 0.2.
	job() {
		case $2 in
		1) echo "mkdir $1 && tar -xf tree.tar -C $1" ;;
		2) echo "find $1 -type f -exec cat {} + > /dev/null" ;;
		esac
	}
	n_lib=0 n_plain=0
	pre_tar_lib() { n_lib=$((n_lib + 1)); sync; }
	pre_tar_plain() { n_plain=$((n_plain + 1)); sync; }
	run_tar_lib() { t "${tl_default[@]}" sh -c "$(job "x-lib-$n_lib" "$1")"; }
	run_tar_plain() { t sh -c "$(job "x-plain-$n_plain" "$1")"; }
	run_tar_lib 1 > /dev/null && run_tar_plain 1 > /dev/null  # warm-up, in x-*-0
	interleave tar "$(even $((rounds + 2)))" -c 2 tar_lib tar_plain
	cd "$work" || exit 1
	if [ -n "$tarfs" ]; then
		umount "$tarfs" && unset 'mounts[-1]' && rm -f tar.img
	fi
fi

# --- 3 and 7. small matched files, durability full, and the peers -----
# Every timed run replaces the 2,000 files the warm-up wrote.  The C
# programs write them in 4 pieces of 500 that take turns with the other
# side (the time of an fsync here swings by 10 times within seconds); a
# peer writes all of them in the first piece, as an interpreter started 4
# times would be timed 4 times.
piece() { echo $(( ($1 - 1) * n_small / 4 )); }
run_small_lib_full() { t "${tl_full[@]}" "$bb/smallfiles" plain s-lib-full $((n_small / 4)) 4096 "$(piece "${1:-1}")"; }
run_small_hand_full() { t "$bb/smallfiles" full s-hand-full $((n_small / 4)) 4096 "$(piece "${1:-1}")"; }
whole() { if [ "${1:-1}" = 1 ]; then return 1; fi; echo "0 0"; }
run_small_py_aw() { whole "$1" || t "$python" "$top/tests/bench/peer_atomicwrites.py" s-py $n_small 4096; }
run_small_node_wfa() { whole "$1" || t node "$top/tests/bench/peer_write_file_atomic.js" s-node $n_small 4096; }
mkdir s-lib-full s-hand-full s-py s-node
variants=(small_lib_full small_hand_full)
if "$python" -c 'import atomicwrites' 2> /dev/null; then
	variants+=(small_py_aw)
	note "peer python3 $("$python" -c 'import sys, atomicwrites; print("%d.%d.%d" % sys.version_info[:3], "atomicwrites", atomicwrites.__version__)')"
else
	skip small_py_aw "python3-atomicwrites is not installed (make deps-bench installs it from Debian)"
fi
if command -v node > /dev/null && [ -d "$WFA_DIR/node_modules/write-file-atomic" ]; then
	variants+=(small_node_wfa)
	note "peer node $(node --version) write-file-atomic $(node -p "require('$WFA_DIR/node_modules/write-file-atomic/package.json').version")"
else
	skip small_node_wfa "node or its write-file-atomic (npm, under build/bench/npm) is missing: make deps-bench installs it when npm is there"
fi
want small_full && for v in "${variants[@]}"; do
	for c in 1 2 3 4; do "run_$v" $c > /dev/null || { say "$v: warm-up failed"; failed=1; }; done
done
interleave small_full "$rounds" -c 4 "${variants[@]}"

# --- 3 (none) and 7 (sponge) ------------------------------------------
# sponge is one process per file, so it is set against the same loop
# with `cat > FILE` under the library (durability none, as sponge does
# not fsync), on 100 files: 2,000 process starts would take minutes here.
run_small_lib_none() { t "${tl_none[@]}" "$bb/smallfiles" plain s-lib-none $((n_small / 4)) 4096 "$(piece "${1:-1}")"; }
run_small_hand_none() { t "$bb/smallfiles" none s-hand-none $((n_small / 4)) 4096 "$(piece "${1:-1}")"; }
# The floor of the protocol (smallfiles.c, mode floor): the hand-written
# program plus the least a writer that locks each target can add (one
# lock file per directory kept open, a byte range per name, a stat for
# the mode): what any design of the library's hot path is bounded by.
run_small_floor_none() { t "$bb/smallfiles" floor s-floor-none $((n_small / 4)) 4096 "$(piece "${1:-1}")"; }
head -c 4096 /dev/zero | tr '\0' x > src4k
shloop='i=0; while [ $i -lt '$n_sponge' ]; do f=$(printf "%s/f%04d.json" "$1" $i); '
run_sponge() { whole "$1" || t sh -c "$shloop"'sponge "$f" < src4k || exit 1; i=$((i + 1)); done' sh s-sponge; }
# The same work as `cat > FILE` made atomic by sponge: the same producer,
# piped into it (sponge alone, above, has no producer to run).
run_cat_sponge() { whole "$1" || t sh -c "$shloop"'cat src4k | sponge "$f" || exit 1; i=$((i + 1)); done' sh s-sponge; }
run_sh_lib_none() { whole "$1" || t "${tl_none[@]}" sh -c "$shloop"'cat src4k > "$f" || exit 1; i=$((i + 1)); done' sh s-sh; }
# The cost of one matched file per process, broken down (issue 16 item
# 2): the same loop writing names no rule matches (.txt), under the
# library (its start in each process: sh's fork, cat), under an empty
# preload, and with no preload at all.
txtloop=${shloop//.json/.txt}
run_sh_lib_nomatch() { whole "$1" || t "${tl_none[@]}" sh -c "$txtloop"'cat src4k > "$f" || exit 1; i=$((i + 1)); done' sh s-sh; }
run_sh_empty() { whole "$1" || t "${tl_empty[@]}" sh -c "$txtloop"'cat src4k > "$f" || exit 1; i=$((i + 1)); done' sh s-sh-plain; }
run_sh_plain() { whole "$1" || t sh -c "$txtloop"'cat src4k > "$f" || exit 1; i=$((i + 1)); done' sh s-sh-plain; }
mkdir s-lib-none s-hand-none s-floor-none s-sponge s-sh s-sh-plain
variants=(small_lib_none small_hand_none small_floor_none)
if command -v sponge > /dev/null; then
	variants+=(sponge cat_sponge sh_lib_none sh_lib_nomatch sh_empty sh_plain)
	note "peer sponge moreutils $(dpkg-query -W -f='${Version}' moreutils 2>/dev/null)"
else
	skip sponge "sponge is not installed (make deps-bench installs moreutils)"
fi
want small_none && for v in "${variants[@]}"; do
	for c in 1 2 3 4; do "run_$v" $c > /dev/null || { say "$v: warm-up failed"; failed=1; }; done
done
interleave small_none "$rounds" -c 4 "${variants[@]}"

# Memory: this machine is a virtual machine whose freshly allocated
# pages can cost a hundred times more than pages just freed (the guest
# hands free memory back to its host, which must fault it in again on
# the next touch), and a run that writes 1 GiB into the page cache gets
# either kind by chance: 0.15 s or 0.8 s for the same cp.  So each such
# run is preceded by fresh_pages, which writes and deletes a 1 GiB
# scratch file: every run then starts with the same memory just freed.
fresh_pages() { sync && "$bb/stream" scratch.json $mib && rm -f scratch.json; }

# --- 4. streaming -----------------------------------------------------
# Both sides write a new file (removed, untimed, after each run): the
# write path alone.  Replacing an existing file holds the old and the
# new at once, and frees the old at the commit: that cost is the in-place
# edit's below (the rename).
# Each run's file is removed after it, untimed, so the next run finds
# that memory just freed; a warm-up of each side first.
pre_stream_lib() { sync; }
pre_stream_plain() { sync; }
run_stream_lib() { t "${tl_none[@]}" "$bb/stream" big.json $mib; }
run_stream_plain() { t "$bb/stream" big.json $mib; }
post_stream_lib() { rm -f big.json; }
post_stream_plain() { rm -f big.json; }
if want stream; then
	fresh_pages
	for v in stream_lib stream_plain; do "run_$v" > /dev/null && "post_$v"; done
fi
interleave stream "$(even $((rounds * 3)))" stream_lib stream_plain

# --- 5. in-place edit of 1 GiB: the work directory's file system -------
# The library's edit (the copy into the temp at the open, one byte
# changed, the commit at the close) against cp of the same file (the
# copy, at copy_file_range speed), and against cp + mv over it, which is
# what a program would do by hand to replace the file atomically.  edit
# reports its open (the lock and the copy) and its close (the commit)
# apart: variants edit_copy and edit_commit.
want edit && { "$bb/stream" edit.json $mib || failed=1; }
pre_edit_lib() { fresh_pages; }
pre_edit_cp() { fresh_pages; }
pre_edit_cpmv() { fresh_pages; }
run_edit_lib() {
	t -o edit.out "${tl_none[@]}" "$bb/edit" edit.json &&
		awk '{ print "edit_copy", $2; print "edit_commit", $3 }' edit.out
}
run_edit_cp() { t cp edit.json copy.json; }
run_edit_cpmv() { t sh -c 'cp edit.json .edit.json.tmp && mv .edit.json.tmp edit.json'; }
post_edit_cp() { rm -f copy.json; }
interleave edit "$rounds" edit_lib edit_cp edit_cpmv
# Where the time goes: the slow calls of the edit, of cp and of mv
# (strace -T), each after fresh_pages.
calls() { awk -F'<' '/</ { n = $1; sub(/\(.*/, "", n); t = $NF; sub(/>.*/, "", t); if (t >= 0.001) printf "%s %.3f s; ", n, t }' "$1"; }
if want edit && command -v strace > /dev/null; then
	fresh_pages
	strace -T -e trace=ioctl,copy_file_range,renameat -o edit.strace "${lib_none[@]}" "$bb/edit" edit.json > /dev/null &&
		note "evidence edit_calls the library's edit: $(calls edit.strace)"
	fresh_pages
	strace -T -e trace=copy_file_range -o edit.strace cp edit.json .edit.json.tmp &&
		note "evidence edit_calls cp: $(calls edit.strace)"
	strace -T -e trace=rename,renameat,renameat2 -o edit.strace mv .edit.json.tmp edit.json &&
		note "evidence edit_calls mv over the file: $(calls edit.strace)"
	rm -f edit.strace
fi
rm -f edit.json copy.json edit.out

# --- 5. in-place edit on reflink file systems (loop-mounted) ----------
# The edit's own time (open to close, printed by edit), 1 GiB against
# 1 MiB, durability none (the copy) and full (the commit's fsyncs too).
# edit prints TOTAL OPEN CLOSE: TOTAL is the figure.
edit_total() { local out; out=$("$@") || return 1; echo "${out%% *}"; }
run_1g_none() { edit_total "${lib_none[@]}" "$bb/edit" "$rl_mnt/big.json"; }
run_1m_none() { edit_total "${lib_none[@]}" "$bb/edit" "$rl_mnt/small.json"; }
run_1g_full() { edit_total "${lib_full[@]}" "$bb/edit" "$rl_mnt/big.json"; }
run_1m_full() { edit_total "${lib_full[@]}" "$bb/edit" "$rl_mnt/small.json"; }
reflink_fs() {
	local fs=$1 img=$work/$1.img
	rl_mnt=$work/mnt-$1
	truncate -s 3G "$img" && mkdir "$rl_mnt" || return 1
	case $fs in
	xfs) mkfs.xfs -q -m reflink=1 "$img" > /dev/null ;;
	btrfs) mkfs.btrfs -q "$img" > /dev/null ;;
	esac || { skip "reflink_$fs" "mkfs.$fs failed"; return 0; }
	if ! mount -o loop "$img" "$rl_mnt" 2> "$work/mount.err"; then
		skip "reflink_$fs" "mount -o loop failed: $(head -n 1 "$work/mount.err")"
		return 0
	fi
	mounts+=("$rl_mnt")
	note "reflinkfs $fs $(findmnt -n -o SOURCE,OPTIONS "$rl_mnt" | tr -s ' ')"
	"$bb/stream" "$rl_mnt/big.json" $mib && "$bb/stream" "$rl_mnt/small.json" 1 && sync || return 1
	# a warm-up: the first clone of a file just written costs more (55 ms
	# on btrfs), once
	for v in 1g_none 1m_none 1g_full 1m_full; do "run_$v" > /dev/null || return 1; done
	interleave "reflink_$fs" $((2 * rounds)) 1g_none 1m_none 1g_full 1m_full
	umount "$rl_mnt" && unset 'mounts[-1]'
	rm -f "$img"
}
if [ "$(id -u)" != 0 ]; then
	skip reflink "not root: a loop mount needs root"
else
	for fs in xfs btrfs; do
		if ! want "reflink_$fs"; then
			:
		elif command -v "mkfs.$fs" > /dev/null; then
			reflink_fs "$fs" || { say "reflink_$fs: setup failed"; failed=1; }
		else
			skip "reflink_$fs" "mkfs.$fs is not installed (make deps-bench installs it)"
		fi
	done
fi

# --- 6. lock contention -----------------------------------------------
run_lock_lib() { t "${tl_lock[@]}" "$top/tests/bench/contend.sh" lib $workers $cycles counter.json; }
run_lock_flock() { t "$top/tests/bench/contend.sh" flock $workers $cycles counter.json; }
interleave lock "$rounds" lock_lib lock_flock

# --- 8. a session's first touch (issue 14) ------------------------------
# 500 first touches of files (a stat each, of names that do not exist:
# each takes the file's lock), under the launcher with lock = "session"
# (the round trip to the supervisor, which takes the lock) / with lock =
# "process" (the process takes it itself).  Both through the launcher,
# so that the only difference is where the lock is taken.
printf 'path "t-*.json" { lock = "session"\n durability = "none" }\n' > "$work/session.conf"
printf 'path "t-*.json" { lock = "process"\n durability = "none" }\n' > "$work/process.conf"
run_session_lib() { t "$bin/atomically" -c "$work/session.conf" "$bb/touches" 500; }
run_session_process() { t "$bin/atomically" -c "$work/process.conf" "$bb/touches" 500; }
interleave session "$(even $((rounds * 4)))" session_lib session_process

# A session's commit: 1,000 files of 4 KiB written by one program under
# commit = "session" (each then pending in the supervisor; at the exit,
# all committed through the journal), durability full / the same files
# by the hand-written protocol (temp, fsync, rename, fsync dir, file by
# file).  Both replace files that exist.
printf 'path "*.json" { commit = "session"\n durability = "full" }\n' > "$work/commit.conf"
pre_commit_lib() { mkdir -p c-lib && "$bb/smallfiles" plain c-lib $n_commit 4096 > /dev/null; sync; }
pre_commit_hand() { mkdir -p c-hand && "$bb/smallfiles" plain c-hand $n_commit 4096 > /dev/null; sync; }
run_commit_lib() { t "$bin/atomically" -c "$work/commit.conf" "$bb/smallfiles" plain c-lib $n_commit 4096; }
run_commit_hand() { t "$bb/smallfiles" full c-hand $n_commit 4096; }
interleave session_commit "$rounds" commit_lib commit_hand

# --- 11. appends (issue 16) -------------------------------------------
# 100 `>>` of one line each (a shell loop, one open and close per line)
# to a CHANGELOG of 27 MB / of 27 KB, both under the library with the
# embedded default rules (CHANGELOG*, durability full): an append costs
# what is appended, not the size of the file.  The same 27 MB appends
# unwrapped, for the price of the guarantees.  Each variant appends to a
# file of its own, which grows by 100 lines a round.
appends='i=0; while [ $i -lt '$n_appends' ]; do echo "- entry $i: fixed a bug in the parser (#1234)" >> CHANGELOG; i=$((i + 1)); done'
if want append; then
	mkdir a-big a-small a-plain
	yes '- fixed a bug in the parser of the config files (#1234)' | head -c $big_log > a-big/CHANGELOG
	cp a-big/CHANGELOG a-plain/CHANGELOG
	head -c $((big_log / 1000)) a-big/CHANGELOG > a-small/CHANGELOG
	sync
fi
run_append_big() { t "${tl_default[@]}" sh -c "cd a-big && $appends"; }
run_append_small() { t "${tl_default[@]}" sh -c "cd a-small && $appends"; }
run_append_plain() { t sh -c "cd a-plain && $appends"; }
interleave append "$rounds" append_big append_small append_plain
# 16 shells, each 200 `>>` of a line to one CHANGELOG, under the library
# (each append under the file's lock) / unwrapped; no line may be lost.
appenders='for w in $(seq 1 '$workers'); do ( i=0; while [ $i -lt '$cycles' ]; do echo "- writer $w, entry $i" >> CHANGELOG; i=$((i + 1)); done ) & done; wait'
pre_appenders_lib() { mkdir -p w-lib && seq 1 1000 > w-lib/CHANGELOG; }
pre_appenders_plain() { mkdir -p w-plain && seq 1 1000 > w-plain/CHANGELOG; }
check_appenders() {
	[ "$(grep -c '^- writer' "$1/CHANGELOG")" = $((workers * cycles)) ] ||
		{ say "appenders: $1/CHANGELOG lost lines"; failed=1; }
}
post_appenders_lib() { check_appenders w-lib; }
post_appenders_plain() { check_appenders w-plain; }
run_appenders_lib() { t "${tl_default[@]}" sh -c "cd w-lib && $appenders"; }
run_appenders_plain() { t sh -c "cd w-plain && $appenders"; }
interleave append_writers "$rounds" appenders_lib appenders_plain
rm -rf a-big a-small a-plain w-lib w-plain

# --- 9 and 10. a Go program under the seccomp supervisor (issue 15) ---
# `atomically COMMAND` with a static or Go COMMAND installs a seccomp
# filter in it and serves its opens for writing from the launcher.
# 9: 10,000 opens of files no rule matches (the embedded default: *.dat
# is not in it), each side with its files of its own, made by a warm-up:
# for writing (each a round trip to the supervisor, which answers
# CONTINUE) and read-only (never sent by the filter), under atomically /
# the same program without it.  benchopens also times its loop alone,
# recorded as the variant NAME_loop: the whole run includes the
# launcher's start and the filter's installation, the loop does not.
# 10: 2,000 files of 4 KiB, durability full: os.WriteFile under
# atomically / the same Go program doing temp, Sync, Rename, directory
# Sync itself, without atomically; in 4 pieces of 500 as 3 does.
gobin=$bin/go
go_loop() { awk -v v="$1_loop" '{ print v, $4 }' "$work/go.out"; }
run_opens_w_lib() { t -o "$work/go.out" "$bin/atomically" -q "$gobin/benchopens" -w $n_opens o-lib && go_loop opens_w_lib; }
run_opens_w_plain() { t -o "$work/go.out" "$gobin/benchopens" -w $n_opens o-plain && go_loop opens_w_plain; }
run_opens_r_lib() { t -o "$work/go.out" "$bin/atomically" -q "$gobin/benchopens" -r $n_opens o-lib && go_loop opens_r_lib; }
run_opens_r_plain() { t -o "$work/go.out" "$gobin/benchopens" -r $n_opens o-plain && go_loop opens_r_plain; }
run_go_lib_full() { t "$bin/atomically" -q -c "$work/full.conf" "$gobin/benchfiles" plain g-lib $((n_small / 4)) 4096 "$(piece "${1:-1}")"; }
run_go_hand_full() { t "$gobin/benchfiles" full g-hand $((n_small / 4)) 4096 "$(piece "${1:-1}")"; }
go_skip=
if [ ! -x "$gobin/benchopens" ] || [ ! -x "$gobin/benchfiles" ]; then
	go_skip="the Go programs (tests/go/bench*) are not built: go is not installed (make deps-bench installs golang-go)"
else
	mkdir o-lib o-plain g-lib g-hand
	# The launcher says whether it covers the program: a kernel without
	# seccomp user notification, or a container that refuses the filter,
	# would run it uncovered, and the ratio would mean nothing.
	said=$("$bin/atomically" "$gobin/benchopens" -w 1 o-lib 2>&1 > /dev/null)
	if [[ "$said" != *"the supervisor covers its opens for writing"* ]]; then
		go_skip="the seccomp supervisor does not cover a Go program here: ${said:-it said nothing}"
	fi
fi
if [ -n "$go_skip" ]; then
	skip go_opens "$go_skip"
	skip go_small "$go_skip"
else
	note "go $(go version 2>/dev/null | awk '{ print $3 }')"
	if want go_opens; then
		for v in opens_w_lib opens_w_plain opens_r_lib opens_r_plain; do
			"run_$v" > /dev/null || { say "$v: warm-up failed"; failed=1; }
		done
		interleave go_opens "$(even $((rounds * 2)))" opens_w_lib opens_w_plain opens_r_lib opens_r_plain
	fi
	if want go_small; then
		for v in go_lib_full go_hand_full; do
			for c in 1 2 3 4; do "run_$v" $c > /dev/null || { say "$v: warm-up failed"; failed=1; }; done
		done
		interleave go_small "$rounds" -c 4 go_lib_full go_hand_full
	fi
	rm -rf o-lib o-plain g-lib g-hand
fi

# --- evidence that does not depend on the load ------------------------
if want evidence; then
	# System calls of the small-files work (200 files, each replaced once
	# more), and instructions of one process start (callgrind), each with the
	# library and its baseline.
	if command -v strace > /dev/null; then
		mkdir p-lib p-hand
		# syscalls FILES CMD...: the system calls of CMD per file written,
		# the total first, then each call made at least once per file.
		syscalls() {
			local files=$1
			shift
			strace -f -c -o "$work/strace.out" "$@" > /dev/null || return 1  # "$@": [-E VAR=VALUE]... COMMAND
			awk -v n="$files" 'NR > 2 && $1 !~ /^-/ && NF >= 5 && $NF == "total" { printf "%.1f", $4 / n }' "$work/strace.out"
			awk -v n="$files" 'NR > 2 && $1 !~ /^-/ && NF >= 5 && $NF != "total" && $4 >= n { printf "%d %s %.0f\n", $4, $NF, $4 / n }' "$work/strace.out" |
				sort -k1,1nr | awk '{ printf ", %s %s", $2, $3 }'
		}
		"${lib_full[@]}" "$bb/smallfiles" plain p-lib 200 4096 && "$bb/smallfiles" full p-hand 200 4096 &&
		note "evidence syscalls_per_file the library (full): $(syscalls 200 -E "LD_PRELOAD=$lib" -E "ATOMICALLY_RULES=$rules_full" "$bb/smallfiles" plain p-lib 200 4096)" &&
		note "evidence syscalls_per_file hand-written (full): $(syscalls 200 "$bb/smallfiles" full p-hand 200 4096)"
		rm -rf p-lib p-hand
		# The same for the Go programs of 9 and 10, the supervisor's calls
		# and the program's together (strace -f follows both).
		if [ -z "$go_skip" ]; then
			mkdir p-go p-lib p-hand
			"$gobin/benchopens" -w 1000 p-go > /dev/null &&
			note "evidence go_syscalls per unmatched open for writing (1,000, benchopens -w): under atomically $(syscalls 1000 "$bin/atomically" -q "$gobin/benchopens" -w 1000 p-go); without $(syscalls 1000 "$gobin/benchopens" -w 1000 p-go)"
			"$gobin/benchfiles" plain p-lib 200 4096 > /dev/null && "$gobin/benchfiles" full p-hand 200 4096 > /dev/null &&
			note "evidence go_syscalls per small file (200, benchfiles, durability full): os.WriteFile under atomically $(syscalls 200 "$bin/atomically" -q -c "$work/full.conf" "$gobin/benchfiles" plain p-lib 200 4096); hand-written without it $(syscalls 200 "$gobin/benchfiles" full p-hand 200 4096)"
			rm -rf p-go p-lib p-hand
		fi
	fi
	# Page faults (timeit's count): per small file, and per process start.
	faults() { "$bb/timeit" "$@" | awk '{ print $3 }'; }
	mkdir p-lib p-hand
	"${lib_full[@]}" "$bb/smallfiles" plain p-lib 200 4096 && "$bb/smallfiles" full p-hand 200 4096 &&
		note "evidence faults per small file (200 files): the library (full) $(faults "${tl_full[@]}" "$bb/smallfiles" plain p-lib 200 4096 | awk '{ printf "%.1f", $1 / 200 }'), hand-written (full) $(faults "$bb/smallfiles" full p-hand 200 4096 | awk '{ printf "%.1f", $1 / 200 }')"
	rm -rf p-lib p-hand
	loop100='i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i + 1)); done'
	note "evidence faults per process start (100 × /bin/true from sh): no preload $(faults sh -c "$loop100" | awk '{ printf "%.1f", $1 / 100 }'), empty preload $(faults "${tl_empty[@]}" sh -c "$loop100" | awk '{ printf "%.1f", $1 / 100 }'), the library $(faults "${tl_default[@]}" sh -c "$loop100" | awk '{ printf "%.1f", $1 / 100 }')"
	if command -v valgrind > /dev/null; then
		# instr [NAME=VALUE...]: instructions of /bin/true with that
		# environment (valgrind passes LD_PRELOAD on to its client).
		instr() { env "$@" valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" /bin/true > /dev/null 2>&1 && sed -n 's/^summary: //p' "$work/cg.out"; }
		note "evidence instructions_per_start none $(instr)"
		note "evidence instructions_per_start empty $(instr LD_PRELOAD="$bb/empty.so")"
		note "evidence instructions_per_start lib $(instr "${lib_default[@]:1}")"
	fi
fi

note "duration $(( $(date +%s) - start_time ))"
cd "$top" || exit 1
if [ "${BENCH_QUICK:-0}" = 1 ] || [ -n "${BENCH_ONLY:-}" ]; then
	[ "${BENCH_QUICK:-0}" != 1 ] || note "quick"
	"$top/tests/bench/report.sh" "$results" "$meta" "$bb" || exit 1
else
	"$top/tests/bench/report.sh" "$results" "$meta" "$top/docs" || exit 1
fi
exit "$failed"
