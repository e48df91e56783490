"""Packages of runtime_env working_dir and py_modules: a folder zipped (with
its .gitignore files and the env's `excludes` honoured), named by the hash of
its content, stored once in the GCS's key-value store, and unpacked once per
node under the session's runtime_resources folder.

URIs are gcs://_photon_pkg_<sha1>.zip (gcs://_ray_pkg_<hash>.zip, what Ray's
job client uploads, is accepted too)."""
import fcntl
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile

from photon import _photon
from photon._private import config

KV_NAMESPACE = "runtime_env_pkgs"
_URI_RE = re.compile(r"^gcs://_(photon|ray)_pkg_[0-9a-f]{8,64}\.zip$")
_ALWAYS_EXCLUDED = (".git/",)


def check_uri(uri):
    if not isinstance(uri, str) or not _URI_RE.match(uri):
        raise ValueError(f"{uri!r} is not a runtime_env package URI "
                         "(gcs://_photon_pkg_<hash>.zip)")


def _max_bytes():

    return config.setting("runtime_env_working_dir_max_bytes")


def _spec(patterns):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _files(root, excludes):
    """The files under `root` to pack: relative paths, sorted, without what
    `excludes` or a .gitignore (of root or a subfolder) leaves out."""
    top = _spec(list(_ALWAYS_EXCLUDED) + list(excludes or []))
    out = []
    ignores = []  # (folder relative to root, PathSpec of its .gitignore)

    def ignored(rel, is_dir):
        probe = rel + "/" if is_dir else rel
        if top.match_file(probe):
            return True
        for base, spec in ignores:
            if base and not rel.startswith(base + "/"):
                continue
            sub = rel[len(base) + 1:] if base else rel
            if spec.match_file(sub + "/" if is_dir else sub):
                return True
        return False

    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        rel_folder = "" if rel_folder == "." else rel_folder.replace(os.sep, "/")
        gi = os.path.join(folder, ".gitignore")
        if os.path.isfile(gi):
            with open(gi, errors="replace") as f:
                ignores.append((rel_folder, _spec(f.read().splitlines())))
        keep = []
        for d in sorted(dirs):
            rel = f"{rel_folder}/{d}" if rel_folder else d
            if not ignored(rel, True):
                keep.append(d)
        dirs[:] = keep
        for name in sorted(files):
            rel = f"{rel_folder}/{name}" if rel_folder else name
            path = os.path.join(folder, name)
            if os.path.islink(path) and not os.path.exists(path):
                continue
            if not ignored(rel, False):
                out.append(rel)
    return sorted(out)


def pack(path, excludes=None, include_parent=False, what="working_dir"):
    """(zip bytes, URI) of a folder (or a .zip file, taken as is). With
    include_parent the folder itself is the zip's top entry (py_modules: the
    package folder lands on sys.path's entry by its name)."""
    limit = _max_bytes()
    if os.path.isfile(path) and path.endswith(".zip"):
        with open(path, "rb") as f:
            data = f.read()
        if len(data) > limit:
            raise ValueError(f"runtime_env {what} {path} is {len(data):,} bytes, more than "
                             f"runtime_env_working_dir_max_bytes ({limit:,})")
        return data, f"gcs://_photon_pkg_{hashlib.sha1(data).hexdigest()}.zip"
    if not os.path.isdir(path):
        raise ValueError(f"runtime_env {what} {path!r} is not an existing folder or .zip file")
    root = os.path.abspath(path)
    prefix = os.path.basename(root.rstrip("/")) + "/" if include_parent else ""
    digest = hashlib.sha1()
    buf = io.BytesIO()
    total = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in _files(root, excludes):
            full = os.path.join(root, rel)
            try:
                total += os.path.getsize(full)
                with open(full, "rb") as f:
                    content = f.read()
            except OSError:
                continue  # went away while packing
            if total > limit * 4:
                break  # far beyond the limit compressed too: stop reading
            digest.update(rel.encode() + b"\0" + content + b"\0")
            info = zipfile.ZipInfo(prefix + rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (os.stat(full).st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)
    data = buf.getvalue()
    if len(data) > limit:
        raise ValueError(f"runtime_env {what} {path} packs to {len(data):,} bytes, more than "
                         f"runtime_env_working_dir_max_bytes ({limit:,}); leave large files out "
                         "with runtime_env 'excludes' or a .gitignore")
    digest.update(prefix.encode())
    return data, f"gcs://_photon_pkg_{digest.hexdigest()}.zip"


def package_exists(uri, gcs_address=""):
    return _photon.state_kv_get(KV_NAMESPACE, uri.encode(), gcs_address) is not None


def store_package(uri, data, gcs_address=""):
    check_uri(uri)
    if len(data) > _max_bytes():
        raise ValueError(f"package {uri} is {len(data):,} bytes, more than "
                         f"runtime_env_working_dir_max_bytes ({_max_bytes():,})")
    try:
        zipfile.ZipFile(io.BytesIO(data)).testzip()
    except zipfile.BadZipFile:
        raise ValueError(f"package {uri} is not a zip file") from None
    _photon.state_kv_put(KV_NAMESPACE, uri.encode(), data, False, gcs_address)


def upload(path, excludes=None, include_parent=False, what="working_dir", gcs_address=""):
    """Packs `path` and stores it unless the cluster has it; returns its URI."""
    data, uri = pack(path, excludes, include_parent, what)
    if not package_exists(uri, gcs_address):
        store_package(uri, data, gcs_address)
    return uri


def fetch(uri, gcs_address=""):
    data = _photon.state_kv_get(KV_NAMESPACE, uri.encode(), gcs_address)
    if data is None:
        raise FileNotFoundError(f"runtime_env package {uri} is not in the cluster")
    return data


def unpack(uri, dest_root, gcs_address=""):
    """The folder where `uri` is unpacked under `dest_root` (done once per
    node: later callers, in any process, find it ready)."""
    name = uri.split("://", 1)[1][:-len(".zip")]
    dest = os.path.join(dest_root, name)
    if os.path.isdir(dest):
        return dest
    os.makedirs(dest_root, exist_ok=True)
    with open(os.path.join(dest_root, f".{name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(dest):
            return dest
        data = fetch(uri, gcs_address)
        tmp = tempfile.mkdtemp(prefix=f".{name}.", dir=dest_root)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    target = os.path.realpath(os.path.join(tmp, info.filename))
                    if not target.startswith(os.path.realpath(tmp) + os.sep):
                        raise ValueError(f"package {uri} has an entry outside its folder: "
                                         f"{info.filename}")
                    z.extract(info, tmp)
                    mode = info.external_attr >> 16
                    if mode and not info.is_dir():
                        os.chmod(target, mode)
            os.rename(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return dest
