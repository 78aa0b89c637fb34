"""Top-level statements that would stop or hang grading; they are not definitions, so grading skips them and
this submission (the reference plus these lines) gets full marks."""
import os
import sys

while True:
    pass
for _ in iter(int, 1):
    pass
sys.exit(1)
os._exit(1)
raise SystemExit(1)
