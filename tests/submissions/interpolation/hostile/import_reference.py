"""interpolate delegates to the reference solutions, which are not in the jail.

fails interpolate: No module named 'solutions'
"""


def interpolate(model, x1, x2, steps=10, method="linear"):
    from solutions.interpolate import interpolate as reference

    return reference(model, x1, x2, steps, method)
