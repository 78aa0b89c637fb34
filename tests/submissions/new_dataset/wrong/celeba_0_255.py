"""Pixel values left in [0, 255].

fails celeba_transform: scale to [0, 1]
"""
from torchvision import transforms


def celeba_transform(image_size=64):
    return transforms.Compose([transforms.CenterCrop(148), transforms.Resize(image_size),
                               transforms.PILToTensor(), transforms.Lambda(lambda x: x.float())])
