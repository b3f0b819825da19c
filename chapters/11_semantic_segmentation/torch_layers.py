#!/usr/bin/env python3
"""PyTorch timings for ch11_layer_bench: chapter 11's upsampling layers, PyTorch's equivalents.

ch11_layer_bench runs this script when PyTorch is installed (Debian: python3-torch) and prints
its figures beside its own. Each figure is the median, over --repeats runs after one warm-up, of
the seconds one pass takes; outputs are dropped and inputs made outside the timed part, as the
C++ side does (the shared part: src/support/app/torch_timing.py). It prints one "name value"
pair per line:

    torch_version 1.13.0
    upsample_nearest.forward.32x128x12x12 0.0004

The names are LAYER.PASS.NxCxHxW, N x C x H x W being the shape of the input. A backward pass
is timed alone: an untimed forward pass builds the graph, then torch.autograd.grad takes the
gradient of the input (and of a convolution's weight and bias) for a given dy.

The layers, on the inputs of the U-Net decoder's three steps:
- upsample_nearest: F.interpolate(x, scale_factor=2, mode="nearest")
- upsample_bilinear: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
- conv_transpose_2x2: nn.ConvTranspose2d(C, C // 2, kernel_size=2, stride=2)
- conv_transpose_3x3: nn.ConvTranspose2d(C, C // 2, kernel_size=3, stride=2, padding=1,
  output_padding=1), the size of Keras's padding="same" (2H x 2W) for the same work; the window
  it keeps sits one row and column lower than Keras's.

Usage: torch_layers.py --threads 2 --batch 32 --repeats 7
       torch_layers.py --check     (exit 0 if torch can be imported)
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "src/support/app"))
import torch_timing  # noqa: E402 (the shared timing, found from this file's place)
from torch_timing import backward_seconds, forward_seconds, key  # noqa: E402

# (C, H, W) of the U-Net decoder's inputs: each step halves C and doubles H and W.
DECODER_INPUTS = [(128, 12, 12), (64, 24, 24), (32, 48, 48)]


def main():
    args = torch_timing.parser(batch=32, repeats=7).parse_args()
    torch = torch_timing.start(args)
    if torch is None:
        return 0
    from torch import nn
    from torch.nn import functional as F
    repeats = args.repeats

    def forward(x, f):
        return forward_seconds(lambda: (x.clone().requires_grad_(),), f, repeats)

    def backward(x, f, dy, wrt=()):
        return backward_seconds(lambda: (x.clone().requires_grad_(),), f, dy, repeats, wrt)

    for c, h, w in DECODER_INPUTS:
        shape = (args.batch, c, h, w)
        x = torch.randn(shape)

        def nearest(a):
            return F.interpolate(a, scale_factor=2, mode="nearest")

        def bilinear(a):
            return F.interpolate(a, scale_factor=2, mode="bilinear", align_corners=False)

        dy_up = torch.randn(args.batch, c, 2 * h, 2 * w)
        for name, f in [("upsample_nearest", nearest), ("upsample_bilinear", bilinear)]:
            print(key(name, "forward", shape), forward(x, f))
            print(key(name, "backward", shape), backward(x, f, dy_up))

        dy_conv = torch.randn(args.batch, c // 2, 2 * h, 2 * w)
        convs = [("conv_transpose_2x2", nn.ConvTranspose2d(c, c // 2, kernel_size=2, stride=2)),
                 ("conv_transpose_3x3", nn.ConvTranspose2d(c, c // 2, kernel_size=3, stride=2,
                                                           padding=1, output_padding=1))]
        for name, conv in convs:
            print(key(name, "forward", shape), forward(x, conv))
            print(key(name, "backward", shape),
                  backward(x, conv, dy_conv, [conv.weight, conv.bias]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
