"""Run many small scripts, each in a process of its own, without paying the frameworks' import for each one.

``python -m tests.snippet_runner JOBS.json`` imports LangChain, LlamaIndex and our adapters once, then forks one
child per script: the child starts with those modules loaded (a script still imports every name it uses), takes the
job's environment and working folder, runs the script as ``__main__`` and exits with the code ``python script.py``
would have. Its standard output and error go to ``stdout.txt`` and ``stderr.txt`` in the job's output folder; the
error file starts with whatever the imports printed (warnings), as a run of its own would show it. At most
``workers`` children run at once; one that runs past ``timeout`` seconds is killed (exit code -9). The last line
printed is ``{name: exit code}`` as JSON.

``JOBS.json``: ``{"workers": 2, "timeout": 90, "jobs": {"name": {"script": "/x/a.py", "cwd": "/x", "output":
"/out/a", "env": {...}}, ...}}``. Needs ``os.fork`` (POSIX).
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

#: what a docs or cookbook example imports first; loaded once, before the first fork.
PRELOAD = ("httpx", "langchain_b3n.chat_models", "langchain_b3n.embeddings", "llama_index_b3n.llms",
           "llama_index_b3n.embeddings")


def _preload() -> bytes:
    """Import :data:`PRELOAD`; what that printed to standard error (import-time warnings)."""
    with tempfile.TemporaryFile() as err:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(err.fileno(), 2)
        try:
            for name in PRELOAD:
                importlib.import_module(name)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        err.seek(0)
        return err.read()


def _child(job: dict[str, Any], preload_err: bytes) -> int:
    """Run the job's script as ``python script.py`` would (this process exits right after): its exit code."""
    output = Path(job["output"])
    for stream, name in ((1, "stdout.txt"), (2, "stderr.txt")):
        fd = os.open(output / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, stream)
        os.close(fd)
    os.write(2, preload_err)
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
    script = Path(job["script"])
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


def run(jobs: dict[str, dict[str, Any]], workers: int, timeout: float) -> dict[str, int]:
    """Fork a child per job, ``workers`` at a time: each job's exit code (-9: killed after ``timeout`` s)."""
    preload_err = _preload()
    todo = list(jobs.items())
    running: dict[int, tuple[str, float]] = {}
    codes: dict[str, int] = {}
    while todo or running:
        while todo and len(running) < workers:
            name, job = todo.pop(0)
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = _child(job, preload_err)
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


def results(jobs: dict[str, dict[str, Any]], codes: dict[str, int]) -> dict[str, tuple[int, str, str]]:
    """Each job's exit code, standard output and standard error (read back from its output folder)."""
    def read(job: dict[str, Any], name: str) -> str:
        return (Path(job["output"]) / name).read_text(encoding="utf-8", errors="replace")

    return {name: (codes[name], read(job, "stdout.txt"), read(job, "stderr.txt")) for name, job in jobs.items()}


def fork_all(jobs: dict[str, dict[str, Any]], workers: int, timeout: float, folder: Path
              ) -> dict[str, tuple[int, str, str]]:
    """From a test: run ``jobs`` with this module in a subprocess; each job's exit code, stdout and stderr."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    spec = folder / "jobs.json"
    spec.write_text(json.dumps({"workers": workers, "timeout": timeout, "jobs": jobs}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("B3N_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    runner = subprocess.run([sys.executable, "-m", "tests.snippet_runner", str(spec)], cwd=root, env=env,
                            capture_output=True, text=True, timeout=timeout * (len(jobs) + 1), check=False)
    assert runner.returncode == 0, runner.stdout + runner.stderr
    return results(jobs, json.loads(runner.stdout.splitlines()[-1]))


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    print(json.dumps(run(spec["jobs"], int(spec["workers"]), float(spec["timeout"]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
