"""An accessibility scan of the page open in the browser, by axe-core run inside the page.

axe-core 4.9.1 comes with the `selenium-axe-python` package (its `axe.min.js`); the test injects
that file itself and runs `axe.run`, so nothing is fetched from a network. A waiver names one
rule and the exact selectors it spares, with the reason: never a whole rule.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

SERIOUS = frozenset({"serious", "critical"})

# Runs axe on the whole document and hands back what a report needs: per rule, its impact and
# the selectors of the elements that fail it (a frame's selectors joined by " >> ").
_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  results => done({violations: results.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({
      impact: n.impact,
      target: n.target.map(t => Array.isArray(t) ? t.join(' >> ') : t).join(' >> '),
      summary: n.failureSummary || '',
    })),
  }))}),
  error => done({error: String(error)}));
"""


@dataclass(frozen=True)
class Violation:
    rule: str  # axe's rule id, e.g. color-contrast
    impact: str  # minor, moderate, serious or critical
    help: str
    target: str  # the element's CSS selector
    summary: str  # what axe says is wrong with it

    def line(self) -> str:
        first = self.summary.strip().splitlines()[1:2] or [""]
        return f"{self.rule} [{self.impact}] {self.target}: {first[0].strip()}".rstrip(": ")


@dataclass(frozen=True)
class Waiver:
    """One rule spared on exactly these selectors, for a reason the plugin cannot mend."""

    rule: str
    targets: frozenset[str]
    why: str

    def covers(self, violation: Violation) -> bool:
        return violation.rule == self.rule and violation.target in self.targets


@functools.cache
def axe_source() -> str:
    source = resources.files("selenium_axe_python").joinpath("axe-core/axe.min.js")
    return source.read_text(encoding="utf-8")


def scan(driver: Any) -> list[Violation]:
    """Every failing element of the page open in `driver`, one Violation each."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    answer: dict[str, Any] = driver.execute_async_script(_RUN)
    if "error" in answer:
        raise AssertionError(f"axe-core failed on {driver.current_url}: {answer['error']}")
    return [
        Violation(
            rule=found["rule"],
            impact=node["impact"] or found["impact"] or "?",
            help=found["help"],
            target=node["target"],
            summary=node["summary"],
        )
        for found in answer["violations"]
        for node in found["nodes"]
    ]


def serious(found: Iterable[Violation], waivers: Sequence[Waiver] = ()) -> list[Violation]:
    """The serious and critical violations that no waiver covers."""
    return [
        v for v in found if v.impact in SERIOUS and not any(waiver.covers(v) for waiver in waivers)
    ]
