"""benchmarks/RESULTS.md: one file, one section per benchmark script.

Each script replaces only its own section (from its ``## `` heading to the next),
so the file always holds the latest run of every benchmark.
"""

from __future__ import annotations

import os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
PREAMBLE = ("# Benchmark results\n\n"
            "Each section was written by the command it names, on this project's machine "
            "kind (2 cores), every system side by side in one run.\n")


def write_section(section: str, path: str = PATH) -> None:
    """Put ``section`` (text starting with a ``## `` heading) into RESULTS.md."""
    heading = section.splitlines()[0]
    if not heading.startswith("## "):
        raise ValueError("a results section starts with a '## ' heading")
    text = open(path).read() if os.path.exists(path) else PREAMBLE
    parts = text.split("\n## ")
    head, sections = parts[0], ["## " + p for p in parts[1:]]
    body = section.rstrip() + "\n"
    for i, old in enumerate(sections):
        if old.splitlines()[0] == heading:
            sections[i] = body
            break
    else:
        sections.append(body)
    with open(path, "w") as f:
        f.write(head.rstrip() + "\n\n" + "\n".join(s.rstrip() + "\n" for s in sections))


def load_sentence(load: tuple[float, float]) -> str:
    """What the machine's load average says about the absolute times."""
    cpus = os.cpu_count() or 1
    seen = f"load average {load[0]:.0f} before, {load[1]:.0f} after"
    if max(load) <= cpus + 1:  # the measured processes themselves keep the cores busy
        return f"The machine ({cpus} cores) ran nothing else ({seen}: the measured processes)."
    return (f"The machine ({cpus} cores) was shared with other work while this ran ({seen}), "
            "so absolute times are inflated.")
