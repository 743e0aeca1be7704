"""Benchmark step 2 (splits): fold balance of three ways to stratify grouped QV-Pipe labels, over several seeds.

  package  iterative-stratification's MultilabelStratifiedKFold on one *binary* row per source video (group)
  greedy   our port of the same algorithm on label *counts* per group, biggest groups first (`polish=False`)
  ours     greedy + polish (`qvpipe_nb.splits.stratify`, what `make_folds` / `qvpipe_split` use)

For each method: how many seeds break the acceptance rule (some class's per-fold count off its mean by more than
max(15% of the mean, 3 videos)), the worst deviation in units of that tolerance (<= 1 passes), the TL and FS
per-fold counts at seed 42, the fold-size spread, and the time per split. Runs on the real train label file when
it is on this machine (`core.real_data_dir()`), else on a synthetic grouped label set (said in the output).

    python bench/splits.py [--seeds 10] [--folds 5]
"""
import argparse, sys, time, warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from qvpipe_nb.core import CLASSES, load_labels, labels2matrix, real_data_dir
from qvpipe_nb.splits import group_counts, stratify


def synth_labels(n_groups=3000, seed=0):
    "QV-like grouped labels: mostly single videos, some 2-4 segment groups, one 17-segment all-TL group."
    rng = np.random.default_rng(seed)
    p = np.array([1502, 1128, 770, 646, 270, 492, 521, 374, 243, 340, 223, 164, 100, 98, 228, 133], float); p /= p.sum()
    labels = {}
    for g in range(n_groups):
        base = [0] if rng.random() < 0.26 else sorted({int(i) for i in 1 + rng.choice(16, rng.integers(1, 3), p=p)})
        n = 1 if rng.random() < 0.95 else int(rng.integers(2, 5))
        for s in range(n): labels[f'v{g}.mp4' if n == 1 else f'v{g}_{s+1}.mp4'] = base
    labels.update({f'big_{s+1}.mp4': [16] for s in range(17)})
    return labels


def package_folds(Y, k, seed):
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
    f = np.zeros(len(Y), int)
    for i, (_, te) in enumerate(MultilabelStratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(Y)), Y)): f[te] = i
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=10)
    ap.add_argument('--folds', type=int, default=5)
    a = ap.parse_args()
    rd = real_data_dir()
    labels = load_labels(rd/'track1-qv_pipe_train.json') if rd else synth_labels()
    print(f"labels: {'real train file ' + str(rd) if rd else 'synthetic (real file not on this machine)'}")
    G, Yg, sizes, vg = group_counts(labels)
    X = labels2matrix(labels).astype(int)
    print(f'{len(labels)} videos, {len(G)} source videos, {int((sizes > 1).sum())} with several segments; '
          f'largest groups: {sorted(sizes.tolist())[-4:][::-1]}')
    k, seeds = a.folds, [42] + [s for s in range(a.seeds) if s != 42][:a.seeds - 1]
    methods = dict(package=lambda s: package_folds((Yg > 0).astype(int), k, s),
                   greedy=lambda s: stratify(Yg, k, s, sizes, polish=False),
                   ours=lambda s: stratify(Yg, k, s, sizes))
    print(f"\n{'method':8} {'fails':>6} {'worst':>6}  {'TL @42':24} {'FS @42':24} {'sizes min-max @42':18} {'s/split':>7}")
    for name, fn in methods.items():
        fails, worst, dt = 0, 0.0, 0.0
        for s in seeds:
            t0 = time.perf_counter(); gf = fn(s); dt += time.perf_counter() - t0
            fv = gf[vg]
            T = np.stack([X[fv == f].sum(0) for f in range(k)], 1)
            m = T.mean(1, keepdims=True)
            dev = float((np.abs(T - m) / np.maximum(0.15*m, 3)).max())
            fails += dev > 1; worst = max(worst, dev)
            if s == 42:
                tl, fs, sz = T[CLASSES.index('TL')].tolist(), T[CLASSES.index('FS')].tolist(), np.bincount(fv, minlength=k)
        print(f"{name:8} {fails:>3}/{len(seeds):<2} {worst:6.2f}  {str(tl):24} {str(fs):24} {f'{sz.min()}-{sz.max()}':18} {dt/len(seeds):7.2f}")
    print('\nfails: seeds breaking the rule; worst: largest |count - mean| / max(15% mean, 3) over classes, folds, seeds')


if __name__ == '__main__':
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        main()
