// benchmarks/allreduce.cpp: latency and bandwidth of the allreduce, through the Communicator
// and through MPI_Allreduce itself, in the manner of the OSU micro-benchmarks.
//
//   mpirun -np 2 tinynet_allreduce_bench [--max-mb 100] [--repeats 5] [--min-time 0.2] [--warmup 3]
//
// For each message size (4 KB to --max-mb, x4 each time, in floats) rank 0 prints the median
// over --repeats of the time of one allreduce (averaged over enough iterations to last
// --min-time seconds), for MpiCommunicator::allreduce_sum, for start_allreduce_sum + wait, and
// for raw MPI_Allreduce (MPI_IN_PLACE, MPI_FLOAT, MPI_SUM), run alternately; and the bus
// bandwidth of the Communicator's blocking form: 2 (N-1)/N x bytes / time (the bytes each rank
// sends and receives in a ring allreduce, as nccl-tests reports it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "bench_flags.hpp"
#include "tinynet/distributed/mpi_communicator.hpp"

namespace {

using namespace tinynet;
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ensures: seconds per call of `op`, over `iterations` calls, started together on all ranks.
double time_per_call(MpiCommunicator& comm, int iterations, const std::function<void()>& op) {
  comm.barrier();
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) op();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count() / iterations;
  comm.allreduce_sum(&seconds, 1);  // the ranks' mean
  return seconds / comm.size();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Allreduce latency and bandwidth: Communicator vs MPI_Allreduce (start with mpirun -np N)",
               "tinynet_allreduce_bench");
  double max_mb = 100;
  tinynet_bench::Timing timing{3, 5, 0.2};  // warm-up calls size the repeats
  app.add_option("--max-mb", max_mb, "largest message in MB")->capture_default_str();
  tinynet_bench::add_timing_flags(app, timing);
  tinynet_examples::parse_or_exit(app, argc, argv);
  const int repeats = timing.repeats;
  const double min_time = timing.min_seconds;
  MpiCommunicator comm;
  return run_or_abort(comm, "tinynet_allreduce_bench", [&] {
    const int N = comm.size();
    if (comm.rank() == 0) {
      std::printf("# %d ranks, %s; times in microseconds (median of %d), bus bandwidth in GB/s\n", N,
                  comm.name().c_str(), repeats);
      std::printf("%12s %14s %14s %14s %10s\n", "bytes", "communicator", "start+wait", "MPI_Allreduce", "bus GB/s");
    }
    for (std::int64_t bytes = 4096; bytes <= static_cast<std::int64_t>(max_mb * 1e6); bytes *= 4) {
      std::vector<float> data(static_cast<std::size_t>(bytes / 4), 1.0f);
      const std::int64_t count = static_cast<std::int64_t>(data.size());
      const std::function<void()> blocking = [&] { comm.allreduce_sum(data.data(), count); };
      const std::function<void()> started = [&] { comm.wait(comm.start_allreduce_sum(data.data(), count)); };
      const std::function<void()> raw = [&] {
        MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, comm.handle());
      };
      double probe = time_per_call(comm, timing.warmup, blocking);
      comm.broadcast(&probe, 1, 0);
      const int iterations = std::max(1, static_cast<int>(min_time / std::max(probe, 1e-7)));
      std::vector<double> a, b, c;
      for (int r = 0; r < repeats; ++r) {  // alternating, so drift hits all three alike
        a.push_back(time_per_call(comm, iterations, blocking));
        b.push_back(time_per_call(comm, iterations, started));
        c.push_back(time_per_call(comm, iterations, raw));
      }
      const double t = median(a);
      if (comm.rank() == 0)
        std::printf("%12lld %14.1f %14.1f %14.1f %10.2f\n", static_cast<long long>(bytes), 1e6 * t, 1e6 * median(b),
                    1e6 * median(c), 2.0 * (N - 1) / N * static_cast<double>(bytes) / t / 1e9);
    }
    return 0;
  });
}
