"""File datasources and sinks: resolving paths (local files, globs,
folders, any pyarrow filesystem or URI) into read tasks, and writing blocks
out, one file per block, from tasks."""
import glob as globlib
import io
import json
import os
import posixpath

import pyarrow as pa
import pyarrow.fs as pafs

from photon.data import block as B


def _filesystem_and_path(path, filesystem):
    if filesystem is not None:
        return filesystem, path
    if "://" in path:
        fs, p = pafs.FileSystem.from_uri(path)
        return fs, p
    return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(path))


def _hidden(name):
    base = posixpath.basename(name)
    return base.startswith(".") or base.startswith("_")


def expand_paths(paths, filesystem=None, file_extensions=None):
    """[(filesystem, file path, size)] for `paths`: files, folders (walked,
    hidden files skipped) and glob patterns. Raises FileNotFoundError naming
    a path that matches nothing."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [os.fspath(paths)]
    if not paths:
        raise ValueError("Must provide at least one path.")
    out = []
    for path in paths:
        path = os.fspath(path)
        fs, p = _filesystem_and_path(path, filesystem)
        matches = []
        if isinstance(fs, pafs.LocalFileSystem) and any(c in p for c in "*?["):
            matches = sorted(globlib.glob(p, recursive=True))
            if not matches:
                raise FileNotFoundError(f"No files found matching the pattern '{path}'")
            infos = fs.get_file_info(matches)
        else:
            info = fs.get_file_info(p)
            if info.type == pafs.FileType.NotFound:
                raise FileNotFoundError(f"No such file or directory: '{path}'")
            infos = [info]
        for info in infos:
            if info.type == pafs.FileType.Directory:
                sel = pafs.FileSelector(info.path, recursive=True)
                for f in sorted(fs.get_file_info(sel), key=lambda f: f.path):
                    rel = f.path[len(info.path):]
                    if f.type == pafs.FileType.File and not any(
                            _hidden(part) for part in rel.split("/") if part):
                        out.append((fs, f.path, f.size))
            elif info.type == pafs.FileType.File:
                out.append((fs, info.path, info.size))
    if file_extensions is not None:
        exts = tuple("." + e.lstrip(".").lower() for e in file_extensions)
        out = [f for f in out if f[1].lower().endswith(exts)]
    if not out:
        raise FileNotFoundError(f"No input files found in {list(paths)}"
                                + (f" with extensions {file_extensions}" if file_extensions
                                   else ""))
    return out


def group_files(files, num_tasks):
    """Splits the file list into at most num_tasks groups of similar bytes."""
    num_tasks = max(1, min(num_tasks, len(files)))
    groups = [[] for _ in range(num_tasks)]
    sizes = [0] * num_tasks
    for f in sorted(files, key=lambda f: -(f[2] or 0)):
        i = sizes.index(min(sizes))
        groups[i].append(f)
        sizes[i] += f[2] or 0
    for g in groups:
        g.sort(key=lambda f: f[1])
    groups = [g for g in groups if g]
    groups.sort(key=lambda g: g[0][1])
    return groups


class ReadFiles:
    """A read task: reads its files with `reader(fs, path) -> Table` and
    adds a "path" column with include_paths."""

    def __init__(self, files, reader, include_paths=False):
        self.files = [(fs, p) for fs, p, _ in files]
        self.reader = reader
        self.include_paths = include_paths

    def __call__(self):
        tables = []
        for fs, path in self.files:
            t = self.reader(fs, path)
            if self.include_paths:
                t = t.append_column("path", pa.array([path] * t.num_rows, pa.string()))
            tables.append(t)
        return B.concat(tables)


class ParquetReader:
    def __init__(self, columns=None, filter=None, schema=None):
        self.columns = columns
        self.filter = filter
        self.schema = schema

    def __call__(self, fs, path):
        import pyarrow.parquet as pq
        return pq.read_table(path, filesystem=fs, columns=self.columns, filters=self.filter,
                             schema=self.schema)


class CsvReader:
    def __init__(self, read_options=None, parse_options=None, convert_options=None):
        self.read_options = read_options
        self.parse_options = parse_options
        self.convert_options = convert_options

    def __call__(self, fs, path):
        import pyarrow.csv as pacsv
        with fs.open_input_stream(path) as f:
            return pacsv.read_csv(f, read_options=self.read_options,
                                  parse_options=self.parse_options,
                                  convert_options=self.convert_options)


class JsonReader:
    def __init__(self, lines=None):
        self.lines = lines

    def __call__(self, fs, path):
        import pyarrow.json as pajson
        with fs.open_input_stream(path) as f:
            data = f.read()
        if self.lines is not False:
            try:
                return pajson.read_json(io.BytesIO(data))
            except pa.ArrowInvalid:
                if self.lines:
                    raise
        value = json.loads(data)
        if isinstance(value, dict):
            value = [value]
        return B.table_from_rows(value)


class TextReader:
    def __init__(self, encoding="utf-8", drop_empty_lines=True):
        self.encoding = encoding
        self.drop_empty_lines = drop_empty_lines

    def __call__(self, fs, path):
        with fs.open_input_stream(path) as f:
            text = f.read().decode(self.encoding)
        lines = text.splitlines()
        if self.drop_empty_lines:
            lines = [line for line in lines if line.strip()]
        return pa.table({"text": pa.array(lines, pa.string())})


class BinaryReader:
    def __call__(self, fs, path):
        with fs.open_input_stream(path) as f:
            data = f.read()
        return pa.table({"bytes": pa.array([data], pa.binary())})


class NumpyReader:
    def __call__(self, fs, path):
        import numpy as np
        with fs.open_input_stream(path) as f:
            arr = np.load(io.BytesIO(f.read()), allow_pickle=False)
        return B.table_from_columns({"data": arr})


class ImageReader:
    def __init__(self, size=None, mode=None):
        self.size = size
        self.mode = mode

    def __call__(self, fs, path):
        import numpy as np
        try:
            from PIL import Image
        except ImportError as e:
            raise ImportError("read_images needs Pillow: pip install pillow") from e
        with fs.open_input_stream(path) as f:
            img = Image.open(io.BytesIO(f.read()))
            if self.mode is not None:
                img = img.convert(self.mode)
            if self.size is not None:
                h, w = self.size
                img = img.resize((w, h))
            arr = np.asarray(img)
        return B.table_from_columns({"image": [arr]})


# ---- writing ------------------------------------------------------------------------


def prepare_output_dir(path, filesystem=None):
    fs, p = _filesystem_and_path(os.fspath(path), filesystem)
    fs.create_dir(p, recursive=True)
    return fs, p


def write_block(table, fs, directory, filename, fmt, options):
    path = posixpath.join(directory, filename)
    if fmt == "parquet":
        import pyarrow.parquet as pq
        pq.write_table(table, path, filesystem=fs, **options)
    elif fmt == "csv":
        import pyarrow.csv as pacsv
        with fs.open_output_stream(path) as f:
            pacsv.write_csv(table, f, **options)
    elif fmt == "json":
        with fs.open_output_stream(path) as f:
            for row in B.rows_of(table):
                f.write((json.dumps(_jsonable(row), **options) + "\n").encode())
    elif fmt == "numpy":
        import numpy as np
        column = options["column"]
        buf = io.BytesIO()
        np.save(buf, B.column_to_numpy(table.column(column)))
        with fs.open_output_stream(path) as f:
            f.write(buf.getvalue())
    else:
        raise ValueError(f"unknown format {fmt}")
    return path


def _jsonable(v):
    import numpy as np
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


# ---- custom datasources and sinks (Ray's Datasource / ReadTask / Datasink) ------------


class ReadTask:
    """One read task of a Datasource: read_fn() returns an iterable of blocks
    (pyarrow Tables, pandas DataFrames or dicts of columns); metadata says what it
    reads (num_rows, size_bytes) before it runs."""

    def __init__(self, read_fn, metadata, schema=None, per_task_row_limit=None):
        self._read_fn = read_fn
        self._metadata = metadata
        self._schema = schema
        self._per_task_row_limit = per_task_row_limit

    @property
    def metadata(self):
        return self._metadata

    @property
    def schema(self):
        return self._schema

    @property
    def read_fn(self):
        return self._read_fn

    @property
    def per_task_row_limit(self):
        return self._per_task_row_limit

    @property
    def num_rows(self):
        return self._metadata.num_rows if self._metadata is not None else None

    def __call__(self):
        blocks = self._read_fn()
        if isinstance(blocks, (pa.Table, dict)) or hasattr(blocks, "columns"):
            blocks = [blocks]
        tables = [B.from_batch(b) for b in blocks]
        table = B.concat(tables) if tables else pa.table({})
        if self._per_task_row_limit is not None:
            table = table.slice(0, self._per_task_row_limit)
        return table


class Datasource:
    """Subclass with get_read_tasks(parallelism) -> [ReadTask] (and
    estimate_inmemory_data_size()) and read it with photon.data.read_datasource."""

    def get_name(self):
        name = type(self).__name__
        return name[:-len("Datasource")] if name.endswith("Datasource") and name != "Datasource" else name

    def estimate_inmemory_data_size(self):
        return None

    def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
        raise NotImplementedError(f"{type(self).__name__} must implement get_read_tasks().")

    @property
    def supports_distributed_reads(self):
        return True


class WriteResult:
    """What Datasink.on_write_complete receives: rows and bytes written and every
    write task's return value."""

    def __init__(self, num_rows, size_bytes, write_returns):
        self.num_rows = num_rows
        self.size_bytes = size_bytes
        self.write_returns = write_returns

    def __repr__(self):
        return (f"WriteResult(num_rows={self.num_rows}, size_bytes={self.size_bytes}, "
                f"write_returns={self.write_returns!r})")


class TaskContext:
    """What a write task knows about itself."""

    def __init__(self, task_idx, op_name="Write", kwargs=None):
        self.task_idx = task_idx
        self.op_name = op_name
        self.kwargs = kwargs or {}


class Datasink:
    """Subclass with write(blocks, ctx) and write a dataset with ds.write_datasink(sink):
    on_write_start() on the driver, write() in a task per block, then
    on_write_complete(WriteResult) (or on_write_failed(error))."""

    def on_write_start(self, schema=None):
        pass

    def write(self, blocks, ctx):
        raise NotImplementedError(f"{type(self).__name__} must implement write().")

    def on_write_complete(self, write_result):
        pass

    def on_write_failed(self, error):
        pass

    def get_name(self):
        name = type(self).__name__
        return name[:-len("Datasink")] if name.endswith("Datasink") and name != "Datasink" else name

    @property
    def supports_distributed_writes(self):
        return True

    @property
    def min_rows_per_write(self):
        return None


def write_block_to_sink(sink, table, task_idx):
    """A write task: (rows, bytes, what sink.write returned)."""
    value = sink.write([table], TaskContext(task_idx, f"Write{sink.get_name()}"))
    return table.num_rows, table.nbytes, value
