// mnemonic's seven faithfulness metrics for one model output, computed as its scorer
// (eval_faithfulness.py) computes them, so that numbers stay comparable with its history.
#pragma once

#include <string>
#include <vector>

#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding {

struct ItemMetrics {
  double epr = 0;            // entity preservation: share of the input's entities found in the output
  double fr = 0;             // fabrication: share of the output prose's entities absent from the input
  int64_t entities_out = 0;  // the output prose's entities: FR's denominator
  double np = 0;             // number preservation: share of the input's numbers found in the output
  bool ted = false;          // template echo: the output repeats instruction text
  bool sc = false;           // schema compliance (schema_compliant)
  std::vector<std::string> missing, fabricated, missing_numbers, echoed;  // what lowered each
};

ItemMetrics score_item(const std::string& input, const Json& output);

// Cross-contamination of a twin pair: cosine of the word counts of both outputs, schema key
// words left out. A pair passes below 0.7.
double ccs(const Json& a, const Json& b);

// Minimal-input handling: salience < 0.4 (a missing one counts as 1.0), content at most 150 and
// narrative at most 200 code points.
bool mih(const Json& output);

}  // namespace bespoke::task::encoding
