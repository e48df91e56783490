"""Environment runners: SingleAgentEnvRunner (an actor per runner)."""
from photon.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

__all__ = ["SingleAgentEnvRunner"]
