// tinynet_onnx: tinynet models to ONNX files and back (docs/onnx.md).
//
//   tinynet_onnx export --run out/fast_cnn --to fast_cnn.onnx [--preprocessing]
//   tinynet_onnx export --from model.tnck --model fast|fast_relu|notebook|resnet50 [--size N] --to m.onnx
//   tinynet_onnx import --from model.onnx [--to model.tnck]
// export rebuilds the architecture (from a finished run folder, or --model and --size), loads
// the checkpoint and writes the inference graph; import reads an ONNX file into a Sequential,
// prints its summary and optionally saves its weights as a tinynet checkpoint.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "common/onnx_run_export.hpp"
#include "tinynet/io/checkpoint.hpp"
#include "tinynet/io/onnx_import.hpp"

using namespace tinynet;
using namespace tinynet_examples;

namespace {

struct ExportFlags {
  std::string run, checkpoint, model, to;
  std::int64_t size = 0;
  bool preprocessing = false;
  std::string input_name = "input", output_name = "logits";
};

// ensures: the job of architecture `model` ("notebook", "fast", "fast_relu" (the fast
// recipe's network before GELU) or "resnet50"), as its recipe builds it.
CifarJob job_for_architecture(const std::string& model) {
  if (model == "resnet50") return resnet50_recipe(ResNet50Settings{});
  if (model == "fast_relu") return scratch_recipe("fast", ImageDataset{}, fast_recipe_fixes_without("gelu"));
  check(model == "notebook" || model == "fast", "--model '", model, "': use notebook, fast, fast_relu or resnet50");
  return scratch_recipe(model, ImageDataset{});
}

// ensures: the export command carried out: the model rebuilt, its weights loaded, the ONNX file written.
int run_export(const ExportFlags& flags) {
  OnnxExportOptions options;
  options.input_name = flags.input_name;
  options.output_name = flags.output_name;
  std::unique_ptr<Sequential<float>> model;
  CifarJob job;
  if (!flags.run.empty()) {
    job = export_run_to_onnx(flags.run, flags.to, flags.preprocessing, options, &model);
  } else {
    check(!flags.preprocessing || (flags.model != "fast" && flags.model != "fast_relu"),
          "export --preprocessing: the fast recipe standardises with its training set's statistics, kept in its "
          "run folder; use --run DIR");
    job = job_for_architecture(flags.model);
    const std::int64_t size = flags.size > 0 ? flags.size : job.input_size > 0 ? job.input_size : 32;
    model = job.build(job);
    model->setup(Shape{3, size, size}, job.seed);
    CheckpointLoadOptions load;
    load.load_optimizer = false;
    load_checkpoint<float>(flags.checkpoint, *model, nullptr, load);
    if (flags.preprocessing) options.preprocessing = job.preprocessing;
    save_onnx<float>(flags.to, *model, options);
  }
  std::printf(
      "%s: %s (%lld parameters, input [N,%lld,%lld,%lld]%s) exported to %s (opset %lld)\n",
      flags.run.empty() ? flags.checkpoint.c_str() : flags.run.c_str(), model->name().c_str(),
      static_cast<long long>(model->parameters().size()), static_cast<long long>(model->input_shape()[0]),
      static_cast<long long>(model->input_shape()[1]), static_cast<long long>(model->input_shape()[2]),
      flags.preprocessing ? (", " + format_onnx_preprocessing(job.preprocessing) + " from 0..255 pixels").c_str() : "",
      flags.to.c_str(), static_cast<long long>(onnx_export_opset));
  return 0;
}

// ensures: the import command carried out: the summary printed, the weights saved when `to` is given.
int run_import(const std::string& from, const std::string& to) {
  const OnnxImport<float> imported = load_onnx<float>(from);
  imported.model->summary(std::cout);
  std::cout << "input '" << imported.input_name << "' [N," << imported.input_sample_shape.str().substr(1)
            << ", output '" << imported.output_name << "'";
  if (imported.preprocessing) std::cout << ", preprocessing " << format_onnx_preprocessing(*imported.preprocessing);
  std::cout << std::endl;
  if (!to.empty()) {
    save_checkpoint<float>(to, *imported.model, nullptr);
    std::cout << "weights saved to " << to << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinynet models to ONNX files and back (docs/onnx.md)"};
  app.require_subcommand(1);

  ExportFlags flags;
  CLI::App* exporter = app.add_subcommand("export", "write a trained tinynet model as an ONNX inference graph");
  auto* run = exporter->add_option("--run", flags.run, "a finished run folder (model.tnck, metrics.json)");
  auto* from = exporter->add_option("--from", flags.checkpoint, "a tinynet checkpoint (.tnck)")->excludes(run);
  exporter->add_option("--model", flags.model,
                       "the checkpoint's architecture: notebook, fast, fast_relu (fast runs before GELU) or resnet50")
      ->needs(from)
      ->check(CLI::IsMember({"notebook", "fast", "fast_relu", "resnet50"}));
  exporter->add_option("--size", flags.size, "input height and width (default: the recipe's)")->needs(from);
  exporter->add_option("--to", flags.to, "the ONNX file to write")->required();
  exporter->add_flag("--preprocessing", flags.preprocessing,
                     "lead the graph with the run's input preprocessing (then it takes 0..255 pixels)");
  exporter->add_option("--input-name", flags.input_name, "the graph input's name")->capture_default_str();
  exporter->add_option("--output-name", flags.output_name, "the graph output's name")->capture_default_str();

  std::string onnx_file, checkpoint;
  CLI::App* importer = app.add_subcommand("import", "read an ONNX model into tinynet and show it");
  importer->add_option("--from", onnx_file, "the ONNX file")->required();
  importer->add_option("--to", checkpoint, "save the imported weights as this tinynet checkpoint");

  CLI11_PARSE(app, argc, argv);
  try {
    if (exporter->parsed()) {
      check(!flags.run.empty() || (!flags.checkpoint.empty() && !flags.model.empty()),
            "export: give --run DIR, or --from CHECKPOINT with --model");
      return run_export(flags);
    }
    return run_import(onnx_file, checkpoint);
  } catch (const Error& e) {
    std::cerr << "tinynet_onnx: " << e.what() << std::endl;
    return 1;
  }
}
