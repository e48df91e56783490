"""Checkpoint: a directory of files on a (pyarrow) filesystem, as Ray Train's."""
import contextlib
import json
import os
import shutil
import tempfile
import uuid

import pyarrow.fs

_METADATA_FILE = ".metadata.json"


def resolve_filesystem(path, filesystem=None):
    """(filesystem, path inside it) for a local path or a URI such as s3:// or file://."""
    path = os.fspath(path)
    if filesystem is not None:
        return filesystem, path
    if "://" in path:
        return pyarrow.fs.FileSystem.from_uri(path)
    return pyarrow.fs.LocalFileSystem(), os.path.abspath(os.path.expanduser(path))


def copy_dir(src_fs, src, dst_fs, dst):
    """Copy the directory src (on src_fs) to dst (on dst_fs), creating dst."""
    dst_fs.create_dir(dst, recursive=True)
    if isinstance(src_fs, pyarrow.fs.LocalFileSystem) and isinstance(dst_fs, pyarrow.fs.LocalFileSystem):
        shutil.copytree(src, dst, dirs_exist_ok=True)
        return
    pyarrow.fs.copy_files(src, dst, source_filesystem=src_fs, destination_filesystem=dst_fs)


class Checkpoint:
    """A reference to a directory of checkpoint files.

    Checkpoint.from_directory(d) refers to a local directory; the checkpoints a
    run reports are copied into its storage path and the Checkpoint handed back
    refers to the copy."""

    def __init__(self, path, filesystem=None):
        self.filesystem, self.path = resolve_filesystem(path, filesystem)
        self._uuid = uuid.uuid4()

    @classmethod
    def from_directory(cls, path):
        return cls(path)

    def _is_local(self):
        return isinstance(self.filesystem, pyarrow.fs.LocalFileSystem)

    def get_metadata(self):
        try:
            with self.filesystem.open_input_stream(f"{self.path}/{_METADATA_FILE}") as f:
                return json.loads(f.readall().decode())
        except FileNotFoundError:
            return {}

    def set_metadata(self, metadata):
        with self.filesystem.open_output_stream(f"{self.path}/{_METADATA_FILE}") as f:
            f.write(json.dumps(metadata).encode())

    def update_metadata(self, metadata):
        merged = self.get_metadata()
        merged.update(metadata)
        self.set_metadata(merged)

    def to_directory(self, path=None):
        """Copy the checkpoint's files into path (a new temporary directory if None); returns it."""
        if path is None:
            path = os.path.join(tempfile.gettempdir(), f"checkpoint_tmp_{self._uuid.hex}")
        path = os.fspath(path)
        copy_dir(self.filesystem, self.path, pyarrow.fs.LocalFileSystem(), os.path.abspath(path))
        return path

    @contextlib.contextmanager
    def as_directory(self):
        """The checkpoint as a local directory: its own path when it is local, else a
        temporary copy removed afterwards."""
        if self._is_local():
            yield self.path
            return
        tmp = self.to_directory()
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def __fspath__(self):
        raise TypeError("A Checkpoint is not a path: use checkpoint.path, or "
                        "`with checkpoint.as_directory() as d:` for a local directory.")

    def __eq__(self, other):
        return isinstance(other, Checkpoint) and (self.path, self.filesystem.type_name) == (
            other.path, other.filesystem.type_name)

    def __hash__(self):
        return hash(self.path)

    def __repr__(self):
        return f"Checkpoint(filesystem={self.filesystem.type_name}, path={self.path})"

    def __reduce__(self):
        return (Checkpoint, (self.path, self.filesystem))
