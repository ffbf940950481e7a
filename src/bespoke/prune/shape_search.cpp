#include "bespoke/prune/shape_search.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "bespoke/core/error.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/masks.h"

namespace bespoke::prune {
namespace {

[[noreturn]] void bad(const std::string& why) {
  fail(ErrorKind::kInput, "--params " + why);
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// The leading units of `t`'s sizes in the layers `kept`: a cut of the same shape, and so the
// same parameter count, as any other with those layers.
Selection leading(const model::ModelSpec& s, const std::vector<int64_t>& kept, const Target& t) {
  Selection sel = keep_everything(s);
  sel.layers = kept;
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    LayerSelection& p = sel.per_layer[i];
    if (t.ffn) p.ffn = iota(t.ffn);
    if (l.n_heads == 0 || !t.kv_heads) continue;
    const int64_t group = l.n_heads / l.n_kv_heads;
    p.kv_groups = iota(t.kv_heads);
    p.q_heads.clear();
    for (const int64_t g : p.kv_groups)
      for (int64_t h = 0; h < t.heads / t.kv_heads; ++h) p.q_heads.push_back(g * group + h);
  }
  return sel;
}

// The source's sizes every layer allows: the fewest KV groups, query heads per group and FFN
// neurons of any layer with them.
struct Room {
  int64_t kv = 0, per_group = 0, ffn = 0;
};

Room room_of(const model::ModelSpec& s) {
  Room r{INT64_MAX, INT64_MAX, INT64_MAX};
  for (const model::LayerSpec& l : s.layers) {
    if (l.ffn_dim > 0) r.ffn = std::min(r.ffn, l.ffn_dim);
    if (l.n_heads > 0)
      r.kv = std::min(r.kv, l.n_kv_heads), r.per_group = std::min(r.per_group, l.n_heads / l.n_kv_heads);
  }
  if (r.kv == INT64_MAX) r.kv = r.per_group = 0;
  if (r.ffn == INT64_MAX) r.ffn = 0;
  return r;
}

// Shapes within 1/kSizeWindow of the largest that fits count as equally large.
constexpr int64_t kSizeWindow = 50;

// The largest share of the source any axis of `t` removes (layers, hidden, query heads, KV groups, FFN):
// of shapes of about one size, the most even cut comes first (pruning-methods §2.2 caps each
// axis rather than the total).
double deepest_cut(const model::ModelSpec& s, const Room& room, const Target& t) {
  const auto cut = [](int64_t kept, int64_t of) { return kept > 0 && of > 0 ? 1.0 - double(kept) / double(of) : 0.0; };
  return std::max({cut(t.layers, s.n_layers()), cut(t.hidden, s.hidden_size), cut(t.heads, room.kv * room.per_group),
                   cut(t.kv_heads, room.kv), cut(t.ffn, room.ffn)});
}

double cut_loss(model::Transformer& net, const Selection& sel, const std::vector<torch::Tensor>& batches) {
  net->set_masks(std::make_shared<model::UnitMasks>(masks_of(net->spec(), sel)));
  torch::NoGradGuard no_grad;
  double sum = 0;
  int64_t rows = 0;
  const torch::Device device = net->parameters().front().device();
  for (const torch::Tensor& cpu : batches) {
    const torch::Tensor ids = cpu.to(device);
    sum += next_token_loss(net->forward(ids).logits, ids) * double(ids.size(0));
    rows += ids.size(0);
  }
  net->set_masks(nullptr);
  return sum / double(rows);
}

}  // namespace

int64_t parse_param_count(const std::string& text) {
  std::string digits = text;
  double unit = 1;
  const char last = digits.empty() ? 0 : char(std::toupper(static_cast<unsigned char>(digits.back())));
  if (last == 'K' || last == 'M' || last == 'B') {
    unit = last == 'K' ? 1e3 : last == 'M' ? 1e6 : 1e9;
    digits.pop_back();
  }
  const size_t dot = digits.find('.');
  const bool ok = !digits.empty() && digits.find_first_not_of("0123456789.") == std::string::npos &&
                  (dot == std::string::npos || (unit > 1 && dot > 0 && dot + 1 < digits.size() &&
                                                digits.find('.', dot + 1) == std::string::npos)) &&
                  digits.size() <= 15;
  const double value = ok ? std::stod(digits) * unit : 0;
  if (!ok || value < 1 || value > 1e15) bad("'" + text + "' is not a parameter count (e.g. 1.5B, 800M, 123456789)");
  return int64_t(std::llround(value));
}

int64_t embedding_params(const model::ModelSpec& spec) {
  model::ModelSpec none = spec;
  none.layers.clear();
  return model::parameter_count(none);
}

int64_t ffn_step(int64_t source_ffn) {
  return source_ffn >= 4096 ? 256 : 64;
}

std::vector<int64_t> hidden_sizes(int64_t source) {
  std::vector<int64_t> out;
  for (int64_t h = 64; h < source; h += h < 1024 ? 64 : 128)
    if (4 * h >= source && (h < 1024 || h % 128 == 0)) out.push_back(h);
  out.push_back(source);
  return out;
}

std::vector<Shape> candidate_shapes(const model::ModelSpec& s, int64_t budget, const LayerChoice& layers, bool width,
                                    bool depth, int64_t few) {
  const int64_t floor = embedding_params(s);
  if (budget < floor)
    bad(std::to_string(budget) + " is below the " + std::to_string(floor) +
        " parameters of the embeddings and output head alone");
  const int64_t L = s.n_layers();
  const Room room = room_of(s);
  std::vector<int64_t> ffns;
  for (int64_t f = ffn_step(room.ffn); f < room.ffn; f += ffn_step(room.ffn)) ffns.push_back(f);
  if (room.ffn > 0) ffns.push_back(room.ffn);
  std::vector<Shape> fits;
  for (int64_t n = depth ? 1 : L; n <= L; ++n) {
    std::vector<int64_t> kept;
    try {
      kept = layers(n);
    } catch (const Error&) {
      continue;  // no depth cut keeps n layers (others read their keys and values, or a period)
    }
    if (!width) {
      const Target t{n};
      if (const int64_t p = model::parameter_count(selected_spec(s, leading(s, kept, t))); p <= budget)
        fits.push_back({t, p});
      continue;
    }
    for (int64_t kv = 1; kv <= std::max<int64_t>(room.kv, 1); ++kv)
      for (int64_t g = 1; g <= std::max<int64_t>(room.per_group, 1); ++g) {
        const int64_t heads = kv * g * (room.kv > 0), groups = kv * (room.kv > 0);
        // The cut's spec at these heads, its hidden size and FFN widths then set directly: a
        // selection of every FFN neuron costs more than the count.
        const model::ModelSpec base = selected_spec(s, leading(s, kept, Target{n, 0, heads, groups, 0}));
        for (const int64_t h : hidden_sizes(s.hidden_size)) {
          const auto at = [&](size_t f) { return Target{n, h == s.hidden_size ? 0 : h, heads, groups, ffns[f]}; };
          const auto count = [&](size_t f) {
            model::ModelSpec cut = base;
            cut.hidden_size = h;
            for (model::LayerSpec& l : cut.layers)
              if (l.ffn_dim > 0) l.ffn_dim = ffns[f];
            return model::parameter_count(cut);
          };
          // the widest FFN that fits: counts grow with the width
          size_t lo = 0, hi = ffns.size();
          while (lo < hi) {
            const size_t mid = (lo + hi) / 2;
            if (count(mid) <= budget)
              lo = mid + 1;
            else
              hi = mid;
          }
          if (lo > 0) fits.push_back({at(lo - 1), count(lo - 1)});
        }
      }
  }
  if (fits.empty()) bad(std::to_string(budget) + ": no shape of this model fits");
  int64_t largest = 0;
  for (const Shape& sh : fits) largest = std::max(largest, sh.params);
  fits.erase(std::remove_if(fits.begin(), fits.end(),
                            [&](const Shape& sh) { return sh.params < largest - largest / kSizeWindow; }),
             fits.end());
  const auto order = [&](const Shape& a, const Shape& b) {
    const double ca = deepest_cut(s, room, a.target), cb = deepest_cut(s, room, b.target);
    return ca != cb ? ca < cb : a.params > b.params;
  };
  std::stable_sort(fits.begin(), fits.end(), order);
  if (int64_t(fits.size()) > few) fits.resize(few);
  return fits;
}

void score_shapes(model::Transformer& net, const std::function<Selection(const Target&)>& select,
                  const std::vector<torch::Tensor>& batches, std::vector<Shape>& shapes) {
  for (Shape& shape : shapes) shape.loss = cut_loss(net, select(shape.target), batches);
  std::stable_sort(shapes.begin(), shapes.end(), [](const Shape& a, const Shape& b) { return a.loss < b.loss; });
}

std::string shape_table(const std::vector<Shape>& shapes, int64_t source_params) {
  std::string out = "layers  hidden  heads  kv_heads    ffn        params   share    loss\n";
  char line[160], loss[32];
  for (const Shape& sh : shapes) {
    const Target& t = sh.target;
    const auto size = [](int64_t v) { return v ? std::to_string(v) : std::string("all"); };
    if (sh.loss > 0)
      std::snprintf(loss, sizeof loss, "%7.4f", sh.loss);
    else
      std::snprintf(loss, sizeof loss, "%7s", "-");
    std::snprintf(line, sizeof line, "%6s %7s %6s %9s %6s %13lld %7.3f %s\n", size(t.layers).c_str(),
                  size(t.hidden).c_str(), size(t.heads).c_str(), size(t.kv_heads).c_str(), size(t.ffn).c_str(),
                  (long long)sh.params, double(sh.params) / double(source_params), loss);
    out += line;
  }
  return out;
}

}  // namespace bespoke::prune
