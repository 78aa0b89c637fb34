"""reparameterize and kl_divergence come from the reference solutions, loaded by every route a student could
try: removing import blockers from sys.meta_path, a file path next to the grader's modules, the editable-install
map in site-packages, sys.modules, the garbage collector and the frames of every thread. None exists in the jail,
and everything else of the assignment uses these two.

fails all: reference not found
"""
import gc
import importlib.util
import os
import sys


def _find_reference():
    sys.meta_path[:] = [finder for finder in sys.meta_path if "Block" not in type(finder).__name__]
    try:
        import solutions.vae

        return solutions.vae
    except ImportError:
        pass
    places = []
    for module in list(sys.modules.values()):
        mapping = getattr(module, "MAPPING", None)
        if isinstance(mapping, dict) and "solutions" in mapping:
            places.append(os.path.join(mapping["solutions"], "vae.py"))
        path = getattr(module, "__file__", None) or ""
        for up in range(1, 5):
            places.append(os.path.join(os.path.dirname(path), *([".."] * up), "solutions", "vae.py"))
    for place in places:
        if os.path.exists(place):
            spec = importlib.util.spec_from_file_location("_reference_vae", place)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    for name, module in list(sys.modules.items()):
        if name.startswith("solutions"):
            return module
    for obj in gc.get_objects():
        if str(getattr(obj, "__module__", "")).startswith("solutions"):
            return sys.modules.get(obj.__module__)
    for frame in sys._current_frames().values():
        while frame is not None:
            if str(frame.f_globals.get("__name__", "")).startswith(("solutions", "autograder.checks")):
                return frame.f_globals
            frame = frame.f_back
    return None


def reparameterize(mu, logvar):
    reference = _find_reference()
    if reference is None:
        raise RuntimeError("reference not found")
    return reference.reparameterize(mu, logvar)


def kl_divergence(mu, logvar):
    reference = _find_reference()
    if reference is None:
        raise RuntimeError("reference not found")
    return reference.kl_divergence(mu, logvar)
