"""Benchmark step 4 (train): time per optimizer step of our fastai learner against a raw PyTorch loop, on the CPU.

  learner  `qv_learner(dls, arch, pretrained=False)`: AdamW (torch, through fastai's OptimWrapper), ASL loss,
           `EMACallback` (an update after every step) and the mAP metric, trained with `fit` at a constant
           learning rate (so both sides run the same arithmetic; a one-cycle schedule adds a few hyper-parameter
           writes per step)
  raw      the same network (same initial weights), `torch.optim.AdamW`, `AsymmetricLoss`, the same batches,
           `zero_grad / forward / loss / backward / step` in a plain loop

Both train on the same random images (bs x 3 x size x size) and 17-class multi-hot targets. Rounds alternate
raw / learner (`--steps` steps each) after a warm-up round of each, so that a load change on the machine
hits both alike; each step is timed on its own and the medians are compared:

  step   learner: from its first `before_batch` to its last `after_batch` callback (all callbacks of a
         training step: one-cycle scheduler, EMA update, recorder); raw: zero_grad to step
  epoch  learner: the whole training phase of an epoch divided by its steps (fastai's loader collating the
         batches from the dataset included); raw: the loop over pre-built batches divided by its steps

Timings default to one torch thread (--threads 0: torch's default), which on a small shared machine keeps
other processes from skewing one side. Prints both ratios; the target is step ratio <= 1.10 (exit status 1 above it with --strict).

    python bench/train_step.py [--arch resnet10t] [--bs 16] [--size 128] [--steps 10] [--rounds 4] [--threads 1] [--strict]
"""
import argparse, statistics, sys, time, warnings
from copy import deepcopy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings('ignore')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--arch', default='resnet10t')
    ap.add_argument('--bs', type=int, default=16)
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--steps', type=int, default=10, help='steps per timed round (one learner epoch)')
    ap.add_argument('--rounds', type=int, default=4, help='timed rounds of each after the warm-up round')
    ap.add_argument('--threads', type=int, default=1, help='torch threads (0: torch default); one thread keeps the '
                    'timings stable on a shared machine')
    ap.add_argument('--strict', action='store_true', help='exit 1 when the step ratio is above 1.10')
    a = ap.parse_args()

    import torch
    from fastai.data.core import DataLoaders
    from fastai.callback.core import Callback
    from fastai.torch_core import TensorMultiCategory, set_seed
    from qvpipe_nb.models import qv_learner
    from qvpipe_nb.losses import AsymmetricLoss
    if a.threads: torch.set_num_threads(a.threads)

    set_seed(0, reproducible=False)
    n = a.steps * a.bs
    xs = torch.randn(n, 3, a.size, a.size)
    ys = (torch.rand(n, 17) < 0.15).float(); ys[:, 0] = 1 - ys[:, 1:].amax(1)
    train = [(x, TensorMultiCategory(y)) for x, y in zip(xs, ys)]
    valid = train[:a.bs]                       # one validation batch: the mAP callback runs, untimed
    dls = DataLoaders.from_dsets(train, valid, bs=a.bs, shuffle=False, drop_last=True, device='cpu', num_workers=0)
    batches = [(xs[i:i+a.bs], ys[i:i+a.bs]) for i in range(0, n, a.bs)]

    class _T0(Callback):
        order, run_valid = -1000, False
        def before_train(self): self.t_train = time.perf_counter()
        def before_batch(self): self.t = time.perf_counter()
    class _T1(Callback):
        order, run_valid = 1000, False
        def __init__(self, t0): self.t0, self.steps, self.epochs = t0, [], []
        def after_batch(self): self.steps.append(time.perf_counter() - self.t0.t)
        def after_train(self): self.epochs.append((time.perf_counter() - self.t0.t_train) / len(self.dl))
    t0 = _T0(); t1 = _T1(t0)
    learn = qv_learner(dls, a.arch, pretrained=False, lr=1e-3, cbs=[t0, t1], path='/tmp')
    assert hasattr(learn, 'ema') and learn.metrics[0].name == 'mAP'
    model = deepcopy(learn.model)              # same initial weights
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_func = AsymmetricLoss()

    raw_steps, raw_epochs = [], []
    def raw_round():
        model.train(); t_ep = time.perf_counter()
        for xb, yb in batches:
            t = time.perf_counter()
            opt.zero_grad()
            loss = loss_func(model(xb), yb)
            loss.backward()
            opt.step()
            raw_steps.append(time.perf_counter() - t)
        raw_epochs.append((time.perf_counter() - t_ep) / len(batches))
    def learner_round():
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)

    raw_round(); learner_round()               # warm-up
    raw_steps.clear(); raw_epochs.clear(); t1.steps.clear(); t1.epochs.clear()
    med = statistics.median
    for r in range(a.rounds):                  # alternate which goes first
        n0, m0 = len(raw_steps), len(t1.steps)
        if r % 2: learner_round(); raw_round()
        else: raw_round(); learner_round()
        print(f'round {r}: raw {med(raw_steps[n0:])*1e3:.0f} ms/step, learner {med(t1.steps[m0:])*1e3:.0f} ms/step', flush=True)
    assert learn.ema_steps == (a.rounds + 1) * a.steps

    rs, ls, re_, le = med(raw_steps), med(t1.steps), med(raw_epochs), med(t1.epochs)
    print(f'{a.arch} bs={a.bs} {a.size}px, {a.rounds}x{a.steps} steps each after warm-up, torch threads={torch.get_num_threads()}')
    print(f'raw loop : {rs*1e3:8.1f} ms/step (median)   {re_*1e3:8.1f} ms/step over epochs')
    print(f'learner  : {ls*1e3:8.1f} ms/step (median)   {le*1e3:8.1f} ms/step over epochs (loader included)')
    ratio = ls / rs
    print(f'step ratio learner/raw: {ratio:.3f} (target <= 1.10: {"OK" if ratio <= 1.10 else "ABOVE"})')
    print(f'epoch ratio learner/raw: {le/re_:.3f}')
    if a.strict and ratio > 1.10: sys.exit(1)


if __name__ == '__main__': main()
