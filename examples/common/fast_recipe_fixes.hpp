// examples/common/fast_recipe_fixes.hpp: the fast recipe's steps towards airbench94, each a
// switch so its effect can be measured (cifar_scratch --recipe fast --fast-without LIST).
//
// A run records the names of the fixes it used (metrics.json "recipe_fixes"); a run without
// that field predates them and used none, so a saved run rebuilds its model as trained.
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/core/error.hpp"

namespace tinynet_examples {

struct FastRecipeFixes {
  bool whitening_sample = true;  // whitening statistics from 5,000 images spread over the set (off: the first 5,000)
  bool gelu = true;              // GELU activations (off: ReLU, fused into the BatchNorms)
  bool reflect_crops = true;     // random crops of reflection-padded images (off: zero padding)
  bool whitening_bias = true;    // the stem's bias learns in the first 3 epochs (off: it stays 0)
  bool torch_init = true;        // PyTorch's default init for non-identity filters and the classifier (off: Glorot)
  bool linear_schedule = true;   // linear warm-up and decay of the rate (off: cosine phases)
  bool lookahead_epochs = true;  // Lookahead from epoch 3, weights reset to its average after each epoch
                                 // (off: averaging from the first step, one final synchronisation)
  bool tta_logits = true;        // test-time views averaged as logits (off: as probabilities)
  bool drop_last = true;         // the last partial batch of each epoch dropped (off: trained on)
};

// ensures: every fix's name (as --fast-without and metrics.json spell it) and its switch.
inline const std::vector<std::pair<const char*, bool FastRecipeFixes::*>>& fast_recipe_fix_table() {
  static const std::vector<std::pair<const char*, bool FastRecipeFixes::*>> table{
      {"whitening-sample", &FastRecipeFixes::whitening_sample}, {"gelu", &FastRecipeFixes::gelu},
      {"reflect-crops", &FastRecipeFixes::reflect_crops},       {"whitening-bias", &FastRecipeFixes::whitening_bias},
      {"torch-init", &FastRecipeFixes::torch_init},             {"linear-schedule", &FastRecipeFixes::linear_schedule},
      {"lookahead-epochs", &FastRecipeFixes::lookahead_epochs}, {"tta-logits", &FastRecipeFixes::tta_logits},
      {"drop-last", &FastRecipeFixes::drop_last}};
  return table;
}

// ensures: the names of the fixes that are on, in table order.
inline std::vector<std::string> fast_recipe_fix_names(const FastRecipeFixes& fixes) {
  std::vector<std::string> names;
  for (const auto& [name, member] : fast_recipe_fix_table())
    if (fixes.*member) names.push_back(name);
  return names;
}

// requires: each name in the table (else an Error listing the valid names).
// ensures: the fixes with exactly `names` on.
inline FastRecipeFixes fast_recipe_fixes_from_names(const std::vector<std::string>& names) {
  FastRecipeFixes fixes;
  for (const auto& entry : fast_recipe_fix_table()) fixes.*entry.second = false;
  for (const std::string& name : names) {
    bool known = false;
    std::string valid;
    for (const auto& [candidate, member] : fast_recipe_fix_table()) {
      valid += (valid.empty() ? "" : ", ") + std::string(candidate);
      if (name == candidate) known = fixes.*member = true;
    }
    tinynet::check(known, "unknown fast-recipe fix '", name, "' (known: ", valid, ")");
  }
  return fixes;
}

// requires: `list` comma-separated fix names ("" for none).
// ensures: every fix on but those named.
inline FastRecipeFixes fast_recipe_fixes_without(const std::string& list) {
  std::vector<std::string> off;
  std::stringstream items(list);
  for (std::string item; std::getline(items, item, ',');)
    if (!item.empty()) off.push_back(item);
  const FastRecipeFixes named = fast_recipe_fixes_from_names(off);  // checks the names
  FastRecipeFixes fixes;
  for (const auto& entry : fast_recipe_fix_table()) fixes.*entry.second = !(named.*entry.second);
  return fixes;
}

}  // namespace tinynet_examples
