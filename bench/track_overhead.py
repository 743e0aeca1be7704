"""Benchmark MLflow tracking: training time of a fold with `track: mlflow` against the same fold untracked.

The demo recipe (model, input size, batch size, EMA, channels-last) trains fold 0 of a toy set of 3x3 super-images
shaped like the demo's (`--n` 500 images at 192x144 in five folds: 400 train, 100 valid) for `--epochs` epochs with
`train_fold`, alternating untracked and
tracked rounds (`--rounds` each, after one warm-up round of each) so that a load change on the machine hits both
alike. Tracked rounds log into a SQLite store in a temporary folder, as the default `exp/mlruns` store: a parent
run, a nested fold run with its params, every epoch's metrics, and at the end the OOF mAP, per-class AP and fold
files. Timed: `train_fold` from call to return (data, model, fit, OOF predictions, files; tracking included).

Also timed: `import mlflow` and creating a new SQLite store (its tables), which a training process pays once, on the
tracker's own thread; and a fold in a fresh interpreter with a new store against the same untracked (`--rounds`
each), which is what the first fold of `qvpipe_train` pays. Prints the medians, the per-fold ratio (target <= 1.03)
and the overhead on the demo's training (5 folds of `--demo-epochs` epochs of 400 videos: the first fold's cost
plus four per-fold costs).

    python bench/track_overhead.py [--epochs 4] [--n 500] [--rounds 3] [--demo-epochs 25] [--threads 0] [--strict]
"""
import argparse, contextlib, io, os, statistics, subprocess, sys, tempfile, time, warnings
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings('ignore')


def toy_set(d:Path, n:int):
    "n super-images of 192x144 (3x3 tiles of 64x48) in five folds; classes told apart by coloured squares."
    import numpy as np, pandas as pd
    from PIL import Image
    from qvpipe_nb.core import CLASSES
    (d/'si').mkdir(parents=True)
    rng, rows = np.random.default_rng(0), []
    for i in range(n):
        ids = [[0], [1], [2], [1, 2]][i % 4]
        a = (rng.random((144, 192, 3)) * 60 + 80).astype(np.uint8)
        if 1 in ids: a[10:50, 10:60] = (220, 40, 40)
        if 2 in ids: a[90:130, 120:180] = (40, 40, 220)
        Image.fromarray(a).save(d/'si'/f'v{i}.jpg')
        rows.append(dict(video=f'v{i}.mp4', group=f'v{i}', fold=i % 5, **{c: int(j in ids) for j, c in enumerate(CLASSES)}))
    pd.DataFrame(rows).to_csv(d/'folds.csv', index=False)


def one_time_costs(d:Path):
    "Seconds of `import mlflow` (a fresh interpreter) and of creating a new SQLite store."
    (d/'fresh').mkdir(exist_ok=True)
    code = ('import time; t = time.time(); import mlflow; t1 = time.time(); '
            f'mlflow.MlflowClient("sqlite:///{d}/fresh/mlflow.db").search_experiments(max_results=1); print(t1 - t, time.time() - t1)')
    out = subprocess.run([sys.executable, '-W', 'ignore', '-c', code], capture_output=True, text=True, cwd=ROOT).stdout.split()
    return float(out[0]), float(out[1])


def cold_fold(d:Path, tag:str, epochs:int, tracked:bool)->float:
    "Seconds of a fresh interpreter training fold 0 (imports included), tracked into a new store or not."
    trk = "'mlflow'" if tracked else 'None'
    code = ('import time; t = time.time(); import contextlib, io, warnings; warnings.filterwarnings("ignore")\n'
            'from qvpipe_nb.train import load_config, train_fold\n'
            f'cfg = load_config("{ROOT}/exp/configs/demo.yaml", folds_csv="{d}/folds.csv", images="{d}/si", runs="{d}/{tag}/runs", '
            f'epochs={epochs}, track={trk})\n'
            'with contextlib.redirect_stdout(io.StringIO()): train_fold(cfg, 0)\n'
            'print(time.time() - t)')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    if r.returncode: raise RuntimeError(r.stderr[-2000:])
    return float(r.stdout.split()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=4)
    ap.add_argument('--n', type=int, default=500, help='toy super-images in five folds (the demo has 500)')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--demo-epochs', type=int, default=25, help='epochs per fold of the demo, for the demo estimate')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default, as the demo runs)')
    ap.add_argument('--strict', action='store_true', help='exit 1 when the per-fold ratio is above 1.03')
    a = ap.parse_args()
    import torch
    if a.threads: torch.set_num_threads(a.threads)
    from qvpipe_nb.train import load_config, train_fold, fold_items
    d = Path(tempfile.mkdtemp(prefix='qv-track-bench-'))
    toy_set(d, a.n)
    imp, store = one_time_costs(d)
    base = load_config(ROOT/'exp'/'configs'/'demo.yaml', folds_csv=str(d/'folds.csv'), images=str(d/'si'), runs=str(d/'runs'),
                       epochs=a.epochs, track=None)
    items = fold_items(base)
    # warm the tracked path once (imports, the store's tables): a training process pays this once, timed above
    from mlflow import MlflowClient
    from qvpipe_nb.callback.track import default_tracking_uri
    uri = default_tracking_uri(base.runs)
    if uri.startswith('sqlite:///'): Path(uri[len('sqlite:///'):]).parent.mkdir(parents=True, exist_ok=True)
    MlflowClient(uri).search_experiments(max_results=1)   # creates the store's tables
    times = {'off': [], 'on': []}
    for r in range(a.rounds + 1):
        for k in ('off', 'on'):
            cfg = replace(base, name=f'{k}{r}', track='mlflow' if k == 'on' else None)
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()): train_fold(cfg, 0, items=items)
            t = time.perf_counter() - t0
            if r: times[k].append(t)
            print(f'round {r}{" (warm-up)" if not r else ""} {k:3}: {t:6.2f} s', flush=True)
    cold = {'off': [], 'on': []}
    for r in range(a.rounds):   # a training process from its start: mlflow's import and a new store included
        for k in ('off', 'on'):
            cold[k].append(cold_fold(d, f'cold_{k}{r}', a.epochs, k == 'on'))
            print(f'cold process {r} {k:3}: {cold[k][-1]:6.2f} s', flush=True)
    off, on = statistics.median(times['off']), statistics.median(times['on'])
    c_off, c_on = statistics.median(cold['off']), statistics.median(cold['on'])
    ratio = on / off
    per_fold = on - off
    n_train = len(items[items.fold != 0])
    epoch_s = off / a.epochs * 400 / n_train   # an epoch of the demo's 400 training videos (setup and OOF counted in)
    demo_train = 5 * a.demo_epochs * epoch_s
    first = max(c_on - c_off, per_fold)       # the first fold of a process: import, new store, run setup
    demo_ratio = (demo_train + first + 4 * per_fold) / demo_train
    print(f'\nfold of {a.epochs} epochs ({len(items[items.fold != 0])} train, {len(items[items.fold == 0])} valid images, {base.arch} at {base.size}):')
    print(f'  untracked {off:.2f} s, tracked {on:.2f} s (medians of {a.rounds}): ratio {ratio:.3f}, {per_fold*1000:+.0f} ms per fold (target <= 1.03)')
    print(f'once per training process, on the tracker thread: import mlflow {imp:.2f} s; a new SQLite store {store:.2f} s')
    print(f'first fold of a fresh process (imports, new store): untracked {c_off:.2f} s, tracked {c_on:.2f} s (medians of {a.rounds}): '
          f'ratio {c_on / c_off:.3f}, {(c_on - c_off)*1000:+.0f} ms')
    print(f'demo estimate (5 folds x {a.demo_epochs} epochs of 400 videos at {epoch_s:.2f} s an epoch = {demo_train:.0f} s of training; '
          f'the first fold +{first:.2f} s, the others +{per_fold:.2f} s): tracking adds {(demo_ratio - 1)*100:.2f}% (ratio {demo_ratio:.3f}; target <= 1.03)')
    return 1 if a.strict and ratio > 1.03 else 0


if __name__ == '__main__': sys.exit(main())
