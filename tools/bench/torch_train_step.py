"""Baseline for bench/bench_train on CPU: the same LLaMA train step written directly in PyTorch
(Debian's python3-torch, the libtorch Bespoke links): eager attention, fp32, AdamW, clipping,
random weights and tokens, the batch in micro-batches of --micro-batch rows whose gradients
accumulate, as `bespoke train --micro-batch` does. Prints one JSON line: {"tokens_per_s",
"peak_gib", ...}; peak_gib is this process's peak RSS."""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = {"small": dict(hidden=256, layers=4, heads=8, ffn=688, vocab=4096),
          "1.3b": dict(hidden=2048, layers=24, heads=16, ffn=5504, vocab=32000)}


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


class Layer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.attn_norm, self.ffn_norm = RMSNorm(d), RMSNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate, self.up = nn.Linear(d, ffn, bias=False), nn.Linear(d, ffn, bias=False)
        self.down = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        h = self.attn_norm(x)
        q, k, v = (p(h).view(b, t, self.heads, self.hd).transpose(1, 2) for p in (self.q, self.k, self.v))
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        scores = (q @ k.transpose(2, 3)) / self.hd ** 0.5
        probs = torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)
        x = x + self.o((probs @ v).transpose(1, 2).reshape(b, t, d))
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, hidden, layers, heads, ffn, vocab):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(Layer(hidden, heads, ffn) for _ in range(layers))
        self.norm, self.head = RMSNorm(hidden), nn.Linear(hidden, vocab, bias=False)
        hd = hidden // heads
        self.inv_freq = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))

    def forward(self, ids):
        t = ids.shape[1]
        angles = torch.outer(torch.arange(t).float(), self.inv_freq)
        cos, sin = torch.cat([angles.cos()] * 2, -1), torch.cat([angles.sin()] * 2, -1)
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.head(self.norm(x))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", default="small", choices=list(SHAPES))
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--micro-batch", type=int, default=0, help="rows per forward (0: the whole batch)")
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    s = SHAPES[a.shape]
    model = Llama(**s)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.0)
    ids = torch.randint(0, s["vocab"], (a.batch, a.seq_len + 1))

    micro = a.micro_batch or a.batch

    def step():
        for rows in ids.split(micro):
            logits = model(rows[:, :-1])
            loss = F.cross_entropy(logits.flatten(0, 1), rows[:, 1:].flatten()) * (rows.shape[0] / a.batch)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"impl": "pytorch", "micro_batch": micro, "tokens_per_s": a.batch * a.seq_len * a.steps / seconds,
                      "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
