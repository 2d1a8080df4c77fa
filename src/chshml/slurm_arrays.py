"""SLURM job arrays for the workflow's fan-out, without the plugin's stall (upstream #473).

The shards of labelling and of every see-saw round go out through
``snakemake-executor-plugin-slurm``'s array mode (``slurm-array-jobs`` in
``profiles/slurm``): the ready jobs of one rule become one ``sbatch --array`` whose tasks run
at the same time, a failed task is one Snakemake job that is rerun alone, and the DAG, the
logs and the resume logic are the same as in ``profiles/local``.

Plugin versions up to at least 2.8.0 hold back ("waiting for more jobs") a batch of a rule
that is smaller than the DAG's ready count and smaller than the array limit. Snakemake has
already counted those jobs as started, so they are never submitted and never re-offered:
with a ``jobs:`` cap below the number of ready shards the run wedges at "Selected jobs: 0"
(snakemake-executor-plugin-slurm issue #473). :func:`install` replaces that dispatch with
one that submits whatever Snakemake hands over: several jobs of an array rule as one array,
a single job as a plain job. It is applied only where the holding-back branch is present
(checked in the plugin's source), so a fixed plugin is left alone.
"""

from __future__ import annotations

import inspect
from typing import Any

#: A phrase of the plugin's log message in the branch that holds jobs back.
_HOLD_BACK_MARK = "Array job collection incomplete"


def submit_every_ready_job(self: Any, jobs: list[Any]) -> None:
    """``Executor.run_jobs``: per rule, one array for several array-rule jobs, else plain jobs.

    Group jobs cannot be arrays and go out as plain jobs, as in the plugin.
    """
    import asyncio

    if getattr(self, "_main_event_loop", None) is None:
        try:
            self._main_event_loop = asyncio.get_running_loop()
        except RuntimeError:
            self._main_event_loop = None
    by_rule: dict[str, list[Any]] = {}
    for job in jobs:
        if job.is_group():
            self._submit_job(job)
        else:
            by_rule.setdefault(job.rule.name, []).append(job)
    for rule_name, batch in by_rule.items():
        as_array = "all" in self.array_jobs or rule_name in self.array_jobs
        if as_array and len(batch) > 1:
            self._submit_array_jobs(batch)  # chunked by slurm-array-limit inside
        else:
            for job in batch:
                self._submit_job(job)


def needs_patch(executor_cls: type) -> bool:
    """Whether ``executor_cls.run_jobs`` still has the branch that holds ready jobs back."""
    required = ("_submit_job", "_submit_array_jobs", "run_jobs")
    if not all(hasattr(executor_cls, name) for name in required):
        return False
    if getattr(executor_cls.run_jobs, "__chshml_patched__", False):
        return False
    try:
        source = inspect.getsource(executor_cls.run_jobs)
    except (OSError, TypeError):
        return False
    return _HOLD_BACK_MARK in source


def install() -> bool:
    """Patch the installed SLURM executor plugin if it has the #473 branch; True if patched."""
    try:
        from snakemake_executor_plugin_slurm import Executor
    except ImportError:  # no SLURM plugin: nothing to do
        return False
    if not needs_patch(Executor):
        return False
    submit_every_ready_job.__chshml_patched__ = True  # type: ignore[attr-defined]
    Executor.run_jobs = submit_every_ready_job
    return True
