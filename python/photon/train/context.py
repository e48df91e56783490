"""TrainContext: where this training worker sits in its group, from inside the training function."""


class TrainContext:
    def __init__(self, session):
        self._s = session

    def get_world_size(self):
        return self._s.world_size

    def get_world_rank(self):
        return self._s.world_rank

    def get_local_rank(self):
        return self._s.local_rank

    def get_local_world_size(self):
        return self._s.local_world_size

    def get_node_rank(self):
        return self._s.node_rank

    def get_experiment_name(self):
        return self._s.experiment_name

    def get_trial_name(self):
        return self._s.trial_name

    def get_trial_id(self):
        return self._s.trial_id

    def get_trial_dir(self):
        return self._s.trial_dir

    def get_trial_resources(self):
        return self._s.trial_resources

    def get_storage(self):
        return self._s.storage

    def get_metadata(self):
        return {}
