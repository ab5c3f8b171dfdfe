"""The CPU thread pool under a wide pool (VT_NUM_THREADS=16, wider than CI's machine) with
regions of changing widths back to back: a worker that wakes late must not claim work of the
next region. This hung or crashed (two runs in three) before regions had their own counters."""
import os
import subprocess
import sys

SCRIPT = """
import vibetensor as vt
narrow, wide = vt.ones(65536), vt.ones(32768 * 16)  # parallel regions of 2 and 16 chunks
for _ in range(3000):
    narrow * 2
    wide * 2
total = (wide * 2).sum().item()
assert total == 2 * 32768 * 16, total
print("ok")
"""


def test_regions_of_changing_width_with_many_threads():
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", SCRIPT], env={**os.environ, "VT_NUM_THREADS": "16"},
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
