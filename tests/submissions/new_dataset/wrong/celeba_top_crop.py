"""A square from the top of the image, not its centre.

fails celeba_transform: is not centred
"""
from torchvision import transforms


def celeba_transform(image_size=64):
    def top_square(image):
        side = min(image.size)
        return image.crop((0, 0, side, side))

    return transforms.Compose([transforms.Lambda(top_square), transforms.Resize(image_size), transforms.ToTensor()])
