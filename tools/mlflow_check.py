"""Real-browser check of the MLflow UI on a store of qvpipe_nb training runs.

Trains a tiny tracked run (two folds of a toy super-image set, a few seconds on CPU) into a SQLite store in a
temporary folder, or uses an existing store (`--store exp/mlruns`, e.g. after `make demo`); starts `mlflow ui` on
127.0.0.1 (a free port) against it; opens it in headless Chromium (Debian's /usr/bin/chromium through Playwright);
finds the experiment, its config run and a fold run, checks that the fold's metrics (valid mAP per epoch, OOF mAP,
per-class AP) are shown, and saves screenshots under reports/mlflow/. Exit 0 on success, or with a `skipped:`
message when Chromium or Playwright is missing (exit 1 instead when QV_REQUIRE_BROWSER=1, as in CI); exit 1 on a
real failure. The server is always stopped.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
from browser_check import Failure, need_browser, browser_page, failed, free_port, stop  # shared with the other browser checks

def store_uri(store:str)->str:
    "A tracking URI from `--store`: a URI as it is, a folder as its `mlflow.db`, a `.db` file as SQLite."
    if '://' in store: return store
    p = Path(store).absolute()
    return f'sqlite:///{p/"mlflow.db" if p.is_dir() or not p.suffix else p}'

def toy_store(tmp:Path, experiment:str)->str:
    "Train two folds of a toy super-image set with `track: mlflow` into a store under `tmp`; its URI."
    import numpy as np, pandas as pd
    from PIL import Image
    from qvpipe_nb.core import CLASSES
    from qvpipe_nb.train import make_config, train
    imgs = tmp/'si'; imgs.mkdir()
    rng, rows = np.random.default_rng(0), []
    for i in range(40):
        ids = [[0], [1], [2], [1, 2]][i % 4]
        a = (rng.random((48, 48, 3)) * 60 + 80).astype(np.uint8)
        if 1 in ids: a[4:20, 4:20] = (220, 40, 40)
        if 2 in ids: a[28:44, 28:44] = (40, 40, 220)
        Image.fromarray(a).save(imgs/f'v{i}.jpg')
        rows.append(dict(video=f'v{i}.mp4', group=f'v{i}', fold=i % 2, **{c: int(j in ids) for j, c in enumerate(CLASSES)}))
    pd.DataFrame(rows).to_csv(tmp/'folds.csv', index=False)
    cfg = make_config(dict(name='demo', folds_csv=str(tmp/'folds.csv'), images=str(imgs), runs=str(tmp/'exp'/'runs'), arch='resnet10t',
                           pretrained=False, size=32, bs=8, epochs=3, lr=3e-3, ema_decay=0.9, track='mlflow', experiment=experiment))
    t0 = time.time()
    train(cfg)
    print(f'toy run trained and tracked in {time.time()-t0:.1f} s')
    return f'sqlite:///{(tmp/"exp"/"mlruns"/"mlflow.db").resolve()}'

def find_runs(uri:str, experiment:str):
    "The experiment id, its config run and a finished fold run (with its metrics) from the store."
    from mlflow import MlflowClient
    c = MlflowClient(uri)
    e = c.get_experiment_by_name(experiment)
    if e is None: raise Failure(f'no experiment "{experiment}" in {uri}: {[x.name for x in c.search_experiments()]}')
    folds = c.search_runs([e.experiment_id], "tags.`qvpipe.role` = 'fold' and attributes.status = 'FINISHED'", order_by=['attributes.start_time DESC'])
    if not folds: raise Failure(f'no finished fold run in experiment "{experiment}"')
    f = folds[0]
    return e.experiment_id, c.get_run(f.data.tags['mlflow.parentRunId']), f

def start_ui(uri:str, port:int, log):
    env = {**os.environ, 'MLFLOW_ENABLE_TELEMETRY': 'false', 'DO_NOT_TRACK': 'true'}
    cmd = [str(Path(sys.executable).parent/'mlflow'), 'ui', '--backend-store-uri', uri, '--host', '127.0.0.1', '--port', str(port), '--workers', '1']
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

def wait_ready(proc, port, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: raise Failure(f'mlflow ui exited with code {proc.returncode} before it was ready')
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=2) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.5)
    raise Failure(f'mlflow ui did not answer on port {port} within {timeout} s')

def dismiss(page):
    "Close the UI's first-visit tips and the assistant panel when they show, so that screenshots show the runs."
    page.wait_for_timeout(1000)
    for b in [page.get_by_role('button', name='Got it'), page.locator('[aria-label="Close"]')]:
        for i in range(min(b.count(), 3)):
            try: b.nth(i).click(timeout=1000)
            except Exception: pass
    page.wait_for_timeout(500)

def check(page, base:str, exp_id:str, parent, fold, shots:Path, timeout_ms:int):
    "The experiment lists the config run; the fold run shows its metrics; its charts render."
    page.goto(f'{base}/#/experiments/{exp_id}/runs', timeout=timeout_ms)
    name = parent.info.run_name
    page.get_by_text(name, exact=True).first.wait_for(timeout=timeout_ms)
    dismiss(page)
    page.screenshot(path=str(shots/'experiment.png'))
    print(f'experiment page lists the config run "{name}"')
    page.goto(f'{base}/#/experiments/{exp_id}/runs/{fold.info.run_id}', timeout=timeout_ms)
    page.get_by_text(fold.info.run_name, exact=True).first.wait_for(timeout=timeout_ms)
    for m in ('mAP', 'oof_map', 'AP_CJ', 'valid_loss'):
        page.get_by_text(m, exact=True).first.wait_for(timeout=timeout_ms)
    v = f"{fold.data.metrics['oof_map']:.4g}"[:5]
    body = page.inner_text('body')
    if v not in body: raise Failure(f'the fold page does not show its OOF mAP {fold.data.metrics["oof_map"]} ({v}...)')
    dismiss(page)
    page.screenshot(path=str(shots/'fold_run.png'), full_page=True)
    print(f'fold run "{fold.info.run_name}" shows mAP, oof_map ({v}...), AP_CJ, valid_loss')
    page.goto(f'{base}/#/experiments/{exp_id}/runs/{fold.info.run_id}/model-metrics', timeout=timeout_ms)
    page.wait_for_function("() => document.querySelectorAll('canvas, svg.main-svg, .js-plotly-plot').length > 0", timeout=timeout_ms)
    dismiss(page)
    search = page.get_by_placeholder('Search metric charts')
    if search.count(): search.first.fill('loss'); page.wait_for_timeout(1500)   # the loss curves, not the 17 per-class APs
    page.screenshot(path=str(shots/'fold_charts.png'))
    print('metric charts rendered')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--store', default=None, help='tracking URI or mlruns folder to show (default: train a toy run into a temporary store)')
    ap.add_argument('--experiment', default='qvpipe-demo', help='the experiment to look for')
    ap.add_argument('--chromium', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'), help='Chromium executable')
    ap.add_argument('--out', default=str(ROOT/'reports'/'mlflow'), help='folder for the screenshots')
    ap.add_argument('--timeout', type=int, default=90, help='seconds to wait for each step in the page')
    a = ap.parse_args()
    chromium = need_browser(a.chromium, 'mlflow-check')
    from qvpipe_nb.core import need_extra
    need_extra('mlflow', 'make mlflow-check')    # before training the toy run: the hint, not a run without tracking
    from playwright.sync_api import Error as PWError
    shots = Path(a.out); shots.mkdir(parents=True, exist_ok=True)
    (shots/'failure.png').unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='qv-mlflow-'))
    proc, log, t0 = None, open(tmp/'ui.log', 'w'), time.time()
    try:
        uri = store_uri(a.store) if a.store else toy_store(tmp, a.experiment)
        exp_id, parent, fold = find_runs(uri, a.experiment)
        port = free_port()
        proc = start_ui(uri, port, log)
        wait_ready(proc, port)
        print(f'mlflow ui up on 127.0.0.1:{port} after {time.time()-t0:.1f} s ({uri})')
        with browser_page(chromium, shots, viewport=dict(width=1400, height=900)) as page:
            check(page, f'http://127.0.0.1:{port}', exp_id, parent, fold, shots, a.timeout*1000)
        print(f'mlflow-check passed in {time.time()-t0:.0f} s; screenshots in {shots}/ (experiment.png, fold_run.png, fold_charts.png)')
        return 0
    except (Failure, PWError) as e: log.flush(); return failed('mlflow-check', e, tmp/'ui.log', 'mlflow ui')
    finally:
        stop(proc); log.close()
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': sys.exit(main())
