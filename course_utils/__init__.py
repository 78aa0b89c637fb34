"""Shared by students and instructors: data loading, plotting, seeding and devices.

This package ships to students in the release bundle, so it holds no assignment answers. Its submodules are
imported on first use, so tools that need no torch (such as `python -m course_utils.book`) start fast.
"""
import importlib

_EXPORTS = {"default_device": "course_utils.devices", "seed_everything": "course_utils.seeding"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
