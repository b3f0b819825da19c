#!/usr/bin/env python3
"""PyTorch timings for chapter 07: the same convolutions and models, on the same machine.

ch07_fast_convolution runs this script when PyTorch is installed (Debian: python3-torch) and
prints its figures beside its own. It prints one "name value" pair per line:

    torch_version 1.13.0
    conv1 0.0123          seconds for forward + backward of conv1 at the given batch (median)
    conv1_forward 0.004   the forward pass alone, and conv1_backward the backward pass alone,
                          as training runs them (conv1's computes no input gradient)
    seed_train 281.5      training images/s (Adam, batch --batch), and so on

Usage: torch_reference.py --threads 2 --batch 64 --repeats 5 --train-steps 20
       torch_reference.py --check     (exit 0 if torch can be imported)
"""
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "src/support/app"))
import torch_timing  # noqa: E402 (the shared timing, found from this file's place)


def median_seconds(run, repeats):
    """The median seconds of run(), over `repeats` calls after a warm-up."""
    return torch_timing.median_seconds(lambda: torch_timing.timed(run), repeats)


def main():
    parser = torch_timing.parser(batch=64, repeats=5)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--infer-batch", type=int, default=256)
    args = parser.parse_args()
    torch = torch_timing.start(args)
    if torch is None:
        return 0
    from torch import nn

    # The five convolutions of the seed model, as in ch07's table: (C, FN, size, kernel).
    shapes = [("conv1", 1, 64, 28, 7), ("conv2", 64, 128, 14, 3), ("conv3", 128, 128, 14, 3),
              ("conv4", 128, 256, 7, 3), ("conv5", 256, 256, 7, 3)]
    for name, c, fn, size, k in shapes:
        x = torch.randn(args.batch, c, size, size, requires_grad=True)
        w = torch.randn(fn, c, k, k, requires_grad=True)
        b = torch.randn(fn, requires_grad=True)
        dy = torch.randn(args.batch, fn, size, size)

        def step():
            y = nn.functional.conv2d(x, w, b, padding=k // 2)
            y.backward(dy)
        print(name, median_seconds(step, args.repeats))

        # Each pass alone, as the layer runs in training: the first layer's input is the data,
        # whose gradient autograd does not compute (x does not require it).
        first = name == shapes[0][0]
        xi = x.detach().requires_grad_(not first)
        inputs = (lambda: ()) if first else (lambda: (xi,))
        conv = (lambda: nn.functional.conv2d(xi, w, b, padding=k // 2)) if first else \
            (lambda xi: nn.functional.conv2d(xi, w, b, padding=k // 2))
        print(name + "_forward", torch_timing.forward_seconds(inputs, conv, args.repeats))
        print(name + "_backward",
              torch_timing.backward_seconds(inputs, conv, dy, args.repeats, wrt=(w, b)))

    def seed_model():
        return nn.Sequential(
            nn.Conv2d(1, 64, 7, padding=3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
            nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2304, 128), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 10))

    def lenet_model():
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))

    for name, make, steps in [("seed", seed_model, args.train_steps),
                              ("lenet", lenet_model, args.train_steps * 10)]:
        model = make()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        x = torch.randn(args.batch, 1, 28, 28)
        y = torch.randint(0, 10, (args.batch,))

        def train_steps(count):
            for _ in range(count):
                optimizer.zero_grad()
                loss_fn(model(x), y).backward()
                optimizer.step()
        model.train()
        train_steps(2)  # warm-up
        start = time.perf_counter()
        train_steps(steps)
        print(name + "_train", steps * args.batch / (time.perf_counter() - start))

        model.eval()
        xi = torch.randn(args.infer_batch, 1, 28, 28)
        with torch.no_grad():
            seconds = median_seconds(lambda: model(xi), args.repeats)
        print(name + "_infer", args.infer_batch / seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
