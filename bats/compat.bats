#!/usr/bin/env bats
# compat.bats - the compatibility matrix (issue 5, items 5 and 6): real,
# unmodified programs under the library, and the library beside other
# preloads and under parents that clear LD_PRELOAD.
#
# Programs already covered by programs.bats (bash > and >>, cp onto an
# existing file, install, tee, dd of=, python3, perl) and commit.bats
# (sed -i, perl -i) are not run again here: scripts/compat_table.sh runs
# those tests too and puts them in the same table (docs/COMPATIBILITY.md).
#
# Every test proves the library is loaded in the program under test
# (assert_loaded), and checks the atomic write in a way that fails without
# the library: a control run without it first (written in place: same
# inode; or a rename without an fsync before it), then the run under the
# library (a new inode with "writing ... temp" and "committed" in the
# debug log; or, for a program's own rename, its source fsynced before it
# and the directory after, seen by strace).
#
# Each test records its line of the table with `row PROGRAM DONE ATOMIC
# NOTES`; scripts/compat_table.sh sets $COMPAT_ROWS to collect them and adds
# the result of the run (pass, FAIL, skip) from bats's TAP output.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	# git: no global or system config of this machine's (a default branch
	# name, signing) leaks in.
	export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
}

teardown() {
	[ -z "${SHM_SRC:-}" ] || rm -f "$SHM_SRC"
}

# ---- helpers of this file ----------------------------------------------

# The python3 for the trace checker: /usr/bin/python3, not a pyenv shim.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# The other preloads, found where their Debian packages put them.
JEMALLOC=$(ls /usr/lib/*/libjemalloc.so.2 2> /dev/null | head -n 1)
EATMYDATA=$(ls /usr/lib/*/libeatmydata.so 2> /dev/null | head -n 1)
WRITER_ASAN="$B/writer-asan"

# row PROGRAM DONE ATOMIC NOTES [IF_FAILED]: this test's line of the table
# in docs/COMPATIBILITY.md (scripts/compat_table.sh collects them).  ATOMIC
# and NOTES say what the test proves when it passes; IF_FAILED, what is
# known of its failure (the table shows it when the run fails).
row() {
	[ -n "${COMPAT_ROWS:-}" ] || return 0
	# fields separated by the unit separator (\037), one row a line
	printf '%s\037%s\037%s\037%s\037%s\037%s\037%s\n' "${TABLE:-programs}" \
		"$BATS_TEST_DESCRIPTION" "$1" "$2" "$3" "$4" "${5:-}" >> "$COMPAT_ROWS"
}

# corow ...: row, in the table of coexistence (other preloads, parents
# that clear LD_PRELOAD).
corow() {
	TABLE=coexistence row "$@"
}

# abs FILE: FILE's absolute path, as the library names it in its log.
abs() {
	printf '%s/%s' "$(cd "$(dirname "$1")" && pwd -P)" "$(basename "$1")"
}

# assert_committed FILE INODE: FILE no longer has the inode INODE, and the
# library wrote it into a temp (not in place) and committed it.
assert_committed() {
	local file=$1 before=$2 path
	path=$(abs "$file")
	[ "$(inode "$file")" != "$before" ] || fail "$file kept its inode $before: written in place"
	grep -F "atomically: $path: writing " "$LIBLOG" | grep -qvF 'writing in place' ||
		fail "the library wrote no temp of $path; its log: $(cat "$LIBLOG")"
	grep -qF "atomically: $path: committed (" "$LIBLOG" ||
		fail "$path was not committed; the library's log: $(cat "$LIBLOG")"
}

# assert_not_redirected FILE: the library did not touch FILE.
assert_not_redirected() {
	local path
	path=$(abs "$1")
	! grep -qF "atomically: $path:" "$LIBLOG" ||
		fail "the library acted on $path: $(grep -F "$path" "$LIBLOG")"
}

# check_replaced FILE OLD NEW COMM COMMAND...: FILE holds OLD.  COMMAND,
# run without the library (the control), writes NEW into it in place (same
# inode); run again under the launcher, it leaves NEW in a new inode the
# library committed, and the library was loaded in COMM.
check_replaced() {
	local file=$1 old=$2 new=$3 comm=$4 before
	shift 4
	printf '%s\n' "$old" > "$file"
	before=$(inode "$file")
	run "$@"
	assert_success
	[ "$(cat "$file")" = "$new" ] || fail "control: without the library $file holds: $(cat "$file")"
	[ "$(inode "$file")" = "$before" ] ||
		fail "control: without the library $file got a new inode too: this test could not fail"
	printf '%s\n' "$old" > "$file"
	before=$(inode "$file")
	run wrapped "$@"
	assert_success
	assert_loaded "$comm"
	assert_equal "$(cat "$file")" "$new"
	assert_committed "$file" "$before"
	assert_no_temps "$(dirname "$file")"
}

# trace_renames COMMAND...: COMMAND under strace -f -y, its syncs, renames
# and unlinks in ./trace.
trace_renames() {
	strace -f -y -qq -o "$BATS_TEST_TMPDIR/trace" \
		-e trace=fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat "$@"
}

# synced_rename TARGET: in ./trace, the last successful rename onto a path
# whose last component is TARGET: its source was fsynced before it, and
# the target's directory after it.
synced_rename() {
	"$PY" - "$BATS_TEST_TMPDIR/trace" "$1" <<'PY'
import os, re, sys
lines = open(sys.argv[1]).read().splitlines()
name = re.escape(sys.argv[2])
# the program's renames, not the library's own commits (of its temps)
ren = [i for i, l in enumerate(lines)
       if re.search(r'rename(at2?)?\(.*, "([^"]*/)?%s"(, [A-Z_]+)?\) = 0' % name, l)
       and ".atomically." not in l]
if not ren:
    sys.exit("no rename onto %s" % sys.argv[2])
i = ren[-1]
src = re.search(r'rename(?:at2?)?\((?:[^,]*, )?"([^"]+)"', lines[i]).group(1).split("/")[-1]
if not [l for l in lines[:i] if re.match(r'\d+\s+f(data)?sync\(\d+<[^>]*/%s>\) = 0' % re.escape(src), l)]:
    sys.exit("%s was not fsynced before its rename onto %s" % (src, sys.argv[2]))
# the target's directory: from the rename's directory descriptor (strace -y
# shows its path) and the name; rename(2) itself has none: any fsync then
m = re.search(r'<([^>]*)>, "([^"]+)"(, [A-Z_]+)?\) = 0$', lines[i])
if m:
    t = m.group(2) if m.group(2).startswith("/") else m.group(1) + "/" + m.group(2)
    d = re.escape(os.path.dirname(os.path.normpath(t)))
else:
    d = r'[^>]*'
if not [l for l in lines[i + 1:] if re.match(r'\d+\s+fsync\(\d+<%s>\) = 0' % d, l)]:
    sys.exit("no fsync of the directory of %s after the rename" % sys.argv[2])
PY
}

# assert_lock_taken NAME: the library locked the lock file of a file NAME
# (its log says so: the last holder removes the file).
assert_lock_taken() {
	locks_used | grep -q "^$LOCKS/.*-$1\.lock$" ||
		fail "no lock file for $1 in $LOCKS: $(locks_used)"
}

# ---- shells and coreutils -------------------------------------------------

@test "dash: echo > f.yaml (builtin) is replaced atomically" {
	row dash "\`dash -c 'echo new > f.yaml'\`" "yes" ""
	check_replaced f.yaml old new dash dash -c 'echo new > f.yaml'
}

@test "dash: printf | cat > f.yaml (an external command writes the redirection)" {
	row dash "\`dash -c 'printf new | cat > f.yaml'\`: dash opens the file in the pipeline's child, which execs cat" "yes" "cat's image commits the file dash opened (handed over across exec)"
	check_replaced f.yaml old new cat dash -c 'printf "new\n" | cat > f.yaml'
	assert_loaded dash
}

@test "dash: echo >> f.yaml appends the line in place, under the lock, synced" {
	row dash "\`dash -c 'echo more >> f.yaml'\`" "yes" "append = atomic: the line is added to the file in one write under the lock, then synced (an append that crosses a page is copied and renamed)"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped dash -c 'echo more >> f.yaml'
	assert_success
	assert_loaded dash
	assert_equal "$(cat f.yaml)" "$(printf 'old\nmore')"
	assert_equal "$(inode f.yaml)" "$before"
	grep -q 'f.yaml: committed (full, 5 bytes appended in place)$' "$LIBLOG"
	assert_no_temps .
}

@test "mv in one directory: its rename onto f.yaml is synced and locked" {
	row mv "\`mv src.txt f.yaml\`" "yes" "mv's own rename: the source is fsynced before it, the lock held across it, the directory fsynced after"
	printf 'new\n' > src.txt
	printf 'old\n' > f.yaml
	trace_renames mv src.txt f.yaml
	run synced_rename f.yaml
	assert_failure # control: without the library, no fsync before the rename
	printf 'new\n' > src.txt
	printf 'old\n' > f.yaml
	run trace_renames env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" mv src.txt f.yaml
	assert_success
	assert_loaded mv
	assert_equal "$(cat f.yaml)" new
	assert_file_not_exists src.txt
	run synced_rename f.yaml
	assert_success
	assert_lock_taken f.yaml
}

@test "mv from another file system: copy and unlink, an atomic replace" {
	local src before
	row mv "\`mv /dev/shm/X.yaml f.yaml\` (another file system: mv unlinks f.yaml and creates it with O_EXCL)" "yes" "the unlink is deferred and the exclusive create becomes a temp renamed over f.yaml: no instant without f.yaml"
	[ "$(stat -c %d /dev/shm)" != "$(stat -c %d .)" ] ||
		skip "/dev/shm is on the same file system as $BATS_TEST_TMPDIR"
	src=$(mktemp /dev/shm/compat.XXXXXX.yaml)
	SHM_SRC=$src
	# control: without the library the unlink of f.yaml reaches the kernel
	printf 'new\n' > "$src"
	printf 'old\n' > f.yaml
	trace_renames mv "$src" f.yaml
	grep -qE 'unlink(at)?\(.*"(\./)?f\.yaml"' trace || fail "control: mv did not unlink f.yaml: $(cat trace)"
	printf 'new\n' > "$src"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run trace_renames env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" mv "$src" f.yaml
	assert_success
	assert_loaded mv
	assert_equal "$(cat f.yaml)" new
	assert_file_not_exists "$src"
	! grep -qE 'unlink(at)?\(.*"(\./)?f\.yaml"' trace || fail "an unlink of f.yaml reached the kernel: $(grep unlink trace)"
	assert_committed f.yaml "$before"
	assert_no_temps .
}

@test "sort -o f.yaml f.yaml: sorted in place by sort, replaced atomically" {
	row sort "\`sort -o f.yaml f.yaml\` (output is also the input)" "yes" "sort opens the output without O_TRUNC early: the temp starts as a copy, which sort reads back (read-your-writes), then truncates and writes"
	check_replaced f.yaml "$(printf 'c\nb\na')" "$(printf 'a\nb\nc')" sort sort -o f.yaml f.yaml
}

@test "split: every piece, new or existing, is committed atomically" {
	local before
	row split "\`split -l 2 --additional-suffix=.yaml in.txt x\` over an existing xaa.yaml and a new xab.yaml" "yes" "new files too: O_CREAT without O_EXCL is redirected, so a reader never sees a partial piece"
	printf 'l1\nl2\nl3\nl4\n' > in.txt
	printf 'old\n' > xaa.yaml
	before=$(inode xaa.yaml)
	split -l 2 --additional-suffix=.yaml in.txt x # control: in place
	[ "$(inode xaa.yaml)" = "$before" ] || fail "control: split gave xaa.yaml a new inode without the library"
	rm xab.yaml
	printf 'old\n' > xaa.yaml
	run wrapped split -l 2 --additional-suffix=.yaml in.txt x
	assert_success
	assert_loaded split
	assert_equal "$(cat xaa.yaml)" "$(printf 'l1\nl2')"
	assert_equal "$(cat xab.yaml)" "$(printf 'l3\nl4')"
	assert_committed xaa.yaml "$before"
	assert_committed xab.yaml none
	assert_no_temps .
}

@test "truncate -s 4 f.yaml: the cut file is committed atomically" {
	row truncate "\`truncate -s 4 f.yaml\`" "yes" "open without O_TRUNC, ftruncate: a copy cut in the temp"
	check_replaced f.yaml 0123456789 0123 truncate truncate -s 4 f.yaml
}

@test "dd conv=notrunc: bytes patched in the middle, committed atomically" {
	row dd "\`dd of=f.yaml bs=1 seek=2 conv=notrunc\` (patch two bytes in place)" "yes" "open without O_TRUNC: the temp is a copy of the file, patched, then committed; dd of= without notrunc: see programs.bats"
	check_replaced f.yaml 0123456789 01XY456789 dd \
		bash -c 'printf XY | dd of=f.yaml bs=1 seek=2 conv=notrunc status=none'
}

@test "cp to a new file: exclusive creation, written in place by design" {
	row cp "\`cp src.txt new.yaml\` (new file)" "no (by design)" "cp creates a new file with O_EXCL, which is never redirected (programs build locks with it); cp onto an existing file: see programs.bats"
	printf 'new\n' > src.txt
	run wrapped strace -f -qq -o trace -e trace=openat cp src.txt new.yaml
	assert_success
	assert_loaded cp
	assert_equal "$(cat new.yaml)" new
	grep -qE 'openat\(.*"new\.yaml", [^)]*O_EXCL' trace || fail "cp did not create new.yaml with O_EXCL: $(grep new.yaml trace)"
	assert_not_redirected new.yaml
	assert_no_temps .
}

# ---- interpreters -------------------------------------------------------------

@test "node: fs.writeFileSync is replaced atomically" {
	row node "\`fs.writeFileSync('f.json', ...)\`" "yes" ""
	check_replaced f.json '{"v": 1}' '{"v": 2}' node \
		node -e 'require("fs").writeFileSync("f.json", "{\"v\": 2}\n")'
}

@test "node: fs.promises.writeFile (libuv worker threads) is replaced atomically" {
	row node "\`fs.promises.writeFile('f.json', ...)\`: open, write and close run in libuv's worker threads" "yes" ""
	check_replaced f.json '{"v": 1}' '{"v": 2}' node \
		node -e 'require("fs").promises.writeFile("f.json", "{\"v\": 2}\n").catch(e => { console.error(e); process.exit(1); })'
}

# same_as_plain SCRIPT COMM: SCRIPT (bash) run in plain/ without the
# library and in wrapped/ under the launcher (embedded default rules,
# whose *.json and *.yaml it writes) leaves the same files with the same
# content, and the same exit status and output; the library was loaded
# in COMM.  The wrapped run's output in $output.
same_as_plain() {
	local plain_status plain_output
	no_config_anywhere
	mkdir plain wrapped
	run bash -c "cd plain && $1"
	plain_status=$status plain_output=$output
	run wrapped bash -c "cd wrapped && $1"
	assert_loaded "$2"
	[ "$status" = "$plain_status" ] || fail "exit status $status under the library, $plain_status without; output: $output"
	[ "$output" = "$plain_output" ] || fail "output under the library: $output; without: $plain_output"
	diff -r plain wrapped > diff.out || fail "the files differ: $(cat diff.out)"
}

@test "node: fs.writeFileSync of five files in a row: all five kept (libuv closes with syscall(SYS_close))" {
	row node "\`for (i = 1..5) fs.writeFileSync('f' + i + '.json', ...)\`" "yes" "libuv closes each descriptor with \`syscall(SYS_close)\`, which the library dispatches to its close hook (docs/SURFACE.md); before, the next open took the number and 4 of the 5 files were lost, exit 0"
	same_as_plain "node -e 'for (let i = 1; i <= 5; i++) require(\"fs\").writeFileSync(\"f\" + i + \".json\", JSON.stringify({i}) + \"\\n\")' && cat f1.json f5.json" node
	assert_output "$(printf '{"i":1}\n{"i":5}')"
	assert_equal "$(grep -c 'wrapped/f[1-5]\.json: committed' "$LIBLOG")" 5
}

@test "node: fs.rmSync of a tree of matched files: removed, as without the library" {
	row node "\`fs.rmSync('tree', {recursive: true})\` over *.json files" "n/a" "the last unlink of a matched file, held back (DESIGN.md, deferred unlink), is carried out before the \`rmdir\`; before, it failed with ENOTEMPTY"
	same_as_plain "mkdir -p tree/a && echo 1 > tree/a/x.json && echo 2 > tree/y.yaml && node -e 'require(\"fs\").rmSync(\"tree\", {recursive: true})' && echo removed" node
	assert_output removed
}

@test "python: shutil.rmtree, os.listdir after an unlink, TemporaryDirectory: as without the library" {
	row python3 "\`shutil.rmtree\`, \`os.listdir\` after \`os.unlink\` of a matched file, \`tempfile.TemporaryDirectory\` holding one" "n/a" "a held-back unlink is carried out before \`rmdir\` and before a listing: the deleted file is not listed"
	same_as_plain "mkdir -p d/e && echo 1 > d/e/a.json && echo 2 > d/b.yaml && python3 -c '
import os, shutil, tempfile
os.unlink(\"d/b.yaml\"); print(sorted(os.listdir(\"d\")))
shutil.rmtree(\"d\"); print(os.path.exists(\"d\"))
with tempfile.TemporaryDirectory() as t:
    open(os.path.join(t, \"x.json\"), \"w\").write(\"{}\")
print(os.path.exists(t))'" python3
	assert_output "$(printf "['e']\nFalse\nFalse")"
}

@test "git clean -fdx of untracked matched files: removed, as without the library" {
	row git "\`git clean -fdx\` of untracked *.json and a folder of *.yaml" "n/a" "as for rmtree: the folder is empty when git removes it"
	export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
	same_as_plain "git init -q r && cd r && echo 1 > a.json && mkdir z && echo 2 > z/q.yaml && git clean -fdxq && ls -A" git
	assert_output .git
}

@test "ruby: File.write is replaced atomically" {
	row ruby "\`File.write('f.yaml', ...)\`" "yes" ""
	check_replaced f.yaml 'a: 1' 'a: 2' ruby ruby -e 'File.write("f.yaml", "a: 2\n")'
}

# ---- git ------------------------------------------------------------------

# git_repo DIR: a repository with one commit of f.yaml, made without the
# library.
git_repo() {
	git init -q -b main "$1"
	git -C "$1" config user.email compat@example.invalid
	git -C "$1" config user.name compat
	printf 'a: 1\n' > "$1/f.yaml"
	git -C "$1" add f.yaml
	git -C "$1" commit -qm first
}

@test "git config: its config.lock + rename protocol works, the rename is synced and locked" {
	row git "\`git config core.autocrlf input\` with \`**/.git/config\` matched" "yes" "git writes config.lock (O_EXCL: never redirected) and renames it over config: the library syncs config.lock before the rename and holds config's lock across it"
	printf 'path "**/.git/config" { }\n' > "$CONF"
	git_repo r
	trace_renames git -C r config core.autocrlf false
	run synced_rename config
	assert_failure # control: git renames config.lock without an fsync
	run trace_renames env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" git -C r config core.autocrlf input
	assert_success
	assert_loaded git
	assert_equal "$(git -C r config core.autocrlf)" input
	assert_equal "$(git -C r config user.name)" compat
	run synced_rename config
	assert_success
	assert_lock_taken config
	assert_file_not_exists r/.git/config.lock
	assert_no_temps r/.git
}

@test "git config: git's own lock still excludes (config.lock exists: git config fails, nothing changes)" {
	row git "\`git config\` while another git holds \`.git/config.lock\`" "n/a" "git's lock (O_EXCL create of config.lock) still fails with EEXIST: the library never redirects an exclusive create"
	printf 'path "**/.git/config" { }\npath "**/.git/*.lock" { }\n' > "$CONF"
	git_repo r
	: > r/.git/config.lock
	cp r/.git/config config.before
	run wrapped git -C r config core.autocrlf input
	assert_failure
	assert_loaded git
	assert_output --partial 'could not lock config file'
	cmp -s r/.git/config config.before || fail ".git/config changed"
	assert_file_exists r/.git/config.lock
	assert_equal "$(stat -c %s r/.git/config.lock)" 0
}

@test "git commit with all of .git matched: the commit is whole, git's .lock files work" {
	local old_head
	row git "\`git add\` + \`git commit\` with \`**/.git/**\` matched (index, refs, logs, COMMIT_EDITMSG, objects)" "yes" "index.lock and refs' .lock renames synced and locked; git's in-place writes (COMMIT_EDITMSG, the appended reflogs) become temps; unlinks of git's .lock files and tmp_obj_ files are deferred to git's next write or its exit"
	printf 'path "**/.git/**" { }\npath "*.yaml" { }\n' > "$CONF"
	git_repo r
	# control: without the library the index is renamed without an fsync
	printf 'a: 2\n' > r/f.yaml
	trace_renames sh -c 'git -C r add f.yaml && git -C r commit -qm second'
	run synced_rename index
	assert_failure
	old_head=$(git -C r rev-parse HEAD)
	printf 'a: 3\n' > r/f.yaml
	run trace_renames env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" \
		sh -c 'git -C r add f.yaml && git -C r commit -qm third'
	assert_success
	assert_loaded git
	assert_equal "$(git -C r log -1 --format=%s)" third
	assert_equal "$(git -C r rev-parse HEAD~1)" "$old_head"
	assert_equal "$(git -C r show HEAD:f.yaml)" "a: 3"
	assert_equal "$(git -C r status --porcelain)" ""
	run git -C r fsck --strict --no-progress
	assert_success
	assert_equal "$(git -C r reflog -1 --format=%gs)" "commit: third"
	for f in index main; do
		run synced_rename "$f"
		assert_success
	done
	assert_committed r/.git/COMMIT_EDITMSG none
	assert_committed r/.git/logs/HEAD none
	run find r/.git -name '*.lock' -o -name 'tmp_obj_*'
	assert_output ""
	assert_no_temps r/.git
}

@test "git commit: index.lock left by another git makes the commit fail, as without the library" {
	local head
	row git "\`git commit\` while \`.git/index.lock\` exists, \`**/.git/**\` matched" "n/a" "\"Unable to create .../index.lock: File exists\": git's lock works, the repository is unchanged"
	printf 'path "**/.git/**" { }\n' > "$CONF"
	git_repo r
	head=$(git -C r rev-parse HEAD)
	printf 'a: 2\n' > r/f.yaml
	: > r/.git/index.lock
	run wrapped git -C r commit -qam second
	assert_failure
	assert_loaded git
	assert_output --partial 'index.lock'
	assert_output --partial 'File exists'
	assert_equal "$(git -C r rev-parse HEAD)" "$head"
	assert_file_exists r/.git/index.lock
}

@test "git checkout -- f.yaml: the working-tree file is replaced atomically" {
	local before
	row git "\`git checkout -- f.yaml\` (restore a modified tracked file; \`*.yaml\` matched, as by the default config)" "yes" "git unlinks f.yaml and creates it with O_EXCL: the unlink is deferred, the create becomes a temp renamed over f.yaml; \`git status\` is clean after"
	git_repo r
	printf 'a: local\n' > r/f.yaml
	trace_renames git -C r checkout -- f.yaml # control
	grep -qE 'unlink(at)?\(.*"([^"]*/)?f\.yaml"' trace || fail "control: git did not unlink f.yaml"
	printf 'a: local\n' > r/f.yaml
	before=$(inode r/f.yaml)
	run trace_renames env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" git -C r checkout -- f.yaml
	assert_success
	assert_loaded git
	assert_equal "$(cat r/f.yaml)" "a: 1"
	! grep -qE 'unlink(at)?\(.*"([^"]*/)?f\.yaml"' trace || fail "an unlink of f.yaml reached the kernel"
	assert_committed r/f.yaml "$before"
	assert_equal "$(git -C r status --porcelain)" ""
	assert_no_temps r
}

# ---- vim --------------------------------------------------------------------

@test "vim -es: :wq with vim's default in-place write (backupcopy=yes): committed atomically" {
	local before
	row vim "\`vim -es -u NONE -c '%s/old/new/' -c wq f.yaml\` (Vi-compatible defaults: backupcopy=yes, the file is overwritten in place)" "yes" "vim stat()s f.yaml, opens it without O_TRUNC and compares the inode of the descriptor with the one it saw (E949 otherwise): the library shows the pending file with the file's identity (docs/DESIGN.md, the stat view); vim's fsync commits it. Every backupcopy, in /tmp and elsewhere, through a symlink: bats/pathview.bats"
	# Control: without the library vim saves in place.
	printf 'a: old\n' > f.yaml
	before=$(inode f.yaml)
	run vim -es -V1 -i NONE -u NONE -c '%s/old/new/' -c wq f.yaml
	assert_success
	assert_equal "$(cat f.yaml)" "a: new"
	assert_equal "$(inode f.yaml)" "$before"
	printf 'a: old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped vim -es -V1 -i NONE -u NONE -c '%s/old/new/' -c wq f.yaml
	assert_success
	assert_loaded vim
	refute_output --partial E949
	assert_equal "$(cat f.yaml)" "a: new"
	assert_committed f.yaml "$before"
	assert_no_temps .
}

@test "vim -es with backupcopy=auto (rename-style save): committed atomically" {
	local before
	row vim "\`vim -es\` with \`set nocompatible backupskip= backupcopy=auto\`, \`:wq\`" "yes, but" "vim renames f.yaml to f.yaml~ and writes a new f.yaml, which the library commits whole; between the two there is no f.yaml, as without the library"
	printf 'a: old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped vim -es -V1 -i NONE -u NONE -c 'set nocompatible backupskip= backupcopy=auto' -c '%s/old/new/' -c wq f.yaml
	assert_success
	assert_loaded vim
	assert_equal "$(cat f.yaml)" "a: new"
	assert_committed f.yaml "$before"
	assert_file_not_exists 'f.yaml~'
	assert_no_temps .
}

# ---- tar, rsync, make -------------------------------------------------------

@test "tar -x over an existing file: an atomic replace; a new file is created in place" {
	local before
	row tar "\`tar -xf a.tar\` over an existing t.yaml, and a new u.yaml" "yes (existing); no (new, by design)" "tar's O_EXCL create fails, it unlinks t.yaml and creates it again with O_EXCL: the library makes that one replace; a file that did not exist is created with O_EXCL, in place; modes and mtimes from the archive are kept"
	mkdir src dst
	printf 'a: new\n' > src/t.yaml
	printf 'b: new\n' > src/u.yaml
	touch -d '2001-02-03 04:05:06' src/t.yaml src/u.yaml
	chmod 640 src/t.yaml
	tar -C src -cf a.tar t.yaml u.yaml
	printf 'a: old\n' > dst/t.yaml
	before=$(inode dst/t.yaml)
	run wrapped tar -C dst -xf a.tar
	assert_success
	assert_loaded tar
	assert_equal "$(cat dst/t.yaml)" "a: new"
	assert_equal "$(cat dst/u.yaml)" "b: new"
	assert_committed dst/t.yaml "$before"
	assert_not_redirected dst/u.yaml
	assert_equal "$(stat -c '%a %Y' dst/t.yaml)" "$(stat -c '%a %Y' src/t.yaml)"
	assert_equal "$(stat -c %Y dst/u.yaml)" "$(stat -c %Y src/u.yaml)"
	assert_no_temps dst
}

@test "rsync: its own temp + rename onto f.yaml is synced and locked" {
	row rsync "\`rsync -a src/ dst/\` (rsync's default: its own .f.yaml.XXXXXX, renamed over f.yaml)" "yes" "rsync's temp is an O_EXCL create (not redirected); its rename is synced and locked by the library"
	mkdir src dst
	printf 'a: new\n' > src/f.yaml
	printf 'a: old, longer\n' > dst/f.yaml
	trace_renames rsync -a src/ dst/
	run synced_rename f.yaml
	assert_failure # control: rsync renames without an fsync
	printf 'a: old, longer\n' > dst/f.yaml
	run trace_renames env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" rsync -a src/ dst/
	assert_success
	assert_loaded rsync
	assert_equal "$(cat dst/f.yaml)" "a: new"
	run synced_rename f.yaml
	assert_success
	assert_lock_taken f.yaml
	assert_no_temps dst
}

@test "rsync --inplace: the in-place update is committed atomically" {
	row rsync "\`rsync -a --inplace src/ dst/\`" "yes" "the receiver opens f.yaml without O_TRUNC: a copy in the temp, updated, committed"
	mkdir src dst
	printf 'a: new content\n' > src/f.yaml
	check_replaced dst/f.yaml 'a: old' 'a: new content' rsync rsync -a --inplace src/ dst/
}

@test "make: a recipe's redirection and make's own \$(file >) are committed atomically" {
	local before1 before2
	row make "\`make\`: a recipe \`printf ... > out.json\` (run by sh) and \`\$(file >made.json,...)\` (written by make itself)" "yes" "make -q finds the target up to date afterwards"
	printf 'all: out.json\n\t$(file >made.json,{"by": "make"})\nout.json: in.txt\n\tprintf '"'"'{"by": "recipe"}\\n'"'"' > $@\n' > Makefile
	touch in.txt
	printf 'old\n' > out.json
	printf 'old\n' > made.json
	touch -d '2001-01-01' out.json
	before1=$(inode out.json)
	before2=$(inode made.json)
	run wrapped make -s
	assert_success
	assert_loaded make
	assert_loaded sh
	assert_equal "$(cat out.json)" '{"by": "recipe"}'
	assert_equal "$(cat made.json)" '{"by": "make"}'
	assert_committed out.json "$before1"
	assert_committed made.json "$before2"
	run make -q out.json
	assert_success
	assert_no_temps .
}

# ---- sqlite3 ----------------------------------------------------------------

@test "sqlite3: the default config matches no database (atomically --explain)" {
	row sqlite3 "\`atomically --explain x.db x.sqlite x.sqlite3 x.db-journal x.db-wal x.db-shm\` with the embedded default config" "n/a" "no rule matches a database or its journals: the library never touches them"
	no_config_anywhere
	run "$ATOMICALLY" --explain x.db x.sqlite x.sqlite3 x.db-journal x.db-wal x.db-shm
	assert_failure 1
	assert_equal "$(grep -c ': no rule matches: written as usual$' <<< "$output")" 6
}

@test "sqlite3: a database matched by mistake: one transaction commits at its fsync, a second is refused, nothing is torn" {
	row sqlite3 "\`sqlite3 x.db 'insert ...'\` with \`*.db\` matched by mistake" "yes, but" "sqlite opens the database O_RDWR (a copy in a temp) and sees one file by descriptor and by name (the stat view); its fsync at the end of the first transaction commits the temp. Then the name has a new inode: sqlite takes a second transaction in the same session for a moved database and refuses it (\"attempt to write a readonly database\", exit 1), so nothing is lost silently; and sqlite's own locks are on the temp, so only the library's lock keeps two writers apart. Do not match databases"
	printf 'path "*.db" { }\n' > "$CONF"
	sqlite3 x.db 'create table t(a); insert into t values (1);'
	run wrapped sqlite3 x.db 'insert into t values (2);'
	assert_success
	assert_loaded sqlite3
	grep -qF "x.db: committed (full) while still open" "$LIBLOG" || fail "$(cat "$LIBLOG")"
	assert_equal "$(sqlite3 x.db 'pragma integrity_check; select count(*) from t;')" "$(printf 'ok\n2')"
	run wrapped sqlite3 x.db 'insert into t values (3); insert into t values (4);'
	assert_failure
	assert_output --partial 'readonly database'
	assert_equal "$(sqlite3 x.db 'pragma integrity_check; select count(*) from t;')" "$(printf 'ok\n3')"
	assert_no_temps .
	# control: the same two inserts without the library both work
	run sqlite3 x.db 'insert into t values (5); insert into t values (6); select count(*) from t;'
	assert_success
	assert_output 5
}

# ---- beside other preloads ----------------------------------------------------

# py_write FILE TEXT: python3 writes TEXT into FILE (one open, write, close).
py_write() {
	"$PY" -c 'import sys; open(sys.argv[1], "w").write(sys.argv[2])' "$1" "$2"
}

@test "jemalloc: LD_PRELOAD=libjemalloc.so.2, then the launcher prepends the library" {
	local before
	corow "libjemalloc2" "\`LD_PRELOAD=libjemalloc.so.2 atomically python3 ...\` (LD_PRELOAD becomes libatomically.so:libjemalloc.so.2)" "yes" "jemalloc is the process's allocator (its statistics print at exit)"
	[ -n "$JEMALLOC" ] || fail "libjemalloc.so.2 not found (package libjemalloc2)"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	LD_PRELOAD="$JEMALLOC" MALLOC_CONF=stats_print:true run wrapped "$PY" -c '
import sys
open("f.yaml", "w").write("new\n")
sys.stdout.write("".join(l.split()[-1] + "\n" for l in open("/proc/self/maps") if ".so" in l))'
	assert_success
	assert_loaded python3
	assert_line "$(readlink -f "$JEMALLOC")"
	assert_line "$(readlink -f "$LIB")"
	assert_output --partial 'Begin jemalloc statistics'
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}

@test "jemalloc: LD_PRELOAD=libjemalloc.so.2:libatomically.so (jemalloc first, no launcher)" {
	local before
	corow "libjemalloc2" "\`LD_PRELOAD=libjemalloc.so.2:libatomically.so python3 ...\`" "yes" ""
	[ -n "$JEMALLOC" ] || fail "libjemalloc.so.2 not found (package libjemalloc2)"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$JEMALLOC:$LIB" MALLOC_CONF=stats_print:true \
		run "$PY" -c 'open("f.yaml", "w").write("new\n")'
	assert_success
	assert_loaded python3
	assert_output --partial 'Begin jemalloc statistics'
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}

@test "eatmydata: atomically eatmydata bash: still a rename, but eatmydata swallows every fsync" {
	local before
	corow "eatmydata" "\`atomically eatmydata bash -c 'echo new > f.yaml'\` (LD_PRELOAD libatomically.so libeatmydata.so)" "yes, not durable" "the commit is still a temp renamed over the file (whole old or whole new for readers and after a kill), but eatmydata turns the library's fsyncs into no-ops, as it means to: no durability against power loss (the log still says \"committed (full)\")"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run trace_renames env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" eatmydata \
		bash -c 'echo new > f.yaml; grep -c libeatmydata /proc/$$/maps'
	assert_success
	assert_loaded bash
	refute_output 0
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
	grep -qE 'rename(at2?)?\(.*"\.f\.yaml\.atomically\.[^"]*", .*"f\.yaml"\) = 0' trace ||
		fail "no rename of a temp over f.yaml: $(cat trace)"
	! grep -qE 'f(data)?sync\(' trace || fail "an fsync reached the kernel: eatmydata was not in effect: $(grep sync trace)"
}

@test "eatmydata: LD_PRELOAD=libeatmydata.so:libatomically.so (eatmydata first)" {
	local before
	corow "eatmydata" "\`LD_PRELOAD=libeatmydata.so:libatomically.so bash -c 'echo new > f.yaml'\`" "yes, not durable" "as above"
	[ -n "$EATMYDATA" ] || fail "libeatmydata.so not found (package libeatmydata1)"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$EATMYDATA:$LIB" \
		run trace_renames bash -c 'echo new > f.yaml'
	assert_success
	assert_loaded bash
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
	grep -qE 'rename(at2?)?\(.*"f\.yaml"\) = 0' trace || fail "no rename over f.yaml"
	! grep -qE 'f(data)?sync\(' trace || fail "an fsync reached the kernel: $(grep sync trace)"
}

@test "named twice: LD_PRELOAD=lib:lib and lib:symlink-to-lib load it once" {
	local before
	corow "libatomically.so twice" "\`LD_PRELOAD=\$LIB:\$LIB\`, and \`\$LIB\` beside a symlink to it" "yes" "the dynamic linker loads one file once (by device and inode): one library, one commit; the launcher does not add the library again when LD_PRELOAD names it (launcher.bats)"
	ln -s "$LIB" link.so
	for pre in "$LIB:$LIB" "$LIB $BATS_TEST_TMPDIR/link.so"; do
		: > "$LIBLOG"
		printf 'old\n' > f.yaml
		before=$(inode f.yaml)
		ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$pre" \
			run bash -c 'echo new > f.yaml; grep libatomically /proc/$$/maps | awk "{ print \$6 }" | sort -u'
		assert_success
		assert_output "$(readlink -f "$LIB")"
		assert_loaded bash
		assert_equal "$(grep -c 'active in pid .* (bash)' "$LIBLOG")" 1
		assert_equal "$(cat f.yaml)" new
		assert_committed f.yaml "$before"
	done
}

@test "named twice: two copies of the library (an installed one and a build) commit the file" {
	local before
	corow "libatomically.so twice" "two copies at two paths: \`LD_PRELOAD=/other/libatomically.so atomically bash -c 'echo new > f.yaml'\`" "yes" "the copy that comes second in the lookup order finds the first (an exported variable) and stays inert; before, both hooked every call and the first's commit waited on its own lock through the second's rename hook until lock_timeout"
	printf 'path "*.yaml" { lock_timeout = 2 }\n' > "$CONF"
	mkdir other
	cp "$LIB" "$B/libatomically-conf.so" other/
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	LD_PRELOAD="$BATS_TEST_TMPDIR/other/libatomically.so" \
		run wrapped bash -c 'echo new > f.yaml; grep -c libatomically /proc/$$/maps > /dev/null'
	assert_loaded bash
	assert_success
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}

# ---- parents that clear LD_PRELOAD ------------------------------------------

@test "env -i: a child started with an empty environment is not covered" {
	local before
	corow "env -i" "\`atomically env -i sh -c 'echo new > f.yaml'\`" "no (limit)" "env -i drops LD_PRELOAD and ATOMICALLY_RULES: sh runs without the library and writes in place. Recipe: pass them on, with XDG_RUNTIME_DIR (where the locks are): next row"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped env -i /bin/sh -c 'echo "[$LD_PRELOAD]"; echo new > f.yaml'
	assert_success
	assert_loaded env
	assert_output '[]'
	! grep -q '(sh)' "$LIBLOG" || fail "the library was loaded in sh"
	assert_equal "$(cat f.yaml)" new
	assert_equal "$(inode f.yaml)" "$before"
}

@test "env -i with LD_PRELOAD, ATOMICALLY_RULES and XDG_RUNTIME_DIR passed on: covered" {
	local before
	corow "env -i" "\`env -i LD_PRELOAD=\"\$LD_PRELOAD\" ATOMICALLY_RULES=\"\$ATOMICALLY_RULES\" XDG_RUNTIME_DIR=\"\$XDG_RUNTIME_DIR\" sh -c ...\` inside a wrapped shell" "yes" "without XDG_RUNTIME_DIR the locks would go elsewhere (/run/user/UID, /run/atomically or /tmp/atomically-UID) and not exclude the writers that use \$XDG_RUNTIME_DIR/atomically"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped bash -c 'exec env -i LD_PRELOAD="$LD_PRELOAD" ATOMICALLY_RULES="$ATOMICALLY_RULES" \
		XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" ATOMICALLY_LOG="$ATOMICALLY_LOG" /bin/sh -c "echo new > f.yaml"'
	assert_success
	assert_loaded sh
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
	assert_lock_taken f.yaml
}

@test "env -i: a pending file is committed before the exec of a program that will not load the library" {
	corow "env -i" "\`bash -c 'exec > f.yaml; echo a; exec env -i /bin/echo b'\`" "partly" "bash's file is committed before the exec of echo (which will not load the library); what echo writes then goes into the committed file in place (as atomically(1) BUGS says)"
	printf 'old\n' > f.yaml
	run wrapped bash -c 'exec > f.yaml; echo a; exec env -i /bin/echo b'
	assert_success
	assert_loaded bash
	assert_equal "$(cat f.yaml)" "$(printf 'a\nb')"
	grep -qF "$(abs f.yaml): committed before exec of /bin/echo, which will not load the library" "$LIBLOG" ||
		fail "no commit before the exec: $(cat "$LIBLOG")"
}

@test "sudo: atomically sudo CMD: sudo drops LD_PRELOAD, CMD is not covered" {
	local before
	corow sudo "\`atomically sudo sh -c 'echo new > f.yaml'\`" "no (limit)" "the launcher warns that sudo is set-user-ID; sudo resets the environment (LD_PRELOAD is never kept, even with -E): sh runs without the library and writes in place. Recipe: next rows"
	require_root "sudo without a password"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped sudo sh -c 'echo "[$LD_PRELOAD]"; echo new > f.yaml'
	assert_success
	assert_output --partial 'sudo: it is set-user-ID'
	assert_line '[]'
	! grep -q '(sh)' "$LIBLOG" || fail "the library was loaded in sh"
	assert_equal "$(cat f.yaml)" new
	assert_equal "$(inode f.yaml)" "$before"
}

@test "sudo atomically CMD: the launcher inside sudo covers CMD" {
	local before
	corow sudo "\`sudo atomically -c CONF sh -c 'echo new > f.yaml'\`" "yes" "the launcher runs after sudo's environment reset; name the config with -c (sudo drops ATOMICALLY_CONF and XDG_CONFIG_HOME)"
	require_root "sudo without a password"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run sudo ATOMICALLY_LOG="debug:$LIBLOG" XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" \
		"$ATOMICALLY" -c "$CONF" sh -c 'echo new > f.yaml'
	assert_success
	assert_loaded sh
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}

@test "sudo --preserve-env=LD_PRELOAD,ATOMICALLY_RULES: covered (for users sudo lets set the environment)" {
	local before
	corow sudo "\`sudo --preserve-env=LD_PRELOAD,ATOMICALLY_RULES,XDG_RUNTIME_DIR sh -c ...\` inside a wrapped shell" "yes" "only where the sudoers policy allows it (root, or SETENV)"
	require_root "sudo without a password"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	run wrapped bash -c 'sudo --preserve-env=LD_PRELOAD,ATOMICALLY_RULES,XDG_RUNTIME_DIR,ATOMICALLY_LOG sh -c "echo new > f.yaml"'
	assert_success
	assert_loaded sh
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}

# ---- AddressSanitizer -------------------------------------------------------

# asan_runtime: the ASan runtime build/writer-asan links.
asan_runtime() {
	ldd "$WRITER_ASAN" | awk '/libasan\.so/ { print $3 }'
}

@test "ASan: atomically ASAN-PROG: ASan refuses to start (its runtime is not first)" {
	corow "ASan (gcc -fsanitize=address)" "\`atomically build/writer-asan open f.yaml new\`" "no (limit)" "the launcher puts the library first in LD_PRELOAD, ASan checks that its runtime comes first and exits 1 before main: \"ASan runtime does not come first in initial library list\". The file is untouched. Recipes: next rows"
	printf 'old\n' > f.yaml
	run wrapped "$WRITER_ASAN" open f.yaml new
	assert_failure 1
	assert_output --partial 'ASan runtime does not come first in initial library list'
	assert_equal "$(cat f.yaml)" old
}

@test "ASan: LD_PRELOAD=libasan.so:libatomically.so ASAN-PROG (no launcher) works" {
	local before asan
	asan=$(asan_runtime)
	corow "ASan (gcc -fsanitize=address)" "\`LD_PRELOAD=libasan.so.8:libatomically.so build/writer-asan ...\`" "yes" "ASan's runtime first, then the library, which finds the config itself; ASan stays in effect (its exit statistics print)"
	[ -n "$asan" ] || fail "build/writer-asan links no libasan"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	ATOMICALLY_LOG="debug:$LIBLOG" LD_PRELOAD="$asan:$LIB" ASAN_OPTIONS=atexit=1 \
		run "$WRITER_ASAN" open f.yaml new
	assert_success
	assert_loaded writer-asan
	assert_output --partial 'AddressSanitizer exit stats'
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}

@test "ASan: LD_PRELOAD=libasan.so:libatomically.so atomically ASAN-PROG: the launcher keeps the order" {
	local before asan
	asan=$(asan_runtime)
	corow "ASan (gcc -fsanitize=address)" "\`LD_PRELOAD=libasan.so.8:libatomically.so atomically build/writer-asan ...\`" "yes" "the working recipe with the launcher: it does not move a library LD_PRELOAD already names"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	LD_PRELOAD="$asan:$LIB" ASAN_OPTIONS=atexit=1 run wrapped "$WRITER_ASAN" open f.yaml new
	assert_success
	assert_loaded writer-asan
	assert_output --partial 'AddressSanitizer exit stats'
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}

@test "ASan: ASAN_OPTIONS=verify_asan_link_order=0 atomically ASAN-PROG works" {
	local before
	corow "ASan (gcc -fsanitize=address)" "\`ASAN_OPTIONS=verify_asan_link_order=0 atomically build/writer-asan ...\`" "yes" "ASan's own switch for a runtime that is not first; ASan still runs (its exit statistics print)"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	ASAN_OPTIONS=verify_asan_link_order=0:atexit=1 run wrapped "$WRITER_ASAN" open f.yaml new
	assert_success
	assert_loaded writer-asan
	assert_output --partial 'AddressSanitizer exit stats'
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}

@test "ASan: LD_PRELOAD=libasan.so atomically ASAN-PROG: the launcher puts the library after ASan's runtime" {
	local before asan
	asan=$(asan_runtime)
	corow "ASan (gcc -fsanitize=address)" "\`LD_PRELOAD=libasan.so.8 atomically build/writer-asan ...\` (ASan's runtime preloaded, as ASan asks)" "yes" "the launcher inserts its library after an ASan runtime that comes first in LD_PRELOAD, instead of before it (where ASan exits 1: \"does not come first\")"
	printf 'old\n' > f.yaml
	before=$(inode f.yaml)
	LD_PRELOAD="$asan" run wrapped "$WRITER_ASAN" open f.yaml new
	assert_success
	assert_loaded writer-asan
	assert_equal "$(cat f.yaml)" new
	assert_committed f.yaml "$before"
}
