// SliceGPT (Ashkboos et al., ICLR'24; pruning-methods.md §4) with one orthogonal change of basis
// Q [E, E] for the whole residual stream, so that the result is a plain model of the same
// family with a narrower hidden size E' and no shortcut matrices.
//
// Every norm that reads the stream is folded into the projections that read its output
// (W ← W · diag(offset + w) for attn_q/k/v, ffn_gate/up and the head), which leaves a weightless
// RMSNorm, and RMSNorm(xQ) = RMSNorm(x)Q for orthogonal Q. Then the embeddings and every reader
// take W ← W · Q, every writer (attn_output, ffn_down, their biases) W ← Qᵀ · W, and the last
// E - E' columns of Q are deleted. Scalars on the stream (embedding, residual and logit scales)
// commute with Q. Per-head q/k norms act after the projections and are untouched.
//
// The head must take output_norm's weight, which an embedding table it shares cannot: a tied
// source comes back untied, with an `output.weight` of its own (V · E' more parameters).
//
// Families with a weighted norm on the writing side (post-norms on the branch outputs: Gemma 2,
// 3, 4, OLMo 2; Gemma 4's per-layer input) cannot be rotated into a plain model and are refused.
//
// Exactness of the cut. Write z = xQ for a stream vector x, z_k its first E' components, z_d the
// rest, ρ = ||z_d||² / ||x||² the dropped share of its energy and m = ||x||² / E its mean square.
// The full norm's output in the kept directions is z_k / sqrt(m + ε); the sliced norm divides
// by the mean over E' channels, so its weight is g = sqrt(E / E') (offset + w = g), and it gives
// z_k / sqrt((1 - ρ)m + ε E'/E) = c · (the full output), with
//   c = sqrt((m + ε) / ((1 - ρ)m + ε E'/E)) >= 1,
//   relative error c - 1 <= (ρ + (1 - E'/E) ε/m) / (2 (1 - ρ)),
// exact when nothing is dropped and ε → 0, and ρ/2 to first order. This is each norm's error
// for the input it is given; the readers also lose z_d itself, sqrt(ρ) of the norm's output,
// which is the cut.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "bespoke/model/transformer.h"

namespace bespoke::prune {

// Throws Error(kUnsupported) in one line for a family that cannot be rotated into a plain model.
void check_rotatable(const model::ModelSpec& spec);

struct BasisOptions {
  // Scale each position's stream vector to unit length before it enters Σ xᵀx, so that the
  // positions and layers with large norms (late layers, the first token) do not choose the basis
  // alone. On a briefly trained 2-layer model (test_slicegpt.cpp, BeatsCuttingChannels) the two
  // give sliced losses within 0.006 nats, normalised lower at 32, 24 and 12 of 64 channels and
  // raw lower by under 0.001 at 48 and 16; deeper models, whose norms grow with depth, are the
  // reason for the default (not measured here).
  bool normalize_positions = true;
};

struct ResidualBasis {
  // [E, E] float64 on the model's device, orthogonal; column i is the i-th principal direction
  // of the stream, by descending eigenvalue.
  torch::Tensor rotation;
  torch::Tensor eigenvalues;  // [E] float64, descending, of the undamped Σ xᵀx
};

// The principal directions of the residual stream wherever it is read: each layer's input (the
// first layer's is the embedding output) and the last layer's output, every position of
// `batches` ([B, T] int64, no padding) once per point. Σ xᵀx accumulates in float64; eigh runs
// on Σ xᵀx + 0.01 · mean(diag) · I, as SliceGPT damps it. The forwards are observed, which
// also forms every layer's attention probabilities [B, H, T, T] (block.h): size batches for
// it. Throws Error(kUnsupported) for a family that cannot be rotated, Error(kUsage) without
// batches.
ResidualBasis residual_basis(model::Transformer& source, const std::vector<torch::Tensor>& batches,
                             const BasisOptions& options = {});

struct SliceResult {
  model::Transformer model{nullptr};  // on source's device and dtype, hidden size E'
  bool untied = false;                // the source tied its head to the embeddings; `model` does not
  double dropped_energy = 0;          // the dropped eigenvalues' share of their sum: the mean ρ
};

// `source` rotated by `basis` and cut to its first `new_hidden` directions; new_hidden = E
// rotates without cutting. Any width from 1 to E is accepted: the rules on it are the consumer's
// (llama.cpp's quantized types need rows that are a multiple of their block, 32 or 256; GPU
// kernels prefer multiples of 8), and no single multiple serves them all. The rotation is
// applied in float64 and rounded once to the source's dtype. Throws Error(kUsage) for a width
// out of range, Error(kUnsupported) for a family that cannot be rotated.
SliceResult rotate_and_cut(model::Transformer& source, const ResidualBasis& basis, int64_t new_hidden);

// residual_basis, then rotate_and_cut.
SliceResult slice_gpt(model::Transformer& source, const std::vector<torch::Tensor>& batches, int64_t new_hidden,
                      const BasisOptions& options = {});

}  // namespace bespoke::prune
