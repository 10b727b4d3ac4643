#!/usr/bin/env bash
# demo.sh - show on real programs what `atomically` changes.  Run by
# `make demo` after the build; uses the embedded default config.
#
#  1. A legacy tool (python3) rewrites its state file and is killed with
#     SIGKILL halfway: without atomically the file is torn; with it the
#     old content is intact.
#  2. A reader checks a config file over and over while tee rewrites it
#     slowly: without atomically it sees partial files; with it, never.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
atomically="$top/build/atomically"
checkread="$top/build/checkread"
work=$(mktemp -d /tmp/atomically-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
# The demo uses the embedded default config (unless /etc/atomically.conf
# exists: then that one, as for any run).
export XDG_CONFIG_HOME="$work/xdg"
unset ATOMICALLY_CONF ATOMICALLY_RULES LD_PRELOAD
if [ -e /etc/atomically.conf ]; then
	echo "(note: /etc/atomically.conf exists and is the config used here)"
fi
# What the library did, to show it was there and committed.
export ATOMICALLY_LOG="info:$work/library.log"

# Say what the library logged since the last call, indented.
library_said() {
	if [ -s "$work/library.log" ]; then
		sed 's/^/    /' "$work/library.log"
	else
		echo "    (the library logged nothing)"
	fi
	: > "$work/library.log"
}

python=$(command -v python3)
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

# A state file of 400 entries, version 1.
make_state() {
	"$python" - "$1" <<'EOF'
import json, sys
json.dump({"version": int(sys.argv[1]),
           "entries": [{"id": i, "name": "entry-%d" % i} for i in range(400)]},
          open("state.json", "w"), indent=1)
EOF
}

# The legacy tool: rewrites state.json in place, slowly (a line at a time).
cat > legacy-tool.py <<'EOF'
import json, sys, time
state = json.load(open("state.json"))
state["version"] += 1
text = json.dumps(state, indent=1)
with open("state.json", "w") as f:
    for line in text.splitlines(True):
        f.write(line)
        f.flush()
        time.sleep(0.001)
EOF

describe_state() {
	"$python" - <<'EOF'
import json, os
size = os.path.getsize("state.json")
try:
    s = json.load(open("state.json"))
    print("    state.json: %d bytes, valid JSON, version %d, %d entries"
          % (size, s["version"], len(s["entries"])))
except Exception as e:
    print("    state.json: %d bytes, BROKEN: %s" % (size, str(e).split(":")[0]))
EOF
}

kill_midway() {
	"$@" "$python" legacy-tool.py &
	local pid=$!
	sleep 0.5
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

echo "== 1. A tool killed with SIGKILL while it rewrites its state file"
echo
make_state 1
echo "  without atomically:"
kill_midway
describe_state
make_state 1
echo "  with atomically:"
kill_midway "$atomically"
describe_state
echo "    temp files left by the killed writer: $(ls -A | grep -c '^\.state\.json\.atomically\.')" \
	"(it had no name yet; a named one is removed by the next writer, or by 'atomically --clean .')"
"$atomically" --clean . | sed 's/^/      /'
echo "  with atomically, not killed:"
"$atomically" "$python" legacy-tool.py
describe_state
library_said
echo

# ---- 2 ----

"$python" -c 'print("\n".join("key%04d: old value %04d" % (i, i) for i in range(3000)))' > old.yaml
"$python" -c 'print("\n".join("key%04d: NEW VALUE %04d" % (i, i) for i in range(3000)))' > new.yaml

# The writer: tee rewrites config.yaml from a producer that is slow.
slow_rewrite() {
	"$python" -c '
import sys, time
for line in open("new.yaml"):
    sys.stdout.write(line); sys.stdout.flush()
    if line.endswith("0\n"): time.sleep(0.002)
' | "$@" tee config.yaml >/dev/null
}

race() {
	local result
	cp old.yaml config.yaml
	slow_rewrite "$@" &
	result=$("$checkread" config.yaml old.yaml new.yaml 1200)
	wait
	echo "    reader: $result"
}

echo "== 2. A reader reads config.yaml again and again while tee rewrites it"
echo "   (old = the whole old file, new = the whole new file, partial = anything else)"
echo
echo "  without atomically:"
race
echo "  with atomically:"
race "$atomically"
library_said
