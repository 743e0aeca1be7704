"""Streaming triage against its parts and against the old path, on 720p H.264 videos with a trained run.

Writes `--n` 1280x720 H.264 videos (`--frames` frames each; synthetic pipes rendered at 320x180 and upscaled,
which keeps rendering short while the files decode as 720p does), then measures, in one run:
  decode   the decoding workers alone (`stream_videos`: exact frames, super-image, thumbnail), no model
  model    the models alone (`Predictor.score`: every fold, flip TTA, occlusion evidence) on inputs already decoded
  stream   `infer` end to end (decoding in workers while the model scores, outputs written)
  old      today's two-step path: `predict` (extract JPEGs to disk, build super-images, predict every fold) then
           `ensemble` (fold mean, submission)
and prints stream / max(decode, model) (target at most 1.15) and old / stream. Then the run exported to ONNX
(`qvpipe_export`) against eager PyTorch on the same batches: time ratio and largest score difference. Needs a
trained run: by default that of `make demo` (exp/runs/demo).

    python bench/infer.py [--run exp/runs/demo] [--n 8] [--frames 100] [--workers 1]
"""
import argparse, shutil, sys, tempfile, time
from pathlib import Path
import numpy as np

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--run', default='exp/runs/demo'); ap.add_argument('--n', type=int, default=8)
    ap.add_argument('--frames', type=int, default=100); ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--size', default='1280x720'); ap.add_argument('--bs', type=int, default=16)
    a = ap.parse_args()
    run = Path(a.run)
    if not run.exists(): print(f'needs a trained run ({run}): run `make demo` first'); return 0
    import torch
    from qvpipe_nb.core import list_videos
    import cv2
    from qvpipe_nb.synth import write_video
    from qvpipe_nb.synth_render import render_video
    from qvpipe_nb.synth_labels import synth_labels, video_seed
    from qvpipe_nb.infer import Predictor, stream_videos, infer
    from qvpipe_nb.inference import predict
    from qvpipe_nb.metrics import read_preds
    from qvpipe_nb.ensemble import ensemble, make_submission
    W, H = map(int, a.size.split('x'))
    d = Path(tempfile.mkdtemp(prefix='qv_bench_infer_'))
    try:
        t0 = time.time()
        for name, ids in synth_labels(a.n, seed=5).items():
            fr = render_video(ids, video_seed(5, name), (320, 180), a.frames)
            write_video(np.stack([cv2.resize(f, (W, H), interpolation=cv2.INTER_LINEAR) for f in fr]), d/'set'/'videos'/name)
        vids = list_videos(d/'set'/'videos')
        print(f'{len(vids)} videos {W}x{H}, {a.frames} frames, H.264, rendered in {time.time() - t0:.0f}s; run {run.name}; '
              f'{a.workers} decoding worker(s), torch threads {torch.get_num_threads()}')
        pred = Predictor([run], device='cpu', bs=a.bs)
        t0 = time.time(); items = list(stream_videos(vids, 9, pred.specs, workers=a.workers)); t_dec = time.time() - t0
        t0 = time.time()
        for i in range(0, len(items), a.bs): pred.score(items[i:i + a.bs])
        t_model = time.time() - t0
        t0 = time.time(); infer(d/'set'/'videos', d/'out', [run], workers=a.workers, bs=a.bs, progress=False); t_stream = time.time() - t0
        t0 = time.time()
        csvs = predict(d/'set'/'videos', d/'old', [run], k=9, workers=max(1, a.workers), progress=False)
        ens, _ = ensemble({run.name: read_preds(csvs[run.name])})
        make_submission(ens, d/'old'/'submission.json', [v.name for v in vids])
        t_old = time.time() - t0
        from qvpipe_nb.export import export_onnx, onnx_session, onnx_predict
        from qvpipe_nb.engine import FoldEnsemble
        sess, info = onnx_session(export_onnx(run, d/'onnx'))
        net = FoldEnsemble.from_run(run, device='cpu').eval()
        spec = pred.specs[0]
        xs = [np.ascontiguousarray(np.stack([it['inputs'][spec] for it in items[i:i + a.bs] if it['inputs']]))
              for i in range(0, len(items), a.bs)]
        with torch.inference_mode(): net(torch.from_numpy(xs[0])); onnx_predict(sess, xs[0])      # warm-up of both
        t0 = time.time()
        with torch.inference_mode(): pt = [net(torch.from_numpy(x)).numpy() for _ in range(3) for x in xs][-len(xs):]
        t_pt = time.time() - t0
        t0 = time.time(); ox = [onnx_predict(sess, x) for _ in range(3) for x in xs][-len(xs):]; t_ox = time.time() - t0
        diff = max(float(np.abs(p - o).max()) for p, o in zip(pt, ox))
        big = max(t_dec, t_model)
        print(f'decode alone   {t_dec:7.2f}s  ({len(vids)/t_dec:.2f} videos/s)')
        print(f'model alone    {t_model:7.2f}s  ({len(vids)/t_model:.2f} videos/s)')
        print(f'stream (infer) {t_stream:7.2f}s  ({len(vids)/t_stream:.2f} videos/s)')
        print(f'old path       {t_old:7.2f}s  (extract to disk, super-images, predict, ensemble)')
        print(f'stream / max(decode, model) = {t_stream/big:.2f} (target <= 1.15); old / stream = {t_old/t_stream:.2f}x')
        print(f'ONNX (onnxruntime, CPU) {t_ox:.2f}s against eager PyTorch {t_pt:.2f}s on the same batches (3 passes, after a warm-up): {t_pt/t_ox:.2f}x; '
              f'largest score difference {diff:.1e} (target 1e-4)')
    finally: shutil.rmtree(d, ignore_errors=True)
    return 0

if __name__ == '__main__': sys.exit(main())
