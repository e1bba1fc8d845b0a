// examples/common/distributed_setup.hpp: the examples' data-parallel launch (docs/distributed.md).
//
//   mpirun -np 2 build/examples/cifar_scratch --recipe fast ...     # 2 ranks, same flags
//
// A program started by mpirun (and built with MPI: tinynet::mpi) joins the job through an
// MpiCommunicator; started alone it runs as one process and never initialises MPI. The global
// batch is the --batch flag (each rank takes batch / ranks samples of it); --threads is per
// rank (default: the machine's cores shared out among the ranks on it).
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "tinynet/core/error.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/distributed/communicator.hpp"
#include "tinynet/distributed/data_parallel.hpp"
#ifdef TINYNET_WITH_MPI
#include "tinynet/distributed/mpi_communicator.hpp"
#endif
#ifdef TINYNET_WITH_NCCL
#include "tinynet/distributed/nccl_communicator.hpp"
#endif

namespace tinynet_examples {

struct DistributedFlags {
  bool sync_batch_norm = false;
  double bucket_mb = 25;
  bool no_overlap = false;
  std::optional<int> ranks;  // the world size the user expects
};

// ensures: --sync-bn, --bucket-mb, --no-overlap and --ranks declared on `app`.
inline void add_distributed_flags(CLI::App& app, DistributedFlags& flags) {
  app.add_flag("--sync-bn", flags.sync_batch_norm,
               "data-parallel runs: BatchNorm statistics of the global batch (synchronized over the ranks)");
  app.add_option("--bucket-mb", flags.bucket_mb, "data-parallel runs: gradient bucket size in MB (allreduce units)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--no-overlap", flags.no_overlap,
               "data-parallel runs: sum the gradients after the backward pass instead of during it");
  app.add_option("--ranks", flags.ranks,
                 "the number of ranks this run must have (an error when started otherwise; launch with mpirun -np N)")
      ->check(CLI::PositiveNumber);
}

// The job's processes: an MPI communicator under mpirun, else a single process; for GPU ranks
// also an NCCL communicator over them (the gradients' sums on the GPUs).
struct JobWorld {
  std::unique_ptr<tinynet::Communicator> comm;
  std::unique_ptr<tinynet::Communicator> gpu_comm;  // null unless GPU ranks with NCCL
  int local_ranks = 1;  // ranks on this machine
  tinynet::DataParallelOptions parallel;

  bool distributed() const { return comm->size() > 1; }
  bool leader() const { return comm->rank() == 0; }
};

// ensures: the world start_job() joined (a single process before that).
inline JobWorld& job_world() {
  static JobWorld world;
  if (!world.comm) world.comm = std::make_unique<tinynet::SingleProcessCommunicator>();
  return world;
}

// requires: called once, before any MPI use. ensures: job_world() is the world this process
// belongs to (an MPI one under mpirun; with `gpu` and several ranks, NCCL over it when built
// with NCCL) and the compute threads are set: --threads, else TINYNET_NUM_THREADS, else the
// cores shared out among this machine's ranks. An Error saying how to launch when --ranks
// disagrees with the world, or mpirun started a program built without MPI.
inline JobWorld& start_job(const std::optional<int>& threads, const DistributedFlags& flags, const std::string& program,
                           bool gpu = false) {
  JobWorld& world = job_world();
#ifdef TINYNET_WITH_MPI
  if (tinynet::started_by_mpi_launcher()) {
    auto mpi = std::make_unique<tinynet::MpiCommunicator>();
    world.local_ranks = mpi->local_size();
    world.comm = std::move(mpi);
  }
#else
  const char* launched = std::getenv("OMPI_COMM_WORLD_SIZE");
  tinynet::check(!launched || std::string(launched) == "1", program, ": started by mpirun with ", launched ? launched : "",
                 " ranks, but built without MPI: install libopenmpi-dev and rebuild (cmake finds it)");
#endif
  const int size = world.comm->size();
  tinynet::check(!flags.ranks || *flags.ranks == size, program, ": this is rank ", world.comm->rank(), " of ", size,
                 ", but --ranks ", flags.ranks.value_or(0), " was asked: start all ranks together with `mpirun -np ",
                 flags.ranks.value_or(0), " ", program,
                 " ...` (on several machines add --hostfile FILE; see docs/distributed.md)");
#ifdef TINYNET_WITH_NCCL
  if (gpu && size > 1) world.gpu_comm = std::make_unique<tinynet::NcclCommunicator>(*world.comm);
#else
  (void)gpu;  // GPU ranks without NCCL: DataParallel says the MPI communicator works on host memory
#endif
  world.parallel.sync_batch_norm = flags.sync_batch_norm;
  world.parallel.overlap = !flags.no_overlap;
  world.parallel.bucket_bytes = static_cast<std::int64_t>(flags.bucket_mb * 1024 * 1024);
  tinynet::init_threads_from_env();
  if (threads) {
    tinynet::set_num_threads(*threads);
  } else if (!std::getenv("TINYNET_NUM_THREADS") && world.local_ranks > 1) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    tinynet::set_num_threads(std::max(1, cores / world.local_ranks));
  }
  return world;
}

// ensures: the failure reported as "<program>: <message>"; in a data-parallel job every rank
// then ends (MPI_Abort: never a hang); otherwise returns the exit code 1.
inline int fail_job(const std::string& program, const std::exception& e) {
  JobWorld& world = job_world();
  if (world.distributed()) world.comm->abort(program + ": " + e.what());
  std::cerr << program << ": " << e.what() << std::endl;
  return 1;
}

}  // namespace tinynet_examples
