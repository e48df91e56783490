"""Per-operator execution statistics (Dataset.stats())."""


class OperatorStats:
    def __init__(self, name):
        self.name = name
        self.num_blocks = 0
        self.rows = 0
        self.bytes = 0
        self.wall_s = 0.0
        self.cpu_s = 0.0
        self.task_wall = []

    def add(self, rows, nbytes, wall_s, cpu_s):
        self.num_blocks += 1
        self.rows += rows
        self.bytes += nbytes
        self.cpu_s += cpu_s
        if wall_s:
            self.task_wall.append(wall_s)

    def summary(self):
        lines = [f"Operator {self.name}: {self.num_blocks} blocks produced"]
        if self.task_wall:
            w = sorted(self.task_wall)
            lines.append(f"* Remote wall time: {w[0]:.3f}s min, {w[-1]:.3f}s max, "
                         f"{sum(w) / len(w):.3f}s mean, {sum(w):.3f}s total")
        elif self.wall_s:
            lines.append(f"* Wall time: {self.wall_s:.3f}s")
        lines.append(f"* Remote cpu time: {self.cpu_s:.3f}s total")
        lines.append(f"* Output num rows: {self.rows} total")
        lines.append(f"* Output size bytes: {self.bytes} total")
        return "\n".join(lines)


class DatasetStats:
    def __init__(self):
        self.operators = {}
        self.total_wall_s = 0.0

    def operator(self, name):
        key = name
        n = 1
        while key in self.operators and getattr(self.operators[key], "_closed", False):
            n += 1
            key = f"{name}_{n}"
        if key not in self.operators:
            self.operators[key] = OperatorStats(key)
        return self.operators[key]

    def to_summary(self):
        parts = [op.summary() for op in self.operators.values()]
        parts.append(f"Dataset iterator time breakdown:\n* Total time: {self.total_wall_s:.3f}s")
        return "\n\n".join(parts)
