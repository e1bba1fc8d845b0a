// tinynet/distributed/nccl_communicator.hpp: the Communicator over NCCL (GPU ranks).
//
//   MpiCommunicator mpi;                       // the ranks meet over MPI (mpirun -np N ...)
//   NcclCommunicator nccl(mpi);                // one GPU a rank: local rank % GPUs
//   DataParallel<float> dp(nccl, model, options, &mpi);   // model on Device::cuda
//
// Buffers are device memory. Every operation runs on the communicator's own stream, ordered
// after the work already issued on the calling thread's compute stream (an event) and, for
// the blocking forms, finished before it returns. start_allreduce_sum() enqueues the sum and
// returns; test() polls its completion event; wait() blocks on it. abort() calls
// ncclCommAbort and then ends every rank through the bootstrap communicator. Needs the cuDNN
// backend and NCCL (the CMake target tinynet::nccl defines TINYNET_WITH_NCCL).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>
#include <nccl.h>

#include "tinynet/backend/device_stream.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/distributed/communicator.hpp"

namespace tinynet {

class NcclCommunicator final : public Communicator {
 public:
  // requires: bootstrap a host communicator over all ranks (MPI), alive as long as this one;
  // gpu -1 (local rank % visible GPUs, the local rank taken as rank % GPUs) or a device index.
  // ensures: this rank's GPU selected, the NCCL communicator made (rank 0's unique id
  // broadcast over the bootstrap), its stream created.
  explicit NcclCommunicator(Communicator& bootstrap, int gpu = -1) : bootstrap_(bootstrap) {
    int gpus = 0;
    check_cuda_call(cudaGetDeviceCount(&gpus), "cudaGetDeviceCount");
    check(gpus > 0, "NcclCommunicator: rank ", bootstrap.rank(), " sees no CUDA device");
    gpu_ = gpu >= 0 ? gpu : bootstrap.rank() % gpus;
    check(gpu_ < gpus, "NcclCommunicator: GPU ", gpu_, " asked, ", gpus, " visible");
    check_cuda_call(cudaSetDevice(gpu_), "cudaSetDevice");
    ncclUniqueId id;
    if (bootstrap.rank() == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    static_assert(sizeof(ncclUniqueId) % sizeof(double) == 0, "ncclUniqueId travels as doubles");
    std::vector<double> carrier(sizeof(ncclUniqueId) / sizeof(double));
    std::memcpy(carrier.data(), &id, sizeof id);
    bootstrap.broadcast(carrier.data(), static_cast<std::int64_t>(carrier.size()), 0);
    std::memcpy(&id, carrier.data(), sizeof id);
    check_nccl(ncclCommInitRank(&comm_, bootstrap.size(), id, bootstrap.rank()), "ncclCommInitRank");
    check_cuda_call(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    check_cuda_call(cudaEventCreateWithFlags(&issued_, cudaEventDisableTiming), "cudaEventCreate");
  }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;
  // ensures: the stream drained, NCCL and CUDA resources released.
  ~NcclCommunicator() override {
    cudaStreamSynchronize(stream_);
    for (cudaEvent_t e : done_) cudaEventDestroy(e);
    cudaEventDestroy(issued_);
    cudaStreamDestroy(stream_);
    ncclCommDestroy(comm_);
  }

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  int gpu() const { return gpu_; }
  Device device() const override { return Device::cuda; }
  std::string name() const override {
    int version = 0;
    ncclGetVersion(&version);
    return "NCCL " + std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
           std::to_string(version % 100) + " on GPU " + std::to_string(gpu_);
  }

  void allreduce_sum(float* data, std::int64_t count) override { wait(start(data, count, ncclFloat)); }
  void allreduce_sum(double* data, std::int64_t count) override { wait(start(data, count, ncclDouble)); }
  void broadcast(float* data, std::int64_t count, int root) override { bcast(data, count, ncclFloat, root); }
  void broadcast(double* data, std::int64_t count, int root) override { bcast(data, count, ncclDouble, root); }
  void barrier() override {
    check_cuda_call(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    bootstrap_.barrier();
  }

  Request start_allreduce_sum(float* data, std::int64_t count) override { return start(data, count, ncclFloat); }
  Request start_allreduce_sum(double* data, std::int64_t count) override { return start(data, count, ncclDouble); }
  bool test(Request request) override {
    const cudaError_t status = cudaEventQuery(event(request));
    if (status == cudaErrorNotReady) return false;
    check_cuda_call(status, "cudaEventQuery");
    return true;
  }
  void wait(Request request) override {
    check_cuda_call(cudaEventSynchronize(event(request)), "cudaEventSynchronize");
    free_.push_back(request);
  }

  [[noreturn]] void abort(const std::string& message, int exit_code = 1) override {
    ncclCommAbort(comm_);
    bootstrap_.abort(message, exit_code);
    std::_Exit(exit_code);  // not reached: the bootstrap's abort() ends the process
  }

 private:
  static void check_cuda_call(cudaError_t status, const char* operation) {
    check(status == cudaSuccess, "NcclCommunicator: ", operation, " failed: ", cudaGetErrorString(status));
  }
  void check_nccl(ncclResult_t status, const char* operation) const {
    check(status == ncclSuccess, "NcclCommunicator rank ", bootstrap_.rank(), " of ", bootstrap_.size(), ": ",
          operation, " failed: ", ncclGetErrorString(status));
  }
  cudaEvent_t event(Request request) const {
    check(request >= 0 && request < static_cast<Request>(done_.size()), "NcclCommunicator: unknown request ",
          request);
    return done_[static_cast<std::size_t>(request)];
  }
  // ensures: the communicator's stream waits for the work issued so far on the compute stream.
  void follow_compute_stream() {
    check_cuda_call(cudaEventRecord(issued_, device_compute_stream()), "cudaEventRecord");
    check_cuda_call(cudaStreamWaitEvent(stream_, issued_, 0), "cudaStreamWaitEvent");
  }
  Request start(void* data, std::int64_t count, ncclDataType_t type) {
    follow_compute_stream();
    check_nccl(ncclAllReduce(data, data, static_cast<std::size_t>(count), type, ncclSum, comm_, stream_),
               "ncclAllReduce");
    Request request;
    if (free_.empty()) {
      cudaEvent_t e = nullptr;
      check_cuda_call(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
      done_.push_back(e);
      request = static_cast<Request>(done_.size()) - 1;
    } else {
      request = free_.back();
      free_.pop_back();
    }
    check_cuda_call(cudaEventRecord(done_[static_cast<std::size_t>(request)], stream_), "cudaEventRecord");
    return request;
  }
  void bcast(void* data, std::int64_t count, ncclDataType_t type, int root) {
    check(root >= 0 && root < size(), "NcclCommunicator::broadcast: root ", root, " is not a rank of ", size());
    follow_compute_stream();
    check_nccl(ncclBroadcast(data, data, static_cast<std::size_t>(count), type, root, comm_, stream_),
               "ncclBroadcast");
    check_cuda_call(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

  Communicator& bootstrap_;
  int gpu_ = 0;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t issued_ = nullptr;      // the compute stream's progress, for the stream to wait on
  std::vector<cudaEvent_t> done_;     // each Request's completion event
  std::vector<Request> free_;         // finished Requests, for reuse
};

}  // namespace tinynet
