"""Evidence frames against ground truth: for each true-positive label of the synthetic test set, is the frame that
`qvpipe_infer` names first one where the defect is really visible? The generator knows (`synth_render.visibility`).

Two ways to find the frame of a super-image model are compared on the same videos and labels:
- occlusion (what `infer` uses): the drop of the class probability when one cell is blanked;
- Grad-CAM (`saliency.gradcam`) summed over each cell (`saliency.cam_cells`).
Per class: true positives, hit rate of the first named frame, and chance (the share of the 9 sampled frames in
which the defect is visible: what a random pick of one of them would score). Needs a trained run and its test
set: by default those of `make demo` (exp/runs/demo, data/demo/test).

    python bench/evidence.py [--run exp/runs/demo] [--data data/demo/test] [--limit 200]
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--run', default='exp/runs/demo'); ap.add_argument('--data', default='data/demo/test')
    ap.add_argument('--limit', type=int, default=200, help='videos at most')
    a = ap.parse_args()
    run, data = Path(a.run), Path(a.data)
    if not (run.exists() and (data/'labels.json').exists()):
        print(f'needs a trained run ({run}) and its synthetic test set ({data}): run `make demo` first'); return 0
    import torch
    from qvpipe_nb.core import CLASSES, CLASS2ID, load_labels
    from qvpipe_nb.synth_render import visibility
    from qvpipe_nb.synth_labels import video_seed
    from qvpipe_nb.superimage import cell_frames
    from qvpipe_nb.saliency import gradcam, occlusion, cam_cells
    from qvpipe_nb.infer import Predictor, prepare_video
    torch.set_num_threads(2)
    cfg = json.loads((data/'synth.json').read_text())
    labels = load_labels(data/'labels.json')
    names = sorted(labels)[:a.limit]
    pred = Predictor([run], device='cpu', evidence=False)   # scores only: the bench computes each kind of evidence itself
    r = pred.runs[0]; spec = r['spec']; ens = r['ens']; grid = ens.meta.grid; cells = grid[0]*grid[1]
    model = ens.models[0]
    hits = {m: {c: [] for c in CLASSES[1:]} for m in ('occlusion', 'gradcam')}
    chance, t = {c: [] for c in CLASSES[1:]}, {'occlusion': 0., 'gradcam': 0.}
    for name in names:
        it = prepare_video(data/'videos'/name, 9, [spec])
        if not it['inputs']: continue
        P, _ = pred.score([it])
        xu = torch.from_numpy(it['inputs'][spec][None].copy()); x = ens.normalize(xu)
        cf = cell_frames(len(it['indices']), cells)
        vseed = video_seed(cfg['seed'], name)
        for c in labels[name]:
            if c == 0 or P[0, c] < .5: continue           # true positives only (score of at least 0.5)
            vis = visibility(c, vseed, tuple(cfg['size']), cfg['n_frames'], scale=cfg.get('scale', 1.))
            seen = [bool(vis[i]) for i in it['indices']]
            chance[CLASSES[c]].append(np.mean(seen))
            t0 = time.time()
            with torch.inference_mode(): e = occlusion(ens, xu)[0, :, c].numpy()
            t['occlusion'] += time.time() - t0
            hits['occlusion'][CLASSES[c]].append(seen[cf[int(np.argmax(e))]])
            t0 = time.time()
            s = cam_cells(gradcam(model, x, c), grid)
            t['gradcam'] += time.time() - t0
            hits['gradcam'][CLASSES[c]].append(seen[cf[int(np.argmax(s))]])
    print(f'{len(names)} test videos of {data}, run {run.name}; first named frame visible (true positives, score >= 0.5):')
    print(f'{"class":6}{"TP":>5}{"occlusion":>11}{"Grad-CAM":>10}{"chance":>8}')
    tot = {m: [] for m in hits}; ch = []
    for c in CLASSES[1:]:
        n = len(chance[c])
        if not n: continue
        print(f'{c:6}{n:5d}{np.mean(hits["occlusion"][c]):11.2f}{np.mean(hits["gradcam"][c]):10.2f}{np.mean(chance[c]):8.2f}')
        for m in hits: tot[m] += hits[m][c]
        ch += chance[c]
    n = len(ch)
    print(f'{"all":6}{n:5d}{np.mean(tot["occlusion"]):11.2f}{np.mean(tot["gradcam"]):10.2f}{np.mean(ch):8.2f}')
    print(f'hit rate against chance: occlusion {np.mean(tot["occlusion"])/np.mean(ch):.2f}x, Grad-CAM {np.mean(tot["gradcam"])/np.mean(ch):.2f}x; '
          f'target: first frame visible in at least 80% of cases')
    print(f'time per label: occlusion {t["occlusion"]/max(n, 1)*1000:.0f} ms, Grad-CAM {t["gradcam"]/max(n, 1)*1000:.0f} ms')
    return 0

if __name__ == '__main__': sys.exit(main())
