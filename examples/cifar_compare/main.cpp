// cifar_compare: the project's main job. Trains the scratch CNN and fine-tunes ResNet50
// on CIFAR-10 (the reference notebook's study) and writes a comparison report; also
// classifies image files with a saved model (predict) and scores one on a dataset
// (evaluate). See docs/getting-started.md.
#include <filesystem>
#include <iomanip>
#include <iostream>


#include "cifar_compare/report/comparison_report.hpp"
#include "common/cifar_job.hpp"
#include "common/data_help.hpp"
#include "common/recipes.hpp"
#include "common/saved_run.hpp"
#include "common/standard_flags.hpp"
#ifdef TINYNET_WITH_ONNX
#include "common/onnx_run_export.hpp"
#endif
#include "tinynet/data/image_folder.hpp"

using namespace tinynet_examples;

namespace {

// ensures: the report's view of a finished job, with the test images it got wrong.
ModelRun model_run(const CifarJobResult& r, const ImageDataset& test) {
  ModelRun run{r, {}};
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
    return read_run_result(job.out_dir);
  }
  job.resume = !force;  // an interrupted run continues from its checkpoint
  job.start_if_no_checkpoint = true;  // and a new one starts from scratch
  return run_cifar_job(job, data);
}

// The train command's flags beyond the standard ones.
struct CompareFlags {
  StandardFlags standard;
  std::string weights, scratch_recipe = "notebook", resnet50_recipe = "notebook";
  std::optional<int> scratch_epochs, resnet50_epochs, size;
  bool quick = false, skip_resnet50 = false, force = false, onnx = false;
};

// ensures: the train command's flags declared on `app` (the program itself).
void add_compare_flags(CLI::App& app, CompareFlags& f) {
  add_standard_flags(app, f.standard, "out/comparison");
  add_weights_flag(app, f.weights, "required unless --skip-resnet50");
  app.add_option("--scratch-recipe", f.scratch_recipe, "notebook or fast")
      ->check(CLI::IsMember({"notebook", "fast"}))
      ->capture_default_str();
  app.add_option("--scratch-epochs", f.scratch_epochs, "epochs of the scratch model (default: the recipe's)");
  app.add_option("--resnet50-recipe", f.resnet50_recipe,
                 "notebook (48x48, Adam 1e-4, 15 epochs) or fast (96x96, SGD one-cycle, 5 epochs)")
      ->check(CLI::IsMember({"notebook", "fast"}))
      ->capture_default_str();
  app.add_option("--resnet50-epochs", f.resnet50_epochs, "epochs of ResNet50 (default: the recipe's)");
  add_size_flag(app, f.size, "ResNet50 input resolution (default: the recipe's, 48 or 96)");
  app.add_flag("--quick", f.quick,
               "a short version for a first look (about 5 minutes on 2 cores): 5,000 images (4,500 to train); the "
               "scratch CNN 10 epochs; ResNet50 at 48x48, its ImageNet base frozen, 3 epochs of its new head; "
               "into <out>-quick");
  app.add_flag("--skip-resnet50", f.skip_resnet50, "train and report only the scratch model");
  app.add_flag("--force", f.force, "retrain models whose folders already hold finished runs");
#ifdef TINYNET_WITH_ONNX
  app.add_flag("--onnx", f.onnx,
               "also write each trained model as <out>/<run>/model.onnx: an ONNX graph taking 0..255 pixels at "
               "the model's input size (docs/onnx.md)");
#endif
}

// requires: `limit_named`: whether the command line named --limit.
void train_and_report(const CompareFlags& f, bool limit_named) {
  const StandardFlags& flags = f.standard;
  start_job(flags, "cifar_compare");
  auto data = load_cifar_or_exit("cifar_compare", flags.data);
  limit_dataset(data, f.quick && !limit_named ? 5000 : flags.limit);
  // A quick run writes beside the full job's folder (<out>-quick), so a full job with the
  // same --out never takes its models for finished runs.
  const std::string out = f.quick ? flags.out + "-quick" : flags.out;

  std::vector<CifarJobResult> results;
  CifarJob scratch = scratch_recipe(f.scratch_recipe, data.train);
  apply_common_flags(flags, scratch);
  scratch.out_dir = out + "/" + scratch.name;
  if (f.quick) scratch.epochs = 10;
  if (f.scratch_epochs) scratch.epochs = *f.scratch_epochs;
  results.push_back(run_or_reuse(scratch, data, f.force));

  if (!f.skip_resnet50) {
    ResNet50Settings settings;
    settings.weights = f.weights;
    check(!settings.weights.empty(), "--weights is required (ResNet50 ImageNet weights; see docs/weights.md), "
          "or pass --skip-resnet50");
    settings.recipe = f.resnet50_recipe;
    if (f.size) settings.size = *f.size;
    else if (f.quick) settings.size = 48;
    CifarJob resnet = resnet50_recipe(settings);
    apply_common_flags(flags, resnet);
    resnet.out_dir = out + "/" + resnet.name;
    if (f.quick) make_quick_look(resnet);
    if (f.resnet50_epochs) resnet.epochs = *f.resnet50_epochs;
    results.push_back(run_or_reuse(resnet, data, f.force));
  }

  if (!job_world().leader()) return;  // rank 0 writes the report
  std::vector<ModelRun> runs;
  for (const auto& r : results) runs.push_back(model_run(r, data.test));
  std::string note;
  if (f.quick) {
    note = "A quick look (--quick), not the study: " + std::to_string(data.train.size()) +
           " training images (a tenth of them held out for validation) and " + std::to_string(data.test.size()) +
           " test images; " + results[0].name + " " +
           std::to_string(results[0].history.epochs.size()) + " epochs";
    if (results.size() > 1)
      note += "; resnet50 at " + std::to_string(results[1].input_size) + "x" + std::to_string(results[1].input_size) +
              " with its ImageNet base frozen, three epochs of its new head alone";
    note += ". The full job (without --quick) trains on all the data for the recipes' epochs and scores far higher.";
  }
  write_comparison_report(runs, out, note);
  std::cout << "\nReport written to " << out << "/report.md and " << out << "/report.html\n";
  for (const auto& r : results)
    std::printf("  %-12s test accuracy %.2f%%, %.1f min training, %.0f images/s\n", r.name.c_str(),
                100 * r.test.accuracy, r.train_seconds / 60, r.images_per_second);
#ifdef TINYNET_WITH_ONNX
  if (f.onnx)
    for (const auto& r : results) {
      const std::string dir = out + "/" + r.name;
      OnnxExportOptions names;
      names.input_name = "pixels";
      names.output_name = "logits";
      export_run_to_onnx(dir, dir + "/model.onnx", true, names);
      std::cout << "  " << r.name << " exported to " << dir << "/model.onnx" << std::endl;
    }
#endif
}

// ensures: an image file as a [3, H, W] uint8 dataset of one sample; an Error naming the file
// and stb_image's reason (or that it gave none) when it cannot be decoded.
ImageDataset read_image(const std::string& path) {
  const Tensor<std::uint8_t> planes = read_rgb_image(path);
  ImageDataset d;
  d.class_names = {"?"};
  d.labels = {0};
  d.images = planes.reshaped(planes.shape().prepend(1));
  return d;
}

// The predict and evaluate commands' flags.
struct SavedRunFlags {
  std::string run, images, data;
  std::int64_t limit = 0;
};

// ensures: --run declared on `command` (required).
void add_run_flag(CLI::App& command, SavedRunFlags& f) {
  command.add_option("--run", f.run, "a finished run folder (e.g. out/comparison/scratch_cnn)")->required();
}

void predict(const SavedRunFlags& f) {
  std::unique_ptr<Sequential<float>> model;
  const SavedRun saved = load_saved_run(f.run, &model);
  model->set_training(false);
  const auto& shape = saved.result.input_shape;
  BatchFormat format = job_format(saved.job);
  const std::vector<std::string>& classes = saved.result.class_names;
  std::stringstream list(f.images);
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
}

void evaluate(const SavedRunFlags& f) {
  tinynet::init_threads_from_env();
  std::unique_ptr<Sequential<float>> model;
  const SavedRun saved = load_saved_run(f.run, &model);
  auto data = load_cifar_or_exit("cifar_compare evaluate", f.data);
  limit_dataset(data, f.limit);
  SoftmaxCrossEntropy<float> loss;
  auto optimizer = saved.job.make_optimizer(saved.job);
  ConstantLr schedule(1e-3);
  Trainer<float> trainer(*model, loss, *optimizer, schedule);
  const Evaluation e = trainer.evaluate(data.test, job_format(saved.job), eval_batch_size(saved.job, 1), true, saved.job.tta);
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
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Train the scratch CNN and fine-tune ResNet50 on CIFAR-10, then write the report "
               "(the options below; `train` names this default command).",
               "cifar_compare");
  CompareFlags compare;
  add_compare_flags(app, compare);
  app.add_subcommand("train", "train and write the report (the default; takes the options above)")->fallthrough();
  SavedRunFlags saved;
  CLI::App* predict_command = app.add_subcommand("predict", "classify image files with a saved model");
  add_run_flag(*predict_command, saved);
  predict_command->add_option("--images", saved.images, "comma-separated image files (any size; resized to the model's input)")
      ->required();
  CLI::App* evaluate_command = app.add_subcommand("evaluate", "score a saved model on a dataset's test split");
  add_run_flag(*evaluate_command, saved);
  add_data_flag(*evaluate_command, saved.data);
  add_limit_flag(*evaluate_command, saved.limit);
  app.require_subcommand(0, 1);
  parse_or_exit(app, argc, argv);
  try {
    if (*predict_command) predict(saved);
    else if (*evaluate_command) evaluate(saved);
    else train_and_report(compare, app.count("--limit") > 0);
    return 0;
  } catch (const std::exception& e) {
    return fail_job("cifar_compare", e);
  }
}
