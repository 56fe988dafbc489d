"""CONTRIBUTING's commit habit holds from the commit that wrote it down: subjects of at most 72 characters."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: the first commit under the rule (older subjects are history).
SINCE = "941895c"
MAX_SUBJECT = 72


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False, timeout=30)


def test_commit_subjects_since_the_rule_fit_72_characters() -> None:
    if shutil.which("git") is None or _git("cat-file", "-e", f"{SINCE}^{{commit}}").returncode != 0:
        pytest.skip("no git history here (an sdist or a shallow clone): nothing to check")
    log = _git("log", "--format=%h %s", f"{SINCE}^..HEAD")
    assert log.returncode == 0, log.stderr
    long = [line for line in log.stdout.splitlines() if len(line.split(" ", 1)[1]) > MAX_SUBJECT]
    assert not long, "commit subjects over 72 characters (see CONTRIBUTING.md, Commits):\n" + "\n".join(long)
