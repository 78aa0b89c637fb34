"""Encodes the average image of each group instead of averaging the codes.

fails attribute_direction: encodes the average image
"""
import torch


def attribute_direction(model, x_with, x_without):
    with torch.no_grad():
        mu_with = model.encode(x_with.mean(0, keepdim=True))[0][0]
        mu_without = model.encode(x_without.mean(0, keepdim=True))[0][0]
        return mu_with - mu_without
