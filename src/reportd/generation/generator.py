"""``reportd.app.generator.Generator`` over the pipeline: what the composition root wires in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportd.app.catalog import Source
from reportd.app.generator import RunControl, RunResult, RunSpec
from reportd.domain.formats import Format
from reportd.generation.formats.packaging import generate_password
from reportd.generation.formats.registry import available_formats
from reportd.generation.pipeline import generate, regenerate

__all__ = ["PipelineGenerator"]


@dataclass(frozen=True, slots=True)
class PipelineGenerator:
    """One pass from a source to every file (``pipeline.generate``), tuned by ``[worker]``."""

    batch_size: int = 65_536
    compresslevel: int = 1

    def available_formats(self) -> tuple[Format, ...]:
        return available_formats()

    def new_password(self) -> str:
        return generate_password()

    def generate(
        self, spec: RunSpec, source: Source, workdir: Path, control: RunControl
    ) -> RunResult:
        return generate(
            spec,
            source,
            workdir,
            control,
            batch_size=self.batch_size,
            compresslevel=self.compresslevel,
        )

    def regenerate(
        self, spec: RunSpec, data: Path, workdir: Path, control: RunControl
    ) -> RunResult:
        return regenerate(spec, data, workdir, control, compresslevel=self.compresslevel)
