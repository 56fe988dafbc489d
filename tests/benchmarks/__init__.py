"""Side-by-side performance benchmarks against the anchors (not collected by pytest).

Run from the repository root: ``python -m tests.benchmarks.run`` (see ``README.md`` here).
"""
