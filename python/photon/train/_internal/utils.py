"""Small helpers shared by photon.train and photon.tune."""
import datetime


def flatten_dict(d, delimiter="/", prefix=""):
    """{"a": {"b": 1}} -> {"a/b": 1}."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(flatten_dict(v, delimiter, f"{prefix}{k}{delimiter}"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def date_str(include_ms=False):
    fmt = "%Y-%m-%d_%H-%M-%S" + (".%f" if include_ms else "")
    return datetime.datetime.today().strftime(fmt)
