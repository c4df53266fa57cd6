"""Memory, compute and energy while a benchmark cell runs: a sampling thread, like nvidia-smi in a loop.

CPU side: resident memory of this process and its children (the vLLM worker or server and its engine
processes are children). GPU side, when NVML answers (nvidia-ml-py; absent or failing means no GPU and the
report says why), the utilization and energy metrics of EfficientLLM (Yuan et al., 2025, arXiv:2505.13840,
the efficiency-metrics section that defines AMU, PCU, AL, TT/ST/IT, AEC and MCR), each a time average over the
measured window [0, T]:

- AMU, average memory utilization = (1/T) * integral of used(t) / total dt  (a fraction of device memory);
- PCU, peak compute utilization = (1/T) * integral of achieved(t) / peak dt: despite its name a time average
  of the ratio of achieved to peak compute; NVML's SM-busy percentage (``utilization.gpu``) is the achieved
  fraction we can read, so PCU here is the time-averaged fraction of time a kernel ran (not FLOP utilization);
- AEC, average energy consumption = (1/T) * integral of P(t) dt, in watts (average power, not joules):
  the driver's energy counter difference / T where the GPU has one, else the time average of sampled power.
Time averages use the trapezoid rule over the sample timestamps. Joules per request are kept as a separate,
clearly named number. Windows excluded with ``paused()`` (evaluation inside a training run) count towards
none of these.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import numpy as np


def _nvml_handle():
    try:
        import pynvml

        pynvml.nvmlInit()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0]
        return pynvml, pynvml.nvmlDeviceGetHandleByIndex(int(visible) if visible.isdigit() else 0), None
    except Exception as e:  # ImportError, NVMLError (no driver / no GPU)
        return None, None, f"{type(e).__name__}: {e}"


def time_average(t: list[float], y: list[float]) -> float | None:
    """(1/T) * integral of y dt over the samples' span (trapezoid rule); the one sample's value if only one."""
    if not y:
        return None
    if len(y) == 1 or t[-1] == t[0]:
        return float(np.mean(y))
    return float(np.trapezoid(y, t) / (t[-1] - t[0]))


class ResourceMonitor:
    def __init__(self, interval_s: float = 0.1):
        import psutil

        self.interval_s = interval_s
        self.proc = psutil.Process()
        self.nvml, self.handle, self.gpu_reason = _nvml_handle()
        self.rss = []
        self.gpu_t, self.gpu_mem, self.sm, self.mem_busy, self.power_w = [], [], [], [], []
        self.excluded_s, self.excluded_mj = 0.0, 0.0
        self._stop, self._paused = threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def _tree_rss(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:  # a child that just exited
                pass
        return total

    def _sample(self) -> None:
        with self._lock:
            self.rss.append(self._tree_rss())
            if self.handle is not None:
                mem = self.nvml.nvmlDeviceGetMemoryInfo(self.handle)
                util = self.nvml.nvmlDeviceGetUtilizationRates(self.handle)
                # the clock excludes paused windows, so the integrals skip them
                self.gpu_t.append(time.perf_counter() - self.start - self.excluded_s)
                self.gpu_mem.append(mem.used / mem.total)
                self.sm.append(util.gpu / 100)
                self.mem_busy.append(util.memory / 100)
                try:
                    self.power_w.append(self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000)
                except Exception:  # no power sensor
                    pass

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            if not self._paused.is_set():
                self._sample()

    def _energy_mj(self) -> float | None:
        try:
            return float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle))
        except Exception:  # older GPUs have no energy counter
            return None

    @contextmanager
    def paused(self):
        """A window left out of every number (time, samples, energy): evaluation inside a training run."""
        self._paused.set()
        t0, e0 = time.perf_counter(), self._energy_mj() if self.handle is not None else None
        try:
            yield
        finally:
            e1 = self._energy_mj() if self.handle is not None else None
            with self._lock:
                self.excluded_s += time.perf_counter() - t0
                if e0 is not None and e1 is not None:
                    self.excluded_mj += e1 - e0
            self._paused.clear()

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
        self.wall_s = time.perf_counter() - self.start - self.excluded_s
        self.energy1 = self._energy_mj() if self.handle is not None else None

    def summary(self, requests: int | None = None) -> dict:
        """Peak / mean RSS (MB); on a GPU ``gpu`` = {amu, pcu, aec_w (EfficientLLM), energy_j, energy_j_per_request,
        peak_memory_utilization, peak_sm_utilization, mean_memory_busy}; without one ``gpu`` None and the reason."""
        out = {"samples": len(self.rss), "peak_rss_mb": max(self.rss) / 2**20,
               "mean_rss_mb": float(np.mean(self.rss)) / 2**20, "measured_s": self.wall_s}
        if self.handle is None:
            return out | {"gpu": None, "gpu_reason": self.gpu_reason}
        energy = None
        if self.energy0 is not None and self.energy1 is not None:
            energy = (self.energy1 - self.energy0 - self.excluded_mj) / 1000
        aec = energy / self.wall_s if energy is not None and self.wall_s > 0 else time_average(
            self.gpu_t[: len(self.power_w)], self.power_w)
        return out | {"gpu": {
            "name": self.nvml.nvmlDeviceGetName(self.handle),
            "amu": time_average(self.gpu_t, self.gpu_mem), "pcu": time_average(self.gpu_t, self.sm),
            "aec_w": aec, "aec_source": "energy counter" if energy is not None else "sampled power",
            "peak_memory_utilization": float(max(self.gpu_mem)), "peak_sm_utilization": float(max(self.sm)),
            "mean_memory_busy": time_average(self.gpu_t, self.mem_busy),
            "energy_j": energy,
            "energy_j_per_request": energy / requests if energy is not None and requests else None}}
