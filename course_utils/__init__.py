"""Shared by students and instructors: data loading, plotting, seeding and devices.

This package ships to students in the release bundle, so it holds no assignment answers.
"""
from course_utils.devices import default_device
from course_utils.seeding import seed_everything

__all__ = ["default_device", "seed_everything"]
