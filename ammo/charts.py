"""One PNG per scenario: requests/s and p50/p99 over time, from the series in results.json.

Written without a timestamp or version in the PNG's metadata, so the same series always gives
the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def chart(series: dict[str, list[float]], title: str, path: Path) -> bool:
    """Draw the scenario's series into path; False (nothing written) when there is none."""
    if not series or not series.get("t"):
        return False
    t = series["t"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    top.plot(t, series["rps"], color="tab:blue", label="requests/s")
    top.plot(t, series["failures_per_s"], color="tab:red", label="failures/s")
    top.set_ylabel("requests/s")
    top.legend(loc="lower right")
    top.grid(alpha=0.3)
    bottom.plot(t, series["p50_ms"], label="p50")
    bottom.plot(t, series["p99_ms"], label="p99")
    bottom.set_ylabel("ms (rolling window)")
    positive = any(v > 0 for v in series["p50_ms"] + series["p99_ms"])
    bottom.set_yscale("log" if positive else "linear")
    bottom.set_xlabel("seconds since the generator started (first, the log-in warm-up)")
    bottom.legend(loc="upper right")
    bottom.grid(alpha=0.3, which="both")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)
    return True
