#!/usr/bin/env bash
# report.sh RESULTS META DIR - DIR/PERFORMANCE.md and DIR/performance.png
# (DIR is docs/ for a full run) from the figures bench.sh wrote: RESULTS has a line per timed run
# (GROUP VARIANT ROUND WALL CPU, tab-separated), META the machine, the
# load averages, the skips and the evidence.  tests/bench/analysis.md,
# the diagnosis of the misses written by hand, goes in after the table.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
results=$1 meta=$2
out=$3/PERFORMANCE.md
png=$3/performance.png
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

m() { sed -n "s/^$1 //p" "$meta" | head -n 1; }

# The rows: # | label | group | measured | baseline | kind | target | what
# (the label names the bar of the chart).
# kind: ratio (time of measured / time of baseline, per round), tput
# (throughput of measured / baseline, i.e. baseline time / measured
# time), ms (the measured time alone, in milliseconds).
cat > "$tmp/rows" <<'EOF'
1|start|start|start_lib|start_empty|ratio|<=1.03|Process start: 1,000 × `/bin/true` from `sh` (10 shells of 100), under the library with the embedded default rules / with an empty preload
2|no match|tar|tar_lib|tar_plain|ratio|<=1.02|No matched path: untar 10,000 files, then `find -type f -exec cat {} +`, under the library / no preload
3|small full|small_full|small_lib_full|small_hand_full|ratio|<=1.05|2,000 files of 4 KiB, durability `full`: plain C writer under the library / hand-written temp, fsync, rename, fsync dir
3|small none|small_none|small_lib_none|small_hand_none|ratio|<=1.05|The same, durability `none` / the hand-written program without the fsyncs
3|floor none|small_none|small_floor_none|small_hand_none|ratio|-|The floor of the protocol: the hand-written program plus a lock per file (one lock file per directory kept open, a byte range per name, `F_OFD_SETLKW`) and a stat of the target for its mode / the hand-written program (what any design can reach)
3|lib / floor|small_none|small_lib_none|small_floor_none|ratio|-|The library, durability `none` / that floor (what the library's own guarantees cost: the calls of DESIGN's "What one small file costs")
4|stream|stream|stream_lib|stream_plain|ratio|<=1.01|Streaming: 1 GiB written to a new matched file, durability `none` / without the library
5|edit: copy|edit|edit_copy|edit_cp|ratio|<=1.05|In-place edit of 1 GiB (O_RDWR, 1 byte), work directory's file system, durability `none`: the copy (the edit's open: lock, copy into the temp) / `cp` of the file
5|edit / cp+mv|edit|edit_lib|edit_cpmv|ratio|-|The whole edit (copy, 1 byte, commit) / `cp` to a temp + `mv` over the file (the hand-made atomic replacement)
5|edit / cp|edit|edit_lib|edit_cp|ratio|-|The whole edit / `cp` of the file
5|edit commit|edit|edit_commit|-|ms|-|The edit's commit (its close: the rename over the 1 GiB file)
5|xfs 1G ms|reflink_xfs|1g_none|-|ms|<=10|xfs (loop): edit of a 1 GiB file, open to close, durability `none`
5|xfs 1G/1M|reflink_xfs|1g_none|1m_none|ratio|-|xfs (loop): edit of 1 GiB / edit of 1 MiB, durability `none` (size independence)
5|xfs 1G full ms|reflink_xfs|1g_full|-|ms|-|xfs (loop): edit of a 1 GiB file, durability `full` (the fsyncs of the commit included)
5|btrfs 1G ms|reflink_btrfs|1g_none|-|ms|<=10|btrfs (loop): edit of a 1 GiB file, open to close, durability `none`
5|btrfs 1G/1M|reflink_btrfs|1g_none|1m_none|ratio|-|btrfs (loop): edit of 1 GiB / edit of 1 MiB, durability `none` (size independence)
5|btrfs 1G full ms|reflink_btrfs|1g_full|-|ms|-|btrfs (loop): edit of a 1 GiB file, durability `full`
6|lock|lock|lock_lib|lock_flock|tput|>=0.9|Lock contention: 16 processes × 200 load-modify-save cycles, `lock = "process"` / serialised by `flock(1)` (throughput)
7|atomicwrites|small_full|small_py_aw|small_hand_full|ratio|-|Peer: python3 + atomicwrites (fsync file + dir) / the hand-written C of 3
7|write-file-atomic|small_full|small_node_wfa|small_hand_full|ratio|-|Peer: node + write-file-atomic (fsync file only) / the hand-written C of 3
7|cat>f / cat+sponge|small_none|sh_lib_none|cat_sponge|ratio|<=1|Peer, and one matched file per process (issue 16 item 2): 100 × `cat > FILE` under the library, durability `none` / 100 × `cat | sponge FILE` (the same producer made atomic by sponge; lower than 1: faster than sponge)
7|cat>f / sponge|small_none|sh_lib_none|sponge|ratio|-|The same loop / 100 × `sponge FILE < SOURCE` (sponge alone, no producer: `cat` itself, which loads its locale, costs more than `sponge`)
7|cat>f: start|small_none|sh_lib_nomatch|sh_empty|ratio|-|Its parts: the same loop writing names no rule matches, under the library / under an empty preload (the library's start in sh's fork and in cat)
7|cat>f: empty preload|small_none|sh_empty|sh_plain|ratio|-|The same loop under an empty preload / no preload (what any preload costs)
7|cat>f: the file|small_none|sh_lib_none|sh_lib_nomatch|ratio|-|The loop writing matched names / names no rule matches, both under the library (lock, temp, handover to cat, commit)
8|session touch|session|session_lib|session_process|ratio|<=2|A session's first touch: 500 stats of new names under `lock = "session"` (the round trip to the supervisor, which takes each lock) / under `lock = "process"` (the process takes them itself); both through the launcher
8|session commit|session_commit|commit_lib|commit_hand|ratio|-|A session's commit: 1,000 files of 4 KiB replaced by one program under `commit = "session"`, durability `full` (all committed at its exit, through the journal) / the hand-written protocol, file by file (temp, fsync, rename, fsync dir)
9|go opens write|go_opens|opens_w_lib|opens_w_plain|ratio|<=1.05|A Go program (static), 10,000 opens for writing of files no rule matches (open, write 64 bytes, close), under `atomically` (each open a round trip to the seccomp supervisor) / without it; the whole run
9|go opens write loop|go_opens|opens_w_lib_loop|opens_w_plain_loop|ratio|-|The same, the program's loop alone (its start, the launcher's and the filter's installation left out)
9|go opens read|go_opens|opens_r_lib|opens_r_plain|ratio|<=1.05|The same program, 10,000 read-only opens (open, read, close) of those files, under `atomically` (the filter lets them through) / without it; the whole run
9|go opens read loop|go_opens|opens_r_lib_loop|opens_r_plain_loop|ratio|-|The same, the program's loop alone
10|go small full|go_small|go_lib_full|go_hand_full|ratio|-|A Go program, 2,000 files of 4 KiB, durability `full`: `os.WriteFile` under `atomically` (the seccomp supervisor makes each atomic) / the same program's hand-written temp, `Sync`, `Rename`, directory `Sync`, without it
11|append 27M/27K|append|append_big|append_small|ratio|<=2|Appends: 100 `>>` of one line to a 27 MB CHANGELOG / the same to a 27 KB one, both under the library (embedded default rules: durability `full`)
11|append / plain|append|append_big|append_plain|ratio|-|The same 27 MB appends under the library / unwrapped
11|16 appenders|append_writers|appenders_lib|appenders_plain|ratio|-|16 shells × 200 `>>` of a line to one CHANGELOG, under the library (each append under the file's lock, no line lost) / unwrapped
EOF

# One line per row: the figures, separated by |:
# id label what kind target n median min max cpu_median med_measured
# med_baseline verdict; a row without figures has n = 0 and its group and
# measured variant in the last two fields, to find why it was skipped.
awk -F'\t' -v rows="$tmp/rows" '
function sortv(a, n,    i, j, x) {
	for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
}
function median(a, n) { sortv(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ wall[$1, $2, $3] = $4; cpu[$1, $2, $3] = $5; if ($3 > last[$1]) last[$1] = $3 }
END {
	while ((getline line < rows) > 0) {
		split(line, f, "|")
		id = f[1]; label = f[2]; g = f[3]; mv = f[4]; bv = f[5]; kind = f[6]; target = f[7]; what = f[8]
		n = 0; nc = 0; nm = 0; nb = 0
		for (r = 1; r <= last[g]; r++) {
			w = wall[g, mv, r]
			if (w == "" || w == "-") continue
			ms[++nm] = w
			if (kind == "ms") { v[++n] = w * 1000; continue }
			b = wall[g, bv, r]
			if (b == "" || b == "-" || b == 0 || w == 0) continue
			bs[++nb] = b
			v[++n] = kind == "tput" ? b / w : w / b
			c = cpu[g, mv, r]; cb = cpu[g, bv, r]
			if (c != "-" && cb != "-" && c > 0 && cb > 0) cv[++nc] = kind == "tput" ? cb / c : c / cb
		}
		if (n == 0) { printf "%s|%s|%s|%s|%s|0||||||%s|%s\n", id, label, what, kind, target, g, mv; continue }
		med = median(v, n); lo = v[1]; hi = v[n]
		cm = nc ? sprintf("%.3f", median(cv, nc)) : ""
		mm = median(ms, nm); mb = nb ? median(bs, nb) : ""
		verdict = "—"
		if (target != "-") {
			op = substr(target, 1, 2); tv = substr(target, 3) + 0
			ok = op == "<=" ? med <= tv : med >= tv
			cross = op == "<=" ? (ok ? hi > tv : lo <= tv) : (ok ? lo < tv : hi >= tv)
			verdict = (ok ? "met" : "**missed**") (cross ? " (spread crosses it)" : "")
		}
		fmt = kind == "ms" ? "%.1f" : "%.3f"
		printf "%s|%s|%s|%s|%s|%d|" fmt "|" fmt "|" fmt "|%s|%s|%s|%s\n", id, label, what, kind, target, n, med, lo, hi, cm, mm, mb, verdict
		delete v; delete cv; delete ms; delete bs
	}
}' "$results" > "$tmp/figures"

secs() { [ -n "$1" ] && awk -v s="$1" 'BEGIN { if (s < 1) printf "%.0f ms", s * 1000; else printf "%.2f s", s }'; }

{
	echo "# Performance"
	echo
	if grep -q '^quick' "$meta"; then
		echo "**BENCH_QUICK run: every size cut down, the labels below do not"
		echo "hold, these are no figures.**"
		echo
	fi
	echo "Generated by \`make bench\` (tests/bench/bench.sh, then report.sh) on"
	echo "$(m date), the tree at commit $(m commit), in $(( $(m duration) / 60 )) min $(( $(m duration) % 60 )) s."
	echo "Do not edit: run \`make bench\` again.  The diagnosis after the table"
	echo "comes from tests/bench/analysis.md, written by hand."
	echo
	echo "## Machine"
	echo
	echo "- CPU: $(m cpu)"
	echo "- Kernel: $(m kernel); $(m os)"
	echo "- Work directory \`$(m workdir)\`: $(m workfs)"
	sed -n 's/^tarfs \([a-z0-9]*\) \(.*\)/- \1 for the untar (benchmark 2), made new for the run: \2 (an image file in the work directory)/p' "$meta"
	sed -n 's/^reflinkfs \([a-z]*\) \(.*\)/- \1 for the reflink edits: \2 (an image file in the work directory)/p' "$meta"
	echo "- Load average (1, 5, 15 min) at the start and the end of each benchmark:"
	awk '$1 == "load" { l[$2, $3] = $4 " " $5 " " $6; if (!seen[$2]++) o[++n] = $2 }
	     END { for (i = 1; i <= n; i++) printf "  %s: %s → %s;\n", o[i], l[o[i], "start"], l[o[i], "end"] }' "$meta"
	echo "  other work was running on the machine: that is why every figure is"
	echo "  a ratio of runs made side by side."
	sed -n 's/^peer /- Peer: /p' "$meta"
	sed -n 's/^note: /- Note: /p' "$meta"
	echo
	echo "## Method"
	echo
	echo "Each benchmark runs in rounds (at least 5: the count is in each row),"
	echo "and each round runs every variant once, the order turning from round"
	echo "to round, so that the two sides of a ratio run side by side under the"
	echo "same load; the process starts, the untar and the C and Go small-file writers"
	echo "run in pieces (10, 2 and 4) that the two sides take in turns, as their"
	echo "runs are long.  The ratio is"
	echo "taken round by round; the table gives its median and its spread (the"
	echo "lowest and the highest round).  Times are wall-clock, taken by"
	echo "\`tests/bench/timeit\` (fork, exec, wait4; the CPU column is the ratio"
	echo "of user + system time, which the load disturbs less), except the"
	echo "reflink edits, which \`tests/bench/edit\` times itself from open to close."
	echo "hyperfine is not used: it runs every run of one command before the"
	echo "next command, so a change of load falls on one side only."
	echo "A verdict compares the median with the target; \"spread crosses it\""
	echo "says that some rounds fell on the other side."
	echo
	echo "## Figures"
	echo
	echo "| # | what is measured / against what | median | spread | CPU | median times | target | verdict |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	while IFS='|' read -r id label what kind target n med lo hi cm mm mb verdict; do
		if [ "$n" = 0 ]; then
			# skip lines name the variant, the group, or all reflink groups
			reason=$(sed -n "s/^skip $mb //p; s/^skip $verdict //p; s/^skip ${mb%%_*} //p" "$meta" | head -n 1)
			echo "| $id | $what | skipped | | | | ${target/-/—} | ${reason:-no figures: see the output of make bench} |"
			continue
		fi
		unit=×; [ "$kind" = ms ] && unit=" ms"
		times=$(secs "$mm")${mb:+ vs $(secs "$mb")}
		[ "$kind" = ms ] && times=
		t=${target//<=/≤ }; t=${t//>=/≥ }; [ "$kind" = ms ] && [ "$t" != - ] && t="$t ms"
		echo "| $id | $what | **$med$unit** | $lo – $hi ($n rounds) | ${cm:+$cm×} | $times | ${t/-/—} | $verdict |"
	done < "$tmp/figures"
	echo
	echo "Lock contention is quoted as a throughput ratio (higher is better);"
	echo "every other ratio is a time ratio (lower is better)."
	echo
	echo "![time ratios, median and spread, with the targets](performance.png)"
	echo
	echo "## Evidence that does not depend on the load"
	echo
	sed -n 's/^evidence syscalls_per_file \(.*\)/- System calls per small file (strace -c -f, 200 files), \1/p' "$meta"
	sed -n 's/^evidence go_syscalls \(.*\)/- System calls (strace -c -f: the supervisor and the Go program together) \1/p' "$meta"
	sed -n 's/^evidence instructions_per_start \([a-z]*\) \(.*\)/- Instructions of one `\/bin\/true` (callgrind), preload \1: \2/p' "$meta"
	sed -n 's/^evidence faults \(.*\)/- Page faults \1/p' "$meta"
	sed -n 's/^evidence edit_calls \(.*\)/- Calls over 1 ms in a 1 GiB edit on the work directory (strace -T), \1/p' "$meta"
	echo
	cat "$top/tests/bench/analysis.md"
} > "$out"

# The chart: every ratio row as a time ratio (lock too: its time ratio
# is the inverse of its throughput ratio), log scale, with its target.
awk -F'|' '$4 != "ms" && $6 > 0 {
	med = $7; lo = $8; hi = $9; t = $5
	tv = t == "-" ? "NaN" : substr(t, 3) + 0
	if ($4 == "tput") { med = 1 / med; x = 1 / hi; hi = 1 / lo; lo = x; if (tv != "NaN") tv = 1 / tv }
	printf "%d \"%s %s\" %s %s %s %s\n", ++n, $1, $2, med, lo, hi, tv
}' "$tmp/figures" > "$tmp/chart.dat"
gnuplot <<EOF
set terminal pngcairo size 1000,480 font ",10"
set output "$png"
set title "atomically: time ratio to the baseline, median and min–max of the rounds"
set logscale y 2
set grid ytics
set ylabel "time ratio (lower is better; log scale)"
set xtics rotate by -30 nomirror
set xrange [0.3:*]
set offsets 0, 0.7, 0, 0
set key top left
plot "$tmp/chart.dat" using 1:3:4:5:xtic(2) with yerrorbars pt 7 ps 1.2 lc rgb "#2e5d9f" title "median, min–max", \
     "" using 1:3:(sprintf("%.2f", \$3)) with labels left offset 1,0 notitle, \
     "" using 1:6 with points pt 2 ps 1.8 lc rgb "#c0392b" title "target", \
     1 with lines lc rgb "gray" dt 2 notitle
EOF
