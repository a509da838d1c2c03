"""Independent oracle for the judge's count test: runs PyPI `savvi` (Lindon & Malek's multinomial tests)
over the seeded streams the TypeScript test generated, and prints where each stream was rejected.

Input (stdin, JSON):
  {"alpha": 0.05,
   "cases": [{"name": "...", "mode": "point" | "atMost" | "atLeast", "logRatio": 0.18,
              "exposure": [baselineRequests, candidateRequests],
              "streams": [[[baselineEvents, candidateEvents], ...], ...]}]}
Modes:
  point   savvi.multinomial.Multinomial(alpha, theta_0 = exposure shares): H0 "equal rates" (two-sided)
  atMost  InhomogeneousBernoulliProcess with H0 "delta_C - delta_B <= logRatio" (candidate within tolerance)
  atLeast InhomogeneousBernoulliProcess with H0 "delta_C - delta_B >= logRatio" (candidate worse than tolerance)
Output (stdout, JSON): {"savvi": version, "cases": {name: [{"rejectAt": window or null, "odds": last}, ...]}}
A stream stops being updated once rejected (the decision is final), which keeps the convex solves few.
"""
import json
import sys
from importlib.metadata import version

import numpy as np
from savvi.multinomial import InhomogeneousBernoulliProcess, Multinomial


def model(case, alpha):
    e = np.array(case["exposure"], dtype=float)
    rho = e / e.sum()
    if case["mode"] == "point":
        return Multinomial(alpha, rho)
    bound = case["logRatio"]
    if case["mode"] == "atMost":
        hypothesis = lambda d: [d[1] - d[0] <= bound]  # noqa: E731
    else:
        hypothesis = lambda d: [d[1] - d[0] >= bound]  # noqa: E731
    return InhomogeneousBernoulliProcess(alpha, rho, hypothesis, np.array([[-1, 1]]))


def main():
    spec = json.load(sys.stdin)
    alpha = spec["alpha"]
    out = {}
    for case in spec["cases"]:
        results = []
        for stream in case["streams"]:
            m = model(case, alpha)
            reject_at = None
            for i, counts in enumerate(stream):
                m.update(np.array(counts, dtype=np.int64))
                if m.odds >= 1 / alpha:
                    reject_at = i + 1
                    break
            results.append({"rejectAt": reject_at, "odds": float(m.odds)})
        out[case["name"]] = results
    json.dump({"savvi": version("savvi"), "cases": out}, sys.stdout)


if __name__ == "__main__":
    main()
