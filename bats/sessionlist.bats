# sessionlist.bats - commit = "session" (SPEC section 5): a directory
# listing by a process of the session shows the session's view: a file
# the tree made is listed, though only its temp exists; a file the tree
# deleted is not, though it stays on disk until the commit; the
# session's own named temps never show.  Outside the session the disk
# is listed, as before.  Each program's listing inside the session is
# compared with the same program's listing after the commit.

load helpers

setup() {
	common_setup
	find_python
	printf 'path "*.json" { commit = "session" }\n' > "$CONF"
	# A directory of its own: the test's holds the config and the log.
	mkdir w
	cd w
	echo old > gone.json
	echo old > keep.json
	echo old > mod.json
	echo notes > notes.txt
}

teardown() {
	# A session waiting for the test's go (a failed assertion) ends.
	: > "$BATS_TEST_TMPDIR/w/go"
}

# CHANGES: what the session's tree does first: a new file, a changed
# one (listed once: it is on disk already), a deleted one.
CHANGES='echo new > new.json; echo new > mod.json; rm gone.json'

# in_session COMMAND: run CHANGES, then COMMAND (sh), in one session.
in_session() {
	run wrapped sh -c "$CHANGES; $1"
}

# assert_view OUTPUT: the names are those of the session's view, each
# once.
assert_view() {
	assert_equal "$1" "keep.json
mod.json
new.json"
}

@test "session listing: ls inside the session lists new.json, not gone.json, as ls lists after the commit" {
	in_session 'ls -a'
	assert_success
	assert_loaded ls
	assert_equal "$output" ".
..
keep.json
mod.json
new.json
notes.txt"
	assert_equal "$output" "$(ls -a)"
	assert_file_not_exists gone.json
}

@test "session listing: python os.listdir, os.scandir (is_file) and glob.glob inside the session, as after the commit" {
	local py='import os, glob
print(" ".join(sorted(os.listdir("."))))
print(" ".join(sorted(e.name + ("" if e.is_file(follow_symlinks=False) else "?") for e in os.scandir("."))))
print(" ".join(sorted(glob.glob("*.json"))))'
	in_session "$PY -c '$py'"
	assert_success
	assert_loaded "$PYNAME"
	assert_equal "$output" "keep.json mod.json new.json notes.txt
keep.json mod.json new.json notes.txt
keep.json mod.json new.json"
	assert_equal "$output" "$("$PY" -c "$py")"
}

@test "session listing: bash 'for f in *.json' and find -name '*.json' inside the session, as after the commit" {
	local cmd='for f in *.json; do echo "$f"; done; find . -name "*.json" | sort'
	in_session "bash -c '$cmd'"
	assert_success
	assert_loaded bash
	assert_loaded find
	assert_equal "$output" "keep.json
mod.json
new.json
./keep.json
./mod.json
./new.json"
	assert_equal "$output" "$(bash -c "$cmd")"
}

@test "session listing: node fs.readdirSync (libuv's scandir) and withFileTypes inside the session, as after the commit" {
	command -v node > /dev/null || skip "node is not installed: its fs.readdirSync is libuv's scandir(3)"
	local js='const fs = require("fs");
console.log(fs.readdirSync(".").join(" "));
console.log(fs.readdirSync(".", { withFileTypes: true }).filter(e => e.isFile()).map(e => e.name).join(" "));'
	in_session "node -e '$js'"
	assert_success
	assert_loaded node
	assert_equal "$output" "keep.json mod.json new.json notes.txt
keep.json mod.json new.json notes.txt"
	assert_equal "$output" "$(node -e "$js")"
}

@test "session listing: git status --porcelain inside the session shows new.json untracked and gone.json deleted, as after the commit" {
	git init -q .
	git add gone.json keep.json mod.json notes.txt
	git -c user.email=t@t -c user.name=t commit -qm init
	in_session 'git status --porcelain'
	assert_success
	assert_loaded git
	assert_equal "$output" " D gone.json
 M mod.json
?? new.json"
	assert_equal "$output" "$(git status --porcelain)"
}

# lister.c: the listings of libc a program may call: scandir(3) and
# glob(3), which glibc makes on its own opendir and readdir, readdir_r,
# and readdir after rewinddir.
build_lister() {
	command -v cc > /dev/null || skip "no C compiler to build the lister"
	cat > "$BATS_TEST_TMPDIR/lister.c" <<'EOF'
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list(const char *pass, DIR *d)
{
	struct dirent *e;

	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			printf("%s %s %s\n", pass, e->d_name, e->d_type == DT_REG ? "reg" : "?");
}

int main(int argc, char **argv)
{
	struct dirent **l, entry, *e;
	glob_t g;
	DIR *d;
	int n;

	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "scandir") == 0) {
		if ((n = scandir(".", &l, NULL, alphasort)) < 0)
			return perror("scandir"), 1;
		for (int i = 0; i < n; i++) {
			if (l[i]->d_name[0] != '.')
				printf("scandir %s\n", l[i]->d_name);
			free(l[i]);
		}
		free(l);
	} else if (strcmp(argv[1], "glob") == 0) {
		if (glob("*.json", 0, NULL, &g) != 0)
			return 1;
		for (size_t i = 0; i < g.gl_pathc; i++)
			printf("glob %s\n", g.gl_pathv[i]);
		printf("flags %s\n", g.gl_flags & GLOB_ALTDIRFUNC ? "altdirfunc" : "as given");
		globfree(&g);
	} else if (strcmp(argv[1], "rewind") == 0) {
		if (!(d = opendir(".")))
			return 1;
		list("first", d);
		rewinddir(d);
		list("again", d);
		closedir(d);
	} else {
		if (!(d = opendir(".")))
			return 1;
		while (readdir_r(d, &entry, &e) == 0 && e)
			if (e->d_name[0] != '.')
				printf("readdir_r %s\n", e->d_name);
		closedir(d);
	}
	return 0;
}
EOF
	cc -D_GNU_SOURCE -Wno-deprecated-declarations -o "$BATS_TEST_TMPDIR/lister" "$BATS_TEST_TMPDIR/lister.c"
	LISTER="$BATS_TEST_TMPDIR/lister"
}

@test "session listing: scandir(3), glob(3), readdir_r and a rewinddir inside the session, as after the commit" {
	build_lister
	local cmd="for how in scandir glob rewind readdir_r; do $LISTER \$how | sort; done"
	in_session "$cmd"
	assert_success
	assert_loaded lister
	assert_equal "$output" "$(sh -c "$cmd")"
	assert_equal "$(grep '^scandir ' <<< "$output")" "scandir keep.json
scandir mod.json
scandir new.json
scandir notes.txt"
	assert_equal "$(grep -c '^glob .*new.json' <<< "$output")" 1
	assert_line "flags as given"
	# Each pass lists new.json once, a file, and gone.json not at all.
	assert_equal "$(grep -c '^first new.json reg' <<< "$output")" 1
	assert_equal "$(grep -c '^again new.json reg' <<< "$output")" 1
	assert_line "readdir_r new.json"
	refute_line --partial gone.json
}

@test "session listing: outside the session, during it, the disk is listed: no new.json, gone.json still there" {
	local disk=". .. gone.json keep.json mod.json notes.txt ready"
	# The session waits for the test's go; a plain ls and an ls with the
	# library but no session list meanwhile, and so does a process of the
	# session that runs without the library.
	wrapped sh -c "$CHANGES; : > ready; for i in \$(seq 200); do [ -e go ] && break; sleep 0.05; done
		env -u LD_PRELOAD ls -a > inner-plain; ls -a > inner-view" &
	local pid=$!
	wait_for_file ready
	assert_equal "$(ls -a | xargs)" "$disk"
	assert_equal "$(preloaded ls -a | xargs)" "$disk"
	: > go
	wait "$pid"
	assert_equal "$(xargs < inner-plain)" ". .. go gone.json inner-plain keep.json mod.json notes.txt ready"
	# While its own processes with the library saw the session's view.
	assert_equal "$(xargs < inner-view)" ". .. go inner-plain inner-view keep.json mod.json new.json notes.txt ready"
	assert_equal "$(ls -a | xargs)" ". .. go inner-plain inner-view keep.json mod.json new.json notes.txt ready"
}

@test "session listing: a directory with nothing pending is listed exactly as without the session, order included" {
	mkdir other
	for i in $(seq 200); do echo x > "other/f$i.json"; : > "other/.h$i"; done
	local cmd="ls -aU other; $PY -c 'import os; print(os.listdir(\"other\"))'"
	local plain
	plain=$(sh -c "$cmd")
	in_session "$cmd; echo ---; ls -aU"
	assert_success
	assert_equal "${output%%---*}" "$plain
"
	# And the view was on in those processes: their directory with
	# session entries is not the disk's.
	assert_equal "$(sed '1,/^---$/d' <<< "$output" | grep -c json)" 3
	refute_line gone.json
}

@test "session listing: the session's named temps never show (a rename onto a file), in ls -a or os.listdir" {
	in_session "echo renamed > tmp; mv tmp keep.json
		env -u LD_PRELOAD ls -a | grep -c '^\\.keep\\.json\\.atomically\\.'
		ls -a | xargs
		$PY -c 'import os; print(sorted(os.listdir(\".\")))'"
	assert_success
	# The temp is on disk (the plain ls found it), and no listing of the
	# session shows it.
	assert_equal "$output" "1
. .. keep.json mod.json new.json notes.txt
['keep.json', 'mod.json', 'new.json', 'notes.txt']"
	assert_equal "$(cat keep.json)" renamed
	assert_no_temps
}

@test "session listing: a failed session's listing afterwards is the old one again" {
	run wrapped sh -c "$CHANGES; ls | xargs; exit 4"
	assert_failure 4
	assert_line "keep.json mod.json new.json notes.txt"
	assert_equal "$(ls | xargs)" "gone.json keep.json mod.json notes.txt"
}

@test "session listing: 300 new files with long names (more than one reply of the supervisor's) are each listed once" {
	local long
	long=$(printf 'n%.0s' $(seq 120))
	run wrapped sh -c "for i in \$(seq 300); do echo x > $long\$i.json; done
		ls | grep -c '^$long'; ls | sort | uniq -d | wc -l"
	assert_success
	# 300 names of 125 bytes or so: about 38 KB, three replies.
	assert_equal "$output" "300
0"
	assert_equal "$(ls | grep -c "^$long")" 300
}
