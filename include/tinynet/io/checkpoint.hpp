// tinynet/io/checkpoint.hpp: tinynet's own checkpoint format (docs/checkpoint-format.md).
//
// A checkpoint holds a model's parameters (names, kinds, shapes, values, BN moving
// statistics included), optionally an optimizer's state, the epoch reached, the
// states of the model's random generators, and free-form metadata. Files are written
// atomically and end with a CRC-32 of all their bytes (format version 2; version 1 files,
// without it, still load). Loading verifies the checksum first, checks every field's range
// and every size against the file before allocating, matches every name, kind and shape
// against the model, and refuses NaN or infinite values; it stages everything and changes
// the model, optimizer and generators only when the whole file is good. Every Error names
// the file, the field and the byte offset. Parameters are converted between float and double.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/core/finite.hpp"
#include "tinynet/io/atomic_file.hpp"
#include "tinynet/io/binary_stream.hpp"
#include "tinynet/io/checkpoint_file.hpp"
#include "tinynet/layers/layer.hpp"
#include "tinynet/optim/optimizer.hpp"

namespace tinynet {

struct CheckpointExtras {
  std::int64_t epoch = 0;                                     // epochs completed, 0..checkpoint_max_epoch
  std::vector<std::pair<std::string, std::string>> metadata;  // e.g. {"recipe", "notebook"}
};

struct CheckpointSaveOptions {
  bool allow_non_finite = false;  // save even when a value is NaN or infinite (a post-mortem)
};

struct CheckpointLoadOptions {
  bool load_optimizer = true;      // restore optimizer state when the file has one
  bool strict = true;              // every model parameter must be in the file, and nothing else
  std::string file_prefix;         // only entries under this prefix (stripped) are used, e.g. "resnet50/"
  std::string model_prefix;        // prepended to file names before matching the model's
  bool allow_non_finite = false;   // load NaN or infinite values (e.g. to inspect a diverged run)
};

namespace detail {
// ensures: t itself when it is on the host, else a host copy (checkpoints of a GPU model).
template <class T>
Tensor<T> on_host(const Tensor<T>& t) {
  return t.device() == Device::cpu ? t : to_device(t, Device::cpu);
}

// ensures: an Error naming `where` and the first non-finite value of `t`, unless all are finite.
template <class T>
void check_finite(const Tensor<T>& t, const std::string& where) {
  const std::int64_t i = first_non_finite(t.data(), t.numel());
  check(i < 0, where, " holds a non-finite value (", i < 0 ? T(0) : t[i], " at element ", i, " of ", t.numel(), ")");
}

// ensures: `count` values of the file's dtype read into dst (converted to T).
template <class T>
void get_values(BinaryReader& r, std::uint8_t dtype_bytes, T* dst, std::int64_t count, const char* what) {
  r.require_room(count, dtype_bytes, what);
  if (dtype_bytes == sizeof(T)) return r.get_array(dst, count, what);
  if (dtype_bytes == 4) {
    std::vector<float> tmp(static_cast<std::size_t>(count));
    r.get_array(tmp.data(), count, what);
    std::copy(tmp.begin(), tmp.end(), dst);
  } else {
    std::vector<double> tmp(static_cast<std::size_t>(count));
    r.get_array(tmp.data(), count, what);
    std::copy(tmp.begin(), tmp.end(), dst);
  }
}

// What load_checkpoint has read and checked, applied only when the whole file is good.
template <class T>
struct StagedCheckpoint {
  Tensor<T> values;                                  // the model's parameter buffer, updated
  bool restore_optimizer = false;
  std::int64_t iterations = 0;
  double learning_rate = 0;
  std::vector<Tensor<T>> optimizer_state;            // in the optimizer's state() order
  std::vector<std::pair<Rng*, Rng>> generators;      // model generator, restored copy
  CheckpointExtras extras;
};

// ensures: the parameter records of the file read into staged.values (those the model has)
// or skipped; an Error naming the file, the parameter and the offset on any bad field.
template <class T>
void read_checkpoint_parameters(BinaryReader& r, std::uint8_t dtype, const ParameterSet<T>& ps,
                                const CheckpointLoadOptions& options, StagedCheckpoint<T>& staged) {
  const std::string& path = r.source();
  std::vector<bool> seen(ps.entries().size(), false);
  const auto count = r.get<std::uint32_t>("parameter count");
  r.require_room(count, 6, "the parameter count");  // each record has at least 6 bytes
  for (std::uint32_t k = 0; k < count; ++k) {
    const std::string file_name = r.get_string("parameter name");
    const std::string where = path + ": parameter '" + file_name + "'";
    const auto kind = r.get<std::uint8_t>("parameter kind");
    check(kind <= 1, where, ": kind ", int(kind), " at byte offset ", r.offset() - 1, " (0 weight, 1 statistic)");
    const auto rank = r.get<std::uint8_t>("rank");
    check(rank <= Shape::max_rank, where, ": rank ", int(rank), " at byte offset ", r.offset() - 1, " (at most ",
          Shape::max_rank, ")");
    std::vector<std::int64_t> dims(rank);
    std::int64_t numel = 1;
    for (int d = 0; d < rank; ++d) {
      dims[d] = r.get<std::int64_t>("dimension");
      check(dims[d] >= 0 && (dims[d] == 0 || numel <= INT64_MAX / dims[d]), where, ": dimension ", d, " is ",
            dims[d], " at byte offset ", r.offset() - 8, " (negative or too large)");
      numel *= dims[d];
    }
    r.require_room(numel, dtype, where.substr(path.size() + 2) + "'s values");
    const Shape shape(dims);
    const bool wanted = file_name.compare(0, options.file_prefix.size(), options.file_prefix) == 0;
    const std::string name = options.model_prefix + file_name.substr(wanted ? options.file_prefix.size() : 0);
    int index = -1;
    for (std::size_t i = 0; wanted && i < ps.entries().size(); ++i)
      if (ps.entries()[i].name == name) index = static_cast<int>(i);
    if (index < 0) {
      check(!options.strict || !wanted, where, " ", shape, " does not exist in the model");
      r.skip(static_cast<std::uint64_t>(numel) * dtype, "skipped parameter");
      continue;
    }
    const auto& entry = ps.entries()[index];
    check(!seen[index], where, " appears twice");
    check(entry.shape == shape, path, ": parameter '", name, "' has shape ", shape, " in the file but ",
          entry.shape, " in the model");
    const ParameterKind file_kind = kind == 0 ? ParameterKind::weight : ParameterKind::statistic;
    check(entry.kind == file_kind, where, " is a ", kind == 0 ? "weight" : "statistic", " in the file but not in the model");
    const std::uint64_t values_offset = r.offset();
    Tensor<T> dst = staged.values.view(entry.offset, entry.shape);
    get_values(r, dtype, dst.data(), dst.numel(), file_name.c_str());
    if (!options.allow_non_finite)
      check_finite(dst, where + " (values at byte offset " + std::to_string(values_offset) + ")");
    seen[index] = true;
  }
  if (options.strict)
    for (std::size_t i = 0; i < seen.size(); ++i)
      check(seen[i], path, ": the model's parameter '", ps.entries()[i].name, "' ", ps.entries()[i].shape,
            " is missing from the file");
}

// ensures: the optimizer section read (and staged when it is to be restored); an Error naming
// the file, the field and the offset when a value is out of range or does not fit.
template <class T>
void read_checkpoint_optimizer(BinaryReader& r, std::uint8_t dtype, std::int64_t parameter_count,
                               Optimizer<T>* optimizer, const CheckpointLoadOptions& options,
                               StagedCheckpoint<T>& staged) {
  const std::string& path = r.source();
  const std::string opt_name = r.get_string("optimizer name");
  staged.iterations = r.get<std::int64_t>("optimizer iterations");
  check(staged.iterations >= 0, path, ": optimizer iterations ", staged.iterations, " at byte offset ",
        r.offset() - 8, " (must be >= 0)");
  staged.learning_rate = r.get<double>("learning rate");
  check(std::isfinite(staged.learning_rate) && staged.learning_rate >= 0, path, ": learning rate ",
        staged.learning_rate, " at byte offset ", r.offset() - 8, " (must be finite and >= 0)");
  staged.restore_optimizer = optimizer && options.load_optimizer;
  check(!staged.restore_optimizer || opt_name == optimizer->name(), path, ": holds ", opt_name,
        " state but the optimizer is ", optimizer ? optimizer->name() : "");
  std::vector<std::pair<std::string, Tensor<T>*>> state;
  if (staged.restore_optimizer) state = optimizer->state();
  const auto n = r.get<std::uint32_t>("optimizer state count");
  r.require_room(n, 12, "the optimizer state count");  // name length + size: 12 bytes at least
  check(!staged.restore_optimizer || n == state.size(), path, ": ", n, " optimizer state tensors, ", opt_name,
        " has ", state.size());
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::string name = r.get_string("optimizer state name");
    const auto numel = r.get<std::int64_t>("optimizer state size");
    const std::string where = path + ": optimizer state '" + name + "'";
    check(numel >= 0, where, ": size ", numel, " at byte offset ", r.offset() - 8, " (must be >= 0)");
    r.require_room(numel, dtype, "optimizer state '" + name + "'");
    if (!staged.restore_optimizer) {
      r.skip(static_cast<std::uint64_t>(numel) * dtype, "skipped optimizer state");
      continue;
    }
    check(state[k].first == name && (numel == parameter_count || numel == 0), where, " (", numel,
          " values) does not fit '", state[k].first, "' for a model of ", parameter_count, " parameters");
    const std::uint64_t values_offset = r.offset();
    Tensor<T> values(Shape{numel});
    get_values(r, dtype, values.data(), numel, name.c_str());
    if (!options.allow_non_finite)
      check_finite(values, where + " (values at byte offset " + std::to_string(values_offset) + ")");
    staged.optimizer_state.push_back(std::move(values));
  }
}

// ensures: the generator states read and checked against copies of the model's generators.
template <class T>
void read_checkpoint_generators(BinaryReader& r, Layer<T>& model, StagedCheckpoint<T>& staged) {
  std::vector<std::pair<std::string, Rng*>> rngs;
  model.collect_rngs(rngs);
  const auto n = r.get<std::uint32_t>("generator count");
  r.require_room(n, 8, "the generator count");
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::string name = r.get_string("generator name");
    const std::uint64_t state_offset = r.offset();
    const std::string state = r.get_string("generator state");
    for (auto& g : rngs) {
      if (g.first != name) continue;
      Rng restored;
      try {
        restored.restore(state);
      } catch (const Error& e) {
        fail(r.source(), ": generator '", name, "' (state at byte offset ", state_offset, "): ", e.what());
      }
      staged.generators.emplace_back(g.second, restored);
    }
  }
}
}  // namespace detail

// requires: no parameter or optimizer state holds NaN or infinity, unless options allow it;
// 0 <= extras.epoch <= checkpoint_max_epoch (both checked before anything is written).
// ensures: `path` holds model (and optimizer, when given) state in format version 2; written
// atomically (io/atomic_file.hpp).
template <class T>
void save_checkpoint(const std::string& path, Layer<T>& model, Optimizer<T>* optimizer,
                     const CheckpointExtras& extras = {}, const CheckpointSaveOptions& options = {}) {
  check(extras.epoch >= 0 && extras.epoch <= checkpoint_max_epoch, "save_checkpoint('", path, "'): epoch ",
        extras.epoch, " is outside 0..", checkpoint_max_epoch);
  const auto& ps = model.parameters();
  const Tensor<T> values = detail::on_host(ps.values());
  std::vector<std::pair<std::string, Tensor<T>>> state;
  if (optimizer)
    for (const auto& s : optimizer->state()) state.emplace_back(s.first, detail::on_host(*s.second));
  if (!options.allow_non_finite) {
    for (const auto& e : ps.entries())
      detail::check_finite(values.view(e.offset, e.shape), "save_checkpoint('" + path + "'): parameter '" + e.name + "'");
    for (const auto& s : state)
      detail::check_finite(s.second, "save_checkpoint('" + path + "'): optimizer state '" + s.first + "'");
  }
  write_file_atomically(path, [&](std::ostream& out) {
    BinaryWriter w(out);
    w.put_array(checkpoint_magic, 8);
    w.put<std::uint32_t>(checkpoint_version);
    w.put<std::uint32_t>(checkpoint_endian_marker);
    w.put<std::uint8_t>(sizeof(T));
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
      w.put<std::uint32_t>(static_cast<std::uint32_t>(state.size()));
      for (const auto& s : state) {
        w.put_string(s.first);
        w.put<std::int64_t>(s.second.numel());
        w.put_array(s.second.data(), s.second.numel());
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
    w.put<std::uint32_t>(w.checksum());
  });
}

// requires: model built with the architecture the file was saved from (see options).
// ensures: parameters (and optimizer state, RNG states) restored; returns the extras. On any
// Error (naming the file and the first bad, missing, unexpected or mis-shaped entry) nothing
// of the model, the optimizer or the generators has changed.
template <class T>
CheckpointExtras load_checkpoint(const std::string& path, Layer<T>& model, Optimizer<T>* optimizer,
                                 const CheckpointLoadOptions& options = {}) {
  check(model.device() == Device::cpu, "load_checkpoint('", path, "'): load into the model before moving it to ",
        device_name(model.device()), " (Layer::to)");
  const std::uint32_t version = verify_checkpoint_file(path);
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "load_checkpoint: cannot open '", path, "'");
  BinaryReader r(in, path);
  r.skip(12, "magic and version");  // checked by verify_checkpoint_file
  check(r.get<std::uint32_t>("endianness marker") == checkpoint_endian_marker, path, ": wrong byte order");
  const auto dtype = r.get<std::uint8_t>("dtype");
  check(dtype == 4 || dtype == 8, path, ": unknown dtype size ", int(dtype), " at byte offset 16 (4 or 8)");

  auto& ps = model.parameters();
  detail::StagedCheckpoint<T> staged;
  staged.values = ps.values().clone();
  detail::read_checkpoint_parameters(r, dtype, ps, options, staged);
  const auto optimizer_flag = r.get<std::uint8_t>("optimizer flag");
  check(optimizer_flag <= 1, path, ": optimizer flag ", int(optimizer_flag), " at byte offset ", r.offset() - 1,
        " (0 or 1)");
  if (optimizer_flag) detail::read_checkpoint_optimizer(r, dtype, ps.size(), optimizer, options, staged);
  staged.extras.epoch = r.get<std::int64_t>("epoch");
  check(staged.extras.epoch >= 0 && staged.extras.epoch <= checkpoint_max_epoch, path, ": epoch ",
        staged.extras.epoch, " at byte offset ", r.offset() - 8, " is outside 0..", checkpoint_max_epoch);
  detail::read_checkpoint_generators(r, model, staged);
  const auto n_meta = r.get<std::uint32_t>("metadata count");
  r.require_room(n_meta, 8, "the metadata count");
  for (std::uint32_t k = 0; k < n_meta; ++k) {
    std::string key = r.get_string("metadata key");
    staged.extras.metadata.emplace_back(std::move(key), r.get_string("metadata value", 1u << 26));
  }
  char end[4];
  r.get_array(end, 4, "end marker");
  check(std::string(end, 4) == "END!", path, ": corrupt end marker at byte offset ", r.offset() - 4);
  if (version >= 2) r.skip(4, "checksum");  // verified by verify_checkpoint_file
  check(r.remaining() == 0, path, ": ", r.remaining(), " unexpected bytes after the end marker at byte offset ",
        r.offset());

  ps.values().copy_from(staged.values);
  if (staged.restore_optimizer) {
    auto state = optimizer->state();
    for (std::size_t k = 0; k < state.size(); ++k) *state[k].second = std::move(staged.optimizer_state[k]);
    optimizer->set_iterations(staged.iterations);
    optimizer->set_learning_rate(staged.learning_rate);
  }
  for (auto& g : staged.generators) *g.first = g.second;
  return staged.extras;
}

}  // namespace tinynet
