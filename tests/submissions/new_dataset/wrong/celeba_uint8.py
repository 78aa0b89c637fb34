"""uint8 tensors, never converted to floats.

fails celeba_transform: returned a torch.uint8 tensor
"""
from torchvision import transforms


def celeba_transform(image_size=64):
    return transforms.Compose([transforms.CenterCrop(148), transforms.Resize(image_size), transforms.PILToTensor()])
