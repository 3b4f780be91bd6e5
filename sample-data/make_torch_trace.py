# SPDX-License-Identifier: MIT
# A Chrome trace from PyTorch's own profiler (torch.profiler, export_chrome_trace) over a few
# decode steps of a two-block transformer decoder, for nctop replay. Run with Debian's
# python3-torch: /usr/bin/python3 make_torch_trace.py OUT.json
import sys

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        h = self.norm1(x)
        a, _ = self.attn(h, h, h, need_weights=False)
        x = x + a
        return x + self.mlp(self.norm2(x))


class TinyDecoder(nn.Module):
    def __init__(self, vocab=256, dim=64, heads=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids):
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x)
        return self.head(x[:, -1])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "torch-tiny.trace.json"
    torch.manual_seed(1)
    torch.set_num_threads(1)
    model = TinyDecoder().eval()
    ids = torch.randint(0, 256, (1, 8))
    acts = [torch.profiler.ProfilerActivity.CPU]
    with torch.no_grad(), torch.profiler.profile(activities=acts) as prof:
        for _ in range(3):
            with torch.profiler.record_function("step"):
                nxt = model(ids).argmax(-1, keepdim=True)
                ids = torch.cat([ids, nxt], dim=1)
    prof.export_chrome_trace(out)


if __name__ == "__main__":
    main()
