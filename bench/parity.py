"""Triage against the evaluated path: the same held-out videos scored by `qvpipe_infer` (decoded in memory) and by
`qvpipe_predict` (frames and super-images through disk, the path the test mAP is measured on).

Prints both test mAPs, the largest and 99th-percentile per-video score difference, and how many videos got
bit-identical model inputs on both paths (target: all of them, scores equal to float tolerance). By default it
uses the run and held-out set of `make demo` (exp/runs/demo, data/demo/test); where they are missing it builds a
small synthetic demo (`pipeline.run_demo`: `--n-train` videos, fold 0 only, `--epochs` epochs) in a temporary folder.

    python bench/parity.py [--run exp/runs/demo] [--test data/demo/test] [--workers 1] [--device cpu]
"""
import argparse, os, shutil, sys, tempfile, time
from pathlib import Path
import numpy as np

def small_demo(d:Path, n_train:int, n_test:int, epochs:int, workers:int)->tuple[Path, Path]:
    "A quickly trained tiny demo run and its held-out set, under `d`."
    from qvpipe_nb.pipeline import run_demo
    cwd = os.getcwd(); os.chdir(d)                      # the demo's relative paths (runs, reports, tracking) stay in `d`
    try: run_demo('demo', report='report', n_train=n_train, n_test=n_test, epochs=epochs, folds=[0], workers=workers)
    finally: os.chdir(cwd)
    return d/'exp'/'runs'/'demo', d/'demo'/'test'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--run', default='exp/runs/demo'); ap.add_argument('--test', default='data/demo/test')
    ap.add_argument('--workers', type=int, default=1); ap.add_argument('--device', default='cpu')
    ap.add_argument('--n-train', type=int, default=100); ap.add_argument('--n-test', type=int, default=40)
    ap.add_argument('--epochs', type=int, default=6)
    a = ap.parse_args()
    from qvpipe_nb.core import CLASSES, load_labels, ext_key
    from qvpipe_nb.metrics import mean_ap, read_preds
    from qvpipe_nb.inference import predict
    from qvpipe_nb.infer import infer, Predictor, prepare_video
    from qvpipe_nb.engine import image_input
    from qvpipe_nb.superimage import list_frames
    from qvpipe_nb.run import Run
    d = Path(tempfile.mkdtemp(prefix='qv_bench_parity_'))
    try:
        run, test = Path(a.run), Path(a.test)
        if not (run.exists() and (test/'labels.json').exists()):
            t0 = time.time()
            print(f'no {run} with {test}/labels.json: a small demo ({a.n_train} training videos, fold 0, {a.epochs} epochs)', flush=True)
            run, test = small_demo(d, a.n_train, a.n_test, a.epochs, a.workers)
            print(f'small demo ready in {time.time() - t0:.0f}s', flush=True)
        labels = load_labels(test/'labels.json')
        t0 = time.time()
        csv = predict(test/'videos', d/'pred', [run], workers=a.workers, device=a.device, progress=False)[run.name]
        t_pred = time.time() - t0
        ev = read_preds(csv).groupby('video')[list(CLASSES)].mean()                 # the folds' mean, as qvpipe_ensemble takes it
        t0 = time.time()
        tri = infer(test/'videos', d/'infer', [run], workers=a.workers, device=a.device, evidence=False, progress=False)
        t_inf = time.time() - t0
        tri = tri[tri.status != 'failed'].set_index('video')[list(CLASSES)]
        vs = sorted(set(ev.index) & set(tri.index) & set(labels))
        y = np.zeros((len(vs), len(CLASSES)))
        for i, v in enumerate(vs): y[i, labels[v]] = 1
        pe, pt = ev.loc[vs].values, tri.loc[vs].values
        diff = np.abs(pe - pt).max(1)
        meta = Run(run).meta
        pr = Predictor([run], device='cpu')
        sp = pr.specs[0]
        same = 0
        vids = {ext_key(p.name): p for p in (test/'videos').iterdir()}
        for v in vs:
            it = prepare_video(vids[v], meta.k, pr.specs)
            st = Path(v).stem
            disk = (image_input(sp.size, d/'pred'/'superimages'/f'{st}.jpg').numpy() if meta.kind == 'superimage' else
                    np.stack([image_input(sp.size, f).numpy() for f in list_frames(d/'pred'/'frames'/st)]))
            same += bool(np.array_equal(it['inputs'][sp], disk))
        print(f'{len(vs)} held-out videos, run {run.name} ({meta.kind}, {len(Run(run).folds)} fold(s)), device {a.device}')
        print(f'evaluated path (qvpipe_predict, through disk) test mAP {mean_ap(pe, y)[0]*100:.2f}  ({t_pred:.1f}s)')
        print(f'triage (qvpipe_infer, in memory)         test mAP {mean_ap(pt, y)[0]*100:.2f}  ({t_inf:.1f}s)')
        print(f'per-video score difference: max {diff.max():.2e}, 99th percentile {np.percentile(diff, 99):.2e} '
              f'(both CSVs hold 6 decimals); model inputs bit-identical for {same}/{len(vs)} videos')
    finally: shutil.rmtree(d, ignore_errors=True)

if __name__ == '__main__': sys.exit(main())
