// cifar_resnet50: ImageNet-pretrained ResNet50 fine-tuned on CIFAR-10 (the reference
// notebook's transfer-learning half). See docs/examples.md.
#include <iostream>
#include <utility>

#include "common/cifar_job.hpp"
#include "common/data_help.hpp"
#include "common/recipes.hpp"
#include "common/standard_flags.hpp"

using namespace tinynet_examples;

int main(int argc, char** argv) {
  CLI::App app("Fine-tune ImageNet ResNet50 on CIFAR-10 and report its test accuracy.", "cifar_resnet50");
  StandardFlags flags;
  add_standard_flags(app, flags, "out/cifar_resnet50");
  ResNet50Settings settings;
  std::string preprocess = "caffe", bn = "train";
  std::optional<int> size;
  bool freeze_base = false;
  app.add_option("--recipe", settings.recipe,
                 "notebook (Adam 1e-4, 15 epochs) or fast (96x96, SGD one-cycle, label smoothing, crop+flip, 5 epochs)")
      ->check(CLI::IsMember({"notebook", "fast"}))
      ->capture_default_str();
  add_weights_flag(app, settings.weights, "empty: random init");
  add_size_flag(app, size, "input resolution, CIFAR-10 resized with tf.image.resize semantics (default: the recipe's, 48 or 96)");
  app.add_option("--preprocess", preprocess, "caffe (RGB->BGR, subtract the ImageNet means) or unit ([0,1] RGB, as the notebook fed)")
      ->check(CLI::IsMember({"caffe", "unit"}))
      ->capture_default_str();
  app.add_option("--bn", bn, "train (BatchNorm statistics adapt) or frozen (the base's BatchNorm stays in inference mode)")
      ->check(CLI::IsMember({"train", "frozen"}))
      ->capture_default_str();
  app.add_option("--head-epochs", settings.head_epochs, "two-phase schedule: train only the new head for this many epochs first")
      ->capture_default_str();
  app.add_flag("--freeze-base", freeze_base, "train only the head for all epochs (feature extraction)");
  parse_or_exit(app, argc, argv);
  try {
    start_job(flags, "cifar_resnet50");
    if (size) settings.size = *size;
    settings.caffe_preprocessing = preprocess == "caffe";
    settings.bn_frozen = bn == "frozen";
    if (settings.weights.empty())
      std::cout << "cifar_resnet50: no --weights given: training ResNet50 from a random initialisation" << std::endl;
    auto data = load_cifar_or_exit("cifar_resnet50", flags.data);
    limit_dataset(data, flags.limit);
    CifarJob job = resnet50_recipe(settings);
    apply_common_flags(flags, job);
    if (freeze_base) job.first_phase_epochs = job.epochs;
    run_cifar_job(job, std::move(data));
    return 0;
  } catch (const std::exception& e) {
    return fail_job("cifar_resnet50", e);
  }
}
