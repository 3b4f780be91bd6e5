# SPDX-License-Identifier: MIT
"""A small GPT-style decoder (token and position embeddings, N blocks of attention with a KV
cache and an MLP, random weights from a seed), decoding greedily on the CPU, instrumented for
nctop with two lines: nctop.torch.instrument(model) and step markers.

    nctop -- /usr/bin/python3 python/examples/gpt_decode.py
    nctop --once --json -o run.json -- /usr/bin/python3 python/examples/gpt_decode.py --gen 16

Importable: the tests build the same model to compare nctop's trees with it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import List, Optional, Tuple

import torch
from torch import nn

try:
    import nctop
except ImportError:  # running from a source tree: the package is python/nctop
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import nctop
import nctop.torch


class KVCache:
    """Preallocated keys and values for every layer: [layers][batch, heads, ctx, head_dim]."""

    def __init__(self, layers: int, heads: int, ctx: int, head_dim: int) -> None:
        self.k = [torch.zeros(1, heads, ctx, head_dim) for _ in range(layers)]
        self.v = [torch.zeros(1, heads, ctx, head_dim) for _ in range(layers)]
        self.ctx = ctx
        self.pos = 0

    def tensors(self) -> List[torch.Tensor]:
        return self.k + self.v


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                pos: int) -> torch.Tensor:
        b, t, d = x.shape
        shape = (b, t, self.heads, self.head_dim)
        q = self.q_proj(x).view(shape).transpose(1, 2)
        k_cache[:, :, pos:pos + t] = self.k_proj(x).view(shape).transpose(1, 2)
        v_cache[:, :, pos:pos + t] = self.v_proj(x).view(shape).transpose(1, 2)
        k, v = k_cache[:, :, :pos + t], v_cache[:, :, :pos + t]
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if t > 1:  # causal mask inside the prompt
            mask = torch.ones(t, pos + t, dtype=torch.bool).tril(pos)
            scores = scores.masked_fill(~mask, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, t, d))


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.up_proj = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.down_proj = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act(self.up_proj(x)))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.attn_norm = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.mlp_norm = nn.LayerNorm(dim)
        self.mlp = MLP(dim, hidden)

    def forward(self, x: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                pos: int) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), k_cache, v_cache, pos)
        return x + self.mlp(self.mlp_norm(x))


class GPT(nn.Module):
    def __init__(self, vocab: int, dim: int, heads: int, layers: int, hidden: int,
                 ctx: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos_embed = nn.Embedding(ctx, dim)
        self.layers = nn.ModuleList(Block(dim, heads, hidden) for _ in range(layers))
        self.final_norm = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.register_buffer("positions", torch.arange(ctx), persistent=False)

    def forward(self, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
        t = tokens.shape[1]
        x = self.embed(tokens) + self.pos_embed(self.positions[cache.pos:cache.pos + t])
        for i, layer in enumerate(self.layers):
            x = layer(x, cache.k[i], cache.v[i], cache.pos)
        cache.pos += t
        return self.lm_head(self.final_norm(x[:, -1]))


def build(args: argparse.Namespace) -> GPT:
    torch.manual_seed(args.seed)
    model = GPT(args.vocab, args.dim, args.heads, args.layers, args.ffn, args.ctx)
    return model.eval()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="A small GPT decoder watched by nctop.")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1024, help="MLP hidden size")
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--ctx", type=int, default=256, help="KV cache positions")
    ap.add_argument("--prompt", type=int, default=16, help="prompt tokens")
    ap.add_argument("--gen", type=int, default=64, help="tokens generated per request")
    ap.add_argument("--requests", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--depth", type=int, default=None, help="instrument this deep only")
    ap.add_argument("--no-instrument", action="store_true", help="no module hooks")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.prompt + args.gen > args.ctx:
        ap.error("--prompt + --gen must fit in --ctx")
    return args


def decode(model: GPT, args: argparse.Namespace, step: nctop.Span,
           kv_gauge: Optional[nctop.torch.KVCacheGauge] = None,
           pool: Optional[nctop.torch.TensorPoolGauge] = None) -> Tuple[List[int], float]:
    """One request: the prompt's forward yields the first token, then one forward per token.
    Returns the tokens and the seconds it took."""
    gen = torch.Generator().manual_seed(args.seed)
    prompt = torch.randint(0, args.vocab, (1, args.prompt), generator=gen)
    cache = KVCache(args.layers, args.heads, args.ctx, args.dim // args.heads)
    if kv_gauge is not None:
        kv_gauge.capacity = nctop.torch.tensor_bytes(*cache.tensors())
    out: List[int] = []
    t0 = time.perf_counter()
    nctop.request_begin()
    x = prompt
    with torch.inference_mode():
        for _ in range(args.gen):
            with step:
                logits = model(x, cache)
                x = logits.argmax(dim=-1, keepdim=True)
            out.append(int(x))
            nctop.token()
            if kv_gauge is not None:
                kv_gauge.update(cache.pos, cache.ctx)
            if pool is not None:
                pool.update(*cache.tensors(), logits)
    nctop.request_end()
    return out, time.perf_counter() - t0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    nctop.set_label(os.environ.get("NCTOP_LABEL", "gpt_decode"))
    model = build(args)
    handle = None
    if not args.no_instrument:
        handle = nctop.torch.instrument(model, depth=args.depth)
    probe = KVCache(args.layers, args.heads, args.ctx, args.dim // args.heads)
    kv_gauge = nctop.torch.KVCacheGauge(probe.tensors())
    pool = nctop.torch.TensorPoolGauge("tensor_pool")
    del probe
    step = nctop.span("step")
    for r in range(args.requests):
        tokens, secs = decode(model, args, step, kv_gauge, pool)
        if not args.quiet:
            print("request %d: %d tokens in %.3f s (%.1f tokens/s): %s" %
                  (r, len(tokens), secs, len(tokens) / secs, " ".join(map(str, tokens[:8]))))
    if handle is not None:
        handle.remove(weights=False)
    if nctop.dropped() and not args.quiet:
        print("nctop: %d events dropped" % nctop.dropped(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
