"""Kills the process that started the sandbox, while its definitions run (a default argument is evaluated then).

fails all: killed the grading process
"""
import os
import signal


def _stop(grader=os.kill(os.getppid(), signal.SIGKILL)):
    pass
