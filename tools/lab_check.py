"""Real-browser run of the interactive training tutorial in JupyterLab.

Starts JupyterLab on 127.0.0.1 (random free port, random token) in a temporary folder holding a copy of
nbs/tutorials/01_train_in_a_notebook.ipynb with its outputs cleared, opens it in headless Chromium (Debian's
/usr/bin/chromium through Playwright), runs all cells from the menu (Run > Run All Cells) and waits for the kernel to
finish. It then checks that every code cell ran and none shows an error output, that the figures rendered, and that
the error browser rendered and reacts to a class change; screenshots go to reports/lab/. Exit 0 on success, or with
a `skipped:` message when Chromium or Playwright is missing (exit 1 instead when QV_REQUIRE_BROWSER=1, as in CI);
exit 1 on a real failure. The server is always stopped.
"""
import argparse, json, os, secrets, shutil, sys, tempfile, time
from pathlib import Path
from browser_check import Failure, need_browser, browser_page, failed, free_port, start_lab, stop, wait_ready

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT/'nbs'/'tutorials'/'01_train_in_a_notebook.ipynb'
MIN_FIGURES = 4   # show_batch, lr_find, plot_loss, show_results

def copy_cleared(src:Path, dst:Path)->int:
    "Copy notebook `src` to `dst` without outputs or execution counts; return its number of code cells."
    nb = json.loads(src.read_text())
    for c in nb['cells']:
        if c['cell_type'] == 'code': c['outputs'], c['execution_count'] = [], None
    dst.write_text(json.dumps(nb, indent=1))
    return sum(c['cell_type'] == 'code' for c in nb['cells'])

# JavaScript run in the page against JupyterLab's own models (exposed by --LabApp.expose_app_in_browser)
STATE = """() => {
  const nb = window.jupyterapp.shell.currentWidget;
  const cells = nb.content.widgets.filter(w => w.model.type === 'code');
  const k = nb.sessionContext.session && nb.sessionContext.session.kernel;
  const outs = cells.map(w => w.model.outputs.toJSON());
  return {status: k ? k.status : 'none', ran: cells.filter(w => w.model.executionCount !== null).length,
          busy: cells.filter(w => w.promptNode && w.promptNode.textContent.includes('*')).length,
          errors: outs.flat().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)};
}"""

def run_all(page, n_code:int, timeout_s:int)->float:
    "Run every cell from the Run menu and wait until all code cells have run and the kernel is idle; returns seconds."
    page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
    page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
    t0, last = time.time(), None
    while time.time() - t0 < timeout_s:
        st = page.evaluate(STATE)
        if st['errors']: raise Failure(f"a cell shows an error output: {st['errors'][0][:300]}")
        if st['ran'] == n_code and st['busy'] == 0 and st['status'] == 'idle': return time.time() - t0
        if st['ran'] != last: print(f"  {st['ran']}/{n_code} cells run after {time.time()-t0:.0f} s", flush=True); last = st['ran']
        page.wait_for_timeout(2000)
    raise Failure(f'the notebook did not finish within {timeout_s} s ({last}/{n_code} cells run)')

def check(page, shots:Path, n_code:int, timeout_ms:int, run_timeout_s:int):
    "Run the tutorial from the UI, then check errors, figures and the error browser; take screenshots."
    page.wait_for_selector('.jp-Notebook', timeout=timeout_ms)
    page.wait_for_function('() => window.jupyterapp && window.jupyterapp.shell.currentWidget && '
                           'window.jupyterapp.shell.currentWidget.sessionContext', timeout=timeout_ms)
    page.evaluate('async () => { await window.jupyterapp.shell.currentWidget.sessionContext.ready; }')
    page.evaluate("async () => { await window.jupyterapp.commands.execute('application:toggle-left-area'); }")
    secs = run_all(page, n_code, run_timeout_s)
    print(f'all {n_code} code cells ran from Run > Run All Cells in {secs:.0f} s, kernel idle')
    st = page.evaluate(STATE)
    if st['errors']: raise Failure(f"a cell shows an error output: {st['errors'][0][:300]}")
    texts = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')].map(e => e.innerText)"
                          ".filter(t => /Traceback|Error displaying widget|model not found/.test(t))")
    if texts: raise Failure('error text in an output: ' + texts[0][:300])
    # figures: images in the outputs that the browser decoded (JupyterLab renders lazily: scroll each into view)
    imgs = page.locator('.jp-OutputArea-output img:not(.qv-browser img)')
    n = imgs.count()
    for i in range(n): imgs.nth(i).scroll_into_view_if_needed()
    ok = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output img')].filter(i => !i.closest('.qv-browser'))"
                       ".filter(i => i.complete && i.naturalWidth > 50).length")
    if ok < MIN_FIGURES: raise Failure(f'{ok} figures rendered in the outputs, expected at least {MIN_FIGURES}')
    print(f'{ok} figures rendered')
    if n: imgs.first.screenshot(path=str(shots/'show_batch.png'))
    # the error browser: rendered, with thumbnails, and following a change of class
    page.locator('.qv-browser').first.scroll_into_view_if_needed()
    page.wait_for_selector('.qv-browser .qv-cls select', timeout=timeout_ms)
    page.wait_for_function("() => document.querySelectorAll('.qv-browser img').length > 0 && "
                           "[...document.querySelectorAll('.qv-browser img')].some(i => i.naturalWidth > 0)", timeout=timeout_ms)
    opts = page.evaluate("() => [...document.querySelectorAll('.qv-browser .qv-cls select option')].map(o => o.textContent)")
    if len(opts) != 17: raise Failure(f'the class dropdown shows {len(opts)} options, expected 17')
    stats = lambda: page.inner_text('.qv-browser .qv-stats')
    s0, pr0 = stats(), page.get_attribute('img.qv-pr', 'src')
    el = page.locator('.qv-browser').first
    page.wait_for_timeout(500); el.screenshot(path=str(shots/'error_browser.png'))
    cur = page.evaluate("() => document.querySelector('.qv-browser .qv-cls select').selectedIndex")
    idx = 2 if cur != 2 else 3
    code = opts[idx].split()[0]
    page.select_option('.qv-browser .qv-cls select', index=idx)
    page.wait_for_function("c => document.querySelector('.qv-browser .qv-stats').innerText.startsWith(c)", arg=code, timeout=timeout_ms)
    page.wait_for_function("a => document.querySelector('img.qv-pr').src != a", arg=pr0, timeout=timeout_ms)
    if stats() == s0: raise Failure('the error browser did not change after a class change')
    print(f'error browser: class {opts[cur].split()[0]} -> {code}, stats now {stats().splitlines()[0]!r}, PR curve redrawn')
    page.wait_for_timeout(500); el.screenshot(path=str(shots/'error_browser_class.png'))
    page.screenshot(path=str(shots/'notebook.png'))
    st = page.evaluate(STATE)
    if st['errors']: raise Failure(f"a cell shows an error output: {st['errors'][0][:300]}")
    return secs

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--chromium', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'), help='Chromium executable')
    ap.add_argument('--notebook', default=str(TUTORIAL), help='the notebook to run')
    ap.add_argument('--out', default=str(ROOT/'reports'/'lab'), help='folder for the screenshots')
    ap.add_argument('--timeout', type=int, default=120, help='seconds to wait for each step in the page')
    ap.add_argument('--run-timeout', type=int, default=900, help='seconds the whole notebook may take to run')
    ap.add_argument('--threads', type=int, default=len(os.sched_getaffinity(0)), help="the kernel's CPU threads")
    a = ap.parse_args()
    chromium = need_browser(a.chromium, 'lab-check')
    from playwright.sync_api import Error as PWError
    shots = Path(a.out); shots.mkdir(parents=True, exist_ok=True)
    (shots/'failure.png').unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='qv-lab-')); (tmp/'nb').mkdir()
    name = Path(a.notebook).name
    n_code = copy_cleared(Path(a.notebook), tmp/'nb'/name)
    port, token, proc = free_port(), secrets.token_hex(16), None
    log = open(tmp/'lab.log', 'w')
    t0 = time.time()
    try:
        proc = start_lab(tmp, port, token, log, threads=a.threads)
        wait_ready(proc, port, token)
        print(f'JupyterLab up on 127.0.0.1:{port} after {time.time()-t0:.1f} s; running {name} ({n_code} code cells)')
        with browser_page(chromium, shots, viewport=dict(width=1400, height=1600)) as page:
            page.goto(f'http://127.0.0.1:{port}/lab/tree/{name}?token={token}', timeout=a.timeout*1000)
            secs = check(page, shots, n_code, a.timeout*1000, a.run_timeout)
        print(f'lab-check passed in {time.time()-t0:.0f} s (the notebook ran in {secs:.0f} s); screenshots in {shots}/')
        return 0
    except (Failure, PWError) as e: log.flush(); return failed('lab-check', e, tmp/'lab.log', 'JupyterLab')
    finally:
        stop(proc); log.close()
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': sys.exit(main())
