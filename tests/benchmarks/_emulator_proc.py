"""Run the B3n emulator in a separate process and control it over a pipe.

The benchmarks measure client CPU and throughput, so the server must not share the client's
process (its CPU would be counted) or GIL. The child serves one :class:`b3n.testing.Emulator`
for the whole run; the parent changes its settings (``latency``, ``reply_chunks``, ``quirks``)
between sections through JSON lines on the child's stdin. No change to the emulator is needed.

Example:
    >>> with EmulatorProcess() as emu:          # doctest: +SKIP
    ...     emu.set(latency=0.05)
    ...     emu.base_url
    'http://127.0.0.1:40123/v1'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
_SETTABLE = frozenset({"latency", "reply_chunks", "quirks"})


def child_env() -> dict[str, str]:
    """Environment for benchmark subprocesses: the repo importable, tracing off, no real credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("B3N_", "OPENAI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env["LANGCHAIN_TRACING_V2"] = "false"
    env["LANGSMITH_TRACING"] = "false"
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    return env


class EmulatorProcess:
    """Parent-side handle on the emulator child process."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.pid = 0

    def start(self) -> EmulatorProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-u", str(Path(__file__).resolve()), "--child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=str(REPO_ROOT),
        )
        hello = self._read()
        self.base_url = hello["base_url"]
        self.pid = self._proc.pid
        return self

    def _read(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process exited (see its stderr above)")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"emulator control error: {reply['error']}")
        return reply

    def _call(self, **message: Any) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()
        return self._read()

    def set(self, **settings: Any) -> None:
        """Change emulator attributes, e.g. ``set(latency=0.05, reply_chunks=2000)``."""
        self._call(op="set", settings=settings)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self._call(op="counts")["counts"]
        return counts

    def server_errors(self) -> list[str]:
        errors: list[str] = self._call(op="errors")["errors"]
        return errors

    def reset(self) -> None:
        self._call(op="reset")

    def traffic(self, *, latency: dict[str, Any] | None = None, limit: dict[str, Any] | None = None) -> None:
        """Shape the emulator like a real relay: ``latency`` for ``traffic.set_latency``, ``limit`` for ``set_limit``."""
        self._call(op="traffic", latency=latency, limit=limit)

    def traffic_stats(self) -> dict[str, Any]:
        """Admitted, rejected, peak concurrency and the in-flight timeline since the limit was set."""
        return self._call(op="traffic_stats")

    def served_inputs(self) -> dict[str, int]:
        """Embeddings inputs the emulator answered with 200: total and distinct (last 1,000 requests)."""
        return self._call(op="served")

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (user + system)."""
        cpu: float = self._call(op="cpu")["cpu"]
        return cpu

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            proc.stdin.flush()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _child() -> None:
    """Serve the emulator and obey JSON-line commands on stdin until ``quit`` or EOF."""
    import time

    from b3n.testing import Emulator

    emu = Emulator(quirks=True).start()

    def reply(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    reply({"base_url": emu.base_url})
    try:
        for line in sys.stdin:
            try:
                msg = json.loads(line)
                op = msg.get("op")
                if op == "quit":
                    break
                if op == "set":
                    for name, value in msg["settings"].items():
                        if name not in _SETTABLE:
                            raise ValueError(f"cannot set {name!r}; settable: {sorted(_SETTABLE)}")
                        setattr(emu, name, value)
                    reply({"ok": True})
                elif op == "counts":
                    reply({"counts": emu.counts})
                elif op == "errors":
                    reply({"errors": list(emu.server_errors)})
                elif op == "reset":
                    emu.reset()
                    reply({"ok": True})
                elif op == "traffic":
                    if msg.get("latency") is not None:
                        emu.traffic.set_latency(**msg["latency"])
                    if msg.get("limit") is not None:
                        emu.traffic.set_limit(**msg["limit"])
                    reply({"ok": True})
                elif op == "traffic_stats":
                    t = emu.traffic
                    reply({"admitted": t.admitted, "rejected": t.rejected, "peak": t.peak_concurrency,
                           "timeline": t.timeline})
                elif op == "served":
                    texts = [x for r in emu.requests if r.route.endswith("embeddings") and r.status == 200
                             for x in (r.json or {}).get("input", [])]
                    reply({"total": len(texts), "distinct": len(set(texts))})
                elif op == "cpu":
                    reply({"cpu": time.process_time()})
                else:
                    raise ValueError(f"unknown op {op!r}")
            except Exception as exc:
                reply({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        emu.stop()


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        sys.exit("usage: this module is started by tests/benchmarks/run.py")
