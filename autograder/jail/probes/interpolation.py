"""Probes of interpolation: the halves of its checks that call the student's code, inside the jail.

Each probe_NAME(student, inputs) calls the submission's functions on the grader's inputs and returns what came
back, deciding nothing; judge_NAME in autograder/checks/interpolation.py judges it outside the jail.
"""
from __future__ import annotations

from ..known_models import ProbeVAE
from ..probing import call


LERP_STEPS = (5, 2)


def probe_lerp(student, inputs):
    z1, z2 = inputs["z1"].clone(), inputs["z2"].clone()
    paths = [call(f"lerp(z1, z2, {steps})", student.lerp, z1, z2, steps) for steps in LERP_STEPS]
    return {"paths": paths, "z1_after": z1, "z2_after": z2}


SLERP_CASES = {  # key: (what the case is, steps)
    "equal": ("z1, z2 of equal norm", 7),
    "orthogonal": ("orthogonal z1, z2 of equal norm", 5),
    "unequal": ("z1, z2 of different norms", 6),
    "same": ("z2 = z1", 5),
    "parallel": ("z2 = 2.5 * z1", 5),
    "nearly": ("nearly parallel z1, z2", 5),
}


def probe_slerp(student, inputs):
    fallbacks = student.watch("lerp")  # slerp may fall back to the student's own lerp, which is checked on its own
    outputs = {}
    for key, case in inputs.items():
        del fallbacks[:]
        path = call(f"slerp(z1, z2, {case['steps']}) with {SLERP_CASES[key][0]}", student.slerp,
                    case["z1"].clone(), case["z2"].clone(), case["steps"])
        outputs[key] = {"path": path, "lerp_calls": list(fallbacks)}
    return outputs


# key: (keyword arguments, the path function it should use)
INTERPOLATE_CALLS = {"linear": ({"steps": 5}, "lerp"), "slerp": ({"steps": 4, "method": "slerp"}, "slerp"),
                     "default": ({}, "lerp")}


def interpolate_call_label(kwargs) -> str:
    return "interpolate(model, x1, x2" + "".join(f", {k}={v!r}" for k, v in kwargs.items()) + ")"


def probe_interpolate(student, inputs):
    model = ProbeVAE(**inputs["model"])
    # interpolate may use the student's own lerp/slerp, which are checked on their own
    used = {"lerp": student.watch("lerp"), "slerp": student.watch("slerp")}
    outputs, paths = {}, {}
    for key, (kwargs, _) in INTERPOLATE_CALLS.items():
        for calls in used.values():
            del calls[:]
        outputs[key] = call(interpolate_call_label(kwargs), student.interpolate, model, inputs["x1"].clone(),
                            inputs["x2"].clone(), **kwargs)
        paths[key] = {name: list(calls) for name, calls in used.items()}
        paths[key]["decoded"] = model.decoded()
    return {"images": outputs, "paths": paths, "forward_calls": len(model.log["forwards"])}

