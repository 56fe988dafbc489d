"""Run many small scripts, each in a process of its own, without paying the frameworks' import for each one.

``python -m tests.snippet_runner JOBS.json`` imports LangChain, LlamaIndex and our adapters once, then forks one
child per script: the child starts with those modules loaded (a script still imports every name it uses), runs the
script as ``__main__`` in its own folder and exits with the code ``python script.py`` would have. Standard output and
error go to ``stdout.txt`` and ``stderr.txt`` beside the script. At most ``workers`` children run at once; one that
runs past ``timeout`` seconds is killed (exit code -9). The last line printed is ``{name: exit code}`` as JSON.

``JOBS.json``: ``{"workers": 2, "timeout": 90, "jobs": {"name": "/folder/with/script.py", ...}}``.
Needs ``os.fork`` (POSIX).
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

#: what a docs example imports first; loaded once, before the first fork.
PRELOAD = ("httpx", "langchain_b3n.chat_models", "langchain_b3n.embeddings", "llama_index_b3n.llms",
           "llama_index_b3n.embeddings")


def _child(script: Path) -> int:
    """Run ``script`` as ``python script.py`` would (this process exits right after): its exit code."""
    os.chdir(script.parent)
    for stream, name in ((1, "stdout.txt"), (2, "stderr.txt")):
        fd = os.open(script.parent / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, stream)
        os.close(fd)
    sys.argv = [str(script)]
    sys.path[0] = str(script.parent)
    code = 0
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if not isinstance(stop.code, (int, type(None))):
            print(stop.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    for thread in threading.enumerate():  # like interpreter exit: wait for the script's non-daemon threads
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def run(jobs: dict[str, str], workers: int, timeout: float) -> dict[str, int]:
    """Fork a child per job, ``workers`` at a time: each job's exit code (-9: killed after ``timeout`` s)."""
    for name in PRELOAD:
        importlib.import_module(name)
    todo = list(jobs.items())
    running: dict[int, tuple[str, float]] = {}
    codes: dict[str, int] = {}
    while todo or running:
        while todo and len(running) < workers:
            name, path = todo.pop(0)
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = _child(Path(path))
                finally:
                    os._exit(code)
            running[pid] = (name, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            codes[running.pop(pid)[0]] = os.waitstatus_to_exitcode(status)
            continue
        for pid, (_, started) in list(running.items()):
            if time.monotonic() - started > timeout:
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    return codes


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    print(json.dumps(run(spec["jobs"], int(spec["workers"]), float(spec["timeout"]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
