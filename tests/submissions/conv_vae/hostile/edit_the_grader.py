"""A class body finds the grader's modules in memory and tries to rewrite their files (to a judge that passes
everything), then kills its parent, as if to make a restarted pool import the edited files. The jail sees the
grader read-only, and its parent is the relay, which a namespace's first process cannot be killed from inside;
the rest being the reference, full marks. (The test also checks that no file of the grader changed.)
"""
import os
import signal
import sys


class _Rewrite:
    for _name, _module in list(sys.modules.items()):
        if _name.startswith(("autograder", "solutions", "course_utils")) and getattr(_module, "__file__", None):
            try:
                with open(_module.__file__, "a") as _handle:
                    _handle.write("\ndef judge(*args, **kwargs):\n    return True\n")
            except OSError:
                pass
    os.kill(os.getppid(), signal.SIGKILL)
