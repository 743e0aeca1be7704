"""The GPU check: run it whenever a GPU machine is at hand (`make gpu-check`), and put its figures in the recipes' comments.

On a GPU (one, in at most about 8 minutes) it runs:
  cells     every `#|cuda` cell (`tools/nbtest.py --flags cuda` on the notebooks that have one)
  recipes   2 optimizer steps of each shipped recipe at its real input size and batch size (its precision,
            channels-last, EMA, accumulation, checkpointing), on a synthetic set rendered at 720p; img/s of the second step,
            peak GPU memory (torch.cuda.max_memory_allocated) beside the memory plan of qvpipe_nb.plan ("not measured" on --cpu)
  predict   `qvpipe_predict` (`inference.predict`) on cuda, from the videos, with the first recipe's weights
  accelerate a 2-process `accelerate launch` fold of the demo recipe, when 2 GPUs are present

It writes one JSON of the figures (`--out`, default gpu_check.json) and prints them. Weights are random
(`pretrained: false`): the machine needs no internet, and speed and memory do not depend on the weights.

With `--cpu` it runs the same code on the CPU at tiny sizes (videos 64x48, inputs 48 px, batch 2, float32, every
recipe's head, loss and EMA on timm's tiny `test_byobnet`): the tests run that path so the script stays runnable
where there is no GPU.

    python tools/gpu_check.py [--cpu] [--out gpu_check.json] [--recipes NAME ...] [--no-cells] [--videos 24]
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings
from dataclasses import replace, asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cuda_cells(cpu: bool) -> dict:
    "Run the notebooks that hold `#|cuda` cells with the cuda flag; {notebook: 'pass'/'fail', ...} (skipped on --cpu)."
    nbs = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if '"#|cuda' in p.read_text())
    if cpu: return dict(skipped='--cpu', notebooks=[p.name for p in nbs])
    res = {}
    for p in nbs:
        t0 = time.time()
        r = subprocess.run([sys.executable, str(ROOT/'tools'/'nbtest.py'), '--path', str(p), '--flags', 'cuda', '--n_workers', '1'],
                           capture_output=True, text=True)
        res[p.name] = dict(ok=r.returncode == 0, seconds=round(time.time() - t0, 1), tail=(r.stdout + r.stderr)[-600:] if r.returncode else '')
    return res


def synth_set(root: Path, n: int, size: tuple, n_frames: int) -> dict:
    "A synthetic set: `n` H.264 videos of `size` (width, height), 9 frames extracted, 2 folds; returns its paths."
    from qvpipe_nb.synth import make_synth
    from qvpipe_nb.frames import extract_all
    from qvpipe_nb.splits import make_folds, save_folds
    labels = make_synth(root/'synth', n=n, size=size, n_frames=n_frames, progress=False)
    extract_all(root/'synth'/'videos', root/'frames', k=9, progress=False, quiet=True)
    save_folds(make_folds(labels, 2, seed=0), root/'folds.csv')
    return dict(videos=root/'synth'/'videos', frames=root/'frames', folds=root/'folds.csv')


class _Steps:
    "A fastai callback that times each optimizer step (synchronised on CUDA) and stops the fit after `n`."
    def __new__(cls, n):
        import torch
        from fastai.callback.core import Callback, CancelFitException
        class Steps(Callback):
            order = 99
            def before_fit(self): self.times, self.t0 = [], None
            def before_batch(self):
                if self.training and self.t0 is None:   # a step starts with its first micro-batch (gradient accumulation)
                    if torch.cuda.is_available(): torch.cuda.synchronize()
                    self.t0 = time.perf_counter()
            def after_step(self):
                if torch.cuda.is_available(): torch.cuda.synchronize()
                self.times.append(time.perf_counter() - self.t0); self.t0 = None
                if len(self.times) >= n: raise CancelFitException()
        return Steps()


def recipe_check(name: str, data: dict, root: Path, cpu: bool, steps: int = 2) -> dict:
    "Train `steps` optimizer steps of recipe `name` on the synthetic set; img/s of the last step, peak GPU memory against the plan, its run folder."
    import torch, pandas as pd
    from qvpipe_nb.train import load_config, fold_items, make_dls, make_learner, run_inputs, memory_plan
    from qvpipe_nb.superimage import build_superimages, parse_grid
    from qvpipe_nb.models import save_checkpoint
    from qvpipe_nb.core import CLASSES
    cfg = load_config(name)
    over = dict(name=f'gpucheck_{name}', folds_csv=str(data['folds']), runs=str(root/'runs'), pretrained=False, pretrained_file=None,
                epochs=1, track=None, num_workers=min(cfg.num_workers, max(1, (os.cpu_count() or 2) - 1)))
    if cpu: over.update(arch='test_byobnet', size=48, bs=2, grad_accum=1, eff_bs=None, precision=None, num_workers=0)   # the same code, a tiny net
    cfg = replace(cfg, **over)
    if cfg.kind == 'superimage':
        (r, c), (h, w) = parse_grid(cfg.grid), ((cfg.size, cfg.size) if isinstance(cfg.size, int) else cfg.size)
        tile = (w // c, h // r)               # super-images at the recipe's input size: no resize in the loader
        si = root/f'si_{cfg.grid}_{tile[0]}x{tile[1]}'
        if not si.exists(): build_superimages(data['frames'], si, (r, c), tile, progress=False)
        cfg = replace(cfg, images=str(si))
    else: cfg = replace(cfg, images=str(data['frames']))
    items = fold_items(cfg)
    tr, va = items[items.fold != 0], items[items.fold == 0]
    reps = -(-(steps * cfg.bs * cfg.grad_accum + 1) // max(1, len(tr)))   # repeat the training items until `steps` full steps fit
    items = pd.concat([tr] * reps + [va], ignore_index=True)
    dls = make_dls(cfg, items, 0)
    learn = make_learner(cfg, dls, counts=tr[CLASSES].values.sum(0))
    cb = _Steps(steps)
    if torch.cuda.is_available(): torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        learn.fit(1, cfg.lr, cbs=[cb])
    gpu = torch.cuda.get_device_properties(0).total_memory / 2**30 if torch.cuda.is_available() else 80.
    p = memory_plan(replace(cfg, eff_bs=None), gpu_memory=gpu, src=name)
    plan = round(p['fixed_gib'] + cfg.bs * p['act_gib'], 4)     # the plan for the recipe's own batch
    peak = round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else None
    res = dict(kind=cfg.kind, arch=cfg.arch, size=cfg.size, bs=cfg.bs, grad_accum=cfg.grad_accum, grad_checkpointing=cfg.grad_checkpointing,
               precision=cfg.precision, channels_last=cfg.channels_last,
               ema=cfg.ema, steps=len(cb.times), step_seconds=[round(t, 4) for t in cb.times],
               img_per_s=round(cfg.bs * cfg.grad_accum / cb.times[-1], 1), seconds=round(time.time() - t0, 1),
               plan_gib=plan, peak_gpu_gib=peak if peak is not None else 'not measured',
               plan_over_measured=round(plan / peak, 3) if peak else 'not measured',
               plan_note='the plan is an estimate; a CPU float32 calibration does not validate a GPU bf16 plan' if peak is None else
                         'plan: fixed + bs x activations (qvpipe_nb.plan); measured: torch.cuda.max_memory_allocated')
    run = root/'runs'/cfg.name
    save_checkpoint(learn, run/'fold0'/'best.pth', size=cfg.size, kind=cfg.kind, grid=cfg.grid, fold=0, name=cfg.name, **run_inputs(cfg, items))
    res['run'] = str(run)
    del learn, dls
    if torch.cuda.is_available(): torch.cuda.empty_cache()
    return res


def predict_check(data: dict, run: str, root: Path, cpu: bool) -> dict:
    "`qvpipe_predict` from the videos with `run`, on cuda (cpu with --cpu), in its own process: seconds and videos/s."
    import pandas as pd
    t0 = time.time()
    r = subprocess.run([str(Path(sys.executable).parent/'qvpipe_predict'), str(data['videos']), str(root/'pred'), run,
                        '--device', 'cpu' if cpu else 'cuda', '--loaders', '0' if cpu else str(min(8, os.cpu_count() or 1))],
                       capture_output=True, text=True)
    s, csv = time.time() - t0, root/'pred'/f'{Path(run).name}.csv'
    n = pd.read_csv(csv).video.nunique() if csv.exists() else 0
    if r.returncode or not n: raise RuntimeError(f'qvpipe_predict: exit {r.returncode}, {n} videos predicted: {(r.stdout + r.stderr)[-400:]}')
    return dict(run=Path(run).name, videos=int(n), seconds=round(s, 1), videos_per_s=round(n / s, 2))


def accelerate_check(data: dict, root: Path, cpu: bool) -> dict:
    "A 2-process `accelerate launch` fold of the demo recipe (needs 2 GPUs; skipped otherwise)."
    import torch, yaml
    if cpu or torch.cuda.device_count() < 2: return dict(skipped=f'{torch.cuda.device_count()} GPU(s)')
    from qvpipe_nb.train import load_config
    cfg = replace(load_config('demo'), name='gpucheck_ddp', folds_csv=str(data['folds']), images=str(data['frames']), kind='frame',
                  runs=str(root/'runs'), epochs=1, track=None, pretrained=False, size=[144, 192])
    (root/'ddp.yaml').write_text(yaml.safe_dump(asdict(cfg), sort_keys=False))
    b = Path(sys.executable).parent
    t0 = time.time()
    r = subprocess.run([str(b/'accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
                        '--dynamo_backend', 'no', str(b/'qvpipe_train'), str(root/'ddp.yaml'), '--fold', '0'], capture_output=True, text=True)
    done = root/'runs'/'gpucheck_ddp'/'fold0'/'done.json'
    return dict(returncode=r.returncode, seconds=round(time.time() - t0, 1), done=json.loads(done.read_text()) if done.exists() else None,
                tail=(r.stdout + r.stderr)[-800:] if r.returncode else '')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cpu', action='store_true', help='run on the CPU at tiny sizes (the tests run this)')
    ap.add_argument('--out', default='gpu_check.json', help='the JSON of the figures')
    ap.add_argument('--recipes', nargs='*', default=None, help='recipes to check (default: every shipped recipe)')
    ap.add_argument('--no-cells', action='store_true', help='skip the #|cuda notebook cells')
    ap.add_argument('--videos', type=int, default=24, help='synthetic videos to render')
    a = ap.parse_args(argv)
    import torch
    from qvpipe_nb.recipebook import recipe_names
    if not a.cpu and not torch.cuda.is_available():
        sys.exit('error: no CUDA GPU here (see nvidia-smi and the driver the locked torch needs); use --cpu for the CPU path')
    root = Path(tempfile.mkdtemp(prefix='qv_gpucheck_'))
    t0 = time.time()
    out = dict(device=torch.cuda.get_device_name() if not a.cpu else 'cpu', torch=torch.__version__, cuda=torch.version.cuda,
               gpus=torch.cuda.device_count(), cpu_mode=a.cpu)
    out['cells'] = dict(skipped='--no-cells') if a.no_cells else cuda_cells(a.cpu)
    data = synth_set(root, a.videos if not a.cpu else min(a.videos, 8), (64, 48) if a.cpu else (1280, 720), 12 if a.cpu else 64)
    out['recipes'] = {}
    for n in (a.recipes if a.recipes is not None else recipe_names()):
        try: out['recipes'][n] = recipe_check(n, data, root, a.cpu)
        except Exception as e: out['recipes'][n] = dict(error=f'{type(e).__name__}: {str(e)[:300]}')
        print(f'{n}: {json.dumps(out["recipes"][n])}', flush=True)
    runs = [r['run'] for r in out['recipes'].values() if 'run' in r]
    try: out['predict'] = predict_check(data, runs[0], root, a.cpu) if runs else dict(skipped='no recipe trained')
    except Exception as e: out['predict'] = dict(error=f'{type(e).__name__}: {str(e)[:300]}')
    out['accelerate'] = accelerate_check(data, root, a.cpu)
    out['seconds'] = round(time.time() - t0, 1)
    Path(a.out).write_text(json.dumps(out, indent=1, default=str))
    print(json.dumps({k: v for k, v in out.items() if k != 'cells'}, indent=1, default=str))
    failed = [n for n, r in out['recipes'].items() if 'error' in r] + (['predict'] if 'error' in out['predict'] else []) + \
             [n for n, r in out['cells'].items() if isinstance(r, dict) and r.get('ok') is False] + \
             (['accelerate'] if out['accelerate'].get('returncode') not in (None, 0) else [])
    if failed: sys.exit(f'gpu check: failed: {", ".join(failed)} (see {a.out})')
    print(f'gpu check passed in {out["seconds"]} s; figures in {a.out}')


if __name__ == '__main__':
    main()
