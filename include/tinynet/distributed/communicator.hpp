// tinynet/distributed/communicator.hpp: the collective operations data-parallel training needs.
//
// A Communicator joins the `size()` processes (ranks) of one training job. Every rank must
// call the collective operations (allreduce, broadcast, barrier) in the same order with the
// same element counts, as in MPI. Buffers live on `device()`: host memory for MPI, the GPU
// for NCCL. The non-blocking allreduce (start_allreduce_sum, then test / wait) lets gradient
// buckets travel while the backward pass goes on; requests finish in any order but are
// started in the same order on every rank.
//
// Implementations: SingleProcessCommunicator (below: size 1, every operation a no-op),
// MpiCommunicator (distributed/mpi_communicator.hpp, -DTINYNET_WITH_MPI), NcclCommunicator
// (distributed/nccl_communicator.hpp, with the cuDNN backend and NCCL).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "tinynet/core/tensor.hpp"

namespace tinynet {

class Communicator {
 public:
  using Request = int;  // a handle from start_allreduce_sum; valid until wait() returns

  virtual ~Communicator() = default;

  // ensures: this process's rank in [0, size()) and the number of ranks (>= 1).
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // ensures: where the buffers of the collective operations must live.
  virtual Device device() const = 0;
  // ensures: e.g. "MPI (Open MPI v4.1.4)", for logs.
  virtual std::string name() const = 0;

  // requires: data holds count elements on device(), on every rank.
  // ensures: on return every rank's data holds the element-wise sum over all ranks.
  virtual void allreduce_sum(float* data, std::int64_t count) = 0;
  virtual void allreduce_sum(double* data, std::int64_t count) = 0;
  // requires: as allreduce_sum; 0 <= root < size().
  // ensures: every rank's data holds root's values.
  virtual void broadcast(float* data, std::int64_t count, int root) = 0;
  virtual void broadcast(double* data, std::int64_t count, int root) = 0;
  // ensures: returns once every rank has called barrier().
  virtual void barrier() = 0;

  // requires: as allreduce_sum; data untouched by the caller until wait(request) returns.
  // ensures: the sum started; returns its request.
  virtual Request start_allreduce_sum(float* data, std::int64_t count) = 0;
  virtual Request start_allreduce_sum(double* data, std::int64_t count) = 0;
  // ensures: lets started requests progress; true when `request` has finished (its data then
  // holds the sum, and wait() returns at once).
  virtual bool test(Request request) = 0;
  // ensures: `request` finished (data holds the sum); the handle is released.
  virtual void wait(Request request) = 0;

  // ensures: `message` on stderr prefixed with this rank, then every rank of the job ends
  // with `exit_code` (MPI_Abort, ncclCommAbort): never returns, never hangs on the others.
  [[noreturn]] virtual void abort(const std::string& message, int exit_code = 1) = 0;
};

// The communicator of a job with one process: every collective leaves the data as it is.
class SingleProcessCommunicator final : public Communicator {
 public:
  explicit SingleProcessCommunicator(Device device = Device::cpu) : device_(device) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  Device device() const override { return device_; }
  std::string name() const override { return "single process"; }
  void allreduce_sum(float*, std::int64_t) override {}
  void allreduce_sum(double*, std::int64_t) override {}
  void broadcast(float*, std::int64_t, int) override {}
  void broadcast(double*, std::int64_t, int) override {}
  void barrier() override {}
  Request start_allreduce_sum(float*, std::int64_t) override { return 0; }
  Request start_allreduce_sum(double*, std::int64_t) override { return 0; }
  bool test(Request) override { return true; }
  void wait(Request) override {}
  [[noreturn]] void abort(const std::string& message, int exit_code = 1) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    std::exit(exit_code);
  }

 private:
  Device device_;
};

// ensures: body()'s result; when body throws, "<program>: <the exception's message>" ends every
// rank of the job through comm.abort() (exit code 1), so a failure on one rank never leaves
// the others waiting in a collective operation.
template <class Body>
int run_or_abort(Communicator& comm, const std::string& program, Body&& body) {
  std::string message;
  try {
    return body();
  } catch (const std::exception& e) {
    message = program + ": " + e.what();
  } catch (...) {
    message = program + ": an exception that is not a std::exception";
  }
  comm.abort(message);
  return 1;  // not reached: abort() ends the process
}

}  // namespace tinynet
