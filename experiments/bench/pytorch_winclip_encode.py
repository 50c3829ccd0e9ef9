#!/usr/bin/env python3
"""pytorch_winclip_encode.py - the work of `winclip bench-clip`, done in PyTorch, for comparison.

Builds the OpenCLIP image tower from the project's HDF5 model file (h5py; same weights as the C
code) and times one 240x240 image: the full image (226 tokens) and the WinCLIP window set
(k = 2: 196 windows x 5 tokens, k = 3: 169 windows x 10 tokens, stride 1), each window an
independent sequence [CLS; its patch tokens] of the embedded tokens (shared/spec/winclip.md §4),
run as batches through all blocks as anomalib does (no savings). Benchmark only: no test needs it.

usage: pytorch_winclip_encode.py --model M.h5 [--threads 2] [--repeat 3] [--check-fixture REF.h5]

--check-fixture compares this implementation's k = 2 / k = 3 window embeddings and image
embedding with the shared tiny fixture (reference.h5, use with the tiny model.h5), so the
timed code is known to do the same computation.
"""
import argparse
import json
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F


def load(path):
    f = h5py.File(path, "r")
    cfg = f.attrs["config"]
    cfg = json.loads(cfg.decode() if isinstance(cfg, bytes) else cfg)
    p = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            p[name.replace("/", ".")] = torch.from_numpy(np.asarray(obj[()], dtype=np.float32))

    f.visititems(visit)
    return cfg, p


def block(x, p, pre, heads):
    """x (B, T, W) -> one pre-LN residual attention block (clip.md §2.1)."""
    B, T, W = x.shape
    hd = W // heads
    h = F.layer_norm(x, (W,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], 1e-5)
    qkv = F.linear(h, p[pre + "attn.in_proj_weight"], p[pre + "attn.in_proj_bias"])
    q, k, v = (t.reshape(B, T, heads, hd).transpose(1, 2) for t in qkv.split(W, dim=-1))
    att = torch.softmax((q * hd ** -0.5) @ k.transpose(-2, -1), dim=-1)
    o = (att @ v).transpose(1, 2).reshape(B, T, W)
    x = x + F.linear(o, p[pre + "attn.out_proj.weight"], p[pre + "attn.out_proj.bias"])
    h = F.layer_norm(x, (W,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], 1e-5)
    h = F.gelu(F.linear(h, p[pre + "mlp.c_fc.weight"], p[pre + "mlp.c_fc.bias"]))
    return x + F.linear(h, p[pre + "mlp.c_proj.weight"], p[pre + "mlp.c_proj.bias"])


def encode(tokens, cfg, p):
    """tokens (B, T, W) embedded -> (B, E) = ln_post(token 0) @ proj."""
    W = cfg["vision_cfg"]["width"]
    heads = W // cfg["vision_cfg"].get("head_width", 64)
    x = F.layer_norm(tokens, (W,), p["visual.ln_pre.weight"], p["visual.ln_pre.bias"], 1e-5)
    for layer in range(cfg["vision_cfg"]["layers"]):
        x = block(x, p, "visual.transformer.resblocks.%d." % layer, heads)
    x = F.layer_norm(x[:, 0], (W,), p["visual.ln_post.weight"], p["visual.ln_post.bias"], 1e-5)
    return x @ p["visual.proj"]


def embed(pixels, cfg, p):
    """pixels (3, S, S) -> (G*G + 1, W) tokens (class embedding first, positions added)."""
    P = cfg["vision_cfg"]["patch_size"]
    x = F.conv2d(pixels[None], p["visual.conv1.weight"], stride=P)  # (1, W, G, G)
    x = x.flatten(2).transpose(1, 2)[0]
    x = torch.cat([p["visual.class_embedding"][None], x], dim=0)
    return x + p["visual.positional_embedding"]


def window_index(G, k):
    n = G - k + 1
    idx = []
    for r in range(n):
        for c in range(n):
            idx.append([0] + [1 + (r + dy) * G + (c + dx) for dy in range(k) for dx in range(k)])
    return torch.tensor(idx)


def features(pixels, cfg, p, scales):
    tok = embed(pixels, cfg, p)
    img = encode(tok[None], cfg, p)[0]
    G = cfg["vision_cfg"]["image_size"] // cfg["vision_cfg"]["patch_size"]
    wins = [encode(tok[window_index(G, k)], cfg, p) for k in scales]
    return img, wins


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--check-fixture", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg, p = load(a.model)
    S = cfg["vision_cfg"]["image_size"]
    with torch.inference_mode():
        if a.check_fixture:
            ref = h5py.File(a.check_fixture, "r")
            pix = torch.from_numpy(np.asarray(ref["inputs/images_preprocessed"][0], dtype=np.float32))
            img, wins = features(pix, cfg, p, (2, 3))
            d = [float((img - torch.from_numpy(ref["gelu/image_embedding"][0])).abs().max())]
            for w, name in zip(wins, ("k2", "k3")):
                d.append(float((w - torch.from_numpy(ref["gelu/winclip_window_embeddings_" + name][0])).abs().max()))
            print("fixture check: max abs diff image %.2e, windows k2 %.2e, k3 %.2e" % tuple(d))
            if max(d) > 1e-4:
                raise SystemExit("fixture check FAILED")
            return
        g = torch.Generator().manual_seed(7)
        pix = torch.rand((3, S, S), generator=g) * 4 - 2
        features(pix, cfg, p, (2, 3))  # warm up
        t_full = best_of(lambda: features(pix, cfg, p, ()), a.repeat)
        t_both = best_of(lambda: features(pix, cfg, p, (2, 3)), a.repeat)
    print("pytorch %s, %d threads, best of %d" % (torch.__version__, torch.get_num_threads(), a.repeat))
    print("%-24s %8.3f s" % ("full image", t_full))
    print("%-24s %8.3f s" % ("windows (k=2,3)", t_both - t_full))
    print("%-24s %8.3f s" % ("full + windows", t_both))


if __name__ == "__main__":
    main()
