"""The refinement search: does a local protocol ever allow what national refuses?

It checks the loader's construction (:mod:`workflow.floor`) by another method: instead
of reasoning about definitions, it judges concrete situations with the real engine under
both protocols, and reports the first situation where the local protocol allows an
action national refuses, in words a practice lead can check.
"""
from .outcome import Counterexample, Proof
from .proof import SEARCH_VERSION, baseline_proof, prove

__all__ = ["Proof", "Counterexample", "prove", "baseline_proof", "SEARCH_VERSION"]
