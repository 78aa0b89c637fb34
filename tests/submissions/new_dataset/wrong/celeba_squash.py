"""Resizes the whole 178x218 image to a square: faces get squashed.

fails celeba_transform: squashes the image
"""
from torchvision import transforms


def celeba_transform(image_size=64):
    return transforms.Compose([transforms.Resize((image_size, image_size)), transforms.ToTensor()])
