// A data-parallel job whose rank `fail_rank` throws in its third step while the others wait
// in the gradient allreduce: run_or_abort must end every rank with that rank's message.
// Usage: mpirun -np N rank_failure FAIL_RANK   (run by tests/distributed/expect_abort.sh)
#include <cstdlib>
#include <vector>

#include "tinynet/distributed/mpi_communicator.hpp"

int main(int argc, char* argv[]) {
  tinynet::MpiCommunicator comm;
  const int fail_rank = argc > 1 ? std::atoi(argv[1]) : 1;
  return tinynet::run_or_abort(comm, "rank_failure", [&] {
    std::vector<float> gradients(1000, 1.0f);
    for (int step = 1; step <= 1000000; ++step) {
      if (comm.rank() == fail_rank && step == 3)
        tinynet::fail("simulated failure on rank ", fail_rank, " at step ", step);
      comm.allreduce_sum(gradients.data(), static_cast<std::int64_t>(gradients.size()));
      for (float& g : gradients) g /= static_cast<float>(comm.size());
    }
    return 0;
  });
}
