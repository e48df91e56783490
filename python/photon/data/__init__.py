"""photon.data: Ray Data's streaming datasets on Photon (``ray.data`` after
``import photon as ray``). Blocks are Apache Arrow tables; batches are
numpy dicts, pandas DataFrames or Arrow tables."""
from photon.data.aggregate import (AbsMax, AggregateFn, Count, Max, Mean, Min, Quantile, Std,
                                   Sum, Unique)
from photon.data import exceptions, expressions  # noqa: F401 - their submodules
from photon.data.block import BlockMetadata
from photon.data.context import DataContext, DatasetContext, ExecutionOptions, \
    ExecutionResources
from photon.data.datasource import Datasink, Datasource, ReadTask, WriteResult
from photon.data.dataset import (ActorPoolStrategy, Dataset, MaterializedDataset, Schema,
                                 TaskPoolStrategy)
from photon.data.grouped_data import GroupedData
from photon.data.iterator import DataIterator
from photon.data.read_api import (from_arrow, from_arrow_refs, from_items, from_numpy,
                                  from_numpy_refs, from_pandas, from_pandas_refs, range,
                                  range_tensor, read_binary_files, read_csv, read_images,
                                  read_datasource, read_json, read_numpy, read_parquet,
                                  read_text)

__all__ = [
    "AbsMax", "ActorPoolStrategy", "AggregateFn", "BlockMetadata", "Count", "DataContext",
    "Datasink", "Datasource", "ReadTask", "WriteResult", "read_datasource",
    "DataIterator", "Dataset", "DatasetContext", "ExecutionOptions", "ExecutionResources",
    "GroupedData", "MaterializedDataset", "Max", "Mean", "Min", "Quantile", "Schema", "Std",
    "Sum", "TaskPoolStrategy", "Unique", "from_arrow", "from_arrow_refs", "from_items",
    "from_numpy", "from_numpy_refs", "from_pandas", "from_pandas_refs", "range",
    "range_tensor", "read_binary_files", "read_csv", "read_images", "read_json", "read_numpy",
    "read_parquet", "read_text",
]
