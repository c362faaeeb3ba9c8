"""Parse the seed document, so tests can check the catalogue holds every fact in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SEED = Path(__file__).resolve().parent.parent / "catalogue" / "source" / "why-look-beyond-computer-vision.txt"
SHARED_SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "000_58dd83479fcb9eec.txt"


def normalise(text: str) -> str:
    return " ".join(text.split())


@dataclass
class SeedSection:
    rank: int
    name: str
    summary: str
    paragraphs: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        return self.paragraphs[0]

    @property
    def best_for(self) -> str:
        return next(p for p in self.paragraphs if p.startswith("Best for: "))[len("Best for: ") :]

    @property
    def text(self) -> str:
        return " ".join(self.paragraphs)


@dataclass
class Seed:
    text: str
    why_look_beyond: str
    moving_beyond: str
    sections: list[SeedSection]
    table: list[str]
    how_to_pick: str


def load_seed(path: Path = SEED) -> Seed:
    lines = path.read_text(encoding="utf-8").splitlines()
    paragraphs = [normalise(p) for p in "\n".join(lines).split("\n\n") if p.strip()]
    sections: list[SeedSection] = []
    heading = re.compile(r"^(\d+)\. \1\. (.+?) toolkit — (.+)$")
    in_table = in_pick = False
    pick: list[str] = []
    for para in paragraphs:
        match = heading.match(para)
        if match:
            sections.append(SeedSection(int(match.group(1)), match.group(2), match.group(3)))
            continue
        if para == "Side-by-side":
            in_table = True
            continue
        if para == "How to pick":
            in_table, in_pick = False, True
            continue
        if in_table:
            continue
        if in_pick:
            pick.append(para)
        elif sections:
            sections[-1].paragraphs.append(para)
    table_block = "\n".join(lines).split("Side-by-side", 1)[1].split("How to pick", 1)[0]
    table = [normalise(line) for line in table_block.splitlines() if line.strip()][1:]  # skip the header row
    return Seed(
        text=normalise("\n".join(lines)),
        why_look_beyond=paragraphs[1],
        moving_beyond=paragraphs[2],
        sections=sections,
        table=table,
        how_to_pick=normalise(" ".join(pick)),
    )
