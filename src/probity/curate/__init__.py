"""Curation at scale: scrub, filter and deduplicate training corpora, locally or on Ray.

A job (YAML, :class:`JobConfig`) lists inputs (JSONL, JSONL.gz/.zst, Parquet; globs), stages in
order and an output (sharded JSONL or Parquet). :func:`run_job` runs it with the ``local``
executor (processes on this machine, bounded memory, resumable) or ``ray`` (Ray tasks), with
byte-identical output; every input record is accounted for in the output, ``dropped.jsonl`` or
``rejects.jsonl``, and ``report.json``/``report.html`` say what each stage did.
"""

from probity.curate.job import GLOBAL_STAGES, MAP_STAGES, STAGES, JobConfig, load_job
from probity.curate.pipeline import CurationReport, process_chunk, run_job
from probity.curate.report import write_html

__all__ = [
    "GLOBAL_STAGES",
    "MAP_STAGES",
    "STAGES",
    "CurationReport",
    "JobConfig",
    "load_job",
    "process_chunk",
    "run_job",
    "write_html",
]
