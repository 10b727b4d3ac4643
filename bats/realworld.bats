#!/usr/bin/env bats
# realworld.bats - real programs, run three times and compared (issue 12,
# item 8): without the library, under the launcher with the embedded
# default config, and under it with -p patterns that match the files the
# program writes.  The three runs start from the same files, in
# directories of the same name, and must agree on what the program
# printed (stdout and stderr), its exit status, and the files it leaves
# (name, type, mode, content); under the library the matched files must
# have been committed by it (its log), and those named must have been
# replaced by a rename (a new inode).
#
# The programs and the cases come from what broke or could break: node
# and npm (libuv's raw system calls), git (its index records each file's
# stat), editors (each saves its own way), tools that rewrite in place or
# through their own temp, and package managers.  compat.bats and
# programs.bats hold the others; scripts/compat_table.sh puts all of them
# in docs/COMPATIBILITY.md (the rows come from `row`, as in compat.bats).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	# write-file-atomic, from the npm registry, once for the file.
	if command -v npm > /dev/null; then
		mkdir -p "$BATS_FILE_TMPDIR/npm"
		(cd "$BATS_FILE_TMPDIR/npm" && npm init -y > /dev/null &&
			npm install --no-audit --no-fund --loglevel=error write-file-atomic > /dev/null 2>&1) ||
			echo "npm install write-file-atomic failed" > "$BATS_FILE_TMPDIR/npm/failed"
	fi
}

setup() {
	common_setup
	find_python
	export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
	export GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@example.org GIT_COMMITTER_NAME=a
	export GIT_COMMITTER_EMAIL=a@example.org GIT_AUTHOR_DATE=2020-01-01T00:00:00Z
	export GIT_COMMITTER_DATE=2020-01-01T00:00:00Z
	[ ! -e /etc/atomically.conf ] || skip "/etc/atomically.conf exists and would be found"
	unset ATOMICALLY_CONF
	# What every comparison leaves out (a regex on the path): npm's logs
	# and cache, git's objects (compressed: the same objects, whatever
	# the timing) and its index (it records each file's inode and ctime).
	VOLATILE='^(\.git/objects/|\.git/index$)'
}

# row PROGRAM DONE ATOMIC NOTES: this test's line of the table in
# docs/COMPATIBILITY.md (scripts/compat_table.sh collects them).
row() {
	[ -n "${COMPAT_ROWS:-}" ] || return 0
	printf '%s\037%s\037%s\037%s\037%s\037%s\037%s\n' realworld \
		"$BATS_TEST_DESCRIPTION" "$1" "$2" "$3" "$4" "" >> "$COMPAT_ROWS"
}

# snapshot DIR: each file under DIR (but $VOLATILE): its path, type, mode
# and, for a file, its content's checksum; for a link, its target.  In
# one python process: a checksum program per file took most of two
# minutes for the 1,500 files of the git test.
snapshot() {
	"$PY" - "$1" "$VOLATILE" << 'EOF'
import hashlib, os, re, stat, sys

root, volatile = sys.argv[1], re.compile(sys.argv[2])
found = []
for top, dirs, files in os.walk(root):
    found += [os.path.relpath(os.path.join(top, n), root) for n in dirs + files]
kinds = {stat.S_IFDIR: "d", stat.S_IFIFO: "p", stat.S_IFSOCK: "s",
         stat.S_IFCHR: "c", stat.S_IFBLK: "b"}
for p in sorted(found):
    if volatile.search(p):
        continue
    full = os.path.join(root, p)
    st = os.lstat(full)
    mode = format(stat.S_IMODE(st.st_mode), "o")
    if stat.S_ISREG(st.st_mode):
        with open(full, "rb") as f:
            print(p, "f", mode, hashlib.md5(f.read()).hexdigest())
    elif stat.S_ISLNK(st.st_mode):
        print(p, "l ->", os.readlink(full))
    else:
        print(p, kinds.get(stat.S_IFMT(st.st_mode), "?"), mode)
EOF
}

# inodes DIR: PATH INODE of each file under DIR.
inodes() {
	(cd "$1" && find . -mindepth 1 -type f -printf '%P %i\n' | sort)
}

# same_three SETUP SCRIPT [PATTERN...]: run SCRIPT (bash) after SETUP
# (bash, unwrapped) in plain/w, default/w and matched/w: unwrapped, under
# the launcher with the embedded default, and under it with -p PATTERN
# each.  Then compare the three: stdout and stderr (with the directory's
# own path written ROOT), the status, the files.  Leaves RUN_DIR (the
# matched run's directory), MATCHED_BEFORE and MATCHED_AFTER (its inodes
# before and after), and $LIBLOG holds the matched run's log.
same_three() {
	local setup=$1 script=$2 how dir st pats=() plain_out plain_status plain_files
	shift 2
	for p in "$@"; do pats+=(-p "$p"); done
	for how in plain default matched; do
		# HOME beside the directory, not in it (npm's cache and logs)
		dir=$BATS_TEST_TMPDIR/$how/w
		mkdir -p "$dir" "$dir.home"
		(cd "$dir" && HOME=$dir.home bash -c "$setup") > "$dir.setup" 2>&1 ||
			fail "setup failed in $how: $(cat "$dir.setup")"
		inodes "$dir" > "$dir.before"
		st=0  # bats runs the test under errexit: a failing run must not end it
		case $how in
		plain) (cd "$dir" && HOME=$dir.home bash -c "$script") > "$dir.out" 2>&1 || st=$? ;;
		default) (cd "$dir" && HOME=$dir.home "$ATOMICALLY" bash -c "$script") > "$dir.out" 2>&1 ||
			st=$? ;;
		matched)
			: > "$LIBLOG"
			(cd "$dir" && HOME=$dir.home ATOMICALLY_LOG="debug:$LIBLOG" \
				"$ATOMICALLY" "${pats[@]}" bash -c "$script") > "$dir.out" 2>&1 || st=$? ;;
		esac
		echo "$st" > "$dir.status"
		sed -i "s|$dir|ROOT|g" "$dir.out"
		inodes "$dir" > "$dir.after"
		snapshot "$dir" > "$dir.files"
	done
	plain_out=$(cat "$BATS_TEST_TMPDIR/plain/w.out")
	plain_status=$(cat "$BATS_TEST_TMPDIR/plain/w.status")
	plain_files=$(cat "$BATS_TEST_TMPDIR/plain/w.files")
	[ "$plain_status" = 0 ] || fail "without the library the script failed ($plain_status): $plain_out"
	for how in default matched; do
		dir=$BATS_TEST_TMPDIR/$how/w
		[ "$(cat "$dir.status")" = "$plain_status" ] ||
			fail "$how: status $(cat "$dir.status"), without the library $plain_status: $(cat "$dir.out")"
		[ "$(cat "$dir.out")" = "$plain_out" ] ||
			fail "$how: the output differs: $(diff <(echo "$plain_out") "$dir.out")"
		[ "$(cat "$dir.files")" = "$plain_files" ] ||
			fail "$how: the files differ: $(diff <(echo "$plain_files") "$dir.files")"
		assert_no_temps "$dir"
	done
	assert_loaded bash
	RUN_DIR=$BATS_TEST_TMPDIR/matched/w
	MATCHED_BEFORE=$RUN_DIR.before
	MATCHED_AFTER=$RUN_DIR.after
	OUTPUT=$plain_out
}

# assert_replaced FILE...: under the -p run, each FILE (existing before)
# has a new inode, and the library committed it (or synced and locked the
# program's own rename onto it).
assert_replaced() {
	local f old new
	for f in "$@"; do
		old=$(awk -v f="$f" '$1 == f { print $2 }' "$MATCHED_BEFORE")
		new=$(awk -v f="$f" '$1 == f { print $2 }' "$MATCHED_AFTER")
		[ -n "$old" ] || fail "$f did not exist before"
		[ -n "$new" ] || fail "$f does not exist after"
		# Written more than once, a file may get its first inode number
		# back (the file system reuses a freed one): then two renames
		# onto it in the log (commits, or the program's own) are the
		# proof.
		[ "$old" != "$new" ] ||
			[ "$(grep -cE "/w/$f: (committed|renamed onto by the program)" "$LIBLOG")" -ge 2 ] ||
			fail "$f kept its inode: written in place"
		grep -qE "/w/$f: (committed|renamed onto by the program)" "$LIBLOG" ||
			fail "$f was neither committed nor renamed onto under the library: $(grep -F "$f" "$LIBLOG")"
	done
}

# assert_committed_any: the library committed at least one file in the
# -p run (for files that did not exist before).
assert_committed_any() {
	grep -q ': committed' "$LIBLOG" || fail "nothing committed: $(cat "$LIBLOG")"
}

# ---- node and npm -------------------------------------------------------------------

@test "node: appendFileSync, writeFileSync of many files, write-file-atomic (sync and async)" {
	command -v node > /dev/null || skip "no node"
	[ ! -e "$BATS_FILE_TMPDIR/npm/failed" ] || fail "$(cat "$BATS_FILE_TMPDIR/npm/failed")"
	export NODE_PATH=$BATS_FILE_TMPDIR/npm/node_modules
	same_three 'printf "{\"a\":1}\n" > a.json; chmod 640 a.json; printf "x\n" > w.json' '
node -e "
const fs = require(\"fs\"), wfa = require(\"write-file-atomic\");
for (let i = 0; i < 5; i++) fs.appendFileSync(\"a.json\", \"line\" + i + \"\\n\");
for (let i = 0; i < 20; i++) fs.writeFileSync(\"n\" + i + \".json\", JSON.stringify({i}));
wfa.sync(\"w.json\", \"{\\\"w\\\":1}\");
wfa(\"v.json\", \"{}\", e => { if (e) throw e; console.log(\"async done\"); });
"' '*.json'
	assert_replaced a.json w.json
	[ "$(grep -c 'n[0-9]*\.json: committed' "$LIBLOG")" = 20 ] || fail "$(cat "$LIBLOG")"
	row node "appendFileSync, writeFileSync x20, write-file-atomic" yes "write-file-atomic's own temp and rename: the rename synced and locked"
}

@test "npm: init, install of a local package, version (with git), ci: as without the library" {
	command -v npm > /dev/null || skip "no npm"
	mkdir -p "$BATS_TEST_TMPDIR/pkg/localdep"
	printf '{"name":"localdep","version":"1.0.0","main":"index.js"}\n' \
		> "$BATS_TEST_TMPDIR/pkg/localdep/package.json"
	echo 'module.exports = 42;' > "$BATS_TEST_TMPDIR/pkg/localdep/index.js"
	(cd "$BATS_TEST_TMPDIR/pkg" && npm pack ./localdep > /dev/null 2>&1) || fail "npm pack failed"
	export TGZ=$BATS_TEST_TMPDIR/pkg/localdep-1.0.0.tgz
	same_three 'git init -q . && npm init -y > /dev/null && git add -A && git commit -qm init' '
set -e
npm install --no-audit --no-fund --loglevel=error "$TGZ" > /dev/null
git add -A && git commit -qm dep
npm version patch
rm -rf node_modules
npm ci --no-audit --no-fund --loglevel=error > /dev/null
node -e "console.log(require(\"localdep\"), require(\"./package.json\").version)"
grep -c localdep package-lock.json' '*.json' '**/.git/**'
	assert_replaced package.json
	grep -q 'package-lock.json: committed' "$LIBLOG" || fail "$(cat "$LIBLOG")"
	row npm "init, install of a local package, version patch (git commit and tag), ci" yes "package.json and package-lock.json committed by the library"
}

# ---- python --------------------------------------------------------------------------

@test "python: dbm (its default and dbm.dumb): write, update, delete, read back" {
	same_three 'true' '"$PY" -c "
import dbm, dbm.dumb
with dbm.open(\"x.db\", \"c\") as d:
    for i in range(200): d[str(i)] = str(i * i)
with dbm.open(\"x.db\", \"w\") as d:
    d[\"5\"] = \"five\"; del d[\"6\"]
with dbm.open(\"x.db\", \"r\") as d:
    print(len(d), d[b\"5\"], d.get(b\"6\"))
with dbm.dumb.open(\"y\", \"c\") as d:
    for i in range(50): d[str(i)] = str(i)
with dbm.dumb.open(\"y\", \"r\") as d:
    print(len(d))
"' '*.db*' '*.dat' '*.dir' '*.bak'
	assert_committed_any
	row python3 "dbm: create, update, delete, read back (dbm's default here: $(cd "$BATS_TEST_TMPDIR" &&
		"$PY" -c 'import dbm; dbm.open("which", "c").close(); print(dbm.whichdb("which"))'))" yes ""
}

# ---- git ------------------------------------------------------------------------------

@test "git: checkout of 1,500 *.json, then diff-index --quiet: clean, as without the library" {
	# 1,500, not fewer: with 300 the test passes with core.trustctime
	# left alone too (measured; git's index preloading goes threaded
	# from 1,000 entries).
	same_three 'git init -q . && for i in $(seq 1 1500); do echo "{\"i\":$i}" > f$i.json; done &&
git add -A && git commit -qm a && for i in $(seq 1 1500); do echo "{\"i\":$i,\"v\":2}" > f$i.json; done &&
git commit -qam b' '
git checkout -q HEAD~1 -- .
git diff-index --quiet HEAD~1 --; echo "diff-index: $?"
git status --short | head -3
git checkout -q HEAD -- .
git diff-index --quiet HEAD; echo "diff-index: $?"'
	assert_equal "$(grep diff-index <<< "$OUTPUT")" "diff-index: 0
diff-index: 0"
	assert_replaced f1.json f1500.json
	row git "checkout of 1,500 *.json (twice), diff-index --quiet" yes "the launcher sets core.trustctime = false for git (GIT_CONFIG_*): the commit changes the ctime git recorded"
}

@test "git: stash -u, rebase, worktree, with all of .git matched" {
	same_three 'git init -q . && echo "{\"a\":1}" > a.json && echo x > t.txt && git add -A && git commit -qm a &&
git checkout -qb topic && echo "{\"a\":2}" > a.json && git commit -qam b && git checkout -q master &&
echo y > t.txt && git commit -qam c' '
set -e
echo "{\"u\":1}" > u.json; echo z >> t.txt
git stash -u -q; git status --short; git stash pop -q; git status --short
git add -A; git commit -qm wip
git checkout -q topic; git rebase -q master; git log --format=%s
git worktree add -q ../wt master; cat ../wt/u.json; git worktree remove ../wt
git status --short; cat a.json u.json' '**/.git/**' '*.json'
	assert_replaced .git/HEAD a.json
	row git "stash -u and pop, rebase, worktree add and remove" yes "all of .git matched: git's own lock files and renames work under the library's"
}

# ---- editors ----------------------------------------------------------------------------

# vim's backupskip has /tmp (where the tests run): /var/tmp too.
@test "nvim: every backupcopy (yes, no, auto), a file, a symlink to it, a new file, in /var/tmp" {
	command -v nvim > /dev/null || skip "no nvim"
	VARTMP=$(mktemp -d /var/tmp/atomically-nvim.XXXXXX)
	export VARTMP
	same_three 'printf "{\"a\":1}\n" > f.json; chmod 640 f.json; ln -s f.json l.json' '
for bc in yes no auto; do
	for f in f.json l.json new-$bc.json; do
		nvim -es -u NONE -i NONE -c "set backupcopy=$bc" -c "normal Go\"$bc\":1" -c wq "$f"
		echo "$bc $f: $?"
	done
done
# the same in /var/tmp, outside /tmp
rm -rf "$VARTMP/e"; mkdir "$VARTMP/e"; cd "$VARTMP/e"
printf "{\"a\":1}\n" > f.json; ln -s f.json l.json
for bc in yes no auto; do
	for f in f.json l.json; do
		nvim -es -u NONE -i NONE -c "set backupcopy=$bc" -c "normal Go\"$bc\":1" -c wq "$f"
	done
done
stat -c "%n %a %h %F" f.json l.json; cat f.json' '*.json'
	rm -rf "$VARTMP"
	assert_replaced f.json
	row nvim "every backupcopy; a file, a symlink to it, a new file; /tmp and /var/tmp" yes ""
}

@test "vim and nvim: a file with two hard links: hardlinks = \"inplace\" keeps them, as without the library; the default breaks them, saying so in the docs" {
	command -v nvim > /dev/null || skip "no nvim"
	printf 'path "*.json" { hardlinks = "inplace" }\n' > inplace.conf
	for editor in vim nvim; do
		for how in plain inplace default; do
			rm -rf "$how-$editor"; mkdir "$how-$editor"; cd "$how-$editor"
			printf '{"h":1}\n' > h.json; ln h.json h2.json
			case $how in
			plain) "$editor" -es -u NONE -i NONE -c 'normal Go"x":2' -c wq h.json ;;
			inplace) "$ATOMICALLY" -c ../inplace.conf "$editor" -es -u NONE -i NONE -c 'normal Go"x":2' -c wq h.json ;;
			default) "$ATOMICALLY" "$editor" -es -u NONE -i NONE -c 'normal Go"x":2' -c wq h.json ;;
			esac
			echo "$?" > status
			cd ..
		done
		assert_equal "$(cat "inplace-$editor/status")" 0
		assert_equal "$(cat "inplace-$editor/h2.json")" "$(cat "plain-$editor/h2.json")"
		assert_equal "$(stat -c %h "inplace-$editor/h.json")" 2
		# The default, hardlinks = "break": the name edited has the edit,
		# the other name keeps the old content; nothing is lost.
		assert_equal "$(cat "default-$editor/status")" 0
		assert_equal "$(cat "default-$editor/h.json")" "$(cat "plain-$editor/h.json")"
		assert_equal "$(cat "default-$editor/h2.json")" '{"h":1}'
	done
	row "vim, nvim" "a file with two hard links" "per hardlinks" "hardlinks = \"inplace\": as without the library; the default \"break\": the edited name gets the edit, the other keeps the old content"
}

@test "nano at a terminal: a file and a symlink to it, saved with ^O" {
	command -v nano > /dev/null || skip "no nano"
	command -v script > /dev/null || skip "no script (util-linux)"
	same_three 'printf "{\"a\":1}\n" > f.json; chmod 640 f.json; ln -s f.json l.json' '
for f in f.json l.json; do
	{ sleep 0.5; printf "\"n\":1"; sleep 0.2; printf "\x0f"; sleep 0.3; printf "\r"; sleep 0.3; printf "\x18"; sleep 0.3; } |
		TERM=xterm script -qfec "nano -I $f" /dev/null > /dev/null 2>&1
	echo "nano $f: $?"
done
cat f.json' '*.json'
	assert_replaced f.json
	row nano "at a terminal (script): a file, a symlink to it, saved with ^O" yes "nano fsyncs: committed there (fsync = \"commit\")"
}

@test "emacs --batch: a file, a symlink to it, a new file, saved with save-buffer" {
	command -v emacs > /dev/null || skip "no emacs"
	same_three 'printf "{\"a\":1}\n" > f.json; chmod 640 f.json; ln -s f.json l.json' '
for f in f.json l.json n.json; do
	emacs --batch -Q "$f" --eval "(progn (goto-char (point-max)) (insert \"x\n\") (save-buffer))" 2>&1 |
		grep -v "^Saving file\|^Wrote"
done
cat f.json n.json' '*.json'
	assert_committed_any
	row emacs "--batch: a file, a symlink to it, a new file" yes "emacs saves by its own rename (backup) or in place; either is synced and locked"
}

# ---- tools that rewrite ---------------------------------------------------------------

@test "crudini: --set (its own temp and rename) and --inplace, 8 in parallel each: every key kept" {
	command -v crudini > /dev/null || skip "no crudini"
	VOLATILE="$VOLATILE|^c\\.ini\$"  # the keys' order depends on who came last
	same_three 'printf "[s]\nk=1\n" > c.ini' '
for i in 1 2 3 4 5 6 7 8; do crudini --set c.ini s k$i v$i & done; wait
for i in 1 2 3 4 5 6 7 8; do crudini --inplace --set c.ini t k$i v$i & done; wait
crudini --get c.ini s | sort | tr "\n" " "; echo
crudini --get c.ini t | sort | tr "\n" " "; echo' '*.ini'
	assert_equal "$OUTPUT" "k k1 k2 k3 k4 k5 k6 k7 k8 
k1 k2 k3 k4 k5 k6 k7 k8 "
	assert_replaced c.ini
	row crudini "--set and --inplace --set, 8 in parallel each" yes "no key lost, as without the library"
}

@test "logrotate copytruncate while a writer appends: no line lost" {
	command -v logrotate > /dev/null || skip "no logrotate"
	VOLATILE="$VOLATILE|^(app\\.log|app\\.log\\.1|status|lr\\.conf|half|rotated)\$"
	# copytruncate loses a line written between its copy and its
	# truncation, with or without the library (a busy machine lost one
	# now and then, in any of the three runs).  So the writer, its log
	# open all along, writes half, lets logrotate run, and writes the
	# rest once it has: or, in the matched run, where logrotate waits for
	# the writer's lock, after 3 s.
	same_three 'for i in 1 2 3 4 5; do echo "old $i"; done > app.log' '
printf "%s/app.log {\n copytruncate\n rotate 2\n missingok\n}\n" "$PWD" > lr.conf
( exec 3>>app.log; for i in $(seq 1 10); do echo "line $i" >&3; done; : > half
  for j in $(seq 30); do [ -e rotated ] && break; sleep 0.1; done
  for i in $(seq 11 20); do echo "line $i" >&3; done ) &
until [ -e half ]; do sleep 0.05; done
logrotate -f -s "$PWD/status" lr.conf; : > rotated
wait
cat app.log.1 app.log 2>/dev/null | sort -V | tr "\n" " "' '*.log'
	assert_equal "$OUTPUT" "$(printf 'line %s ' $(seq 1 20); printf 'old %s ' 1 2 3 4 5)"
	assert_committed_any
	row logrotate "copytruncate while a writer appends to the log" "n/a" "no line lost; with the log matched, logrotate waits for the writer's lock, so the split between app.log.1 and app.log differs (logs are not matched by default)"
}

@test "rsync --delete, jq | sponge, jq > tmp && mv, sed -i, perl -i" {
	command -v sponge > /dev/null || skip "no sponge (moreutils)"
	same_three 'mkdir -p src dst; for i in 1 2 3; do echo "{\"s\":$i}" > src/s$i.json; echo "{\"d\":$i}" > dst/d$i.json; done
echo "{\"s\":\"older\"}" > dst/s1.json; echo "{\"n\":1,\"a\":[1,2]}" > f.json; chmod 640 f.json' '
set -e
rsync -a --delete src/ dst/; ls dst
jq -c ".n += 1" f.json | sponge f.json
jq -c ".a += [3]" f.json > tmp.json && mv tmp.json f.json
sed -i "s/3/4/" f.json
perl -pi -e "s/4/5/" f.json
cat f.json' '*.json'
	assert_equal "$(sed -n '$p' <<< "$OUTPUT")" '{"n":2,"a":[1,2,5]}'
	assert_replaced f.json dst/s1.json
	grep -q '/w/tmp.json: committed' "$LIBLOG" || fail "jq's output was not committed: $(cat "$LIBLOG")"
	row "rsync, jq, sponge, sed, perl" "rsync -a --delete; jq | sponge; jq > tmp && mv; sed -i; perl -i" yes ""
}

@test "dpkg --root on a scratch admin directory: install, upgrade keeping a changed conffile, remove, purge" {
	command -v dpkg-deb > /dev/null || skip "no dpkg-deb"
	local pkg=$BATS_TEST_TMPDIR/deb
	mkdir -p "$pkg/p/DEBIAN" "$pkg/p/etc/foo" "$pkg/p/usr/share/foo"
	printf 'Package: foo\nVersion: 1.0\nArchitecture: all\nMaintainer: a <a@example.org>\nDescription: a test\n' \
		> "$pkg/p/DEBIAN/control"
	echo /etc/foo/foo.conf > "$pkg/p/DEBIAN/conffiles"
	echo a=1 > "$pkg/p/etc/foo/foo.conf"
	echo '{"x":1}' > "$pkg/p/usr/share/foo/data.json"
	dpkg-deb -b "$pkg/p" "$pkg/foo_1.0.deb" > /dev/null
	sed -i s/1.0/1.1/ "$pkg/p/DEBIAN/control"
	echo a=2 > "$pkg/p/etc/foo/foo.conf"
	echo '{"x":2}' > "$pkg/p/usr/share/foo/data.json"
	dpkg-deb -b "$pkg/p" "$pkg/foo_1.1.deb" > /dev/null
	export PKG=$pkg
	VOLATILE="$VOLATILE|^dpkg\\.log\$"
	same_three 'mkdir -p root/var/lib/dpkg/info root/var/lib/dpkg/updates root/var/lib/dpkg/triggers
touch root/var/lib/dpkg/status root/var/lib/dpkg/available' '
set -e
d() { dpkg --root="$PWD/root" --force-not-root --force-bad-path --log="$PWD/dpkg.log" "$@" > /dev/null; }
d -i "$PKG/foo_1.0.deb"
echo a=local >> root/etc/foo/foo.conf
d --force-confold -i "$PKG/foo_1.1.deb"
cat root/etc/foo/foo.conf root/usr/share/foo/data.json
grep -A1 "^Package: foo" root/var/lib/dpkg/status
d -r foo; ls root/etc/foo
d -P foo; ls root/etc/foo 2> /dev/null || echo "purged"' '**/var/lib/dpkg/**' '*.conf' '*.json'
	assert_replaced root/var/lib/dpkg/status
	row dpkg "--root: install, upgrade keeping a changed conffile, remove, purge" yes "dpkg's status file and conffiles committed by the library"
}

@test "cp -a, install, tar -x (twice), make with a recipe's redirection and \$(file >>)" {
	VOLATILE="$VOLATILE|^t\\.tar\$"  # the directories' mtimes are the setup's
	same_three 'mkdir -p a/b; echo "{\"x\":1}" > a/b/x.json; chmod 600 a/b/x.json; touch -d 2020-01-01 a/b/x.json
echo "{\"y\":1}" > y.json; echo "{\"old\":1}" > z.json
printf "all: out.json\nout.json: in.txt\n\techo \"{}\" > \$@\n\t\$(file >>\$@,more)\n" > Makefile; echo x > in.txt' '
set -e
cp -a a c; cp -a a/b/x.json z.json
install -m 640 y.json w.json; install -m 600 y.json z.json
tar -cf t.tar a; mkdir u; tar -xf t.tar -C u; tar -xf t.tar -C u
make -s; cat out.json
stat -c "%n %a" z.json w.json; stat -c "%n %a %Y" c/b/x.json u/a/b/x.json' '*.json'
	assert_replaced z.json
	row "cp, install, tar, make" "cp -a; install -m; tar -x over an existing tree; make" yes "modes and times as without the library"
}
