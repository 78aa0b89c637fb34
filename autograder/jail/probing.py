"""What probes use: the half of a check that runs inside the jail, next to the student's code.

A probe calls the student's functions on the inputs the grader chose and returns what came back. It decides
nothing: everything in the student's process is within the student's reach, so its results are raw data, sent
through the strict wire format (wire.py) and judged outside the jail (see autograder/README.md).
"""
from __future__ import annotations

import traceback
from typing import Any

from .wire import DTYPES, MAX_INT_BITS, MAX_TENSOR_ELEMENTS

SUBMISSION_FILE = "<submission: {}>"  # the file name the student's code is compiled under, per cell
MAX_ITEMS = 10_000
MAX_TEXT = 300


class NotDefined(Exception):
    """The submission does not define a name a check needs (message says what to do)."""


class StudentError(Exception):
    """The student's code raised; the message names the call, the exception and the student's line."""


def one_line(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def where(exc: BaseException) -> str:
    """' (cell 4, line 7: `eps = torch.randn(mu)`)' for the innermost frame in the student's code, else ''."""
    prefix = SUBMISSION_FILE.split("{")[0]
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(prefix)]
    if not frames:
        return ""
    frame = frames[-1]
    place = f"{frame.filename[len(prefix):-1]}, line {frame.lineno}"
    return f" ({place}: `{one_line(frame.line, 80)}`)" if frame.line else f" ({place})"


def describe(label: str, exc: BaseException) -> str:
    """One line for the student: which call failed and how."""
    if isinstance(exc, SystemExit):
        return f"{label} called sys.exit(){where(exc)}: graded functions must return, not exit"
    if isinstance(exc, MemoryError):
        return f"{label} ran out of memory{where(exc)}: the grader allows a few GB"
    message = one_line(exc)
    return f"{label} raised {type(exc).__name__}{': ' + message if message else ''}{where(exc)}"


def call(label: str, function, *args, **kwargs):
    """function(*args, **kwargs); if the student's code raises, a StudentError naming `label` (e.g.
    "kl_divergence(mu, logvar)") and the student's line."""
    try:
        return function(*args, **kwargs)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt are the student's mistakes too
        raise StudentError(describe(label, exc)) from None


class Submission:
    """The student's namespace, read as attributes: `student.kl_divergence`.

    failed - names whose definition raised while the sandbox executed them, with that error.
    """

    def __init__(self, namespace: dict, failed: dict[str, str]):
        self.namespace = namespace
        self.failed = failed

    def __getattr__(self, name: str):
        try:
            return self.namespace[name]
        except KeyError:
            if name in self.failed:
                raise NotDefined(f"{name} could not be defined: {self.failed[name]}") from None
            raise NotDefined(f"{name} is not defined: the notebook must define it under exactly this name") from None

    def watch(self, name: str) -> list[dict]:
        """Record every call of the submission's global function `name` made by its other functions, e.g. the
        vae_loss calls inside train_vae. Returns the (growing) list of {"args", "kwargs", "result"}, as raw data.

        Judges use it to grade a function on its own: train_vae is right if it does the right thing with the
        student's vae_loss, whose mistakes cost points in vae_loss's check only.
        """
        calls: list[dict] = []
        original = self.namespace.get(name)
        if callable(original):
            def watched(*args, **kwargs):
                result = original(*args, **kwargs)
                calls.append({"args": raw(args), "kwargs": raw(kwargs), "result": raw(result)})
                return result

            self.namespace[name] = watched
        return calls


def foreign(value, what: str | None = None) -> dict:
    """Stand-in for a returned object that is not plain data: judges report `what` (default: its type)."""
    kind = type(value)
    return {"__foreign__": what or f"{kind.__module__}.{kind.__qualname__}"}


def raw(value: Any, depth: int = 0):
    """The student's return value as plain data the parent can load safely: plain CPU tensors, numbers,
    strings, lists, tuples and str-keyed dicts; anything else becomes foreign(value)."""
    import torch  # here, not at the top: the grader imports this module before it needs torch

    if depth > 6:
        return foreign(value)
    if isinstance(value, torch.Tensor):
        if value.numel() > MAX_TENSOR_ELEMENTS:
            return foreign(value, f"tensor too large to check ({value.numel()} elements)")
        if value.layout != torch.strided or value.is_quantized or str(value.dtype).removeprefix("torch.") not in DTYPES:
            return foreign(value, f"{value.dtype} tensor")
        return value.detach().cpu().as_subclass(torch.Tensor).clone()
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        return float(value)  # plain, even for subclasses
    if isinstance(value, int):
        return int(value) if int(value).bit_length() <= MAX_INT_BITS else foreign(value, "integer too large")
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return raw(value.item(), depth + 1)
    if isinstance(value, (list, tuple)) and len(value) <= MAX_ITEMS:
        items = [raw(item, depth + 1) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict) and len(value) <= MAX_ITEMS:
        return {str(key)[:MAX_TEXT]: raw(item, depth + 1) for key, item in value.items()}
    return foreign(value)
