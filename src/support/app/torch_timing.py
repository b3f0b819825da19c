"""What the PyTorch timing scripts beside the benchmarks share (chapters 07, 08 and 11).

Each script prints one "name value" pair per line for the C++ benchmark that runs it
(support/app/python.hpp reads them), the first being PyTorch's version:

    torch_version 1.13.0
    relu.forward.64x32x28x28 0.0004

A figure is the median, over --repeats runs after one warm-up, of the seconds one pass takes.
Its inputs are made outside the timed part and its result is dropped after the clock stops, as
the C++ side does (support/app/layer_bench.hpp). A script finds this module from its own place
in the project:

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "src/support/app"))
    import torch_timing
"""
import argparse
import statistics
import time


def parser(batch, repeats):
    """The options every script takes: --check (exit 0 if torch can be imported), --threads,
    --batch and --repeats, with the given defaults. A script may add its own."""
    p = argparse.ArgumentParser()
    p.add_argument("--check", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--repeats", type=int, default=repeats)
    return p


def start(args):
    """Imports torch (here, so that --check fails cleanly without it) and, unless args.check,
    sets its threads and seed and prints its version. Returns torch, or None with --check."""
    import torch
    if args.check:
        return None
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print("torch_version", torch.__version__)
    return torch


def median_seconds(measure, repeats):
    """The median of `repeats` calls of measure(), each returning the seconds it timed, after
    one call as a warm-up."""
    measure()
    return statistics.median(measure() for _ in range(repeats))


def timed(run):
    """Seconds that run() takes; its result is dropped after the clock stops."""
    start_time = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start_time
    del result
    return seconds


def key(layer, pass_, shape):
    """A figure's name: LAYER.PASS.NxCxHxW, N x C x H x W being the input's shape."""
    return "{}.{}.{}".format(layer, pass_, "x".join(str(s) for s in shape))


def forward_seconds(make_inputs, f, repeats):
    """The median seconds of f(*inputs) alone, on fresh inputs from make_inputs() each time."""
    def measure():
        inputs = make_inputs()
        return timed(lambda: f(*inputs))
    return median_seconds(measure, repeats)


def backward_seconds(make_inputs, f, dy, repeats, wrt=(), contiguous=False):
    """The median seconds of the gradients of f's inputs (and of the tensors `wrt`, such as a
    layer's weights) for the output gradient dy, each after an untimed forward pass on fresh
    inputs and a fresh copy of dy; with `contiguous`, each gradient made contiguous too."""
    import torch

    def gradients(y, inputs, g):
        grads = torch.autograd.grad(y, list(inputs) + list(wrt), g)
        return [d.contiguous() for d in grads] if contiguous else grads

    def measure():
        inputs = make_inputs()
        y = f(*inputs)
        g = dy.clone()
        return timed(lambda: gradients(y, inputs, g))
    return median_seconds(measure, repeats)
