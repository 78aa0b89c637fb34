"""One copy of z, modified and appended for every value: all rows end up equal.

fails traverse: the rows share one tensor
"""
import torch


def traverse(model, z, dim, values):
    code = z.clone()
    rows = []
    for value in values:
        code[dim] = value
        rows.append(code)
    with torch.no_grad():
        return model.decode(torch.stack(rows))
