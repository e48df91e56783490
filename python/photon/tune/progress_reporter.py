"""The live "Trial status" table printed while an experiment runs."""
import sys
import time

from photon.train._internal.utils import flatten_dict

_AUTO = {"done", "training_iteration", "trial_id", "date", "timestamp", "time_this_iter_s",
         "time_total_s", "pid", "hostname", "node_ip", "config", "time_since_restore",
         "iterations_since_restore", "checkpoint_dir_name"}


class CLIReporter:
    """Prints the trials' status, configs and latest metrics every max_report_frequency
    seconds and at the end (verbose=0: nothing)."""

    def __init__(self, metric_columns=None, parameter_columns=None, max_report_frequency=30,
                 verbose=1, metric=None, mode=None, file=None):
        self.metric_columns = metric_columns
        self.parameter_columns = parameter_columns
        self.max_report_frequency = max_report_frequency
        self.verbose = verbose
        self.metric, self.mode = metric, mode
        self._file = file
        self._last = 0.0
        self._start = time.monotonic()

    def start(self, controller):
        self._start = time.monotonic()
        if self.verbose:
            self._print(f"\nView detailed results here: {controller.experiment_path}\n")

    def maybe_report(self, controller):
        if self.verbose and time.monotonic() - self._last >= self.max_report_frequency:
            self.report(controller)

    def finish(self, controller):
        if self.verbose:
            self.report(controller, final=True)

    def report(self, controller, final=False):
        self._last = time.monotonic()
        self._print(self.table(controller.get_trials(), final=final))

    def table(self, trials, final=False):
        counts = {}
        for t in trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        elapsed = time.monotonic() - self._start
        lines = [("Trial status: " if not final else "Trial status (final): ")
                 + " | ".join(f"{n} {s}" for s, n in counts.items()),
                 f"Current time: {time.strftime('%Y-%m-%d %H:%M:%S')}. "
                 f"Total running time: {_duration(elapsed)}"]
        params = self._parameter_columns(trials)
        metrics = self._metric_columns(trials)
        header = ["Trial name", "status"] + params + ["iter", "total time (s)"] + metrics
        rows = []
        for t in trials:
            flat_config = flatten_dict(t.config)
            r = t.last_result or {}
            flat = flatten_dict({k: v for k, v in r.items() if k != "config"})
            rows.append([str(t), t.status] + [_cell(flat_config.get(p)) for p in params]
                        + [_cell(r.get("training_iteration")), _cell(r.get("time_total_s"))]
                        + [_cell(flat.get(m)) for m in metrics])
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        bar = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        lines.append(bar)
        lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
        lines.append(bar)
        for row in rows:
            lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
        lines.append(bar)
        errors = [t for t in trials if t.status == "ERROR"]
        if errors:
            lines.append(f"Number of errored trials: {len(errors)}")
            for t in errors:
                lines.append(f"  {t}: {t.error_file}")
        return "\n".join(lines) + "\n"

    def _parameter_columns(self, trials):
        if self.parameter_columns is not None:
            return list(self.parameter_columns)
        keys = []
        for t in trials:
            for k in t.evaluated_params or flatten_dict(t.config):
                if k not in keys:
                    keys.append(k)
        return keys[:8]

    def _metric_columns(self, trials):
        if self.metric_columns is not None:
            return list(self.metric_columns)
        keys = [self.metric] if self.metric else []
        for t in trials:
            for k, v in flatten_dict({k: v for k, v in (t.last_result or {}).items()
                                      if k not in _AUTO}).items():
                if k not in keys and isinstance(v, (int, float)):
                    keys.append(k)
        return keys[:6]

    def _print(self, text):
        print(text, file=self._file or sys.stdout, flush=True)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def _duration(seconds):
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}min {s}s" if m else f"{seconds:.2f}s"
