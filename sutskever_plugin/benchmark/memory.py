"""Peak memory of the measured steps: resident set size sampled in a background thread."""
import os
import threading
import time


def current_rss():
    """This process' resident set size in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """Samples this process' resident set size every few ms in a background thread.

    torch's CPU allocator keeps no statistics, so the peak RSS over the measured steps
    is the honest figure; the delta over the RSS before the model was built is the
    model's own footprint (parameters, gradients, activations) up to allocator slack.
    """

    def __init__(self, interval=0.005):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss())
            time.sleep(self.interval)

    def __enter__(self):
        self.peak = current_rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss())
