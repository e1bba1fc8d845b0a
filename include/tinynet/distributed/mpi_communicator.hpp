// tinynet/distributed/mpi_communicator.hpp: the Communicator over MPI (CPU ranks).
//
//   MpiCommunicator comm;                      // MPI_Init_thread unless MPI is initialised
//   if (comm.rank() == 0) ...                  // started by mpirun -np N program ...
//
// Needs an MPI library (Debian: openmpi-bin libopenmpi-dev) and -DTINYNET_WITH_MPI (the CMake
// target tinynet::mpi sets both). The communicator works on a duplicate of MPI_COMM_WORLD, so
// its traffic never mixes with the program's own MPI calls, and reports MPI failures as
// tinynet::Error (MPI_ERRORS_RETURN) naming the operation. Element counts above 2^30 are sent
// in pieces (MPI counts are int). Threads: only the thread that made the communicator calls
// MPI (MPI_THREAD_FUNNELED).
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1  // the C API only: no deprecated C++ bindings (libmpi_cxx)
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include "tinynet/core/error.hpp"
#include "tinynet/distributed/communicator.hpp"

namespace tinynet {

// ensures: whether this process was started by an MPI launcher (mpirun, mpiexec, srun), as
// its environment says (Open MPI, PMI and PMIx variables); no MPI call is made.
inline bool started_by_mpi_launcher() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(variable)) return true;
  return false;
}

class MpiCommunicator final : public Communicator {
 public:
  // ensures: MPI initialised (when it was not: then finalised by the destructor), the world
  // duplicated; an Error when MPI cannot give MPI_THREAD_FUNNELED.
  MpiCommunicator() {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS,
            "MpiCommunicator: MPI_Init_thread failed");
      owns_mpi_ = true;
      check(provided >= MPI_THREAD_FUNNELED, "MpiCommunicator: the MPI library gives thread level ", provided,
            ", tinynet needs MPI_THREAD_FUNNELED (", MPI_THREAD_FUNNELED, ")");
    }
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    MPI_Comm local;
    check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local), "MPI_Comm_split_type");
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;
  // ensures: unfinished requests waited for, the duplicate freed, MPI finalised if this made it.
  ~MpiCommunicator() override {
    for (auto& pieces : requests_)
      if (!pieces.empty()) MPI_Waitall(static_cast<int>(pieces.size()), pieces.data(), MPI_STATUSES_IGNORE);
    MPI_Comm_free(&comm_);
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (owns_mpi_ && !finalised) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  // ensures: the number of ranks on this machine (this one included).
  int local_size() const { return local_size_; }
  Device device() const override { return Device::cpu; }
  std::string name() const override {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(version, &length);
    std::string text(version, static_cast<std::size_t>(length));
    text = text.substr(0, text.find_first_of(",\n"));
    return "MPI (" + text + ")";
  }
  // ensures: the communicator MPI calls of the program may share (a duplicate of the world).
  MPI_Comm handle() const { return comm_; }

  void allreduce_sum(float* data, std::int64_t count) override { allreduce(data, count, MPI_FLOAT); }
  void allreduce_sum(double* data, std::int64_t count) override { allreduce(data, count, MPI_DOUBLE); }
  void broadcast(float* data, std::int64_t count, int root) override { bcast(data, count, MPI_FLOAT, root); }
  void broadcast(double* data, std::int64_t count, int root) override { bcast(data, count, MPI_DOUBLE, root); }
  void barrier() override { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

  Request start_allreduce_sum(float* data, std::int64_t count) override { return start(data, count, MPI_FLOAT); }
  Request start_allreduce_sum(double* data, std::int64_t count) override { return start(data, count, MPI_DOUBLE); }
  bool test(Request request) override {
    auto& pieces = pieces_of(request);
    int done = 0;
    check_mpi(MPI_Testall(static_cast<int>(pieces.size()), pieces.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall");
    return done != 0;
  }
  void wait(Request request) override {
    auto& pieces = pieces_of(request);
    check_mpi(MPI_Waitall(static_cast<int>(pieces.size()), pieces.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
    pieces.clear();
    free_.push_back(request);
  }

  [[noreturn]] void abort(const std::string& message, int exit_code = 1) override {
    std::fprintf(stderr, "tinynet rank %d of %d: %s\n", rank_, size_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }

 private:
  static constexpr std::int64_t piece = std::int64_t(1) << 30;  // elements per MPI call

  void check_mpi(int status, const char* operation) const {
    if (status == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, text, &length);
    fail("MpiCommunicator rank ", rank_, " of ", size_, ": ", operation, " failed: ", std::string(text, length));
  }
  template <class T>
  void allreduce(T* data, std::int64_t count, MPI_Datatype type) {
    for (std::int64_t at = 0; at < count; at += piece)
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + at, static_cast<int>(std::min(piece, count - at)), type, MPI_SUM,
                              comm_),
                "MPI_Allreduce");
  }
  template <class T>
  void bcast(T* data, std::int64_t count, MPI_Datatype type, int root) {
    check(root >= 0 && root < size_, "MpiCommunicator::broadcast: root ", root, " is not a rank of ", size_);
    for (std::int64_t at = 0; at < count; at += piece)
      check_mpi(MPI_Bcast(data + at, static_cast<int>(std::min(piece, count - at)), type, root, comm_), "MPI_Bcast");
  }
  template <class T>
  Request start(T* data, std::int64_t count, MPI_Datatype type) {
    Request request;
    if (free_.empty()) {
      request = static_cast<Request>(requests_.size());
      requests_.emplace_back();
    } else {
      request = free_.back();
      free_.pop_back();
    }
    auto& pieces = requests_[static_cast<std::size_t>(request)];
    for (std::int64_t at = 0; at < count; at += piece) {
      pieces.emplace_back();
      check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data + at, static_cast<int>(std::min(piece, count - at)), type, MPI_SUM,
                               comm_, &pieces.back()),
                "MPI_Iallreduce");
    }
    return request;
  }
  std::vector<MPI_Request>& pieces_of(Request request) {
    check(request >= 0 && request < static_cast<Request>(requests_.size()), "MpiCommunicator: unknown request ",
          request);
    return requests_[static_cast<std::size_t>(request)];
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1, local_size_ = 1;
  bool owns_mpi_ = false;
  std::vector<std::vector<MPI_Request>> requests_;  // the MPI requests of each Request
  std::vector<Request> free_;                       // finished Requests, for reuse
};

}  // namespace tinynet
