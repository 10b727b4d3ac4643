#!/usr/bin/env python3
"""gitlab_runner.py - run one GitLab CI job as a runner with the shell (or
docker) executor would, on this machine: enough of it to test
ci/gitlab-ci.yml.

    gitlab_runner.py PROJECT_DIR CI_FILE JOB_YAML

JOB_YAML is the job's own YAML (`extends:` names a template of CI_FILE,
`variables:`, `before_script:`, `script:`).  As the runner does: the
template's keys under the job's, `variables:` as exported variables
(their `$NAME`s expanded, CI_PROJECT_DIR among them), then every line of
before_script and script in one bash that reads the whole job script on
its standard input, under `set -eo pipefail`, from the project's
directory.  Exit status: the job's.
"""
import os
import shlex
import subprocess
import sys

import yaml


def job_of(ci, job):
    merged = {}
    base = job.get("extends")
    for name in [base] if isinstance(base, str) else (base or []):
        merged.update(ci[name])
    for k, v in job.items():
        if k == "variables":
            merged["variables"] = dict(merged.get("variables", {}), **v)
        elif k != "extends":
            merged[k] = v
    return merged


def lines(value):
    return [value] if isinstance(value, str) else list(value or [])


def main():
    project = os.path.abspath(sys.argv[1])
    with open(sys.argv[2]) as f:
        ci = yaml.safe_load(f)
    job = job_of(ci, yaml.safe_load(sys.argv[3]))
    out = ["set -eo pipefail", "set +o noclobber",
           "export CI=true GITLAB_CI=true CI_PROJECT_DIR=%s" % shlex.quote(project)]
    for k, v in job.get("variables", {}).items():
        out.append('export %s="%s"' % (k, str(v).replace('"', '\\"')))
    out.append('cd "$CI_PROJECT_DIR"')
    for line in lines(job.get("before_script")) + lines(job.get("script")):
        out.append("echo %s" % shlex.quote("$ " + line))
        out.append(line)
    script = "\n".join(out) + "\n"
    return subprocess.run(["bash"], input=script.encode(), cwd=project).returncode


if __name__ == "__main__":
    sys.exit(main())
