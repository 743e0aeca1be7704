"""Fuzzed videos through step 1: damaged variants of valid H.264 and mp4v files, extracted by `extract_all`.

Variants: byte flips in the header (`moov`) and in the payload (`mdat`), cuts at random offsets, two top-level
boxes swapped, a zero-length `mdat`, a sample entry claiming 16384x16384 frames, an MJPEG stream whose JPEG
headers claim 16384x16384, and an `stts` claiming a billion frames. Each variant must either be extracted
with the exact frames (checked against a plain single-threaded decode of the same file) or be reported with
a reason; a worker crash, a hang past the limit or an exception out of `extract_all` is a failure.

    python bench/fuzz_videos.py --n 300 [--seed 0] [--workers 2] [--time-limit 10] [--size 64x48] [--frames 24] [--json out.json]

Prints the counts (extracted, reported, crashes, hangs, inexact), the time per file and the peak memory of a
worker. Exit status 1 when anything failed.
"""
import argparse, json, resource, struct, sys, tempfile, time
from collections import Counter
from pathlib import Path
import numpy as np, cv2, av
from qvpipe_nb.synth_render import render_video
from qvpipe_nb.synth import write_video
from qvpipe_nb.frames import extract_all, frame_indices

KINDS = ['flip_header', 'flip_payload', 'cut', 'swap_boxes', 'zero_mdat']

def boxes(b:bytes)->list:
    "Top-level MP4 boxes: (type, start, size)."
    out, pos = [], 0
    while pos + 8 <= len(b):
        n, t = struct.unpack('>I4s', b[pos:pos+8])
        if n < 8 or pos + n > len(b): break
        out.append((t, pos, n)); pos += n
    return out

def box(b:bytes, t:bytes)->tuple:
    return next(((s, n) for k, s, n in boxes(b) if k == t), (0, len(b)))

def flip(b:bytes, lo:int, hi:int, rng, n:int)->bytes:
    b = bytearray(b)
    for j in rng.integers(lo, max(lo+1, hi), n): b[j] ^= 1 << int(rng.integers(8))
    return bytes(b)

def damage(b:bytes, kind:str, rng)->bytes:
    "One damaged copy of MP4 bytes `b`."
    if kind == 'flip_header':
        s, n = box(b, b'moov'); return flip(b, s+8, s+n, rng, int(rng.integers(1, 8)))
    if kind == 'flip_payload':
        s, n = box(b, b'mdat'); return flip(b, s+8, s+n, rng, int(rng.integers(1, 64)))
    if kind == 'cut': return b[:int(rng.integers(1, len(b)))]
    if kind == 'swap_boxes':
        bx = boxes(b); i, j = sorted(rng.choice(len(bx), 2, replace=False))
        part = lambda k: b[bx[k][1]:bx[k][1]+bx[k][2]]
        return b''.join(part(k) for k in [*range(i), j, *range(i+1, j), i, *range(j+1, len(bx))])
    if kind == 'zero_mdat':
        s, n = box(b, b'mdat'); return b[:s] + struct.pack('>I4s', 8, b'mdat') + b[s+n:]
    raise ValueError(kind)

def huge_dims(b:bytes)->bytes:
    "The sample entry and track header claim 16384x16384."
    b = bytearray(b)
    for tag in (b'avc1', b'mp4v'):
        if (j := b.find(tag)) > 0: b[j+4+24:j+4+28] = struct.pack('>HH', 16384, 16384)
    if (j := b.find(b'tkhd')) > 0: b[j+4+76:j+4+84] = struct.pack('>II', 16384 << 16, 16384 << 16)
    return bytes(b)

def billion_frames(b:bytes)->bytes:
    "The time-to-sample table claims a billion frames."
    b = bytearray(b)
    if (j := b.find(b'stts')) > 0: b[j+12:j+16] = struct.pack('>I', 10**9)
    return bytes(b)

def huge_mjpeg(path:Path, frames:np.ndarray)->Path:
    "An MJPEG AVI whose every JPEG header claims 16384x16384 pixels."
    c = av.open(str(path), 'w'); s = c.add_stream('mjpeg', rate=25); s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], 'yuvj420p'
    for f in frames:
        for p in s.encode(av.VideoFrame.from_ndarray(f, format='rgb24')): c.mux(p)
    for p in s.encode(): c.mux(p)
    c.close()
    b, j = bytearray(path.read_bytes()), 0
    while (j := b.find(b'\xff\xc0', j)) >= 0: b[j+5:j+9] = struct.pack('>HH', 16384, 16384); j += 2
    path.write_bytes(bytes(b)); return path

def ref_frames(path:Path)->list:
    "Every frame of a plain single-threaded sequential decode (BGR); a packet the decoder rejects is skipped."
    out = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]; s.thread_type, s.codec_context.thread_count = 'NONE', 1
        for pkt in c.demux(s):
            try: out += [f.to_ndarray(format='bgr24') for f in s.decode(pkt)]
            except av.FFmpegError: pass
    return out

def make_variants(d:Path, n:int, seed:int=0, size=(64, 48), n_frames:int=24)->dict:
    "`n` damaged videos in `d`: {path: kind}; the first ones are the huge claims, the rest cycle through `KINDS`."
    rng = np.random.default_rng(seed)
    fr = render_video([1, 14], seed, size=tuple(size), n_frames=n_frames)
    src = {c: write_video(fr, d/f'src_{c}.mp4', codec=c).read_bytes() for c in ('h264', 'mp4v')}
    out = {}
    special = [('huge_dims', 'h264'), ('huge_dims', 'mp4v'), ('billion_frames', 'h264'), ('huge_mjpeg', None)]
    for i in range(n):
        if i < len(special):
            kind, c = special[i]; p = d/(f'v{i:04d}_{kind}.' + ('avi' if kind == 'huge_mjpeg' else 'mp4'))
            if kind == 'huge_mjpeg': huge_mjpeg(p, fr)
            else: p.write_bytes(huge_dims(src[c]) if kind == 'huge_dims' else billion_frames(src[c]))
        else:
            kind, c = KINDS[i % len(KINDS)], ('h264', 'mp4v')[(i // len(KINDS)) % 2]
            p = d/f'v{i:04d}_{kind}_{c}.mp4'; p.write_bytes(damage(src[c], kind, rng))
        out[p] = kind
    return out

def run(n:int=300, seed:int=0, workers:int=2, time_limit:float=10, max_memory:float=2, k:int=9, size=(64, 48), n_frames:int=24)->dict:
    "Extract `n` variants; the counts, times and peak worker memory."
    d = Path(tempfile.mkdtemp(prefix='qv-fuzz-videos-'))
    (d/'in').mkdir(); vs = make_variants(d/'in', n, seed, size, n_frames)
    t0 = time.time()
    try: df = extract_all(list(vs), d/'out', k=k, workers=workers, progress=False, quiet=True, time_limit=time_limit, max_memory=max_memory)
    except Exception as e: return dict(n=n, escaped=f'{type(e).__name__}: {e}')
    wall = time.time() - t0
    res = Counter(); inexact, reasons = [], Counter()
    for r in df.itertuples():
        kind = vs[d/'in'/r.video]
        if r.status == 'error':
            res['reported'] += 1; reasons[r.error.split(':')[0]] += 1
            if 'crashed' in r.error: res['crashes'] += 1
            if 'hung' in r.error: res['hangs'] += 1              # stopped by the watchdog, past twice the limit
            elif r.error.startswith('time limit'): res['timeouts'] += 1
            continue
        res['extracted'] += 1
        ref = ref_frames(d/'in'/r.video)
        idx = [int(i) for i in r.indices.split()]
        jpg = lambda a: cv2.imdecode(cv2.imencode('.jpg', a, [cv2.IMWRITE_JPEG_QUALITY, 95])[1], cv2.IMREAD_COLOR).astype(int)
        ok = len(ref) == r.n_frames and idx == frame_indices(len(ref), k) and all(   # the same JPEG as the reference frame's
            np.abs(cv2.imread(str(d/'out'/Path(r.video).stem/f'{i:06d}.jpg')).astype(int) - jpg(ref[i])).max() <= 1 for i in set(idx))
        if not ok: inexact.append(f'{r.video} ({kind})')
    huge = {r.video: r.error for r in df.itertuples() if vs[d/'in'/r.video] in ('huge_dims', 'huge_mjpeg', 'billion_frames')}
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return dict(n=len(df), extracted=res['extracted'], reported=res['reported'], crashes=res['crashes'], hangs=res['hangs'], timeouts=res['timeouts'],
                inexact=len(inexact), inexact_files=inexact[:10], wall_s=round(wall, 1), s_per_file=round(wall*workers/max(1, len(df)), 3),
                peak_worker_mb=round(peak, 1), workers=workers, time_limit=time_limit, max_memory_gib=max_memory,
                reasons=dict(reasons.most_common()), huge_claims=huge, kinds=dict(Counter(vs.values())))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=300); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--time-limit', type=float, default=10)
    ap.add_argument('--max-memory', type=float, default=2); ap.add_argument('--json', default=None)
    ap.add_argument('--size', default='64x48', help='source videos WIDTHxHEIGHT'); ap.add_argument('--frames', type=int, default=24)
    a = ap.parse_args()
    r = run(a.n, a.seed, a.workers, a.time_limit, a.max_memory, size=tuple(map(int, a.size.split('x'))), n_frames=a.frames)
    if a.json: Path(a.json).write_text(json.dumps(r, indent=1))
    if 'escaped' in r: print(f'FAILED: extract_all raised {r["escaped"]}'); sys.exit(1)
    print(f"{r['n']} damaged videos ({', '.join(f'{k} {v}' for k, v in r['kinds'].items())}): {r['extracted']} extracted "
          f"(exact: {r['extracted'] - r['inexact']}), {r['reported']} reported, {r['crashes']} crashes, {r['timeouts']} stopped at the "
          f"{r['time_limit']:g} s limit, {r['hangs']} hangs; {r['s_per_file']} s per file ({r['workers']} workers, {r['wall_s']} s in all); "
          f"peak memory of a worker {r['peak_worker_mb']} MB (limit {r['max_memory_gib']} GiB)")
    print('reasons: ' + '; '.join(f'{k} ({v})' for k, v in r['reasons'].items()))
    for v, e in r['huge_claims'].items(): print(f'  {v}: {e or "extracted"}')
    if r['inexact_files']: print('inexact: ' + ', '.join(r['inexact_files']))
    sys.exit(int(bool(r['crashes'] or r['hangs'] or r['inexact'])))
