"""without - with: the direction removes the attribute.

fails attribute_direction: points the wrong way
"""
import torch


def attribute_direction(model, x_with, x_without):
    with torch.no_grad():
        return model.encode(x_without)[0].mean(0) - model.encode(x_with)[0].mean(0)
