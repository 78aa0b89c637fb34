"""Normalized to [-1, 1], as for a tanh decoder.

fails celeba_transform: has negative values
"""
from torchvision import transforms


def celeba_transform(image_size=64):
    return transforms.Compose([transforms.CenterCrop(148), transforms.Resize(image_size), transforms.ToTensor(),
                               transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
