"""Speed and quality measurements of the course's code, each printed as one summary line and saved as JSON.

    python -m benchmarks [--record] [--only NAME ...]      all four, quick (a few minutes) or record versions
    python -m benchmarks.NAME --help                      one of them, with its own options
    python -m benchmarks.report                           BENCHMARKS.md from benchmarks/results/*.json

    throughput  training-step images/s and GFLOP/s of the FC, conv and residual VAEs vs float32 matmul
    data        batches/s of the in-memory cache vs JPEG and pickle decoding, vs the training step's need
    quality     test bits/dim within a wall-clock budget on real CIFAR-10, vs published numbers
    grading     autograder seconds per submission, and submissions/minute with grade-folder

Each run writes benchmarks/results/<name>.json (quick) or <name>-record.json (record) with the machine it ran on.
"""
