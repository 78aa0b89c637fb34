"""Kills its parent process while its definitions run. That parent is the relay, the first process of the
submission's PID namespace, which cannot be killed from inside it (the grader is further up, out of sight):
grading goes on and, the rest being the reference, this submission gets full marks."""
import os
import signal


def _stop(parent=os.kill(os.getppid(), signal.SIGKILL)):
    pass
