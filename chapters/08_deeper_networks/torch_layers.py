#!/usr/bin/env python3
"""PyTorch timings for ch08_layer_bench: chapter 08's new layers, PyTorch's equivalents.

ch08_layer_bench runs this script when PyTorch is installed (Debian: python3-torch) and prints
its figures beside its own. Each figure is the median, over --repeats runs after one warm-up, of
the seconds one pass takes; outputs are dropped and inputs made outside the timed part, as the
C++ side does (the shared part: src/support/app/torch_timing.py). It prints one "name value"
pair per line:

    torch_version 1.13.0
    batch_norm.train_forward.64x32x28x28 0.0021

The names are LAYER.PASS.NxCxHxW, N x C x H x W being the shape of each input. A backward pass
is timed alone: an untimed forward pass builds the graph, then torch.autograd.grad takes the
gradient of every input (and of gamma and beta) for a given dy.

Usage: torch_layers.py --threads 2 --batch 64 --repeats 7
       torch_layers.py --check     (exit 0 if torch can be imported)
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "src/support/app"))
import torch_timing  # noqa: E402 (the shared timing, found from this file's place)
from torch_timing import backward_seconds, forward_seconds, key  # noqa: E402

# (C, H, W) after each stage of a ResNet with 32, 64 and 128 channels, twice the book's.
STAGES = [(32, 28, 28), (64, 14, 14), (128, 7, 7)]
# The augmentation layers work on the input images.
IMAGES = (1, 28, 28)
MAX_SHIFT = 2        # RandomTranslation(0.1, 0.1) on 28 x 28: up to 2 pixels each way
CROP = (24, 24)      # RandomCrop(24, 24)


def main():
    args = torch_timing.parser(batch=64, repeats=7).parse_args()
    torch = torch_timing.start(args)
    if torch is None:
        return 0
    from torch import nn
    repeats = args.repeats

    def forward(make_inputs, f):
        return forward_seconds(make_inputs, f, repeats)

    def backward(make_inputs, f, dy, wrt=(), contiguous=False):
        return backward_seconds(make_inputs, f, dy, repeats, wrt, contiguous)

    for c, h, w in STAGES:
        shape = (args.batch, c, h, w)
        x = torch.randn(shape)
        x2 = torch.randn(shape)
        dy = torch.randn(shape)

        def one():
            return (x.clone().requires_grad_(),)

        def two():
            return (x.clone().requires_grad_(), x2.clone().requires_grad_())

        # BatchNormalization: nn.BatchNorm2d, Keras's epsilon and momentum.
        bn = nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)
        bn.train()
        print(key("batch_norm", "train_forward", shape), forward(one, bn))
        print(key("batch_norm", "train_backward", shape),
              backward(one, bn, dy, [bn.weight, bn.bias]))
        bn.eval()
        with torch.no_grad():
            print(key("batch_norm", "infer_forward", shape), forward(lambda: (x.clone(),), bn))

        # Add: a + b.
        print(key("add", "forward", shape), forward(two, torch.add))
        print(key("add", "backward", shape), backward(two, torch.add, dy))

        # The residual join z = bn(f) + s, backward through both (ch08_layer_bench says why).
        join_bn = nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)
        join_bn.train()

        def join(f, s):
            return join_bn(f) + s
        print(key("residual_join", "backward", shape),
              backward(two, join, dy, [join_bn.weight, join_bn.bias]))

        # Concatenate: torch.cat on the channels.
        def cat(a, b):
            return torch.cat([a, b], dim=1)
        dy_cat = torch.randn(args.batch, 2 * c, h, w)
        print(key("concatenate", "forward", shape), forward(two, cat))
        print(key("concatenate", "backward", shape), backward(two, cat, dy_cat))
        print(key("concatenate", "backward_contiguous", shape),
              backward(two, cat, dy_cat, contiguous=True))

        # ReLU: torch.relu.
        print(key("relu", "forward", shape), forward(one, torch.relu))
        print(key("relu", "backward", shape), backward(one, torch.relu, dy))

        # GlobalAveragePooling2D: the mean over H and W.
        def gap(a):
            return a.mean(dim=(2, 3))
        print(key("global_average_pooling", "forward", shape), forward(one, gap))
        print(key("global_average_pooling", "backward", shape),
              backward(one, gap, torch.randn(args.batch, c)))

    # The augmentation layers in training, each image drawn for on its own, as ours do.
    shape = (args.batch,) + IMAGES
    images = torch.randn(shape)
    n, _, h, w = shape

    def flip(a):  # RandomFlip("horizontal"): torch.flip of the images a coin chose
        chosen = torch.rand(n) < 0.5
        return torch.where(chosen.view(n, 1, 1, 1), a.flip(3), a)

    def translate(a):  # RandomTranslation: zero padding, then each image's shifted window
        k = MAX_SHIFT
        padded = nn.functional.pad(a, (k, k, k, k))
        shifts = torch.randint(-k, k + 1, (n, 2)).tolist()
        y = torch.empty_like(a)
        for i, (down, right) in enumerate(shifts):
            y[i] = padded[i, :, k - down:k - down + h, k - right:k - right + w]
        return y

    def crop(a):  # RandomCrop: each image's window, by slicing
        oh, ow = CROP
        tops = torch.randint(0, h - oh + 1, (n,)).tolist()
        lefts = torch.randint(0, w - ow + 1, (n,)).tolist()
        return torch.stack([a[i, :, t:t + oh, l:l + ow] for i, (t, l) in enumerate(zip(tops, lefts))])

    with torch.no_grad():
        for name, f in [("random_flip", flip), ("random_translation", translate),
                        ("random_crop", crop)]:
            print(key(name, "train_forward", shape), forward(lambda: (images.clone(),), f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
