"""The 2022 winner's tricks, measured on our synthetic set with the demo's model: one table, ours beside theirs.

For each seed: a synthetic train set (5 folds; fold 0 validates) and a held-out test set, every video's frames
extracted (48), and super-images built from them three ways: 9 frames sampled uniformly in a 3x3 grid (the base),
9 consecutive frames from a random start ("sequence sampling"), and 16 uniform frames in a 4x4 grid (same tiles,
a larger image). The demo recipe (`test_byobnet` from scratch, 64x48 tiles) trains

    base        EMA on, tile shuffle on, horizontal flips, uniform 3x3   (the winner's setting)
    no_ema      EMA off
    no_shuffle  tile shuffle off
    sequence    sequence-sampled super-images
    grid4x4     4x4 super-images

and the base model predicts the test set with each test-time augmentation: none, horizontal flip (h), horizontal +
vertical flips (h+v: identity, h, v, hv averaged), and grid shuffle (4 tile-shuffled draws). Each delta is the
test mAP of "with the trick" minus "without", in points (mAP x 100), mean +- sd over the seeds, next to the
winner's own figure (report Tables IV and V). A delta counts only when |mean| exceeds twice its sd.

These are synthetic videos and a 0.2M-parameter network: a delta says whether our code does what the trick should,
not what it is worth on QV-Pipe. With the defaults (3 seeds, 400 training and 200 test videos, 25 epochs) it takes
about an hour on 2 free CPU cores (15 trainings of ~3 minutes and the data); not run in CI.

    python bench/ablations.py [--seeds 0 1 2] [--epochs 25] [--n_train 400] [--n_test 200] [--root bench/out/ablations]
    python bench/ablations.py --seeds 0 --epochs 1 --n_train 30 --n_test 15     # a smoke test, about 2 minutes
"""
import argparse, json, time
from pathlib import Path
import numpy as np

# (row, winner's delta in points or None, how ours is computed: (model or TTA with the trick, model or TTA without))
ROWS = [('EMA of the weights', +5.0, ('base', 'no_ema')),
        ('tile shuffle (training)', +1.0, ('base', 'no_shuffle')),
        ('uniform vs sequence sampling', +2.2, ('base', 'sequence')),
        ('4x4 grid vs 3x3', -1.0, ('grid4x4', 'base')),
        ('TTA: horizontal flip vs none', None, ('tta_h', 'tta_none')),
        ('TTA: horizontal + vertical flips vs none', -3.0, ('tta_hv', 'tta_none')),
        ('TTA: grid shuffle vs none', -0.5, ('tta_shuffle', 'tta_none'))]

VARIANTS = dict(base=dict(images='uniform3', ema=True, tile_shuffle=True, grid='3x3'),
                no_ema=dict(images='uniform3', ema=False, tile_shuffle=True, grid='3x3'),
                no_shuffle=dict(images='uniform3', ema=True, tile_shuffle=False, grid='3x3'),
                sequence=dict(images='sequence3', ema=True, tile_shuffle=True, grid='3x3'),
                grid4x4=dict(images='uniform4', ema=True, tile_shuffle=True, grid='4x4'))


def build_sets(frames: Path, out: Path, videos: list, tile: tuple, seed: int):
    "The three super-image folders of `videos` from their extracted frames: uniform3, sequence3, uniform4."
    from qvpipe_nb.frames import video_frames
    from qvpipe_nb.superimage import make_grid
    rng = np.random.default_rng(seed)
    for d in ('uniform3', 'sequence3', 'uniform4'): (out/d).mkdir(parents=True, exist_ok=True)
    for v in videos:
        fs, stem = video_frames(frames, v), Path(v).stem
        s = int(rng.integers(0, max(1, len(fs) - 9 + 1)))
        make_grid(fs, (3, 3), tile).save(out/'uniform3'/f'{stem}.jpg', quality=95)      # 9 evenly spaced frames
        make_grid(fs[s:s + 9], (3, 3), tile).save(out/'sequence3'/f'{stem}.jpg', quality=95)
        make_grid(fs, (4, 4), tile).save(out/'uniform4'/f'{stem}.jpg', quality=95)


def flips_hv(model, meta, paths):
    "Probabilities averaged over the identity, horizontal, vertical and both flips (the prediction engine's input and normalisation)."
    import torch
    from qvpipe_nb.engine import FoldEnsemble, image_input
    ens = FoldEnsemble([model], meta, tta_flip=False, device='cpu')
    x = ens.normalize(torch.stack([image_input(meta.size, p) for p in paths]))
    with torch.inference_mode():
        views = [x, x.flip(-1), x.flip(-2), x.flip(-1).flip(-2)]
        return torch.stack([ens.score(v) for v in views]).mean(0).numpy()


def run_seed(seed: int, a, W: int, H: int, t0: float) -> dict:
    "Test mAPs (points) of every model and TTA of one seed."
    from qvpipe_nb.core import load_labels, labels2matrix
    from qvpipe_nb.synth import make_synth
    from qvpipe_nb.frames import extract_all
    from qvpipe_nb.splits import make_folds, save_folds
    from qvpipe_nb.train import load_config, train_fold
    from qvpipe_nb.inference import load_checkpoint, predict_items
    from qvpipe_nb.metrics import mean_ap
    root = Path(a.root)/f'seed{seed}'
    for part, n, s in (('train', a.n_train, 100 + seed), ('test', a.n_test, 200 + seed)):
        if not (root/part/'labels.json').exists(): make_synth(root/part, n=n, seed=s, size=(W, H), n_frames=48, progress=False)
        extract_all(root/part/'videos', root/f'frames_{part}', k=48, progress=False, quiet=True)
        build_sets(root/f'frames_{part}', root/f'si_{part}', list(load_labels(root/part/'labels.json')), (W, H), seed)
    save_folds(make_folds(load_labels(root/'train'/'labels.json'), 5, seed=42), root/'folds.csv')
    test = load_labels(root/'test'/'labels.json'); y = labels2matrix(test, list(test))
    res = {}
    for name, v in VARIANTS.items():
        r, c = (int(x) for x in v['grid'].split('x'))
        cfg = load_config('demo', name=f'{name}_s{seed}', folds_csv=str(root/'folds.csv'), images=str(root/'si_train'/v['images']),
                          runs=str(root/'runs'), epochs=a.epochs, seed=seed, track=None, ema=v['ema'], tile_shuffle=v['tile_shuffle'],
                          grid=v['grid'], size=[H*r, W*c])
        run = train_fold(cfg, 0, force=True)
        model, meta = load_checkpoint(run/'best.pth')
        paths = [str(root/'si_test'/v['images']/f'{Path(n).stem}.jpg') for n in test]
        tta = dict(tta_none=dict(tta_flip=False), tta_h=dict(tta_flip=True), tta_shuffle=dict(tta_flip=False, shuffle_draws=4))
        for t, kw in (tta.items() if name == 'base' else [('tta_none', tta['tta_none'])]):
            p = predict_items(model, meta, paths, device='cpu', progress=False, seed=seed, **kw)
            res[t if name == 'base' else name] = 100 * mean_ap(p, y)[0]
        if name == 'base':
            res['tta_hv'] = 100 * mean_ap(flips_hv(model, meta, paths), y)[0]
            res['base'] = res['tta_none']
        print(f'seed {seed} {name:10s} test mAP {res["base" if name == "base" else name]:.2f}  ({time.time() - t0:.0f} s so far)', flush=True)
    return res


def table(per_seed: list) -> str:
    "The side-by-side table: the winner's delta, ours as mean +- sd over the seeds, and whether it exceeds 2 sd."
    lines = [f'{"trick":44s} {"winner":>7s} {"ours (mean +- sd, points)":>27s} {"n":>2s}  > 2 sd',
             '-' * 92]
    for row, theirs, (w, wo) in ROWS:
        d = np.array([r[w] - r[wo] for r in per_seed])
        sd = d.std(ddof=1) if len(d) > 1 else float('nan')
        sig = 'yes' if len(d) > 1 and abs(d.mean()) > 2 * sd else 'no'
        lines.append(f'{row:44s} {"n/a" if theirs is None else f"{theirs:+.1f}":>7s} {f"{d.mean():+.2f} +- {sd:.2f}":>27s} {len(d):>2d}  {sig}')
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--epochs', type=int, default=25)
    ap.add_argument('--n_train', type=int, default=400)
    ap.add_argument('--n_test', type=int, default=200)
    ap.add_argument('--size', default='64x48', help="a frame's tile, WxH (the demo's)")
    ap.add_argument('--root', default='bench/out/ablations')
    a = ap.parse_args()
    W, H = map(int, a.size.split('x'))
    t0 = time.time()
    per_seed = [run_seed(s, a, W, H, t0) for s in a.seeds]
    out = table(per_seed)
    print('\n' + out + f'\n\nsynthetic data, the demo model ({a.epochs} epochs, {a.n_train} training videos); {time.time() - t0:.0f} s')
    Path(a.root).mkdir(parents=True, exist_ok=True)
    (Path(a.root)/'result.json').write_text(json.dumps(dict(per_seed=per_seed, table=out, args=vars(a), seconds=round(time.time() - t0)), indent=1))


if __name__ == '__main__': main()
