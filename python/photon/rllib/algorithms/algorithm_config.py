"""AlgorithmConfig: RLlib's builder of an algorithm's settings
(`.environment().env_runners().training()...build_algo()`).

Every method returns the config itself. Unknown keywords raise TypeError
naming them; bad values raise ValueError at build (validate()).
"""
import copy

from photon.rllib.core.rl_module.rl_module import RLModuleSpec


class _NotProvided:
    def __repr__(self):
        return "NotProvided"


NotProvided = _NotProvided()


class AlgorithmConfig:
    algo_class = None
    _TRAINING_KEYS = ("lr", "gamma", "train_batch_size_per_learner", "train_batch_size",
                      "minibatch_size", "num_epochs", "grad_clip", "grad_clip_by")

    def __init__(self, algo_class=None):
        if algo_class is not None:
            self.algo_class = algo_class
        self.env = None
        self.env_config = {}
        self.num_env_runners = 0
        self.num_envs_per_env_runner = 1
        self.rollout_fragment_length = "auto"
        self.explore = True
        self.num_learners = 0
        self.lr = 1e-3
        self.gamma = 0.99
        self.train_batch_size_per_learner = 4000
        self.minibatch_size = 128
        self.num_epochs = 1
        self.grad_clip = None
        self.grad_clip_by = "global_norm"
        self.model_config = {}
        self.rl_module_spec = None
        self.evaluation_interval = None
        self.evaluation_num_env_runners = 0
        self.evaluation_duration = 10
        self.evaluation_duration_unit = "episodes"
        self.evaluation_config = {}
        self.restart_failed_env_runners = True
        self.max_num_env_runner_restarts = 1000
        self.seed = None
        self.framework_str = "torch"
        self.metrics_num_episodes_for_smoothing = 100
        self.num_cpus_per_env_runner = 1
        self.min_sample_timesteps_per_iteration = 0

    # -- the builder -------------------------------------------------------------
    def _set(self, method, **kwargs):
        for k, v in kwargs.items():
            if v is NotProvided:
                continue
            if not hasattr(self, k):
                raise TypeError(f"AlgorithmConfig.{method}() got an unexpected keyword argument "
                                f"'{k}'")
            setattr(self, k, v)
        return self

    def environment(self, env=NotProvided, *, env_config=NotProvided, **kwargs):
        self._accept("environment", kwargs, ("observation_space", "action_space", "clip_rewards",
                                             "normalize_actions", "clip_actions",
                                             "disable_env_checking", "render_env"))
        return self._set("environment", env=env, env_config=env_config)

    def env_runners(self, *, num_env_runners=NotProvided, num_envs_per_env_runner=NotProvided,
                    rollout_fragment_length=NotProvided, explore=NotProvided,
                    num_cpus_per_env_runner=NotProvided, **kwargs):
        self._accept("env_runners", kwargs, ("batch_mode", "num_gpus_per_env_runner",
                                             "sample_timeout_s", "create_env_on_local_worker",
                                             "observation_filter", "env_to_module_connector",
                                             "module_to_env_connector", "add_default_connectors_to_env_to_module_pipeline",
                                             "episodes_to_numpy", "gym_env_vectorize_mode"))
        return self._set("env_runners", num_env_runners=num_env_runners,
                         num_envs_per_env_runner=num_envs_per_env_runner,
                         rollout_fragment_length=rollout_fragment_length, explore=explore,
                         num_cpus_per_env_runner=num_cpus_per_env_runner)

    def learners(self, *, num_learners=NotProvided, **kwargs):
        self._accept("learners", kwargs, ("num_gpus_per_learner", "num_cpus_per_learner",
                                          "local_gpu_idx"))
        return self._set("learners", num_learners=num_learners)

    def training(self, **kwargs):
        allowed = set(self._TRAINING_KEYS) | set(self._algo_training_keys())
        unknown = set(kwargs) - allowed - {"model", "optimizer", "learner_class",
                                           "learner_connector"}
        if unknown:
            raise TypeError(f"{type(self).__name__}.training() got unexpected keyword "
                            f"argument(s) {sorted(unknown)}")
        if kwargs.get("train_batch_size") not in (None, NotProvided):
            kwargs["train_batch_size_per_learner"] = kwargs.pop("train_batch_size")
        for k in ("model", "optimizer", "learner_class", "learner_connector"):
            kwargs.pop(k, None)
        for k, v in kwargs.items():
            if v is not NotProvided:
                setattr(self, k, v)
        return self

    def _algo_training_keys(self):
        return ()

    def rl_module(self, *, model_config=NotProvided, rl_module_spec=NotProvided, **kwargs):
        self._accept("rl_module", kwargs, ("algorithm_config_overrides_per_module",))
        if model_config is not NotProvided:
            self.model_config = dict(model_config or {})
        if rl_module_spec is not NotProvided:
            self.rl_module_spec = rl_module_spec
        return self

    def evaluation(self, *, evaluation_interval=NotProvided,
                   evaluation_num_env_runners=NotProvided, evaluation_duration=NotProvided,
                   evaluation_duration_unit=NotProvided, evaluation_config=NotProvided,
                   **kwargs):
        self._accept("evaluation", kwargs, ("evaluation_parallel_to_training",
                                            "evaluation_sample_timeout_s",
                                            "evaluation_force_reset_envs_before_iteration"))
        return self._set("evaluation", evaluation_interval=evaluation_interval,
                         evaluation_num_env_runners=evaluation_num_env_runners,
                         evaluation_duration=evaluation_duration,
                         evaluation_duration_unit=evaluation_duration_unit,
                         evaluation_config=evaluation_config)

    def fault_tolerance(self, *, restart_failed_env_runners=NotProvided,
                        max_num_env_runner_restarts=NotProvided, **kwargs):
        self._accept("fault_tolerance", kwargs, ("ignore_env_runner_failures",
                                                 "delay_between_env_runner_restarts_s",
                                                 "restart_failed_sub_environments"))
        return self._set("fault_tolerance", restart_failed_env_runners=restart_failed_env_runners,
                         max_num_env_runner_restarts=max_num_env_runner_restarts)

    def reporting(self, *, metrics_num_episodes_for_smoothing=NotProvided,
                  min_sample_timesteps_per_iteration=NotProvided, **kwargs):
        self._accept("reporting", kwargs, ("keep_per_episode_custom_metrics",
                                           "min_time_s_per_iteration",
                                           "min_train_timesteps_per_iteration"))
        return self._set("reporting",
                         metrics_num_episodes_for_smoothing=metrics_num_episodes_for_smoothing,
                         min_sample_timesteps_per_iteration=min_sample_timesteps_per_iteration)

    def debugging(self, *, seed=NotProvided, **kwargs):
        self._accept("debugging", kwargs, ("log_level", "logger_config", "log_sys_usage"))
        return self._set("debugging", seed=seed)

    def framework(self, framework=NotProvided, **kwargs):
        if framework is not NotProvided and framework != "torch":
            raise ValueError(f"photon.rllib supports framework='torch' only, got {framework!r}")
        return self

    def resources(self, **kwargs):
        self._accept("resources", kwargs, ("num_gpus", "num_cpus_for_main_process",
                                           "placement_strategy"))
        return self

    def api_stack(self, *, enable_rl_module_and_learner=True,
                  enable_env_runner_and_connector_v2=True):
        if not (enable_rl_module_and_learner and enable_env_runner_and_connector_v2):
            raise ValueError("photon.rllib implements RLlib's new API stack only")
        return self

    @staticmethod
    def _accept(method, kwargs, known):
        unknown = set(kwargs) - set(known)
        if unknown:
            raise TypeError(f"AlgorithmConfig.{method}() got unexpected keyword argument(s) "
                            f"{sorted(unknown)}")

    # -- copies, dicts, checks ------------------------------------------------------
    def copy(self, copy_frozen=None):
        return copy.deepcopy(self)

    def to_dict(self):
        out = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        out["framework"] = "torch"
        out["_algo_config_class"] = type(self)
        return out

    @classmethod
    def from_dict(cls, config):
        config = dict(config)
        klass = config.pop("_algo_config_class", cls)
        obj = klass()
        for k, v in config.items():
            if k in ("framework",):
                continue
            setattr(obj, k, v)
        return obj

    def update_from_dict(self, config):
        for k, v in dict(config).items():
            setattr(self, k, v)
        return self

    def get(self, key, default=None):
        return getattr(self, key, default)

    def __getitem__(self, key):
        return getattr(self, key)

    def validate(self):
        if self.env is None:
            raise ValueError("No environment: call config.environment(env=...) with a gymnasium "
                             "id, a registered name, or an env class")
        for key in ("num_env_runners", "evaluation_num_env_runners", "num_learners"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"`{key}` must be an int >= 0, got {v!r}")
        if not isinstance(self.num_envs_per_env_runner, int) or self.num_envs_per_env_runner < 1:
            raise ValueError(f"`num_envs_per_env_runner` must be an int >= 1, got "
                             f"{self.num_envs_per_env_runner!r}")
        if self.num_learners > 1:
            raise ValueError("photon.rllib runs one learner (num_learners 0: in the algorithm's "
                             f"process, or 1: a learner actor); got num_learners="
                             f"{self.num_learners}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"`lr` must be a number > 0, got {self.lr!r}")
        if not (0 <= self.gamma <= 1):
            raise ValueError(f"`gamma` must be in [0, 1], got {self.gamma!r}")

    def get_rl_module_spec(self, default_module_class):
        spec = self.rl_module_spec
        if spec is None:
            spec = RLModuleSpec(module_class=default_module_class)
        else:
            spec = copy.copy(spec)
            if spec.module_class is None:
                spec.module_class = default_module_class
        spec.model_config = dict(self.model_config, **(spec.model_config or {}))
        return spec

    def build_algo(self, env=None, logger_creator=None, use_copy=True):
        if env is not None:
            self.env = env
        if self.algo_class is None:
            raise ValueError("This config has no algorithm class; use PPOConfig() or "
                             "DQNConfig()")
        return self.algo_class(config=self.copy() if use_copy else self)

    def build(self, env=None, logger_creator=None, use_copy=True):
        return self.build_algo(env, logger_creator, use_copy)
