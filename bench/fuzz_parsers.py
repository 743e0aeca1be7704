"""Fuzzed parsers: generated malformed label JSON, submission JSON, folds CSV and YAML configs.

Each input is malformed by construction (a wrong type, a missing key, an unknown id, NaN/inf, a huge number, a
duplicate or case-duplicate name, a path for a name, an odd encoding, an empty file ...). The reader must end
in `QVError` with a message naming the file; accepting the input, or any other exception, is a failure.

    python bench/fuzz_parsers.py [--n 1000] [--seed 0] [--only labels predictions folds yaml]

Prints, per parser, how many inputs were tried and the share that ended in a clear error. Exit 1 otherwise.
"""
import argparse, json, sys, tempfile
from collections import Counter
from pathlib import Path
from hypothesis import given, settings, seed as hseed, strategies as st, HealthCheck
from qvpipe_nb.core import CLASSES, N_CLASSES, QVError, load_labels
from qvpipe_nb.metrics import load_predictions
from qvpipe_nb.splits import load_folds, FOLD_COLS

names = st.from_regex(r'[a-z0-9_]{1,8}\.mp4', fullmatch=True)
bad_names = st.sampled_from(['../../escaped.mp4', 'a/b.mp4', 'a\\b.mp4', '..', '.', '', ' ', 'a\nb.mp4', 'a\x00.mp4', '/etc/x.mp4', 'x' * 300])
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True, allow_infinity=True),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.integers(-10**30, 10**30))
bad_ids = st.one_of(st.integers(N_CLASSES, 10**40), st.integers(-10**40, -1), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3), st.none())
encodings = st.sampled_from(['utf-16', 'utf-32', 'cp1252-bytes', 'cut'])

def dumps(d:dict, dup:str|None=None)->str:
    "JSON text of `d` (NaN/Infinity allowed), with the key `dup` given twice when set."
    s = json.dumps(d, allow_nan=True)
    return s if dup is None else s[:-1] + (', ' if d else '') + f'{json.dumps(dup)}: {json.dumps(d.get(dup, [1]))}}}'

def encode(text:str, how:str)->bytes:
    if how == 'cp1252-bytes': return text.replace('.mp4', '\xe9.mp4', 1).encode('cp1252', 'replace') + b'\xe9\xff'
    if how == 'cut': return text.encode()[:max(1, len(text)//2)]
    return text.encode(how)

@st.composite
def label_files(draw)->bytes:
    "A malformed official label file."
    d = draw(st.dictionaries(names, st.lists(st.integers(1, N_CLASSES-1), min_size=1, max_size=3), min_size=1, max_size=4))
    k = next(iter(d))
    m = draw(st.sampled_from(['value', 'empty_list', 'bad_id', 'name', 'dup', 'case', 'top', 'empty', 'encoding', 'zc']))
    if m == 'value': d[k] = draw(junk.filter(lambda v: not isinstance(v, list)))
    elif m == 'empty_list': d[k] = []
    elif m == 'bad_id': d[k] = d[k] + [draw(bad_ids)]
    elif m == 'name': d[draw(bad_names)] = [1]
    elif m == 'dup': return dumps(d, k).encode()
    elif m == 'case': d[k.upper()] = [2]
    elif m == 'top': return json.dumps(draw(st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.text(max_size=4), st.none()))).encode()
    elif m == 'empty': return draw(st.sampled_from([b'', b' ', b'\n', b'{', b'[']))
    elif m == 'encoding': return encode(json.dumps(d), draw(encodings))
    elif m == 'zc': d[k] = [0, draw(st.integers(1, N_CLASSES-1))]
    return dumps(d).encode()

@st.composite
def prediction_files(draw)->tuple:
    "A malformed submission file, and the ground-truth names it must cover."
    gt = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    d = {v: [draw(st.floats(0, 1))]*N_CLASSES for v in gt}
    k = gt[0]
    m = draw(st.sampled_from(['length', 'nan', 'huge', 'type', 'value', 'missing', 'name', 'dup', 'case', 'top', 'empty', 'encoding']))
    if m == 'length': d[k] = d[k][:draw(st.sampled_from([0, 1, 16]))] if draw(st.booleans()) else d[k] + [0.5]
    elif m == 'nan': d[k] = d[k][:-1] + [draw(st.sampled_from([float('nan'), float('inf'), -float('inf')]))]
    elif m == 'huge': d[k] = d[k][:-1] + [draw(st.integers(2**1024, 10**400))]
    elif m == 'type': d[k] = d[k][:-1] + [draw(st.one_of(st.text(max_size=3), st.none(), st.booleans(), st.lists(st.integers(), max_size=2)))]
    elif m == 'value': d[k] = draw(junk)
    elif m == 'missing': del d[k]
    elif m == 'name': d[draw(bad_names)] = [0.5]*N_CLASSES
    elif m == 'dup': return dumps(d, k).encode(), gt
    elif m == 'case': d[k.upper()] = [0.5]*N_CLASSES
    elif m == 'top': return json.dumps(draw(st.one_of(st.lists(st.floats(0, 1), max_size=3), st.floats(0, 1), st.none()))).encode(), gt
    elif m == 'empty': return draw(st.sampled_from([b'', b'\n', b'{"a.mp4": ['])), gt
    elif m == 'encoding': return encode(json.dumps(d), draw(encodings)), gt
    return dumps(d).encode(), gt

@st.composite
def folds_files(draw)->bytes:
    "A malformed folds CSV."
    import pandas as pd
    vids = draw(st.lists(names, min_size=2, max_size=6, unique_by=str.lower))
    rows = [dict(video=v, group=v[:-4], fold=i % 2, **{c: int(j == 1 + i % 16) for j, c in enumerate(CLASSES)}) for i, v in enumerate(vids)]
    df = pd.DataFrame(rows, columns=FOLD_COLS).astype(object)
    m = draw(st.sampled_from(['column', 'empty_cell', 'fold', 'class', 'name', 'dup', 'case', 'leak', 'no_labels', 'header', 'empty', 'encoding']))
    if m == 'column': df = df.drop(columns=draw(st.sampled_from(FOLD_COLS)))
    elif m == 'empty_cell': df.loc[0, draw(st.sampled_from(FOLD_COLS))] = ''
    elif m == 'fold': df.loc[0, 'fold'] = draw(st.one_of(st.sampled_from([-1, 1.5, 'x', 'nan', 'inf', 10**30]), st.integers(1000, 10**40)))
    elif m == 'class': df.loc[0, draw(st.sampled_from(CLASSES))] = draw(st.sampled_from([2, -1, 0.5, 'x', 'nan', 10**20]))
    elif m == 'name': df.loc[0, 'video'] = draw(bad_names.filter(lambda s: s.strip() and '\n' not in s))
    elif m == 'dup': df.loc[1, 'video'] = df.loc[0, 'video']
    elif m == 'case': df.loc[1, 'video'] = df.loc[0, 'video'].upper()
    elif m == 'leak': df.loc[1, 'group'] = df.loc[0, 'group']; df.loc[1, 'fold'] = 1 - df.loc[0, 'fold']
    elif m == 'no_labels': df.loc[0, CLASSES] = 0
    elif m == 'header': df = df.head(0)
    elif m == 'empty': return draw(st.sampled_from([b'', b'\n', b'\x00\x00', b'"unclosed']))
    text = df.to_csv(index=False)
    return encode(text, draw(st.sampled_from(['utf-16', 'cp1252-bytes']))) if m == 'encoding' else text.encode()

@st.composite
def yaml_files(draw)->bytes:
    "A malformed YAML experiment config."
    m = draw(st.sampled_from(['unknown', 'type', 'nan', 'list', 'syntax', 'encoding', 'key_type', 'choice']))
    if m == 'unknown': return f'{draw(st.from_regex(r"[a-z]{3,8}", fullmatch=True))}_x: 1\n'.encode()
    if m == 'type': return draw(st.sampled_from(['lr: abc\n', 'epochs: 1.5\n', 'ema: maybe\n', 'size: [1, 2, 3]\n', 'folds: x\n', 'bs: [1]\n', 'epochs: "3"\n'])).encode()
    if m == 'nan': return draw(st.sampled_from(['lr: .nan\n', 'lr: .inf\n', 'epochs: -5\n', 'bs: 0\n', f'epochs: {10**30}\n'])).encode()
    if m == 'list': return b'- lr: 0.1\n- epochs: 2\n'
    if m == 'syntax': return draw(st.sampled_from([b'lr: [1,\n', b'a: b: c\n', b'\t- x', b'{lr: 1']))
    if m == 'encoding': return 'name: t\xe9st\n'.encode(draw(st.sampled_from(['utf-16', 'cp1252'])))
    if m == 'key_type': return draw(st.sampled_from([b'1: 2\n', b'null: 3\n', b'[a]: 1\n']))
    return draw(st.sampled_from([b'kind: video\n', b'loss: l2\n', b'head: big\n']))

def _yaml_reader(p):
    from qvpipe_nb.train import load_config
    return load_config(p)

TARGETS = dict(labels=(label_files(), lambda p, x: load_labels(p), '.json'),
               predictions=(prediction_files(), lambda p, x: load_predictions(p, x[1]), '.json'),
               folds=(folds_files(), lambda p, x: load_folds(p), '.csv'),
               yaml=(yaml_files(), lambda p, x: _yaml_reader(p), '.yaml'))

def run(kind:str, n:int=1000, seed:int=0)->dict:
    "Feed `n` generated malformed inputs to the reader of `kind`; count how each ended."
    strat, read, ext = TARGETS[kind]
    d = Path(tempfile.mkdtemp(prefix=f'qv-fuzz-{kind}-'))
    res, bad = Counter(), []
    @settings(max_examples=n, derandomize=seed == 0, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strat)
    def one(x):
        p = d/f'in{res.total():05d}{ext}'
        p.write_bytes(x[0] if isinstance(x, tuple) else x)
        try: read(p, x); how = 'accepted'
        except QVError as e: how = 'clear' if str(p) in str(e) else 'unnamed'
        except Exception as e: how = f'{type(e).__name__}'
        res[how] += 1
        if how != 'clear' and len(bad) < 5: bad.append(f'{how}: {p.read_bytes()[:80]!r}')
    (hseed(seed)(one) if seed else one)()
    return dict(kind=kind, tried=res.total(), clear=res['clear'], share=res['clear']/max(1, res.total()), outcomes=dict(res), examples=bad)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=1000); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--only', nargs='+', default=list(TARGETS), choices=list(TARGETS))
    a = ap.parse_args()
    ok = True
    for k in a.only:
        r = run(k, a.n, a.seed)
        print(f"{k}: {r['tried']} malformed inputs tried, {r['clear']} ({r['share']:.1%}) ended in a clear QVError naming the file; outcomes {r['outcomes']}")
        for e in r['examples']: print(f'   {e}')
        ok &= r['clear'] == r['tried']
    sys.exit(0 if ok else 1)
