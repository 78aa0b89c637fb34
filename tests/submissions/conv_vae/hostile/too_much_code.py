"""2 MB of trivial functions (the corpus builder pads this file with them, see PAD_TO_BYTES): under the file size
limit, so the jail reads it, in a process with memory and time limits, and refuses it by the size of its code.

fails all: MB of code; the grader reads at most
"""
PAD_TO_BYTES = 2_000_000
