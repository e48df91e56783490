"""Application errors and option validation (modeled on Ray's
python/ray/tests/test_failure.py and test_options.py)."""
import pytest

import photon as ray
from photon.exceptions import GetTimeoutError, RayError, RayTaskError


class MyError(Exception):
    pass


class ErrorWithArgs(Exception):
    def __init__(self, code, detail):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


@ray.remote
def raise_my_error(msg):
    raise MyError(msg)


def test_task_error_is_instance_of_user_exception(ray_start_regular_shared):
    with pytest.raises(MyError) as info:
        ray.get(raise_my_error.remote("boom"))
    err = info.value
    assert isinstance(err, RayTaskError)
    assert isinstance(err, RayError)
    assert isinstance(err.cause, MyError)
    assert str(err.cause) == "boom"


def test_task_error_message_has_remote_traceback(ray_start_regular_shared):
    @ray.remote
    def inner_function_name():
        raise ValueError("distinctive message 1234")

    with pytest.raises(RayTaskError) as info:
        ray.get(inner_function_name.remote())
    text = str(info.value)
    assert "distinctive message 1234" in text
    assert "Traceback" in text
    assert "inner_function_name" in text
    assert isinstance(info.value, ValueError)
    # The remote frame names this file, not cloudpickle's "<dynamic-code>".
    assert f'File "{__file__}"' in text and "<dynamic-code>" not in text


def test_builtin_exception_types(ray_start_regular_shared):
    @ray.remote
    def fail(kind):
        if kind == "key":
            return {}["missing"]
        if kind == "zero":
            return 1 / 0
        if kind == "type":
            return len(3)
        raise AssertionError("assert")

    for kind, cls in [("key", KeyError), ("zero", ZeroDivisionError), ("type", TypeError),
                      ("assert", AssertionError)]:
        with pytest.raises(cls):
            ray.get(fail.remote(kind))


def test_exception_with_custom_constructor(ray_start_regular_shared):
    @ray.remote
    def fail():
        raise ErrorWithArgs(7, "detail")

    with pytest.raises(ErrorWithArgs) as info:
        ray.get(fail.remote())
    assert info.value.cause.code == 7
    assert info.value.cause.detail == "detail"


def test_unpicklable_exception_still_reports(ray_start_regular_shared):
    @ray.remote
    def fail():
        import threading

        class Unpicklable(Exception):
            def __init__(self):
                super().__init__("cannot pickle me")
                self.lock = threading.Lock()

        raise Unpicklable()

    with pytest.raises(RayTaskError) as info:
        ray.get(fail.remote())
    assert "cannot pickle me" in str(info.value) or "Unpicklable" in str(info.value)


def test_error_propagates_through_dependent_tasks(ray_start_regular_shared):
    @ray.remote
    def plus_one(x):
        return x + 1

    ref = plus_one.remote(plus_one.remote(raise_my_error.remote("root cause")))
    with pytest.raises(MyError) as info:
        ray.get(ref)
    assert "root cause" in str(info.value)


def test_error_in_nested_task_propagates(ray_start_regular_shared):
    @ray.remote
    def parent():
        return ray.get(raise_my_error.remote("from child"))

    with pytest.raises(MyError) as info:
        ray.get(parent.remote())
    assert "from child" in str(info.value)


def test_get_list_with_one_error(ray_start_regular_shared):
    good = ray.put(1)
    with pytest.raises(MyError):
        ray.get([good, raise_my_error.remote("x")])


def test_actor_method_error(ray_start_regular_shared):
    @ray.remote
    class Failer:
        def fail(self):
            raise MyError("actor method failed")

        def ok(self):
            return "ok"

    a = Failer.remote()
    with pytest.raises(MyError) as info:
        ray.get(a.fail.remote())
    assert isinstance(info.value, RayTaskError)
    assert "actor method failed" in str(info.value)
    # The actor survives an exception in a method.
    assert ray.get(a.ok.remote()) == "ok"


def test_actor_constructor_error(ray_start_regular_shared):
    @ray.remote
    class BadInit:
        def __init__(self):
            raise MyError("init failed")

        def ping(self):
            return 1

    a = BadInit.remote()
    with pytest.raises(ray.exceptions.RayActorError) as info:
        ray.get(a.ping.remote(), timeout=30)
    assert "init failed" in str(info.value)


def test_get_timeout_error_class():
    assert issubclass(GetTimeoutError, TimeoutError)
    assert issubclass(GetTimeoutError, RayError)
    assert issubclass(ray.exceptions.ActorDiedError, ray.exceptions.RayActorError)
    assert issubclass(ray.exceptions.OwnerDiedError, ray.exceptions.ObjectLostError)


def test_retry_exceptions(ray_start_regular_shared, tmp_path):
    counter = tmp_path / "attempts"
    counter.write_text("0")

    @ray.remote(max_retries=3, retry_exceptions=True)
    def flaky(path):
        n = int(open(path).read()) + 1
        open(path, "w").write(str(n))
        if n < 3:
            raise MyError(f"attempt {n}")
        return n

    assert ray.get(flaky.remote(str(counter))) == 3

    counter.write_text("0")

    @ray.remote(max_retries=3)
    def not_retried(path):
        n = int(open(path).read()) + 1
        open(path, "w").write(str(n))
        raise MyError("no retry")

    with pytest.raises(MyError):
        ray.get(not_retried.remote(str(counter)))
    assert counter.read_text() == "1"


def test_retry_exceptions_list(ray_start_regular_shared, tmp_path):
    counter = tmp_path / "attempts"
    counter.write_text("0")

    @ray.remote(max_retries=2, retry_exceptions=[KeyError])
    def only_key_errors(path):
        n = int(open(path).read()) + 1
        open(path, "w").write(str(n))
        raise MyError("not a KeyError")

    with pytest.raises(MyError):
        ray.get(only_key_errors.remote(str(counter)))
    assert counter.read_text() == "1"


# --- option validation --------------------------------------------------------------------

def _f():
    return 1


class _C:
    def m(self):
        return 1


@pytest.mark.parametrize("options,needle", [
    ({"num_cpus": -1}, "num_cpus"),
    ({"num_cpus": "1"}, "num_cpus"),
    ({"num_gpus": -0.5}, "num_gpus"),
    ({"num_gpus": 1.5}, "num_gpus"),
    ({"memory": -1}, "memory"),
    ({"resources": {"CPU": 1}}, "CPU"),
    ({"resources": {"GPU": 1}}, "GPU"),
    ({"resources": {"custom": -1}}, "custom"),
    ({"resources": "custom"}, "resources"),
    ({"num_returns": -1}, "num_returns"),
    ({"num_returns": "many"}, "num_returns"),
    ({"max_retries": -2}, "max_retries"),
    ({"max_retries": 1.5}, "max_retries"),
    ({"retry_exceptions": "yes"}, "retry_exceptions"),
    ({"retry_exceptions": [1]}, "retry_exceptions"),
    ({"not_an_option": 1}, "not_an_option"),
    ({"max_restarts": 1}, "max_restarts"),  # an actor option
    ({"num_cpus": 0.00001}, "num_cpus"),  # more precise than 1e-4
])
def test_invalid_task_options(options, needle):
    # As in Ray: TypeError for a value of the wrong type, ValueError otherwise.
    with pytest.raises((ValueError, TypeError), match=needle):
        ray.remote(**options)(_f)
    with pytest.raises((ValueError, TypeError), match=needle):
        ray.remote(_f).options(**options)


@pytest.mark.parametrize("options", [
    {"num_cpus": "1"}, {"max_retries": "3"}, {"max_retries": 1.5}, {"resources": "custom"},
    {"retry_exceptions": "yes"},
])
def test_option_of_the_wrong_type_is_a_type_error(options):
    with pytest.raises(TypeError, match=next(iter(options))):
        ray.remote(_f).options(**options)


def test_fractional_resources_follow_rays_precision_rule():
    ray.remote(_f).options(num_cpus=0.50005)  # Ray accepts it
    with pytest.raises(ValueError, match="0.0001"):
        ray.remote(_f).options(num_cpus=0.00001)


@pytest.mark.parametrize("options,needle", [
    ({"max_restarts": -2}, "max_restarts"),
    ({"max_task_retries": "x"}, "max_task_retries"),
    ({"max_concurrency": 0}, "max_concurrency"),
    ({"lifetime": "forever"}, "lifetime"),
    ({"name": 1}, "name"),
    ({"namespace": 1}, "namespace"),
    ({"get_if_exists": True}, "get_if_exists"),  # needs a name
    ({"num_returns": 2}, "num_returns"),  # a task option
    ({"max_retries": 2}, "max_retries"),  # a task option
    ({"bogus": 1}, "bogus"),
    ({"num_cpus": -1}, "num_cpus"),
])
def test_invalid_actor_options(options, needle):
    with pytest.raises((ValueError, TypeError), match=needle):
        ray.remote(**options)(_C)
    with pytest.raises((ValueError, TypeError), match=needle):
        ray.remote(_C).options(**options)


def test_invalid_method_options():
    with pytest.raises(ValueError, match="num_returns"):
        ray.method(num_returns=-1)
    with pytest.raises(ValueError, match="num_cpus"):
        ray.method(num_cpus=1)


def test_valid_options_are_accepted():
    ray.remote(num_cpus=0.5, num_gpus=0, resources={"custom": 1}, max_retries=-1,
               retry_exceptions=[ValueError], num_returns=2, name="n", memory=10)(_f)
    ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=10,
               lifetime="detached", name="a", namespace="ns", get_if_exists=True)(_C)
    ray.remote(num_gpus=2)(_f)
    ray.remote(_f).options(num_cpus=2, scheduling_strategy="DEFAULT")


def test_remote_decorator_misuse():
    with pytest.raises(TypeError):
        ray.remote(1, 2)
    with pytest.raises(TypeError):
        ray.remote(42)


def test_actor_class_cannot_be_instantiated_directly():
    C = ray.remote(_C)
    with pytest.raises(TypeError, match="remote"):
        C()


def test_fine_fractions_run_at_rays_precision(ray_start_regular_shared):
    @ray.remote(num_cpus=0.50005)
    def f():
        return ray.get_runtime_context().get_assigned_resources()["CPU"]

    assert ray.get(f.remote(), timeout=60) == 0.5
