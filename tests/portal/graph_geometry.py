"""Geometry of a Graphviz SVG: node boxes and sampled edge curves, to check that no edge crosses a node.

Shared by the unit test of the graph module and the browser test (which reads the SVG off the page).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # nosec B405 - parses SVG the test itself produced
from dataclasses import dataclass

SVG = "{http://www.w3.org/2000/svg}"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def contains(self, x: float, y: float, inset: float) -> bool:
        return self.left + inset < x < self.right - inset and self.top + inset < y < self.bottom - inset


def _points(text: str) -> list[tuple[float, float]]:
    numbers = [float(value) for value in _NUMBER.findall(text)]
    return list(zip(numbers[::2], numbers[1::2], strict=False))


def _bezier(points: list[tuple[float, float]], samples: int = 40) -> list[tuple[float, float]]:
    """Points along a Graphviz path `M p0 C p1 p2 p3 p4 p5 p6 …` (a chain of cubic Béziers)."""
    out = [points[0]]
    for start in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[start : start + 4]
        for index in range(1, samples + 1):
            t = index / samples
            u = 1 - t
            out.append(
                (
                    u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                    u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
                )
            )
    return out


def parse(svg: str) -> tuple[dict[str, Box], list[tuple[str, str, list[tuple[float, float]]]]]:
    """Node boxes by SVG id (n0, n1, …) and edges as (from id, to id, sampled points incl. arrowhead)."""
    root = ET.fromstring(svg)  # nosec B314 - the test's own SVG
    boxes: dict[str, Box] = {}
    edges = []
    for group in root.iter(f"{SVG}g"):
        classes = (group.get("class") or "").split()
        if "node" in classes:
            # (An Element without children is falsy, hence no `or` between the two lookups.)
            shape = next(group.iter(f"{SVG}path"), None)
            if shape is None:
                shape = next(group.iter(f"{SVG}polygon"))
            coords = _points(shape.get("d") or shape.get("points") or "")
            xs, ys = [x for x, _ in coords], [y for _, y in coords]
            boxes[group.get("id") or ""] = Box(min(xs), min(ys), max(xs), max(ys))
        elif "edge" in classes:
            title = next(group.iter(f"{SVG}title")).text or ""
            source, target = title.split("->")
            path = next(group.iter(f"{SVG}path"))
            points = _bezier(_points(path.get("d") or ""))
            for head in group.iter(f"{SVG}polygon"):
                points += _points(head.get("points") or "")
            edges.append((source.strip(), target.strip(), points))
    return boxes, edges


def crossings(svg: str, inset: float = 1.0) -> list[str]:
    """Every (edge, node) pair where the edge passes through a node box that is not one of its ends."""
    boxes, edges = parse(svg)
    found = []
    for source, target, points in edges:
        for node, box in boxes.items():
            if node in (source, target):
                continue
            if any(box.contains(x, y, inset) for x, y in points):
                found.append(f"{source}->{target} crosses {node}")
    return found
