// tinynet/io/checkpoint.hpp: tinynet's own checkpoint format (docs/checkpoint-format.md).
//
// A checkpoint holds a model's parameters (names, kinds, shapes, values, BN moving
// statistics included), optionally an optimizer's state, the epoch reached, the
// states of the model's random generators, and free-form metadata. Files are written
// atomically. Loading checks every name and shape against the model and reports
// the first mismatch by name; parameters are converted between float and double.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/io/atomic_file.hpp"
#include "tinynet/io/binary_stream.hpp"
#include "tinynet/layers/layer.hpp"
#include "tinynet/optim/optimizer.hpp"

namespace tinynet {

constexpr char checkpoint_magic[8] = {'T', 'I', 'N', 'Y', 'N', 'E', 'T', '\0'};
constexpr std::uint32_t checkpoint_version = 1;
constexpr std::uint32_t checkpoint_endian_marker = 0x01020304;

struct CheckpointExtras {
  std::int64_t epoch = 0;                                     // epochs completed
  std::vector<std::pair<std::string, std::string>> metadata;  // e.g. {"recipe", "notebook"}
};

struct CheckpointLoadOptions {
  bool load_optimizer = true;      // restore optimizer state when the file has one
  bool strict = true;              // every model parameter must be in the file, and nothing else
  std::string file_prefix;         // only entries under this prefix (stripped) are used, e.g. "resnet50/"
  std::string model_prefix;        // prepended to file names before matching the model's
};

namespace detail {
// ensures: t itself when it is on the host, else a host copy (checkpoints of a GPU model).
template <class T>
Tensor<T> on_host(const Tensor<T>& t) {
  return t.device() == Device::cpu ? t : to_device(t, Device::cpu);
}

// ensures: `count` values of the file's dtype read into dst (converted to T).
template <class T>
void get_values(BinaryReader& r, std::uint8_t dtype_bytes, T* dst, std::int64_t count, const char* what) {
  if (dtype_bytes == sizeof(T)) return r.get_array(dst, count, what);
  if (dtype_bytes == 4) {
    std::vector<float> tmp(static_cast<std::size_t>(count));
    r.get_array(tmp.data(), count, what);
    for (std::int64_t i = 0; i < count; ++i) dst[i] = static_cast<T>(tmp[i]);
  } else {
    std::vector<double> tmp(static_cast<std::size_t>(count));
    r.get_array(tmp.data(), count, what);
    for (std::int64_t i = 0; i < count; ++i) dst[i] = static_cast<T>(tmp[i]);
  }
}
}  // namespace detail

// ensures: `path` holds model (and optimizer, when given) state; written atomically.
template <class T>
void save_checkpoint(const std::string& path, Layer<T>& model, Optimizer<T>* optimizer,
                     const CheckpointExtras& extras = {}) {
  write_file_atomically(path, [&](std::ostream& out) {
    BinaryWriter w(out);
    w.put_array(checkpoint_magic, 8);
    w.put<std::uint32_t>(checkpoint_version);
    w.put<std::uint32_t>(checkpoint_endian_marker);
    w.put<std::uint8_t>(sizeof(T));
    const auto& ps = model.parameters();
    const Tensor<T> values = detail::on_host(ps.values());
    w.put<std::uint32_t>(static_cast<std::uint32_t>(ps.entries().size()));
    for (const auto& e : ps.entries()) {
      w.put_string(e.name);
      w.put<std::uint8_t>(e.kind == ParameterKind::weight ? 0 : 1);
      w.put<std::uint8_t>(static_cast<std::uint8_t>(e.shape.rank()));
      for (int d = 0; d < e.shape.rank(); ++d) w.put<std::int64_t>(e.shape[d]);
      w.put_array(values.data() + e.offset, e.shape.numel());
    }
    w.put<std::uint8_t>(optimizer ? 1 : 0);
    if (optimizer) {
      w.put_string(optimizer->name());
      w.put<std::int64_t>(optimizer->iterations());
      w.put<double>(optimizer->learning_rate());
      const auto state = optimizer->state();
      w.put<std::uint32_t>(static_cast<std::uint32_t>(state.size()));
      for (const auto& s : state) {
        w.put_string(s.first);
        w.put<std::int64_t>(s.second->numel());
        const Tensor<T> state = detail::on_host(*s.second);
        w.put_array(state.data(), state.numel());
      }
    }
    w.put<std::int64_t>(extras.epoch);
    std::vector<std::pair<std::string, Rng*>> rngs;
    model.collect_rngs(rngs);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(rngs.size()));
    for (const auto& r : rngs) {
      w.put_string(r.first);
      w.put_string(r.second->state());
    }
    w.put<std::uint32_t>(static_cast<std::uint32_t>(extras.metadata.size()));
    for (const auto& kv : extras.metadata) {
      w.put_string(kv.first);
      w.put_string(kv.second);
    }
    w.put_array("END!", 4);
  });
}

// requires: model built with the architecture the file was saved from (see options).
// ensures: parameters (and optimizer state, RNG states) restored; returns the extras.
// An Error names the file and the first missing, unexpected or mis-shaped parameter.
template <class T>
CheckpointExtras load_checkpoint(const std::string& path, Layer<T>& model, Optimizer<T>* optimizer,
                                 const CheckpointLoadOptions& options = {}) {
  check(model.device() == Device::cpu, "load_checkpoint('", path, "'): load into the model before moving it to ",
        device_name(model.device()), " (Layer::to)");
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "load_checkpoint: cannot open '", path, "'");
  BinaryReader r(in, path);
  char magic[8];
  r.get_array(magic, 8, "magic");
  check(std::equal(magic, magic + 8, checkpoint_magic), path, ": not a tinynet checkpoint (bad magic)");
  const auto version = r.get<std::uint32_t>("version");
  check(version == checkpoint_version, path, ": checkpoint version ", version, ", this tinynet reads ",
        checkpoint_version);
  check(r.get<std::uint32_t>("endianness marker") == checkpoint_endian_marker, path, ": wrong byte order");
  const auto dtype = r.get<std::uint8_t>("dtype");
  check(dtype == 4 || dtype == 8, path, ": unknown dtype size ", int(dtype));

  auto& ps = model.parameters();
  std::vector<bool> seen(ps.entries().size(), false);
  const auto count = r.get<std::uint32_t>("parameter count");
  for (std::uint32_t k = 0; k < count; ++k) {
    const std::string file_name = r.get_string("parameter name");
    r.get<std::uint8_t>("parameter kind");
    const auto rank = r.get<std::uint8_t>("rank");
    check(rank <= Shape::max_rank, path, ": parameter '", file_name, "' has rank ", int(rank), " at byte offset ",
          r.offset());
    std::vector<std::int64_t> dims(rank);
    for (auto& d : dims) d = r.get<std::int64_t>("dimension");
    const Shape shape(dims);
    const bool wanted = file_name.compare(0, options.file_prefix.size(), options.file_prefix) == 0;
    const std::string name = options.model_prefix + file_name.substr(wanted ? options.file_prefix.size() : 0);
    int index = -1;
    for (std::size_t i = 0; wanted && i < ps.entries().size(); ++i)
      if (ps.entries()[i].name == name) index = static_cast<int>(i);
    if (index < 0) {
      check(!options.strict || !wanted, path, ": parameter '", file_name, "' ", shape,
            " does not exist in the model (", model.type(), " '", model.name(), "')");
      std::vector<char> skip(static_cast<std::size_t>(shape.numel()) * dtype);
      r.get_array(skip.data(), static_cast<std::int64_t>(skip.size()), "skipped parameter");
      continue;
    }
    const auto& entry = ps.entries()[index];
    check(entry.shape == shape, path, ": parameter '", name, "' has shape ", shape, " in the file but ",
          entry.shape, " in the model");
    Tensor<T> dst = ps.value(index);
    detail::get_values(r, dtype, dst.data(), dst.numel(), file_name.c_str());
    seen[index] = true;
  }
  if (options.strict)
    for (std::size_t i = 0; i < seen.size(); ++i)
      check(seen[i], path, ": the model's parameter '", ps.entries()[i].name, "' ", ps.entries()[i].shape,
            " is missing from the file");

  if (r.get<std::uint8_t>("optimizer flag")) {
    const std::string opt_name = r.get_string("optimizer name");
    const auto iterations = r.get<std::int64_t>("optimizer iterations");
    const auto learning_rate = r.get<double>("learning rate");
    const bool restore = optimizer && options.load_optimizer;
    check(!restore || opt_name == optimizer->name(), path, ": holds ", opt_name, " state but the optimizer is ",
          optimizer ? optimizer->name() : "");
    std::vector<std::pair<std::string, Tensor<T>*>> state;
    if (restore) state = optimizer->state();
    const auto n = r.get<std::uint32_t>("optimizer state count");
    check(!restore || n == state.size(), path, ": ", n, " optimizer state tensors, ", opt_name, " has ",
          state.size());
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::string name = r.get_string("optimizer state name");
      const auto numel = r.get<std::int64_t>("optimizer state size");
      if (!restore) {
        std::vector<char> skip(static_cast<std::size_t>(numel) * dtype);
        r.get_array(skip.data(), static_cast<std::int64_t>(skip.size()), "skipped optimizer state");
        continue;
      }
      check(state[k].first == name && (numel == ps.size() || numel == 0), path, ": optimizer state '", name, "' (", numel,
            " values) does not fit '", state[k].first, "' for a model of ", ps.size(), " parameters");
      state[k].second->resize(Shape{numel});
      detail::get_values(r, dtype, state[k].second->data(), numel, name.c_str());
    }
    if (restore) {
      optimizer->set_iterations(iterations);
      optimizer->set_learning_rate(learning_rate);
    }
  }

  CheckpointExtras extras;
  extras.epoch = r.get<std::int64_t>("epoch");
  std::vector<std::pair<std::string, Rng*>> rngs;
  model.collect_rngs(rngs);
  const auto n_rngs = r.get<std::uint32_t>("generator count");
  for (std::uint32_t k = 0; k < n_rngs; ++k) {
    const std::string name = r.get_string("generator name");
    const std::string state = r.get_string("generator state");
    for (auto& g : rngs)
      if (g.first == name) g.second->restore(state);
  }
  const auto n_meta = r.get<std::uint32_t>("metadata count");
  for (std::uint32_t k = 0; k < n_meta; ++k) {
    std::string key = r.get_string("metadata key");
    extras.metadata.emplace_back(std::move(key), r.get_string("metadata value", 1u << 26));
  }
  char end[4];
  r.get_array(end, 4, "end marker");
  check(std::string(end, 4) == "END!", path, ": corrupt end marker at byte offset ", r.offset() - 4);
  return extras;
}

}  // namespace tinynet
