// cifar_scratch: the reference notebook's CNN trained from scratch on CIFAR-10, or
// (--recipe fast) tinynet's own faster, more accurate recipe. See docs/examples.md.
#include <iostream>
#include <utility>

#include "common/cifar_job.hpp"
#include "common/data_help.hpp"
#include "common/recipes.hpp"
#include "common/standard_flags.hpp"

using namespace tinynet_examples;

int main(int argc, char** argv) {
  CLI::App app("Train a CNN from scratch on CIFAR-10 and report its test accuracy.", "cifar_scratch");
  StandardFlags flags;
  add_standard_flags(app, flags, "out/cifar_scratch");
  std::string recipe = "notebook";
  app.add_option("--recipe", recipe,
                 "notebook (the Keras notebook's CNN and settings) or fast (whitened CNN after airbench94, one-cycle SGD)")
      ->check(CLI::IsMember({"notebook", "fast"}))
      ->capture_default_str();
  std::string fast_without;
  app.add_option("--fast-without", fast_without,
                 "fast recipe: comma-separated steps towards airbench94 to leave out, to measure them (whitening-sample, "
                 "gelu, reflect-crops, whitening-bias, torch-init, linear-schedule, lookahead-epochs, tta-logits, "
                 "drop-last)");
  double bn_momentum = kNotebookBnMomentum;
  auto* bn_momentum_flag =
      app.add_option("--bn-momentum", bn_momentum,
                     "notebook recipe: the BatchNorm moving averages' momentum, Keras' sense (keep this share of the "
                     "old value each step; PyTorch's default; the notebook's Keras used 0.99)")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
  parse_or_exit(app, argc, argv);
  try {
    check(fast_without.empty() || recipe == "fast", "--fast-without applies to --recipe fast only");
    check(bn_momentum_flag->count() == 0 || recipe == "notebook", "--bn-momentum applies to --recipe notebook only");
    const FastRecipeFixes fixes = fast_recipe_fixes_without(fast_without);  // names checked before the data loads
    start_job(flags, "cifar_scratch");
    auto data = load_cifar_or_exit("cifar_scratch", flags.data);
    limit_dataset(data, flags.limit);
    CifarJob job = scratch_recipe(recipe, data.train, fixes, bn_momentum);
    apply_common_flags(flags, job);
    run_cifar_job(job, std::move(data));
    return 0;
  } catch (const std::exception& e) {
    return fail_job("cifar_scratch", e);
  }
}
