"""The jail's walls, piece by piece: the wire format's strict decoder against crafted payloads, the per-submission
namespaces, and the weaker process level with its visible warning and `--require-isolation`.

The hostile submissions of the corpus (tests/submissions/*/hostile) test the whole jail end to end."""
from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys

import pytest
import torch

from autograder import sandbox
from autograder.jail import wire
from submissions import corpus

needs_namespaces = pytest.mark.skipif(sandbox.isolation().level != "namespaces",
                                      reason=f"this machine's isolation: {sandbox.isolation()}")


def _payload(tree, blob: bytes = b"") -> bytes:
    encoded = json.dumps(tree).encode()
    return struct.pack(">I", len(encoded)) + encoded + blob


def test_plain_data_round_trips_exactly():
    value = {"a": (1, -2**63, 2.5, float("nan"), float("-inf"), True, None, "text", b"\x00\xff"),
             "tensors": [torch.arange(6, dtype=torch.float64).reshape(2, 3), torch.zeros(0, 4),
                         torch.tensor(3.5), torch.tensor([True, False]), torch.randn(3).to(torch.bfloat16),
                         torch.randn(5, 5)[:, 1]],  # a non-contiguous view arrives as a contiguous copy
             "nested": [[[{"deep": []}]]]}
    back = wire.decode(wire.encode(value))
    assert back["a"][:3] == (1, -2**63, 2.5) and math.isnan(back["a"][3]) and back["a"][4:] == value["a"][4:]
    assert isinstance(back["a"], tuple) and back["nested"] == value["nested"]
    for got, sent in zip(back["tensors"], value["tensors"]):
        assert type(got) is torch.Tensor and got.is_contiguous() and got.dtype == sent.dtype
        assert got.shape == sent.shape and torch.equal(got, sent)
        assert got.untyped_storage().nbytes() == got.numel() * got.element_size()


@pytest.mark.parametrize("value", [object(), {1: "int key"}, torch.nn.Linear(2, 2), torch.randn(2).to(torch.cfloat)])
def test_the_encoder_refuses_anything_but_plain_data(value):
    with pytest.raises(TypeError):
        wire.encode(value)


@pytest.mark.parametrize("payload, why", [
    (_payload(["T", "float32", [10**10], 0, 4], bytes(4)), "tensor too large"),  # a stride-0 view's disguise
    (_payload(["T", "float32", [2, 3], 0, 4], bytes(4)), "does not match its shape"),
    (_payload(["T", "float32", [4], 8, 16], bytes(16)), "out of bounds"),
    (_payload(["T", "complex64", [1], 0, 8], bytes(8)), "not allowed"),
    (_payload(["T", "float32", [-1], 0, 0]), "malformed shape"),
    (_payload(["l", [["T", "float32", [3_000_000], 0, 12_000_000]] * 10], bytes(12_000_000)), "in total"),
    (_payload(["i", 10**30]), "integer too large"),
    (_payload(["s", "x" * 200_000]), "text too long"),
    (_payload(["x", 1]), "unknown or malformed node"),
    (_payload(["l", [["n"]] * 300_000]), "too many items"),
    (_payload(json.loads("[" * 60 + '"n"' + "]" * 60)), "malformed node"),
    (_payload(["l", [["l", [["l", [["n"]]]]]]]), None),  # fine: a small nesting
    (struct.pack(">I", 10**9) + b"{}", "tree size"),
    (b"\x00\x00\x00\x02{", "tree size"),
    (struct.pack(">I", 3) + b"{x]", "not JSON"),
])
def test_the_decoder_checks_every_size_before_it_allocates(payload, why):
    if why is None:
        wire.decode(payload)
        return
    with pytest.raises(wire.WireError, match=why):
        wire.decode(payload)


def test_deep_nesting_is_refused():
    tree = ["n"]
    for _ in range(wire.MAX_DEPTH + 2):
        tree = ["l", [tree]]
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.decode(_payload(tree))


def _grade(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))


@pytest.fixture(scope="module")
def reference_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "reference.py"
    path.write_text(corpus.reference_source("interpolation"))
    return path


def test_process_level_grades_the_same_and_says_it_is_weaker(reference_file):
    done = _grade("grade", "interpolation", str(reference_file), "--json", env={"AUTOGRADER_ISOLATION": "process"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["score"] == report["max_score"] == 10 and report["isolation"] == "process"
    warning = done.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("warning: isolation level process (")


def test_require_isolation_refuses_a_weaker_level(reference_file, tmp_path):
    for args in (("grade", "interpolation", str(reference_file)), ("grade-folder", "interpolation", str(tmp_path))):
        done = _grade(*args, "--require-isolation", "namespaces", env={"AUTOGRADER_ISOLATION": "process"})
        assert done.returncode == 3 and done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: isolation level 'process' is below the required")


@needs_namespaces
def test_this_machine_gives_namespaces_and_the_jail_sees_only_the_python_environment(reference_file):
    """What a submission's process sees, asked from inside (the probe of a check reports it as its error)."""
    report = subprocess.run([sys.executable, "-c", f"""
import json, sys
from autograder.grade import grade
source = '''
import os
def lerp(z1, z2, steps):
    seen = {{"uid": os.getuid(), "proc": os.listdir("/proc"), "root": sorted(os.listdir("/")),
            "writable": [p for p in ("/", "/usr", "/grader", "/dev", "/tmp") if os.access(p, os.W_OK)]}}
    raise RuntimeError(repr(seen))
'''
report = grade("interpolation", {{"name": "look.py", "data": source.encode()}}, names=["lerp"])
print(json.dumps(report.as_dict()))
"""], capture_output=True, text=True, timeout=300)
    message = json.loads(report.stdout)["checks"][0]["message"]
    seen = eval(message[message.index("{"):message.rindex("}") + 1])  # noqa: S307 - our own repr, read back
    assert seen["uid"] == 1000 and seen["proc"] == [] and seen["writable"] == ["/tmp"]
    assert "grader" in seen["root"] and "home" not in seen["root"]


def test_the_required_isolation_level_is_there():
    """CI sets AUTOGRADER_REQUIRE_ISOLATION=namespaces: there, the hostile tests must run, not skip."""
    required = os.environ.get("AUTOGRADER_REQUIRE_ISOLATION")
    if not required:
        pytest.skip("no isolation level required here (CI requires namespaces)")
    assert sandbox.isolation().level == required, sandbox.isolation().detail
