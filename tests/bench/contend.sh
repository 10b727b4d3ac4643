#!/bin/sh
# contend.sh MODE WORKERS CYCLES FILE - the lock contention benchmark's
# load: WORKERS processes at once, each running CYCLES load-modify-save
# cycles of lms_counter on FILE, one process per cycle.
#   MODE lib    each cycle under the library, whose rule for FILE has
#               lock = "process" (LD_PRELOAD and ATOMICALLY_RULES come
#               from the environment of this script; the shells here
#               are run without them, so only lms_counter loads it)
#   MODE flock  each cycle serialised by flock(1) on FILE.flock, no
#               library
# Exits 1 when any cycle failed, and checks that FILE ends at
# WORKERS * CYCLES: the baseline and the library both lose no update.
set -u
mode=$1 workers=$2 cycles=$3 file=$4
counter=${LMS_COUNTER:?}
lib=${LD_PRELOAD:-} rules=${ATOMICALLY_RULES:-}
unset LD_PRELOAD ATOMICALLY_RULES
rm -f "$file" "$file.failed"
w=0
while [ "$w" -lt "$workers" ]; do
	(
		i=0
		while [ "$i" -lt "$cycles" ]; do
			if [ "$mode" = lib ]; then
				LD_PRELOAD=$lib ATOMICALLY_RULES=$rules "$counter" "$file"
			else
				flock "$file.flock" "$counter" "$file"
			fi || { : > "$file.failed"; exit 1; }
			i=$((i + 1))
		done
	) &
	w=$((w + 1))
done
wait
[ ! -e "$file.failed" ] || exit 1
n=$(cat "$file")
[ "$n" -eq $((workers * cycles)) ] || { echo "contend.sh: $file ends at $n, not $((workers * cycles))" >&2; exit 1; }
