"""Probes of new_dataset: the halves of its checks that call the student's code, inside the jail.

Each probe_NAME(student, inputs) calls the submission's functions on the grader's inputs and returns what came
back, deciding nothing; judge_NAME in autograder/checks/new_dataset.py judges it outside the jail.
"""
from __future__ import annotations

import torch

from ..known_models import ProbeVAE
from ..probing import call

SAMPLES = 500  # codes per statistical test: 2000 numbers pin a std down to ~2%

def warm_up():
    """Import PIL before the checks run, so that its import does not count against celeba_transform's time."""
    from PIL import Image  # noqa: F401


TEST_IMAGES = {"portrait": (178, 218), "landscape": (250, 200)}  # (width, height)


TRANSFORM_CALLS = (("celeba_transform()", {}, 64, ("portrait", "landscape")),
                   ("celeba_transform(image_size=32)", {"image_size": 32}, 32, ("portrait",)))


def probe_celeba_transform(student, inputs):
    from PIL import Image

    outputs = {"defined_in": getattr(student.celeba_transform, "__module__", None)}
    for label, kwargs, _, names in TRANSFORM_CALLS:
        transform = call(label, student.celeba_transform, **kwargs)
        for name in names:
            width, height = TEST_IMAGES[name]
            image = Image.fromarray(inputs[name].numpy(), mode="RGB")
            outputs[f"{label} {name}"] = call(f"{label} applied to a {width}x{height} image", transform, image)
    return outputs


def _draws(student, model, function, label, args, calls):
    """Each call as {images, codes}: the global random state is reseeded differently before every call, so only
    the generator can make two draws equal."""
    outputs = {}
    for key, (global_seed, generator_seed, kwargs) in calls.items():
        torch.manual_seed(global_seed)
        kwargs = dict(kwargs, generator=torch.Generator().manual_seed(generator_seed))
        shown = ", ".join([*label] + [f"{k}={v}" for k, v in kwargs.items() if k != "generator"] + ["generator=g"])
        images = call(f"{function}({shown})", getattr(student, function), model, *args, **kwargs)
        outputs[key] = {"images": images, "codes": model.decoded()}
    return outputs


def probe_sample_prior(student, inputs):
    model = ProbeVAE(**inputs["model"])
    outputs = _draws(student, model, "sample_prior", ("model", str(SAMPLES)), (SAMPLES,),
                     {"first": (1, 5, {}), "again": (2, 5, {}), "cold": (3, 6, {"temperature": 0.5})})
    outputs["plain"] = call("sample_prior(model, 3)", student.sample_prior, model, 3)
    return outputs


NEAR_SCALE = 0.2


def probe_sample_near(student, inputs):
    model = ProbeVAE(**inputs["model"])
    calls = {"first": (1, 7, {"scale": NEAR_SCALE}), "again": (2, 7, {"scale": NEAR_SCALE})}
    outputs = _draws(student, model, "sample_near", ("model", "x", str(SAMPLES)), (inputs["x"].clone(), SAMPLES), calls)
    outputs["plain"] = call("sample_near(model, x, 3)", student.sample_near, model, inputs["x"].clone(), 3)
    return outputs


TRAVERSALS = ((2, [-2.0, -0.5, 1.0, 3.0]), (0, [0.5, 1.5]))


def probe_traverse(student, inputs):
    model = ProbeVAE(**inputs["model"])
    z = inputs["z"].clone()
    outputs = []
    for dim, values in TRAVERSALS:
        images = call(f"traverse(model, z, {dim}, {values})", student.traverse, model, z, dim, list(values))
        outputs.append({"images": images, "codes": model.decoded()})
    return {"traversals": outputs, "z_after": z}


def probe_attribute_direction(student, inputs):
    model = ProbeVAE(**inputs["model"])
    label = "attribute_direction(model, x_with, x_without)"
    first = call(label, student.attribute_direction, model, inputs["x_with"].clone(), inputs["x_without"].clone())
    again = call(label, student.attribute_direction, model, inputs["x_with"].clone(), inputs["x_without"].clone())
    return {"first": first, "again": again, "forward_calls": len(model.log["forwards"])}

