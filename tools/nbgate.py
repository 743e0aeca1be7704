"CI gate: `nbdev_clean` and `nbdev_export` must change nothing in nbs/ and qvpipe_nb/."
import hashlib, subprocess, sys
from pathlib import Path

def snapshot():
    fs = [*Path('nbs').rglob('*.ipynb'), *Path('qvpipe_nb').rglob('*.py')]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in fs if '.ipynb_checkpoints' not in p.parts}

bin = Path(sys.executable).parent
before = snapshot()
for cmd in ['nbdev_clean', 'nbdev_export']:
    subprocess.run([str(bin/cmd)], check=True)
    after = snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        print(f'{cmd} changed {len(changed)} file(s): ' + ', '.join(changed), file=sys.stderr)
        print('Run `make export` (or nbdev_clean; nbdev_export), review the diff and commit it.', file=sys.stderr)
        sys.exit(1)
import nbformat                       # the docs' HTML export validates every notebook: fail here, early
for p in sorted(Path('nbs').rglob('*.ipynb')):
    if '.ipynb_checkpoints' in p.parts: continue
    try: nbformat.validate(nbformat.read(p, as_version=4))
    except nbformat.ValidationError as e:
        print(f'{p}: not a valid notebook ({str(e).splitlines()[0]}); fix the cell (a code cell needs "outputs" and "execution_count")', file=sys.stderr)
        sys.exit(1)
print('gate: notebooks are valid and clean, and qvpipe_nb/ matches them')
