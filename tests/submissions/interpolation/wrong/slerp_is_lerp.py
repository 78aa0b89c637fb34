"""slerp that is a straight line.

fails slerp: follows the straight line
"""


def slerp(z1, z2, steps):
    return lerp(z1, z2, steps)
