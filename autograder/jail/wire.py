"""The one format in which data crosses the jail's walls, read back by a strict decoder.

A message is plain data: None, bools, ints, floats, strings, bytes, lists, tuples, dicts with string keys, and
CPU tensors of a few dtypes. `encode` writes it as a JSON tree of tagged nodes followed by the tensors' raw bytes;
`decode` rebuilds it and refuses anything else. The decoder trusts nothing it reads: it caps the payload, the
tree's size and depth, every tensor's element count and all of them together, checks that each tensor's byte
count is exactly its shape times its element size, and builds every tensor afresh (contiguous, its own memory,
a plain torch.Tensor). So a submission that writes its own bytes, or replaces the encoder, can send wrong values
but never a view, a subclass, code, or a small message that expands into gigabytes.

No pickle anywhere: torch.save/torch.load would rebuild a stride-0 view of one float as a huge tensor.
"""
from __future__ import annotations

import json
import math
import struct

HEADER = struct.Struct(">Q")  # a frame: its payload's length, then the payload
TREE_LENGTH = struct.Struct(">I")  # a payload: the JSON tree's length, the tree, then the tensor bytes
MAX_PAYLOAD_BYTES = 96 << 20
MAX_TREE_BYTES = 4 << 20
MAX_DEPTH = 24
MAX_NODES = 200_000
MAX_TENSOR_ELEMENTS = 4_000_000  # 16 MB of float32: no check needs more
MAX_TOTAL_ELEMENTS = 20_000_000
MAX_TEXT = 100_000
MAX_INT_BITS = 64
DTYPES = ("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")


class WireError(ValueError):
    """The bytes are not a well-formed message within the limits."""


def _torch():
    import torch  # not at the top: the grader's CLI reads its arguments before paying for torch

    return torch


def _float(value: float) -> str:
    return float.hex(value)  # exact, and covers nan and inf, which JSON lacks


def encode(value) -> bytes:
    """A payload for `value` (plain data only: TypeError for anything else, e.g. a model or a generator)."""
    blobs: list[bytes] = []
    offset = 0

    def node(item, depth: int):
        nonlocal offset
        if depth > MAX_DEPTH:
            raise TypeError("nested too deeply to send")
        if item is None:
            return ["n"]
        if isinstance(item, bool):
            return ["b", item]
        if isinstance(item, int):
            return ["i", int(item)]
        if isinstance(item, float):
            return ["f", _float(float(item))]
        if isinstance(item, str):
            return ["s", str(item)]
        if isinstance(item, (bytes, bytearray)):
            blobs.append(bytes(item))
            offset += len(item)
            return ["y", offset - len(item), len(item)]
        if isinstance(item, list):
            return ["l", [node(x, depth + 1) for x in item]]
        if isinstance(item, tuple):
            return ["t", [node(x, depth + 1) for x in item]]
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                raise TypeError("only dicts with string keys can be sent")
            return ["d", [[str(key), node(x, depth + 1)] for key, x in item.items()]]
        torch = _torch()
        if type(item) is torch.Tensor and str(item.dtype).removeprefix("torch.") in DTYPES:
            tensor = item.detach().cpu().contiguous()
            data = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
            blobs.append(data)
            offset += len(data)
            return ["T", str(tensor.dtype).removeprefix("torch."), list(tensor.shape), offset - len(data), len(data)]
        raise TypeError(f"{type(item).__qualname__} cannot be sent")

    tree = json.dumps(node(value, 0), separators=(",", ":")).encode()
    return TREE_LENGTH.pack(len(tree)) + tree + b"".join(blobs)


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def decode(payload: bytes):
    """The value of a payload, or WireError. Every tensor is a new contiguous torch.Tensor."""
    if len(payload) > MAX_PAYLOAD_BYTES or len(payload) < TREE_LENGTH.size:
        raise WireError("payload size out of bounds")
    (tree_length,) = TREE_LENGTH.unpack_from(payload)
    if tree_length > MAX_TREE_BYTES or TREE_LENGTH.size + tree_length > len(payload):
        raise WireError("tree size out of bounds")
    try:
        tree = json.loads(payload[TREE_LENGTH.size:TREE_LENGTH.size + tree_length])
    except (ValueError, RecursionError) as err:
        raise WireError(f"tree is not JSON ({type(err).__name__})") from None
    blob = memoryview(payload)[TREE_LENGTH.size + tree_length:]
    budget = {"nodes": MAX_NODES, "elements": MAX_TOTAL_ELEMENTS}
    return _rebuild(tree, blob, budget, 0)


def _expect(condition: bool, why: str) -> None:
    if not condition:
        raise WireError(why)


def _rebuild(node, blob: memoryview, budget: dict, depth: int):
    _expect(depth <= MAX_DEPTH, "nested too deeply")
    budget["nodes"] -= 1
    _expect(budget["nodes"] >= 0, "too many items")
    _expect(isinstance(node, list) and node and isinstance(node[0], str), "malformed node")
    tag, args = node[0], node[1:]
    if tag == "n" and not args:
        return None
    if tag == "b" and len(args) == 1 and isinstance(args[0], bool):
        return args[0]
    if tag == "i" and len(args) == 1 and type(args[0]) is int:
        _expect(args[0].bit_length() <= MAX_INT_BITS, "integer too large")
        return args[0]
    if tag == "f" and len(args) == 1 and isinstance(args[0], str) and len(args[0]) <= 32:
        try:
            return float.fromhex(args[0])
        except (ValueError, OverflowError):
            raise WireError("malformed float") from None
    if tag == "s" and len(args) == 1 and isinstance(args[0], str):
        _expect(len(args[0]) <= MAX_TEXT, "text too long")
        return args[0]
    if tag == "y" and len(args) == 2:
        return bytes(_span(blob, *args))
    if tag in ("l", "t") and len(args) == 1 and isinstance(args[0], list):
        items = [_rebuild(child, blob, budget, depth + 1) for child in args[0]]
        return items if tag == "l" else tuple(items)
    if tag == "d" and len(args) == 1 and isinstance(args[0], list):
        result = {}
        for pair in args[0]:
            _expect(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                    and len(pair[0]) <= MAX_TEXT, "malformed dict entry")
            result[pair[0]] = _rebuild(pair[1], blob, budget, depth + 1)
        return result
    if tag == "T" and len(args) == 4:
        return _tensor(*args, blob=blob, budget=budget)
    raise WireError(f"unknown or malformed node {tag!r}")


def _span(blob: memoryview, offset, length) -> memoryview:
    _expect(type(offset) is int and type(length) is int and 0 <= offset and 0 <= length
            and offset + length <= len(blob), "data out of bounds")
    return blob[offset:offset + length]


def _tensor(dtype_name, shape, offset, length, *, blob: memoryview, budget: dict):
    torch = _torch()
    _expect(dtype_name in DTYPES, f"dtype {dtype_name!r} not allowed")
    _expect(isinstance(shape, list) and len(shape) <= 8 and all(type(s) is int and 0 <= s for s in shape),
            "malformed shape")
    count = math.prod(shape)  # at most 8 Python integers: exact, and cheap however large
    _expect(count <= MAX_TENSOR_ELEMENTS, "tensor too large")
    budget["elements"] -= count
    _expect(budget["elements"] >= 0, "tensors too large in total")
    dtype = getattr(torch, dtype_name)
    data = _span(blob, offset, length)
    _expect(length == count * torch.empty((), dtype=dtype).element_size(), "tensor size does not match its shape")
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape)
