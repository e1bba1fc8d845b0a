// cifar_resnet50: ImageNet-pretrained ResNet50 fine-tuned on CIFAR-10 (the reference
// notebook's transfer-learning half). See docs/examples.md.
#include <iostream>

#include "common/cifar_job.hpp"
#include "common/data_help.hpp"
#include "common/recipes.hpp"
#include "common/standard_flags.hpp"

using namespace tinynet_examples;

int main(int argc, char** argv) {
  CommandLine cli("cifar_resnet50", "Fine-tune ImageNet ResNet50 on CIFAR-10 and report its test accuracy.");
  add_standard_flags(cli, "out/cifar_resnet50");
  cli.option("recipe", "notebook", "notebook (Adam 1e-4, 15 epochs) or fast (96x96, SGD one-cycle, label smoothing, crop+flip, 5 epochs)");
  cli.option("weights", "", "ResNet50 weights: Keras .h5, TF.js folder/model.json or tinynet .tnck (empty: random init)");
  cli.option("size", "", "input resolution, CIFAR-10 resized with tf.image.resize semantics (default: the recipe's, 48 or 96)");
  cli.option("preprocess", "caffe", "caffe (RGB->BGR, subtract the ImageNet means) or unit ([0,1] RGB, as the notebook fed)");
  cli.option("bn", "train", "train (BatchNorm statistics adapt) or frozen (the base's BatchNorm stays in inference mode)");
  cli.option("head-epochs", "0", "two-phase schedule: train only the new head for this many epochs first");
  cli.flag("freeze-base", "train only the head for all epochs (feature extraction)");
  cli.parse(argc, argv);
  try {
    tinynet::init_threads_from_env();
    if (cli.given("threads")) tinynet::set_num_threads(static_cast<int>(cli.integer("threads")));
    ResNet50Settings settings;
    settings.recipe = cli.text("recipe");
    if (settings.recipe != "notebook" && settings.recipe != "fast") cli.die("--recipe must be notebook or fast");
    settings.weights = cli.text("weights");
    if (cli.given("size")) settings.size = cli.integer("size");
    const std::string preprocess = cli.text("preprocess"), bn = cli.text("bn");
    if (preprocess != "caffe" && preprocess != "unit") cli.die("--preprocess must be caffe or unit");
    if (bn != "train" && bn != "frozen") cli.die("--bn must be train or frozen");
    settings.caffe_preprocessing = preprocess == "caffe";
    settings.bn_frozen = bn == "frozen";
    settings.head_epochs = static_cast<int>(cli.integer("head-epochs"));
    if (settings.weights.empty())
      std::cout << "cifar_resnet50: no --weights given: training ResNet50 from a random initialisation" << std::endl;
    auto data = load_cifar_or_exit("cifar_resnet50", cli.text("data"));
    limit_dataset(data, cli.integer("limit"));
    CifarJob job = resnet50_recipe(settings);
    apply_common_flags(cli, job);
    if (cli.is_set("freeze-base")) job.frozen_epochs = job.epochs;
    run_cifar_job(job, data);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cifar_resnet50: " << e.what() << std::endl;
    return 1;
  }
}
