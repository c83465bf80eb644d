"""Timing method shared by the Python peer scripts; the same method as tapeflow::bench.

One warm-up call; calibrate the calls per sample so that one sample lasts at least
`min_sample` seconds; then take `repeats` samples and report the MEDIAN seconds per call.
"""
import contextlib
import math
import statistics
import time

MAX_ITERATIONS = 10_000_000
QUICK = {"repeats": 5, "min_sample": 0.002}
FULL = {"repeats": 15, "min_sample": 0.01}


class WallClock:
    """Times a sample on the host: what a CPU library's calls cost."""

    def start(self):
        self._begin = time.perf_counter()

    def stop(self):
        return time.perf_counter() - self._begin


def _time_sample(fn, iterations, sample_context, clock):
    """Seconds for one sample: `iterations` calls inside one context.

    The context (e.g. a tf.GradientTape that records every call of the sample) is entered and
    left inside the timed region, so what it costs (releasing the recorded ops included) is
    spread over the sample's calls instead of being hidden.
    """
    clock.start()
    with sample_context():
        for _ in range(iterations):
            fn()
    return clock.stop()


def _iterations_for(seconds_per_call, min_sample):
    if seconds_per_call <= 0:
        return MAX_ITERATIONS
    return max(1, min(MAX_ITERATIONS, math.ceil(min_sample / seconds_per_call)))


def time_case(fn, repeats=15, min_sample=0.01, sample_context=None, clock=None):
    """Median seconds per call of fn().

    sample_context: optional zero-argument factory of a context manager opened once per
    sample (not per call), e.g. lambda: tf.GradientTape() or torch.no_grad.
    clock: start()/stop() -> seconds around each sample (default WallClock); a GPU peer passes
    one that synchronises and times with device events, as tapeflow::bench does on a GPU.
    """
    sample_context = sample_context or contextlib.nullcontext
    clock = clock or WallClock()
    with sample_context():
        fn()  # warm-up: allocator caches, lazy initialisation, tf.function tracing
    iterations = _iterations_for(_time_sample(fn, 1, sample_context, clock), min_sample)
    # Re-time once with that count: one call is a poor estimate for fast functions.
    measured = _time_sample(fn, iterations, sample_context, clock)
    if measured < 0.5 * min_sample or measured > 4 * min_sample:
        iterations = _iterations_for(measured / iterations, min_sample)
    samples = [_time_sample(fn, iterations, sample_context, clock) / iterations for _ in range(repeats)]
    return statistics.median(samples)
