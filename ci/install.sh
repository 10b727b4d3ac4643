#!/bin/sh
# install.sh [PREFIX] - install atomically for a CI job, from this tree.
#
# With ATOMICALLY_DEB naming a .deb (`make deb` builds one), that package
# is installed with apt-get.  Otherwise the tree is built and installed
# under PREFIX (default /usr/local): the build dependencies with apt-get
# (scripts/deps.sh), `make all` as the job's user, `make install` as
# root.  It ends by running the installed `atomically --version`.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-/usr/local}
as_root=
if [ "$(id -u)" != 0 ]; then
	command -v sudo > /dev/null || { echo "install.sh: not root and no sudo" >&2; exit 1; }
	as_root="sudo -n"
fi

if [ -n "${ATOMICALLY_DEB:-}" ]; then
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(realpath "$ATOMICALLY_DEB")" > /dev/null
	atomically --version
	exit 0
fi
$as_root make -s -C "$here" deps-build
make -s -C "$here" PREFIX="$prefix" all
$as_root make -s -C "$here" PREFIX="$prefix" install
"$prefix/bin/atomically" --version
