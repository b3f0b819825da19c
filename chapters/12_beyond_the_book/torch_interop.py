#!/usr/bin/env python3
"""Chapter 12: the library's models in PyTorch, both ways, and under distributed training.

ch12_beyond_the_book runs this script (Debian's python3-torch) with one of three commands. Each
prints "name value" lines for the program to read, and fails with a message and exit status 1
on bad input (weights that do not fit the model, a damaged weights file).

  predict  builds the PyTorch model, loads the library's weights and writes its logits for the
           given images:
             torch_interop.py predict --model seed --weights DIR --images X.npy --logits Y.npy
  train    continues training from the library's weights with PyTorch's Adam, saves the result
           in the library's format and writes the trained model's logits for the given images:
             torch_interop.py train --model seed --weights DIR --train-images T.npy
               --train-labels L.npy --steps 50 --save DIR2 --images X.npy --logits Y.npy
  ddp      the same for --epochs epochs (default 1) with DistributedDataParallel: --processes
           worker processes on this machine (the gloo backend, meeting through a file; on
           several machines torchrun starts the processes instead), each with a shard of every
           batch:
             torch_interop.py ddp --model seed --weights DIR --train-images T.npy
               --train-labels L.npy --save DIR2 --processes 2 --batch 64

Images are float32 .npy arrays (N, 1, 28, 28) in [0, 1]; labels float32 (N) class numbers.
"""
import argparse
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import torch_models  # noqa: E402 (beside this file)


def build(name, weights):
    """The PyTorch model `name` with the library's weights from the directory `weights`."""
    model = torch_models.MODELS[name]()
    torch_models.load_library_weights(model, weights)
    return model


def logits_of(model, images):
    """The model's logits in inference mode (dropout off, moving statistics)."""
    import torch
    model.eval()
    with torch.no_grad():
        return torch.cat([model(images[i:i + 250]) for i in range(0, len(images), 250)])


def load_images(path):
    import numpy as np
    import torch
    return torch.from_numpy(np.load(path).astype(np.float32))


def save_logits(path, logits):
    import numpy as np
    np.save(path, logits.numpy().astype(np.float32))


def predict(args):
    model = build(args.model, args.weights)
    save_logits(args.logits, logits_of(model, load_images(args.images)))


def training_data(args):
    """The training images and labels as a TensorDataset."""
    from torch.utils.data import TensorDataset
    return TensorDataset(load_images(args.train_images), load_images(args.train_labels).long())


def train(args):
    import torch
    from torch.nn import functional as F
    from torch.utils.data import DataLoader
    if args.steps < 1:
        raise ValueError("--steps: expected at least 1, got {}".format(args.steps))
    torch.manual_seed(args.seed)
    model = build(args.model, args.weights)
    loader = DataLoader(training_data(args), batch_size=args.batch, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(args.seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    model.train()
    losses = []
    while len(losses) < args.steps:  # as many epochs as the steps need, reshuffled each time
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)  # takes logits, as the library's loss
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == args.steps:
                break
    print("first_loss", losses[0])
    print("last_loss", losses[-1])
    torch_models.save_library_weights(model, args.save)
    save_logits(args.logits, logits_of(model, load_images(args.images)))


def ddp_worker(rank, args, init_file):
    """One process of data-parallel training: the same model in every process, a different
    shard of each batch, gradients averaged across the processes after every backward pass."""
    import torch
    import torch.distributed as dist
    from torch.nn import functional as F
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank,
                            world_size=args.processes)
    torch.manual_seed(args.seed + rank)  # each process its own dropout masks
    # Every process starts from the library's weights; DDP also copies rank 0's parameters to
    # the others when it wraps the model, so that they cannot start apart.
    model = DistributedDataParallel(build(args.model, args.weights))
    data = training_data(args)
    # Each process sees 1/processes of the data per epoch: its shard of every global batch.
    sampler = DistributedSampler(data, num_replicas=args.processes, rank=rank, shuffle=True,
                                 seed=args.seed)
    loader = DataLoader(data, batch_size=args.batch // args.processes, sampler=sampler)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    model.train()
    start = time.perf_counter()
    total, count = 0.0, 0
    # [ddp_step]
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same in every process
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()  # DDP all-reduces (averages) the gradients here, bucket by bucket
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
    # [ddp_step]
    seconds = time.perf_counter() - start
    summary = torch.tensor([total, float(count)])
    dist.all_reduce(summary)  # the sums over every process
    if rank == 0:
        torch_models.save_library_weights(model.module, args.save)
        print("ddp_processes", args.processes)
        print("ddp_images", int(summary[1].item()))
        print("ddp_batches_per_process", len(loader))
        print("ddp_mean_loss", summary[0].item() / summary[1].item())
        print("ddp_seconds", seconds)
        sys.stdout.flush()
    dist.destroy_process_group()


def ddp(args):
    import torch.multiprocessing as mp
    if args.processes < 1 or args.epochs < 1:
        raise ValueError("--processes and --epochs: expected at least 1, got {} and {}".format(
            args.processes, args.epochs))
    if args.batch % args.processes != 0:
        raise ValueError("--batch {} does not split into {} equal shards".format(
            args.batch, args.processes))
    build(args.model, args.weights)  # bad weights: one clear error here, not one per process
    with tempfile.TemporaryDirectory() as scratch:
        # The processes find each other through a file (no network port needed).
        try:
            mp.spawn(ddp_worker, args=(args, os.path.join(scratch, "rendezvous")),
                     nprocs=args.processes, join=True)
        except mp.ProcessRaisedException as e:
            raise ValueError("a training process failed: {}".format(str(e).strip().splitlines()[-1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 0 if torch can be imported")
    sub = parser.add_subparsers(dest="command")
    for name in ["predict", "train", "ddp"]:
        p = sub.add_parser(name)
        p.add_argument("--model", choices=sorted(torch_models.MODELS), required=True)
        p.add_argument("--weights", required=True, help="the library's weights directory")
        p.add_argument("--seed", type=int, default=42)
        if name in ("predict", "train"):
            p.add_argument("--images", required=True)
            p.add_argument("--logits", required=True)
        if name in ("train", "ddp"):
            p.add_argument("--train-images", required=True)
            p.add_argument("--train-labels", required=True)
            p.add_argument("--save", required=True, help="where the trained weights go")
            p.add_argument("--batch", type=int, default=64)
            p.add_argument("--learning-rate", type=float, default=1e-4)
        if name == "train":
            p.add_argument("--steps", type=int, default=50)
        if name == "ddp":
            p.add_argument("--processes", type=int, default=2)
            p.add_argument("--epochs", type=int, default=1)
            p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    args = parser.parse_args()
    import torch  # noqa: F401 (here, so that --check fails cleanly without it)
    if args.check:
        return 0
    print("torch_version", torch.__version__)
    try:
        {"predict": predict, "train": train, "ddp": ddp}[args.command](args)
    except (torch_models.WeightsError, ValueError, OSError) as e:
        print("error: {}".format(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
