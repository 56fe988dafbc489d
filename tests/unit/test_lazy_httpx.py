"""httpx loads on first use and without its command line (rich, click, pygments), which still works when called.

Each case runs in a fresh interpreter, where rich and click are installed (the test extra pulls them in).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module", autouse=True)
def _cli_installed() -> None:
    for name in ("rich", "click", "pygments"):
        pytest.importorskip(name)


def test_first_request_does_not_import_the_httpx_command_line() -> None:
    done = _run(
        "import sys\n"
        "from b3n import B3nClient\n"
        "from b3n.testing import Emulator\n"
        "with Emulator() as emu:\n"
        "    print(B3nClient(api_key='sk-test', base_url=emu.base_url).embeddings.create(['hi'], dimensions=4)[0][:1])\n"
        "print(sorted(m for m in ('rich', 'click', 'pygments') if m in sys.modules))\n"
    )
    assert done.returncode == 0, done.stderr
    first, modules = done.stdout.splitlines()
    assert first.startswith("[") and modules == "[]"


def test_httpx_main_still_runs_the_real_command_line() -> None:
    done = _run(
        "from b3n._lazy import httpx\n"
        "httpx.Client\n"
        "import httpx as real\n"
        "real.main(['--help'])\n"
    )
    assert done.returncode == 0, done.stderr
    assert "A next generation HTTP client." in done.stdout and "Usage: httpx <URL> [OPTIONS]" in done.stdout


def test_importing_httpx_main_afterwards_gets_the_real_module() -> None:
    done = _run(
        "from b3n._lazy import httpx\n"
        "httpx.Client\n"
        "from httpx._main import print_help\n"
        "import sys\n"
        "print('rich' in sys.modules)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
