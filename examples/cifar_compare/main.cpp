// cifar_compare: the project's main job. Trains the scratch CNN and fine-tunes ResNet50
// on CIFAR-10 (the reference notebook's study) and writes a comparison report; also
// classifies image files with a saved model (predict) and scores one on a dataset
// (evaluate). See docs/getting-started.md.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include <stb_image.h>

#include "common/cifar_job.hpp"
#include "common/data_help.hpp"
#include "common/recipes.hpp"
#include "common/saved_run.hpp"
#include "common/standard_flags.hpp"
#include "tinynet/report/comparison_report.hpp"

using namespace tinynet_examples;

namespace {

// ensures: the report's view of a finished job, with the test images it got wrong.
ModelRun model_run(const CifarJobResult& r, const ImageDataset& test) {
  ModelRun run;
  run.name = r.name;
  run.approach = r.approach;
  run.architecture = r.architecture + " (input " + r.input_shape.str() + ")";
  run.device = "cpu (" + std::to_string(num_threads()) + " threads)";
  run.parameters = r.parameters;
  run.history = r.history;
  run.test_accuracy = r.test.accuracy;
  run.test_loss = r.test.loss;
  run.train_seconds = r.train_seconds;
  run.images_per_second = r.images_per_second;
  run.confusion = r.test.confusion;
  run.class_names = test.class_names;
  const std::int64_t per = test.sample_shape().numel();
  const int classes = static_cast<int>(test.class_names.size());
  for (const std::size_t i : mistakes_across_classes(r.test.predictions, test.labels, classes, 40)) {
    MisclassifiedSample m;
    m.index = static_cast<std::int64_t>(i);
    m.true_label = test.labels[i];
    m.predicted_label = r.test.predictions[i];
    m.image = Tensor<std::uint8_t>(test.sample_shape());
    std::copy(test.images.data() + i * per, test.images.data() + (i + 1) * per, m.image.data());
    run.mistakes.push_back(std::move(m));
  }
  return run;
}

// ensures: the job's result, trained now or read back when its folder says it finished.
CifarJobResult run_or_reuse(CifarJob job, const TrainTestSplit& data, bool force) {
  if (!force && is_finished_run(job.out_dir)) {
    std::cout << job.name << ": finished earlier, reusing " << job.out_dir << " (--force retrains)" << std::endl;
    return load_saved_run(job.out_dir).result;
  }
  job.resume = !force;  // an interrupted run continues from its checkpoint
  return run_cifar_job(job, data);
}

int train_and_report(int argc, char** argv) {
  CommandLine cli("cifar_compare", "Train the scratch CNN and fine-tune ResNet50 on CIFAR-10, then write the report.");
  add_standard_flags(cli, "out/comparison");
  cli.option("weights", "", "ResNet50 ImageNet weights (.h5, TF.js folder or .tnck); required unless --skip-resnet50");
  cli.option("scratch-recipe", "notebook", "notebook or fast");
  cli.option("scratch-epochs", "", "epochs of the scratch model (default: the recipe's)");
  cli.option("resnet50-recipe", "notebook", "notebook (48x48, Adam 1e-4, 15 epochs) or fast (96x96, SGD one-cycle, 5 epochs)");
  cli.option("resnet50-epochs", "", "epochs of ResNet50 (default: the recipe's)");
  cli.option("size", "", "ResNet50 input resolution (default: the recipe's, 48 or 96)");
  cli.flag("quick", "a short version for a first look: 5,000 training images; the scratch CNN 10 epochs, ResNet50 2 epochs at 32x32; into <out>-quick");
  cli.flag("skip-resnet50", "train and report only the scratch model");
  cli.flag("force", "retrain models whose folders already hold finished runs");
  cli.parse(argc, argv);
  tinynet::init_threads_from_env();
  if (cli.given("threads")) tinynet::set_num_threads(static_cast<int>(cli.integer("threads")));
  const bool quick = cli.is_set("quick");
  auto data = load_cifar_or_exit("cifar_compare", cli.text("data"));
  limit_dataset(data, quick && !cli.passed("limit") ? 5000 : cli.integer("limit"));
  // A quick run writes beside the full job's folder (<out>-quick), so a full job with the
  // same --out never takes its models for finished runs.
  const std::string out = quick ? cli.text("out") + "-quick" : cli.text("out");

  std::vector<CifarJobResult> results;
  CifarJob scratch = scratch_recipe(cli.text("scratch-recipe"), data.train);
  apply_common_flags(cli, scratch);
  scratch.out_dir = out + "/" + scratch.name;
  // 10 epochs of 70 steps: with fewer, BatchNorm's moving statistics (momentum 0.99) are
  // still far from the data and the scratch CNN scores chance level in inference mode.
  if (quick) scratch.epochs = 10;
  if (cli.given("scratch-epochs")) scratch.epochs = static_cast<int>(cli.integer("scratch-epochs"));
  results.push_back(run_or_reuse(scratch, data, cli.is_set("force")));

  if (!cli.is_set("skip-resnet50")) {
    ResNet50Settings settings;
    settings.weights = cli.text("weights");
    check(!settings.weights.empty(), "--weights is required (ResNet50 ImageNet weights; see docs/weights.md), "
          "or pass --skip-resnet50");
    settings.recipe = cli.text("resnet50-recipe");
    if (quick && !cli.passed("size")) settings.size = 32;
    else if (cli.given("size")) settings.size = cli.integer("size");
    CifarJob resnet = resnet50_recipe(settings);
    apply_common_flags(cli, resnet);
    resnet.out_dir = out + "/" + resnet.name;
    if (quick) resnet.epochs = 2;
    if (cli.given("resnet50-epochs")) resnet.epochs = static_cast<int>(cli.integer("resnet50-epochs"));
    results.push_back(run_or_reuse(resnet, data, cli.is_set("force")));
  }

  std::vector<ModelRun> runs;
  for (const auto& r : results) runs.push_back(model_run(r, data.test));
  write_comparison_report(runs, out);
  std::cout << "\nReport written to " << out << "/report.md and " << out << "/report.html\n";
  for (const auto& r : results)
    std::printf("  %-12s test accuracy %.2f%%, %.1f min training, %.0f images/s\n", r.name.c_str(),
                100 * r.test.accuracy, r.train_seconds / 60, r.images_per_second);
  return 0;
}

// ensures: an image file as a [3, H, W] uint8 dataset of one sample.
ImageDataset read_image(const std::string& path) {
  int w = 0, h = 0, channels = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &w, &h, &channels, 3);
  check(pixels != nullptr, "cannot read image '", path, "': ", stbi_failure_reason() ? stbi_failure_reason() : "?");
  ImageDataset d;
  d.class_names = {"?"};
  d.labels = {0};
  d.images = Tensor<std::uint8_t>(Shape{1, 3, h, w});
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < h * w; ++i) d.images[c * h * w + i] = pixels[i * 3 + c];
  stbi_image_free(pixels);
  return d;
}

int predict(int argc, char** argv) {
  CommandLine cli("cifar_compare predict", "Classify image files with a saved model: cifar_compare predict --run DIR --images A.png,B.jpg");
  cli.option("run", "", "a finished run folder (e.g. out/comparison/scratch_cnn)");
  cli.option("images", "", "comma-separated image files (any size; resized to the model's input)");
  cli.parse(argc, argv);
  std::unique_ptr<Sequential<float>> model;
  const SavedRun saved = load_saved_run(cli.text("run"), &model);
  model->set_training(false);
  const auto& shape = saved.result.input_shape;
  BatchFormat format = job_format(saved.job);
  const std::vector<std::string>& classes = saved.class_names;
  std::stringstream list(cli.text("images"));
  std::string path;
  while (std::getline(list, path, ',')) {
    const ImageDataset image = read_image(path);
    format.resize_height = shape[1];
    format.resize_width = shape[2];
    Batch batch;
    const std::int64_t index = 0;
    make_batch(image, &index, 1, format, batch);
    const Tensor<float>& logits = model->forward(batch.images);
    std::vector<std::pair<double, int>> ranked;
    double top = logits[0], sum = 0;
    for (int k = 0; k < logits.dim(1); ++k) top = std::max<double>(top, logits[k]);
    for (int k = 0; k < logits.dim(1); ++k) sum += std::exp(logits[k] - top);
    for (int k = 0; k < logits.dim(1); ++k) ranked.emplace_back(std::exp(logits[k] - top) / sum, k);
    std::sort(ranked.rbegin(), ranked.rend());
    std::cout << path << ":";
    for (int k = 0; k < 3 && k < static_cast<int>(ranked.size()); ++k)
      std::cout << "  " << classes.at(ranked[k].second) << " " << std::fixed << std::setprecision(1)
                << 100 * ranked[k].first << "%";
    std::cout << std::endl;
  }
  return 0;
}

int evaluate(int argc, char** argv) {
  CommandLine cli("cifar_compare evaluate", "Score a saved model on a dataset's test split.");
  cli.option("run", "", "a finished run folder (e.g. out/comparison/scratch_cnn)");
  cli.option("data", "", "CIFAR-10 folder (binary release or image folder)");
  cli.option("limit", "0", "use only N/5 test images");
  cli.parse(argc, argv);
  tinynet::init_threads_from_env();
  std::unique_ptr<Sequential<float>> model;
  const SavedRun saved = load_saved_run(cli.text("run"), &model);
  auto data = load_cifar_or_exit("cifar_compare evaluate", cli.text("data"));
  limit_dataset(data, cli.integer("limit"));
  SoftmaxCrossEntropy<float> loss;
  auto optimizer = saved.job.make_optimizer(saved.job);
  ConstantLr schedule(1e-3);
  Trainer<float> trainer(*model, loss, *optimizer, schedule);
  const Evaluation e = trainer.evaluate(data.test, job_format(saved.job), 256, true, saved.job.tta);
  std::printf("%s on %lld test images: accuracy %.2f%%, loss %.4f\n", saved.result.name.c_str(),
              static_cast<long long>(data.test.size()), 100 * e.accuracy, e.loss);
  std::printf("confusion matrix (rows: true class, columns: predicted):\n%12s", "");
  for (const auto& c : data.test.class_names) std::printf("%6.5s", c.c_str());
  std::printf("\n");
  for (int t = 0; t < e.confusion.num_classes(); ++t) {
    std::printf("%12s", data.test.class_names[t].c_str());
    for (int p = 0; p < e.confusion.num_classes(); ++p) std::printf("%6lld", static_cast<long long>(e.confusion.count(t, p)));
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "predict") return predict(argc - 1, argv + 1);
    if (mode == "evaluate") return evaluate(argc - 1, argv + 1);
    if (mode == "train") return train_and_report(argc - 1, argv + 1);
    return train_and_report(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "cifar_compare: " << e.what() << std::endl;
    return 1;
  }
}
