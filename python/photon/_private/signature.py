"""Arguments checked against the signature at .remote() time, as in Ray: a
call that cannot bind raises TypeError at once instead of failing in the worker."""
import inspect

_method_cache = {}  # (class, method name) -> Signature or None


def of_function(function):
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):  # builtins and other callables without one
        return None


def of_method(cls, name):
    """The signature of cls.name as called through a handle (without self)."""
    key = (cls, name)
    if key in _method_cache:
        return _method_cache[key]
    sig = None
    attr = inspect.getattr_static(cls, name, None)
    if isinstance(attr, staticmethod):
        sig = of_function(attr.__func__)
    elif isinstance(attr, classmethod) or inspect.isfunction(attr):
        func = attr.__func__ if isinstance(attr, classmethod) else attr
        full = of_function(func)
        if full is not None:
            params = list(full.parameters.values())
            if params and params[0].kind in (params[0].POSITIONAL_ONLY,
                                             params[0].POSITIONAL_OR_KEYWORD):
                sig = full.replace(parameters=params[1:])
    _method_cache[key] = sig
    return sig


def check(sig, args, kwargs, what):
    """Raises TypeError naming `what` if args/kwargs do not fit `sig`."""
    if sig is None:
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{what}: {e}") from None
