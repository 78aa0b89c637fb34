"""python -m benchmarks [--record] [--only NAME ...] [--results DIR]: run the benchmarks one after another."""
from __future__ import annotations

import argparse
import sys

from benchmarks import data, grading, quality, throughput
from benchmarks.common import RESULTS_DIR, BenchmarkSkipped
from course_utils.data import DataError

BENCHMARKS = {"throughput": throughput, "data": data, "quality": quality, "grading": grading}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=sys.modules["benchmarks"].__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true",
                        help="the record versions (quality trains for about an hour: hvae 10 and 30 min, "
                             "conv and fc 10 min)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only these: {', '.join(BENCHMARKS)}")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="folder for the JSON results")
    args = parser.parse_args(argv)
    summaries = []
    for name in args.only or BENCHMARKS:
        module = BENCHMARKS[name]
        print(f"== {name} ({'record' if args.record else 'quick'})", flush=True)
        try:
            payload = module.run(module.RECORD if args.record else module.QUICK, args.record, args.results)
            summaries.append(payload["summary"])
        except BenchmarkSkipped as skipped:
            summaries.append(f"{name}: skipped: {skipped}")
            print(summaries[-1], flush=True)
        except DataError as error:
            parser.exit(2, f"error: {error}\n")
    print("== summary\n" + "\n".join(summaries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
