"""The shipped protocol definitions: one YAML file per protocol, data only."""
from pathlib import Path

__all__ = ["DIRECTORY"]

#: where the shipped ``*.yaml`` definitions live
DIRECTORY = Path(__file__).resolve().parent
