#!/usr/bin/python3
"""Predicted data-parallel scaling efficiency: the cost model of docs/distributed.md.

    benchmarks/scaling_model.py --model fast:1975096:512:STEP_S --model resnet50:P:64:STEP_S \
        [--latency-us 5] [--overlap 0.6] [--hidden 0.77] [--nodes 8,16,32,64,128,256] [--gbits 10,25,100]

Each --model is NAME:PARAMETERS:BATCH_PER_NODE:SECONDS_PER_STEP, the step time measured on one
node (tinynet_dp_bench or tinynet_train_bench on that node, at that batch). Weak scaling: every
node keeps its batch, so the compute per step stays; what grows is the gradient allreduce:

    ring allreduce   T_ar = 2 (N-1)/N * 4 P / B  +  2 (N-1) * latency
    no overlap       efficiency = T_c / (T_c + T_ar)
    overlap          efficiency = T_c / (T_c + max((1 - hidden) * T_ar, T_ar - overlap * T_c))

with B the link bandwidth in bytes/s (each node sends and receives 2 (N-1)/N of the gradient
once per step), latency the per-message cost of one of the 2 (N-1) ring steps, and `overlap`
the fraction of the step during which buckets can travel (the backward pass after the last
layers' gradients are done: about 0.6 of a training step), and `hidden` the share of the
allreduce the bucket overlap hid when measured (tinynet_dp_bench: 0.77 for ResNet50 with 25 MB
buckets on 2 ranks; it is never all). Prints one table per model.
"""
import argparse


def efficiency(t_compute, params, nodes, gbits, latency_s, overlap, hidden_share):
    bandwidth = gbits * 1e9 / 8
    t_ar = 2 * (nodes - 1) / nodes * 4 * params / bandwidth + 2 * (nodes - 1) * latency_s
    plain = t_compute / (t_compute + t_ar)
    exposed = max((1 - hidden_share) * t_ar, t_ar - overlap * t_compute)
    return t_ar, plain, t_compute / (t_compute + exposed)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", required=True, help="NAME:PARAMETERS:BATCH:SECONDS_PER_STEP")
    parser.add_argument("--latency-us", type=float, default=5.0, help="per ring step (default 5 us: TCP on 10-100 GbE)")
    parser.add_argument("--overlap", type=float, default=0.6, help="share of the step that can hide communication")
    parser.add_argument("--hidden", type=float, default=0.77, help="share of the allreduce the overlap hides at best")
    parser.add_argument("--nodes", default="8,16,32,64,128,256")
    parser.add_argument("--gbits", default="10,25,100")
    args = parser.parse_args()
    nodes = [int(n) for n in args.nodes.split(",")]
    links = [float(g) for g in args.gbits.split(",")]
    for spec in args.model:
        name, params, batch, step = spec.split(":")
        params, batch, step = int(params), int(batch), float(step)
        print(f"\n{name}: {params:,} parameters ({4 * params / 1e6:.1f} MB of gradient), batch {batch} per node, "
              f"{step * 1e3:.0f} ms per step on one node ({batch / step:.0f} images/s)")
        header = "| nodes | " + " | ".join(f"{g:g} Gbit/s: allreduce ms, efficiency plain / overlapped" for g in links) + " |"
        print(header)
        print("|" + "---|" * (len(links) + 1))
        for n in nodes:
            cells = []
            for g in links:
                t_ar, plain, hidden = efficiency(step, params, n, g, args.latency_us * 1e-6, args.overlap, args.hidden)
                cells.append(f"{t_ar * 1e3:.0f} ms, {100 * plain:.0f}% / {100 * hidden:.0f}%")
            print(f"| {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
