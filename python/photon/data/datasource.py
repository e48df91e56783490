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
