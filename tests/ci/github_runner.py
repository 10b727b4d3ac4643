#!/usr/bin/env python3
"""github_runner.py - run a job's steps as a GitHub Actions runner would,
on this machine: enough of the runner to test action.yml and the
`shell:` line docs/CI.md gives.

    github_runner.py WORKSPACE JOB_YAML

JOB_YAML is a workflow's job: its `steps:`, each `uses: DIR` (a local
composite action, DIR/action.yml, with its `with:`) or `run: SCRIPT` (with
`shell:`: bash, the default, or a template with {0}, and `env:`).

What it does as the runner does: each step in a process of its own, the
script in a file given to the shell (bash: `bash --noprofile --norc -eo
pipefail {0}`); a composite action's steps with GITHUB_ACTION_PATH, their
`env:` with `${{ inputs.NAME }}` put in, their `if:` (only the
`inputs.NAME == 'VALUE'` form); GITHUB_ENV and GITHUB_PATH files, read
after each step into the environment of the later ones (`NAME=value`
lines and `NAME<<DELIM` blocks).  Exit status: the first failing step's.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

BASH = "bash --noprofile --norc -eo pipefail {0}"


def expand(text, inputs):
    """${{ inputs.NAME }} put in, as the runner does before a step runs."""
    def one(m):
        return str(inputs.get(m.group(1), ""))
    return re.sub(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", one, str(text))


def condition(expr, inputs):
    if expr is None:
        return True
    m = re.fullmatch(r"\s*inputs\.([A-Za-z0-9_-]+)\s*==\s*'([^']*)'\s*", str(expr))
    if not m:
        sys.exit("github_runner: cannot evaluate if: %r" % expr)
    return str(inputs.get(m.group(1), "")) == m.group(2)


def read_env_file(path, env):
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value = []
            while lines[i] != delim:
                value.append(lines[i])
                i += 1
            i += 1
            env[name] = "\n".join(value)
        else:
            name, value = line.split("=", 1)
            env[name] = value
    open(path, "w").close()


def read_path_file(path, env):
    with open(path) as f:
        dirs = [d for d in f.read().split("\n") if d]
    for d in dirs:
        env["PATH"] = d + ":" + env["PATH"]
    open(path, "w").close()


def run_script(script, shell, env, workspace):
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False, dir=env["RUNNER_TEMP"]) as f:
        f.write(script)
    words = shlex.split(BASH if shell in (None, "bash") else shell)
    words = [w.replace("{0}", f.name) for w in words]
    return subprocess.run(words, env=env, cwd=workspace).returncode


def run_action(step, env, workspace):
    action_dir = os.path.abspath(step["uses"])
    with open(os.path.join(action_dir, "action.yml")) as f:
        action = yaml.safe_load(f)
    if action["runs"]["using"] != "composite":
        sys.exit("github_runner: only composite actions")
    given = step.get("with", {})
    inputs = {k: given.get(k, v.get("default", "")) for k, v in action.get("inputs", {}).items()}
    for k in given:
        if k not in inputs:
            sys.exit("github_runner: the action has no input %s" % k)
    for s in action["runs"]["steps"]:
        if not condition(s.get("if"), inputs):
            continue
        if "shell" not in s:
            sys.exit("github_runner: a composite action's run step needs a shell")
        senv = dict(env, GITHUB_ACTION_PATH=action_dir)
        senv.update({k: expand(v, inputs) for k, v in s.get("env", {}).items()})
        rc = run_script(expand(s["run"], inputs), s["shell"], senv, workspace)
        if rc:
            return rc
        after_step(env)
    return 0


def after_step(env):
    read_env_file(env["GITHUB_ENV"], env)
    read_path_file(env["GITHUB_PATH"], env)


def main():
    workspace = os.path.abspath(sys.argv[1])
    state = tempfile.mkdtemp(prefix="runner.", dir=workspace)
    env = dict(os.environ, CI="true", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=workspace,
               RUNNER_TEMP=state, GITHUB_ENV=os.path.join(state, "env"),
               GITHUB_PATH=os.path.join(state, "path"))
    open(env["GITHUB_ENV"], "w").close()
    open(env["GITHUB_PATH"], "w").close()
    for step in yaml.safe_load(sys.argv[2])["steps"]:
        if "uses" in step:
            rc = run_action(step, env, workspace)
        else:
            senv = dict(env, **{k: str(v) for k, v in step.get("env", {}).items()})
            rc = run_script(step["run"], step.get("shell"), senv, workspace)
            after_step(env)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
