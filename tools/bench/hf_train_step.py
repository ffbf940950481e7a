"""Baseline for bench/bench_train: the same LLaMA train step in HF transformers on a GPU
(bf16 autocast over fp32 weights, SDPA attention, fused AdamW), random weights and tokens, the
batch in micro-batches of --micro-batch rows whose gradients accumulate, as `bespoke train
--micro-batch` does. Prints one JSON line: {"tokens_per_s", "peak_gib", ...}. transformers is
the baseline here; Bespoke never imports it."""
import argparse
import json
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", default="1.3b", choices=["small", "1.3b"])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=2048)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--micro-batch", type=int, default=0, help="rows per forward (0: the whole batch)")
    a = p.parse_args()
    big = a.shape == "1.3b"
    config = LlamaConfig(hidden_size=2048 if big else 256, num_hidden_layers=24 if big else 4,
                         num_attention_heads=16 if big else 8, num_key_value_heads=16 if big else 8,
                         intermediate_size=5504 if big else 688, vocab_size=32000 if big else 4096,
                         max_position_embeddings=4096, rms_norm_eps=1e-5, tie_word_embeddings=False)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).cuda()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), fused=True)
    ids = torch.randint(0, config.vocab_size, (a.batch, a.seq_len), device="cuda")
    torch.cuda.reset_peak_memory_stats()
    micro = a.micro_batch or a.batch

    def step():
        for rows in ids.split(micro):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = model(input_ids=rows, labels=rows).loss * (rows.shape[0] / a.batch)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(json.dumps({"impl": "transformers", "micro_batch": micro, "tokens_per_s": a.batch * a.seq_len * a.steps / seconds,
                      "peak_gib": torch.cuda.max_memory_allocated() / 2**30,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
