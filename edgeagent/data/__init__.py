"""The shared data layer: records of shared/data, the train/dev split, mode labels, training
examples, truthful augmentations, the training mix and its statistics. Lean: no torch."""

from .augment import add_distractors, make_negative, merge_parallel, merge_reason, shuffle_tools, tool_pool
from .examples import MODES, Example, expand, record_mode, turn_mode
from .mix import Mix, MixConfig, build_mix
from .records import Loaded, RecordError, Skip, Validator, check_record, data_files, find_data_dir, iter_file, load
from .split import DEV_FRACTION, split_keys, split_of, split_records

__all__ = [
    "DEV_FRACTION", "MODES", "Example", "Loaded", "Mix", "MixConfig", "RecordError", "Skip", "Validator",
    "add_distractors", "build_mix", "check_record", "data_files", "expand", "find_data_dir", "iter_file",
    "load", "make_negative", "merge_parallel", "merge_reason", "record_mode", "shuffle_tools", "split_records",
    "split_keys", "split_of", "tool_pool", "turn_mode",
]
