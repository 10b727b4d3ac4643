#!/bin/sh
# deps.sh PACKAGE... - make sure the Debian packages named are installed.
# As root, install the missing ones with apt-get; otherwise name them and
# fail, so that nothing half-works for want of a tool.
set -eu
missing=
for p in "$@"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "atomically: missing Debian packages:$missing" >&2
	echo "atomically: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "atomically: missing packages:$missing (no apt-get here: install them by hand)" >&2
	exit 1
fi
echo "atomically: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
