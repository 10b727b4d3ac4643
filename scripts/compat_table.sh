#!/bin/bash
# compat_table.sh [FILE] - run the compatibility matrix and write its tables
# into FILE (docs/COMPATIBILITY.md), between the marker lines
#
#   <!-- compat-table NAME -->  ...  <!-- end compat-table NAME -->
#
# for NAME = run (when and on what), programs, realworld, coexistence.  Without FILE,
# print the tables.  The rest of FILE is left as it is.
#
# The matrix is bats/compat.bats and bats/realworld.bats (the real-program
# suite: each program without the library, under the embedded default
# and under -p, compared), whose tests record their rows in
# $COMPAT_ROWS (see `row` there), plus the tests of programs.bats and
# commit.bats listed in REFERENCED below, which cover the programs
# compat.bats does not run again.  The result column is bats's verdict in
# this run, read from its TAP output: pass, FAIL or skip.
#
# Exit status: 0 when every test passed, 1 when some failed (FILE is
# written all the same), 2 when bats could not run.
set -u
cd "$(dirname "$0")/.." || exit 2
out=${1:-}

work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT
export COMPAT_ROWS="$work/rows"
: > "$COMPAT_ROWS"

# TABLE<TAB>test description<TAB>program<TAB>what was done<TAB>atomic?<TAB>notes
# (each row of $COMPAT_ROWS has the same fields, and one more, what is known
# of a failure, separated by the unit separator \037: read(1) would merge
# empty fields between tabs).
REFERENCED="\
programs	bash echo >: replaced by rename after fsync	bash	\`bash -c 'echo new > f.yaml'\`	yes	also: a reader racing a slow write sees only old or new, SIGKILL mid-write leaves the old content (programs.bats, with controls)
programs	bash >>: replaced by rename after fsync	bash	\`{ ...; } >> f.yaml\`	yes	append = atomic: the old content is copied into the temp
programs	O_EXCL: bash set -C; echo x > f.yaml fails	bash	\`set -C; echo x > f.yaml\` on an existing file	n/a	still fails: an exclusive create is never redirected
programs	cp onto existing: replaced by rename after fsync	cp	\`cp new.txt f.yaml\` onto an existing file	yes	a new file is created with O_EXCL, in place: see cp below
programs	install: replaced by rename after fsync	install	\`install -m 644 new.txt f.yaml\`	yes	install unlinks, then creates with O_EXCL: one atomic replace
programs	tee: replaced by rename after fsync	tee	\`... | tee f.yaml\`	yes	
programs	dd of=: replaced by rename after fsync	dd	\`... | dd of=f.yaml\`	yes	
programs	sed -i on a matched file: its temp is fsynced before the rename, the directory after	sed	\`sed -i 's/old/new/' f.yaml\`	yes	sed's own temp and rename: the library syncs the temp before the rename and the directory after (control in commit.bats)
programs	python3: replaced by rename after fsync	python3	\`open('f.yaml', 'w').write(...)\`	yes	
programs	O_EXCL: python3 open('f.yaml', 'x') raises FileExistsError	python3	\`open('f.yaml', 'x')\` on an existing file	n/a	still raises FileExistsError
programs	perl: replaced by rename after fsync	perl	\`open(my \$f, '>', 'f.yaml')\`	yes	
programs	perl -i on a matched file: synced before the rename	perl	\`perl -pi -e 's/old/new/' f.yaml\`	yes	perl's own rename, synced (commit.bats)
"

# re TEXT: TEXT as an extended regular expression that matches only it.
re() {
	sed -e 's/[][\.*^$+?(){}|/]/\\&/g' <<< "$1"
}

US=$'\037'
REFERENCED=$(tr '\t' '\037' <<< "$REFERENCED")
filter=
while IFS=$US read -r _ desc _; do
	[ -n "$desc" ] || continue
	filter="$filter${filter:+|}$(re "$desc")"
done <<< "$REFERENCED"

# cpu_secs FILE: the user + system seconds of this shell's children, from
# the output of `times` in FILE (run in this shell: a subshell's are 0).
cpu_secs() {
	awk 'NR == 2 {
		n = split($1 " " $2, t, " ")
		for (i = 1; i <= n; i++) { split(t[i], ms, "m"); s += ms[1] * 60 + ms[2] }
		printf "%d", s
	}' "$1"
}

load=$(cut -d' ' -f1 /proc/loadavg)
start=$(date +%s)
times > "$work/times0"
bats --formatter tap bats/compat.bats bats/realworld.bats > "$work/compat.tap" 2> "$work/compat.err"
times > "$work/times1"
compat_secs=$(($(date +%s) - start))
compat_cpu=$(($(cpu_secs "$work/times1") - $(cpu_secs "$work/times0")))
bats --formatter tap --filter "^($filter)\$" bats/programs.bats bats/commit.bats \
	> "$work/ref.tap" 2> "$work/ref.err"
grep -qE '^(not )?ok ' "$work/compat.tap" || {
	echo "compat_table: bats/compat.bats did not run:" >&2
	cat "$work/compat.tap" "$work/compat.err" >&2
	exit 2
}

# verdicts TAP: "description<TAB>pass|FAIL|skip" for each test of TAP.
verdicts() {
	sed -nE \
		-e 's/^ok [0-9]+ (.*) # skip( .*)?$/\1\tskip/p; t' \
		-e 's/^ok [0-9]+ (.*)$/\1\tpass/p; t' \
		-e 's/^not ok [0-9]+ (.*)$/\1\tFAIL/p' "$1"
}
verdicts "$work/compat.tap" > "$work/compat.v"
verdicts "$work/ref.tap" > "$work/ref.v"

# cell TEXT: TEXT fit for a markdown table cell (a | escaped, also in code).
cell() {
	sed 's/|/\\|/g' <<< "$1"
}

# file_of TABLE: the suite whose tests record rows in TABLE.
file_of() {
	if [ "$1" = realworld ]; then echo realworld.bats; else echo compat.bats; fi
}

# table NAME: the markdown table NAME, referenced rows first, then those of
# compat.bats, in the order they ran.
table() {
	local name=$1 tab desc prog done atomic notes failed verdict file
	echo "| program | what was done | result | atomic? | notes | test |"
	echo "| --- | --- | --- | --- | --- | --- |"
	{
		while IFS=$US read -r tab desc prog done atomic notes; do
			[ "$tab" = "$name" ] || continue
			verdict=$(d=$desc awk -F'\t' '$1 == ENVIRON["d"] { print $2 }' "$work/ref.v")
			file=programs.bats
			grep -qF "@test \"$desc\"" bats/commit.bats && file=commit.bats
			printf "%s$US%s$US%s$US%s$US%s$US%s$US%s$US%s\\n" "$prog" "$done" "${verdict:-not run}" \
				"$atomic" "$notes" "" "$file" "$desc"
		done <<< "$REFERENCED"
		while IFS=$'\t' read -r desc verdict; do
			IFS=$US read -r tab _ prog done atomic notes failed < <(
				d=$desc awk -F"$US" '$2 == ENVIRON["d"]' "$COMPAT_ROWS" | head -n 1)
			[ "${tab:-programs}" = "$name" ] || continue
			printf "%s$US%s$US%s$US%s$US%s$US%s$US%s$US%s\\n" "${prog:-?}" "${done:-?}" "$verdict" \
				"${atomic:-?}" "${notes:-}" "${failed:-}" "$(file_of "${tab:-programs}")" "$desc"
		done < "$work/compat.v"
	} | while IFS=$US read -r prog done verdict atomic notes failed file desc; do
		case $verdict in
		pass) ;;
		FAIL)
			atomic="no"
			notes="${failed:-the test failed}${notes:+ ($notes)}"
			verdict="**FAIL**"
			;;
		*) atomic="not checked" ;;
		esac
		printf '| %s | %s | %s | %s | %s | %s |\n' "$(cell "$prog")" "$(cell "$done")" \
			"$verdict" "$(cell "$atomic")" "$(cell "$notes")" "$(cell "$file: $desc")"
	done
}

# version PACKAGE: the Debian version of PACKAGE installed here.
version() {
	dpkg-query -W -f='${Version}' "$1" 2> /dev/null || echo '?'
}

run_info() {
	local pass fail skip p
	pass=$(cat "$work/compat.v" "$work/ref.v" | grep -c $'\tpass$')
	fail=$(cat "$work/compat.v" "$work/ref.v" | grep -c $'\tFAIL$')
	skip=$(cat "$work/compat.v" "$work/ref.v" | grep -c $'\tskip$')
	printf 'Generated by `make compat-table` (scripts/compat_table.sh) on %s, ' "$(date -u +%Y-%m-%d)"
	printf '%s, kernel %s, %s: ' "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(uname -r)" "$(uname -m)"
	printf '%d passed, %d failed, %d skipped. ' "$pass" "$fail" "$skip"
	printf 'bats/compat.bats and bats/realworld.bats ran in %d s, %d s of CPU, on %d cores with a load average of %s at its start.\n\n' \
		"$compat_secs" "$compat_cpu" "$(nproc)" "$load"
	printf 'Versions (Debian packages):'
	for p in libc6 bash dash coreutils sed tar make git vim neovim nano emacs-nox nodejs ruby \
		rsync sqlite3 python3 perl crudini logrotate moreutils jq dpkg sudo libjemalloc2 \
		libeatmydata1 libasan8; do
		printf ' %s %s,' "$p" "$(version "$p")"
	done | sed 's/,$/./'
	echo
}

run_info > "$work/table.run"
table programs > "$work/table.programs"
table coexistence > "$work/table.coexistence"
table realworld > "$work/table.realworld"

if [ -z "$out" ]; then
	for t in run programs realworld coexistence; do
		cat "$work/table.$t"
		echo
	done
else
	for t in run programs realworld coexistence; do
		grep -qxF "<!-- compat-table $t -->" "$out" && grep -qxF "<!-- end compat-table $t -->" "$out" || {
			echo "compat_table: $out has no <!-- compat-table $t --> ... <!-- end compat-table $t --> lines" >&2
			exit 2
		}
	done
	awk -v dir="$work" '
		/^<!-- compat-table [a-z]+ -->$/ {
			print
			name = $3
			f = dir "/table." name
			while ((getline l < f) > 0) print l
			close(f)
			skipping = 1
			next
		}
		/^<!-- end compat-table [a-z]+ -->$/ { skipping = 0 }
		!skipping { print }
	' "$out" > "$work/out" && cat "$work/out" > "$out"
	echo "compat_table: wrote $out"
fi

head -n 1 "$work/table.run" >&2
! grep -q $'\tFAIL$' "$work/compat.v" "$work/ref.v"
