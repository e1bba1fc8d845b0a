// cifar_scratch: the reference notebook's CNN trained from scratch on CIFAR-10, or
// (--recipe fast) tinynet's own faster, more accurate recipe. See docs/examples.md.
#include <iostream>

#include "common/cifar_job.hpp"
#include "common/data_help.hpp"
#include "common/recipes.hpp"
#include "common/standard_flags.hpp"

using namespace tinynet_examples;

int main(int argc, char** argv) {
  CommandLine cli("cifar_scratch", "Train a CNN from scratch on CIFAR-10 and report its test accuracy.");
  add_standard_flags(cli, "out/cifar_scratch");
  cli.option("recipe", "notebook", "notebook (the Keras notebook's CNN and settings) or fast (whitened CNN after airbench94, one-cycle SGD)");
  cli.parse(argc, argv);
  try {
    tinynet::init_threads_from_env();
    if (cli.given("threads")) tinynet::set_num_threads(static_cast<int>(cli.integer("threads")));
    auto data = load_cifar_or_exit("cifar_scratch", cli.text("data"));
    limit_dataset(data, cli.integer("limit"));
    CifarJob job = scratch_recipe(cli.text("recipe"), data.train);
    apply_common_flags(cli, job);
    run_cifar_job(job, data);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cifar_scratch: " << e.what() << std::endl;
    return 1;
  }
}
