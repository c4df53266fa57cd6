"""Memory, compute and energy while a benchmark cell runs: a sampling thread, like nvidia-smi in a loop.

CPU side: resident memory of this process and its children (the vLLM worker or server and its engine
processes are children). GPU side, when NVML answers (nvidia-ml-py; absent or failing means no GPU and the
report says why): EfficientLLM's AMU (average memory utilization = mean used / total), PCU (peak compute
utilization = max SM busy %), and AEC (energy from the driver's counter, joules per cell and per request).
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np


def _nvml_handle():
    try:
        import pynvml

        pynvml.nvmlInit()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0]
        return pynvml, pynvml.nvmlDeviceGetHandleByIndex(int(visible) if visible.isdigit() else 0), None
    except Exception as e:  # ImportError, NVMLError (no driver / no GPU)
        return None, None, f"{type(e).__name__}: {e}"


class ResourceMonitor:
    def __init__(self, interval_s: float = 0.1):
        import psutil

        self.interval_s = interval_s
        self.proc = psutil.Process()
        self.nvml, self.handle, self.gpu_reason = _nvml_handle()
        self.rss, self.gpu_mem, self.sm, self.mem_busy = [], [], [], []
        self._stop = threading.Event()

    def _tree_rss(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:  # a child that just exited
                pass
        return total

    def _sample(self) -> None:
        self.rss.append(self._tree_rss())
        if self.handle is not None:
            mem = self.nvml.nvmlDeviceGetMemoryInfo(self.handle)
            util = self.nvml.nvmlDeviceGetUtilizationRates(self.handle)
            self.gpu_mem.append(mem.used / mem.total)
            self.sm.append(util.gpu)
            self.mem_busy.append(util.memory)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _energy_mj(self) -> float | None:
        try:
            return float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle))
        except Exception:  # older GPUs have no energy counter
            return None

    def __enter__(self):
        self.start = time.perf_counter()
        self.energy0 = self._energy_mj() if self.handle is not None else None
        self._sample()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()
        self._sample()
        self.wall_s = time.perf_counter() - self.start
        self.energy1 = self._energy_mj() if self.handle is not None else None

    def summary(self, requests: int) -> dict:
        out = {"samples": len(self.rss), "peak_rss_mb": max(self.rss) / 2**20, "mean_rss_mb": float(np.mean(self.rss)) / 2**20}
        if self.handle is None:
            return out | {"gpu": None, "gpu_reason": self.gpu_reason}
        energy = (self.energy1 - self.energy0) / 1000 if self.energy0 is not None and self.energy1 is not None else None
        return out | {"gpu": {
            "name": self.nvml.nvmlDeviceGetName(self.handle),
            "amu": float(np.mean(self.gpu_mem)), "peak_memory_utilization": float(max(self.gpu_mem)),
            "pcu": float(max(self.sm)) / 100, "mean_sm_utilization": float(np.mean(self.sm)) / 100,
            "mean_memory_busy": float(np.mean(self.mem_busy)) / 100,
            "energy_j": energy, "aec_j_per_request": energy / requests if energy is not None and requests else None,
            "mean_power_w": energy / self.wall_s if energy is not None else None}}
