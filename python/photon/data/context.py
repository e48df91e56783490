"""DataContext: the knobs of photon.data's execution, with Ray Data's names
(``DataContext.get_current()``; a copy travels with each dataset when it
runs)."""
import copy
import threading

DEFAULT_TARGET_MAX_BLOCK_SIZE = 128 * 1024 * 1024
DEFAULT_TARGET_MIN_BLOCK_SIZE = 1 * 1024 * 1024
DEFAULT_READ_OP_MIN_NUM_BLOCKS = 200


class ExecutionResources:
    """Resource amounts (Ray's ExecutionResources): a limit on what the
    streaming executor uses, None meaning no limit."""

    def __init__(self, cpu=None, gpu=None, object_store_memory=None):
        for name, v in (("cpu", cpu), ("gpu", gpu), ("object_store_memory", object_store_memory)):
            if v is not None and (not isinstance(v, (int, float)) or v < 0):
                raise ValueError(f"ExecutionResources.{name} must be a number >= 0 or None, "
                                 f"got {v!r}")
        self.cpu = cpu
        self.gpu = gpu
        self.object_store_memory = object_store_memory

    @classmethod
    def for_limits(cls, cpu=None, gpu=None, object_store_memory=None):
        return cls(cpu, gpu, object_store_memory)

    def __repr__(self):
        return (f"ExecutionResources(cpu={self.cpu}, gpu={self.gpu}, "
                f"object_store_memory={self.object_store_memory})")

    def __eq__(self, other):
        return (isinstance(other, ExecutionResources) and
                (self.cpu, self.gpu, self.object_store_memory) ==
                (other.cpu, other.gpu, other.object_store_memory))


class ExecutionOptions:
    """How a dataset runs (Ray's ExecutionOptions)."""

    def __init__(self, resource_limits=None, exclude_resources=None, locality_with_output=False,
                 preserve_order=False, actor_locality_enabled=True, verbose_progress=True):
        self.resource_limits = resource_limits or ExecutionResources()
        self.exclude_resources = exclude_resources or ExecutionResources(0, 0, 0)
        self.locality_with_output = locality_with_output
        self.preserve_order = preserve_order
        self.actor_locality_enabled = actor_locality_enabled
        self.verbose_progress = verbose_progress

    def __repr__(self):
        return (f"ExecutionOptions(resource_limits={self.resource_limits}, "
                f"preserve_order={self.preserve_order})")


class DataContext:
    """The settings photon.data runs with. Change the current one with
    ``DataContext.get_current().<name> = value`` before creating datasets."""

    _current = None
    _lock = threading.Lock()

    def __init__(self):
        self.target_max_block_size = DEFAULT_TARGET_MAX_BLOCK_SIZE
        self.target_min_block_size = DEFAULT_TARGET_MIN_BLOCK_SIZE
        self.target_shuffle_max_block_size = DEFAULT_TARGET_MAX_BLOCK_SIZE
        self.read_op_min_num_blocks = DEFAULT_READ_OP_MIN_NUM_BLOCKS
        self.execution_options = ExecutionOptions()
        self.enable_progress_bars = True
        self.enable_operator_progress_bars = True
        self.use_push_based_shuffle = False
        self.max_errored_blocks = 0
        self.actor_task_retry_on_errors = False
        # A UDF's exception reaches the user as UserCodeException (its cause
        # the original), or as itself when this is set.
        self.raise_original_map_exception = False
        # Fraction of the object store the executor keeps in flight at most
        # (Ray's default budget: half the store).
        self.object_store_memory_fraction = 0.5
        self.max_tasks_in_flight_per_actor = 4
        self.enable_tensor_extension_casting = True
        self.eager_free = True
        self.verbose_stats_logs = False
        self.log_internal_stack_trace_to_stdout = False

    @staticmethod
    def get_current():
        """The context datasets use in this process (made on first use)."""
        with DataContext._lock:
            if DataContext._current is None:
                DataContext._current = DataContext()
            return DataContext._current

    @staticmethod
    def _set_current(context):
        with DataContext._lock:
            DataContext._current = context

    def copy(self):
        return copy.deepcopy(self)

    def __setattr__(self, name, value):
        if name == "target_max_block_size" and value is not None and (
                not isinstance(value, int) or value <= 0):
            raise ValueError(f"target_max_block_size must be a positive int, got {value!r}")
        object.__setattr__(self, name, value)


# Ray exposes the older name too.
DatasetContext = DataContext
