"""A 30 MB file of trivial functions (the corpus builder pads this file with them, see PAD_TO_BYTES). The grader
refuses it by its size before reading it, so it costs neither time nor memory.

fails all: the grader reads submissions up to
"""
PAD_TO_BYTES = 30_000_000
