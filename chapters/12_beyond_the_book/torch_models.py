"""The book's models in PyTorch, and the book's weights files read and written from PyTorch.

Chapter 12's scripts import this module. Each model is written the way a PyTorch user would
write it (torch.nn modules in forward()), with two things that make it the *same* network as
the library's:

- Every layer that has weights carries the name the library gives it (conv2d, conv2d_1, ...,
  batch_normalization_3, dense), in the order the library creates them, so that the library's
  weights file (manifest.txt and one .npy per tensor, src/support/io/weights.hpp) maps onto the
  module by name.
- Padding follows Keras's rule ('same': as much as the kernel needs, the odd row at the end),
  which PyTorch's Conv2d(padding=k // 2) matches only for odd kernels at stride 1: the ResNet's
  stride-2 convolutions need one row more at the bottom than at the top.

The layouts: the library stores a Conv2D kernel as (FN, C, FH, FW), as PyTorch's Conv2d.weight
and ONNX's Conv do (Keras stores (FH, FW, C, FN)); a Dense kernel as (D, M), Keras's layout,
which is the transpose of PyTorch's Linear.weight (M, D); Flatten reads (C, H, W) in that order,
as torch.flatten does (Keras flattens (H, W, C)). The library's BatchNormalization keeps
gamma, beta, moving_mean and moving_variance, PyTorch's weight, bias, running_mean and
running_var.
"""
import hashlib
import math
import os
import pathlib
import shutil
import tempfile

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

MANIFEST = "manifest.txt"
HEADER = "# cnn-steps weights 1: index name shape file sha256"
EPSILON = 1e-3  # Keras's BatchNormalization epsilon, the library's default


class WeightsError(Exception):
    """A weights directory that does not fit the model, or is damaged."""


def same_padding(size, kernel, stride):
    """Keras's 'same' padding along one axis: (before, after)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


# [keras_conv2d]
class Conv2d(nn.Conv2d):
    """nn.Conv2d with Keras's padding: 'valid' (none) or 'same' (worked out per input size)."""

    def __init__(self, in_channels, filters, kernel, stride=1, padding="valid"):
        super().__init__(in_channels, filters, kernel, stride=stride, padding=0)
        self.keras_padding = padding

    def forward(self, x):
        if self.keras_padding == "same":
            top, bottom = same_padding(x.shape[2], self.kernel_size[0], self.stride[0])
            left, right = same_padding(x.shape[3], self.kernel_size[1], self.stride[1])
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)
# [keras_conv2d]


def batch_norm(channels):
    # PyTorch's momentum is 1 minus Keras's (0.99): the weight of the new batch's statistics.
    return nn.BatchNorm2d(channels, eps=EPSILON, momentum=0.01)


class Named(nn.Module):
    """A model whose weighted layers carry the library's names, in the library's order."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict()
        self.counts = {}

    def add(self, kind, module):
        """Registers `module` as the library's next layer of `kind` ("conv2d", "dense", ...)."""
        n = self.counts.get(kind, 0)
        self.counts[kind] = n + 1
        name = kind if n == 0 else "{}_{}".format(kind, n)
        self.layers[name] = module
        return module


class SeedModel(Named):
    """Géron's model (the library's seed_model(), chapter 06)."""

    def __init__(self, dropout=0.5):
        super().__init__()
        channels = [(1, 64, 7), (64, 128, 3), (128, 128, 3), (128, 256, 3), (256, 256, 3)]
        self.convs = [self.add("conv2d", Conv2d(c, f, k, padding="same")) for c, f, k in channels]
        self.dense = [self.add("dense", nn.Linear(d, m)) for d, m in [(256 * 3 * 3, 128), (128, 64), (64, 10)]]
        self.dropout = nn.Dropout(dropout)

    # [seed_forward]
    def forward(self, x):
        c = self.convs
        x = F.max_pool2d(F.relu(c[0](x)), 2)
        x = F.max_pool2d(F.relu(c[2](F.relu(c[1](x)))), 2)
        x = F.max_pool2d(F.relu(c[4](F.relu(c[3](x)))), 2)
        x = torch.flatten(x, 1)  # (C, H, W) order, as the library's Flatten
        x = self.dropout(F.relu(self.dense[0](x)))
        x = self.dropout(F.relu(self.dense[1](x)))
        return self.dense[2](x)  # logits: the softmax is in the loss
    # [seed_forward]


class ResNet(Named):
    """The library's resnet_model() (chapter 08): ResNet-20, stages of 16, 32 and 64 channels.
    Its augmentation layers do nothing at inference, so they have no counterpart here."""

    def __init__(self, stages=(16, 32, 64), blocks=3, classes=10):
        super().__init__()
        self.stem = self.conv_bn(1, stages[0], 3, 1)
        self.blocks = []
        channels = stages[0]
        for s, filters in enumerate(stages):
            for b in range(blocks):
                stride = 2 if s > 0 and b == 0 else 1
                first = self.conv_bn(channels, filters, 3, stride)
                second = self.conv_bn(filters, filters, 3, 1)
                project = None
                if stride != 1 or channels != filters:
                    project = self.conv_bn(channels, filters, 1, stride)
                self.blocks.append((first, second, project))
                channels = filters
        self.dense = self.add("dense", nn.Linear(channels, classes))

    def conv_bn(self, channels, filters, kernel, stride):
        # The library's conv_bn(): the convolution, then its batch normalization, named in
        # the order the library adds them.
        conv = self.add("conv2d", Conv2d(channels, filters, kernel, stride, padding="same"))
        bn = self.add("batch_normalization", batch_norm(filters))
        return lambda x: bn(conv(x))

    def forward(self, x):
        h = F.relu(self.stem(x))
        for first, second, project in self.blocks:
            f = second(F.relu(first(h)))
            h = F.relu(f + (project(h) if project else h))
        return self.dense(h.mean(dim=(2, 3)))  # global average pooling, then the logits


MODELS = {"seed": SeedModel, "resnet": ResNet}


# [tensors_of]
def tensors_of(model):
    """Each library weight name with the PyTorch tensor that holds it and how to convert."""
    found = {}
    for name, module in model.layers.items():
        if isinstance(module, nn.Linear):
            found[name + "/kernel"] = (module.weight, True)  # (M, D) here, (D, M) there
            found[name + "/bias"] = (module.bias, False)
        elif isinstance(module, nn.Conv2d):
            found[name + "/kernel"] = (module.weight, False)  # (FN, C, FH, FW) on both sides
            found[name + "/bias"] = (module.bias, False)
        elif isinstance(module, nn.BatchNorm2d):
            found[name + "/gamma"] = (module.weight, False)
            found[name + "/beta"] = (module.bias, False)
            found[name + "/moving_mean"] = (module.running_mean, False)
            found[name + "/moving_variance"] = (module.running_var, False)
    return found
# [tensors_of]


def read_manifest(directory):
    """The manifest's entries (index, name, shape, file, sha256), checked line by line."""
    path = pathlib.Path(directory) / MANIFEST
    if not path.is_file():
        raise WeightsError("{}: no weights manifest (expected a directory written by "
                           "save_weights())".format(path))
    lines = path.read_text().splitlines()
    if not lines or lines[0] != HEADER:
        raise WeightsError("{}: expected the first line '{}'".format(path, HEADER))
    entries = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(" ")
        dims = fields[2][1:-1].split(",") if len(fields) == 5 else []
        if (len(fields) != 5 or fields[0] != str(len(entries)) or not fields[2].startswith("(")
                or not fields[2].endswith(")") or not all(d.isdigit() for d in dims if d)):
            raise WeightsError("{}, line {}: expected 'index name (shape) file sha256' with index "
                               "{}, found '{}'".format(path, number, len(entries), line))
        entries.append((fields[1], tuple(int(d) for d in dims if d), fields[3], fields[4]))
    return entries


def load_library_weights(model, directory):
    """Loads the library's saved weights into `model`, every check before any copy."""
    tensors = tensors_of(model)
    entries = read_manifest(directory)
    names = [e[0] for e in entries]
    if sorted(names) != sorted(tensors):
        missing = sorted(set(tensors) - set(names))
        extra = sorted(set(names) - set(tensors))
        raise WeightsError("{}: these weights are not the model's: {} tensors saved, the model has "
                           "{}; missing {}, not in the model {}".format(
                               directory, len(names), len(tensors), missing[:4], extra[:4]))
    values = {}
    for name, shape, file, sha256 in entries:
        path = pathlib.Path(directory) / file
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise WeightsError("{}: its SHA-256 differs from the manifest's: a damaged or "
                               "replaced file".format(path))
        array = np.load(path)
        if array.dtype != np.float32:
            raise WeightsError("{}: expected float32 values, found {}".format(path, array.dtype))
        tensor, transposed = tensors[name]
        expected = tuple(tensor.shape[::-1]) if transposed else tuple(tensor.shape)
        if array.shape != shape or shape != expected:
            raise WeightsError("{}: {} has shape {} in the file, the model expects {}".format(
                directory, name, array.shape, expected))
        values[name] = array.T if transposed else array
    with torch.no_grad():
        for name, array in values.items():
            tensors[name][0].copy_(torch.from_numpy(np.ascontiguousarray(array)))


def save_library_weights(model, directory):
    """Saves `model`'s weights as the library's save_weights() does: one .npy per tensor and a
    manifest in the library's order, written into a new directory that then replaces
    `directory` whole (the library's load_weights() reads it)."""
    directory = pathlib.Path(directory)
    target_ok = not directory.exists() or (directory / MANIFEST).is_file() or not any(directory.iterdir())
    if not target_ok:
        raise WeightsError("{}: exists and is not a weights directory; refusing to replace "
                           "it".format(directory))
    fresh = pathlib.Path(tempfile.mkdtemp(prefix=directory.name + ".new-", dir=directory.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(fresh, 0o777 & ~umask)  # mkdtemp's folder is private; a saved model is not
    try:
        lines = [HEADER]
        for index, (name, (tensor, transposed)) in enumerate(tensors_of(model).items()):
            array = tensor.detach().cpu().numpy().astype(np.float32)
            array = np.ascontiguousarray(array.T if transposed else array)
            file = name.replace("/", ".") + ".npy"
            np.save(fresh / file, array)
            digest = hashlib.sha256((fresh / file).read_bytes()).hexdigest()
            shape = "(" + ",".join(str(d) for d in array.shape) + ")"
            lines.append("{} {} {} {} {}".format(index, name, shape, file, digest))
        (fresh / MANIFEST).write_text("\n".join(lines) + "\n")
        old = None
        if directory.exists():
            old = directory.with_name(directory.name + ".old-" + fresh.name.rsplit("-", 1)[-1])
            os.rename(directory, old)
        os.rename(fresh, directory)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
