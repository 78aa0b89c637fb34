"""traverse dereferences a null pointer: the sandbox copy dies with SIGSEGV.

fails traverse: crashed the Python process (SIGSEGV)
"""
import ctypes


def traverse(model, z, dim, values):
    return ctypes.string_at(0)
