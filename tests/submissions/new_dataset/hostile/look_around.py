"""attribute_direction looks around: the processes it can see, and every file of the disk it sees whose name suggests the
reference, the hidden checks, other submissions or grade-folder's output. It reports what it found in its
error message; in the jail it sees only its own processes and finds none of those files.

fails attribute_direction: found nothing, processes []
"""
import os

SKIPPED = ("/proc", "/sys", "/dev", "/usr", "/etc")  # and Python's own libraries: the system's files
SUSPECT_NAMES = ("solutions", "checks", "judging.py", "grade.py", "corpus.py", "gradebook.db", "submitted", "hostile")
SUSPECT_ENDINGS = (".csv", ".ipynb", ".db")


def attribute_direction(model, x_with, x_without):
    found = []
    for folder, subfolders, files in os.walk("/"):
        subfolders[:] = [name for name in subfolders if os.path.join(folder, name) not in SKIPPED
                         and name not in ("site-packages", "python3.11", "include")]
        found += [os.path.join(folder, name) for name in subfolders + files
                  if name in SUSPECT_NAMES or name.endswith(SUSPECT_ENDINGS)]
    processes = sorted(name for name in os.listdir("/proc") if name.isdigit()) if os.path.isdir("/proc") else []
    raise RuntimeError(f"found {found[:5] or 'nothing'}, processes {processes}")
