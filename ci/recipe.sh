# recipe.sh - atomically in any CI, plain shell: source it from the job's
# script (`ATOMICALLY_DIR=atomically . atomically/ci/recipe.sh`), or copy
# its lines.  Unless an atomically is on the PATH, it installs one from
# the checkout ATOMICALLY_DIR names (PREFIX: $ATOMICALLY_PREFIX, by
# default /usr/local); then it wraps every program
# the script starts from here on.  The script's own shell is not wrapped
# by this: `echo ... > state.json` in the script itself is still written
# in place.  Start the script under the launcher for that instead:
#   atomically -- sh -e job.sh
# docs/CI.md says what each way covers.
if ! command -v atomically > /dev/null 2>&1; then
	sh "${ATOMICALLY_DIR:?names no checkout of atomically, and none is installed}/ci/install.sh" \
		"${ATOMICALLY_PREFIX:-/usr/local}" || exit 1
	PATH=${ATOMICALLY_PREFIX:-/usr/local}/bin:$PATH
fi
eval "$(atomically ${ATOMICALLY_CONFIG:+-c "$ATOMICALLY_CONFIG"} --env)" || exit 1
