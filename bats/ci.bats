# ci.bats - the CI integrations (docs/CI.md), each run the way its CI
# runs it: action.yml by a stand-in for the GitHub runner
# (tests/ci/github_runner.py), ci/gitlab-ci.yml by one for a GitLab runner
# (tests/ci/gitlab_runner.py), ci/recipe.sh by a plain POSIX sh.  Each
# installs atomically from this tree (ci/install.sh) under a PREFIX of
# the test's, and shows what it covers: the programs the job starts, and
# its own shell only where the way says so.

load helpers

setup() {
	common_setup
	command -v python3 > /dev/null && python3 -c 'import yaml' 2> /dev/null ||
		skip "python3 with yaml is needed (make check installs python3-yaml)"
	# One PREFIX for the file: each test installs there again, and the
	# launcher is linked for it once.
	export PREFIX="$BATS_FILE_TMPDIR/prefix"
	# Every wrapped process logs here, however it was started.
	export ATOMICALLY_LOG="debug:$LIBLOG"
	mkdir ws
	cd ws || return 1
	echo 'open("state.json", "w").write("new\n")' > write_state.py
	echo old > state.json
	echo old > own.json
	state_ino=$(inode state.json)
	own_ino=$(inode own.json)
}

# The job's work: a program rewriting state.json (python3), and the
# shell's own redirection to own.json.
JOB_WORK='python3 write_state.py
echo new > own.json'

# assert_program_wrapped: python3's rewrite was committed (a new inode).
assert_program_wrapped() {
	assert_equal "$(cat state.json)" new
	assert_commits state.json 1
	[ "$(inode state.json)" != "$state_ino" ] || fail "state.json was written in place"
}

# assert_shell_wrapped yes|no: the shell's own redirection to own.json
# was committed (yes), or written in place as without atomically (no).
assert_shell_wrapped() {
	assert_equal "$(cat own.json)" new
	if [ "$1" = yes ]; then
		assert_commits own.json 1
		[ "$(inode own.json)" != "$own_ino" ] || fail "own.json was written in place"
	else
		assert_commits own.json 0
		assert_equal "$(inode own.json)" "$own_ino"
	fi
}

# github_job WITH STEP SCRIPT: run, by the stand-in for GitHub's runner,
# a job of two steps: the action of this tree (input prefix: $PREFIX, and
# WITH: more inputs, "name: value" lines), then a step with the keys STEP
# ("" for none) that runs SCRIPT.
github_job() {
	python3 "$TOP/tests/ci/github_runner.py" . "$(
		printf 'steps:\n  - uses: %s\n    with:\n      prefix: %s\n' "$TOP" "$PREFIX"
		[ -z "$1" ] || printf '%s\n' "$1" | sed 's/^/      /'
		printf '  - '
		[ -z "$2" ] || printf '%s\n    ' "$2"
		printf 'run: |\n'
		printf '%s\n' "$3" | sed 's/^/      /'
	)"
}

@test "GitHub: the action installs atomically, and the later steps are wrapped, their shells too" {
	run github_job "" "" "atomically --version
$JOB_WORK"
	assert_success
	assert_output --partial "atomically 0.1.0"
	assert_file_executable "$PREFIX/bin/atomically"
	assert_program_wrapped
	# Each step is a shell of its own, started with $GITHUB_ENV's
	# variables: the library is in it from its start.
	assert_shell_wrapped yes
}

@test "GitHub: the step that writes \$GITHUB_ENV is not wrapped itself" {
	run github_job "wrap: 'false'" "" "atomically --env >> \"\$GITHUB_ENV\"
$JOB_WORK"
	assert_success
	assert_commits state.json 0
	assert_shell_wrapped no
}

@test "GitHub: a step run with shell: atomically -- bash -e {0} is wrapped, without the action's --env" {
	run github_job "wrap: 'false'" "shell: atomically -- bash -e {0}" "$JOB_WORK"
	assert_success
	assert_program_wrapped
	assert_shell_wrapped yes
}

@test "GitHub: with wrap false the action only installs" {
	run github_job "wrap: 'false'" "" "$JOB_WORK"
	assert_success
	assert_commits state.json 0
	assert_equal "$(inode state.json)" "$state_ino"
}

@test "GitHub: the action's config input is the config of the later steps" {
	printf 'path "own.json" { }\n' > only-own.conf
	run github_job "config: only-own.conf" "" "bash -c 'echo new > own.json; echo new > state.json'"
	assert_success
	assert_commits own.json 1
	assert_commits state.json 0
}

# gitlab JOB_YAML: run the job with ci/gitlab-ci.yml, whose templates
# find this tree as $ATOMICALLY_DIR.
gitlab() {
	python3 "$TOP/tests/ci/gitlab_runner.py" . "$TOP/ci/gitlab-ci.yml" "$1"
}

@test "GitLab: .atomically installs, and the script's programs are wrapped, its shell not" {
	run gitlab "
extends: .atomically
variables:
  ATOMICALLY_DIR: $TOP
  ATOMICALLY_PREFIX: $PREFIX
script:
$(printf '%s\n' "$JOB_WORK" | sed 's/^/  - /')
"
	assert_success
	assert_program_wrapped
	assert_shell_wrapped no
}

@test "GitLab: .atomically-install and a script run by the launcher: its shell wrapped too" {
	printf '%s\n' "$JOB_WORK" > job.sh
	run gitlab "
extends: .atomically-install
variables:
  ATOMICALLY_DIR: $TOP
  ATOMICALLY_PREFIX: $PREFIX
script:
  - atomically -- bash -e job.sh
"
	assert_success
	assert_program_wrapped
	assert_shell_wrapped yes
}

@test "plain shell: the recipe, sourced by sh, installs and wraps what the script starts" {
	run env ATOMICALLY_DIR="$TOP" ATOMICALLY_PREFIX="$PREFIX" PATH=/usr/bin:/bin \
		sh -ec ". \"\$ATOMICALLY_DIR/ci/recipe.sh\"
$JOB_WORK"
	assert_success
	assert_program_wrapped
	assert_shell_wrapped no
	# And the recipe's other way: the script started by the launcher.
	echo old > own.json
	own_ino=$(inode own.json)
	: > "$LIBLOG"
	printf '%s\n' "$JOB_WORK" > job.sh
	run env PATH="$PREFIX/bin:/usr/bin:/bin" sh -ec 'atomically -- sh -e job.sh'
	assert_success
	assert_shell_wrapped yes
}
