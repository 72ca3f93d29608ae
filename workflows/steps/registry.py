"""The catalogue of step types, by name and alias."""

from functools import cache
from typing import Any

from workflows.steps.base import Step

# One module per step type; each defines Step subclasses with a `type_name`.
STEP_MODULES = (
    "workflows.steps.noop",
    "workflows.steps.sleep",
    "workflows.steps.approval",
    "workflows.steps.script",
    "workflows.steps.terraform",
    "workflows.steps.http",
    "workflows.steps.git",
    "workflows.steps.kubernetes",
    "workflows.steps.provision",
    "workflows.steps.deploy",
    "workflows.steps.legacy",
    "workflows.steps.ansible",
    "workflows.steps.gitops",
    "workflows.steps.gitmanifests",
)


@cache
def step_classes() -> dict[str, type[Step]]:
    """Map every step type name and alias to its class."""
    import importlib

    found: dict[str, type[Step]] = {}
    for module_name in STEP_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Step) and value.type_name:
                for name in (value.type_name, *value.aliases):
                    found[name] = value
    return found


def known_step_types() -> frozenset[str]:
    """Every step type name the engine accepts."""
    return frozenset(step_classes())


def get_step(type_name: str) -> Step:
    """A fresh instance of the step type named `type_name` (KeyError when unknown)."""
    return step_classes()[type_name]()


def config_problems(definition: Any) -> list[str]:
    """Each step's configuration checked by its type at load time (templated values are left to run
    time), so that a wrong configuration is refused when a provider or golden path loads."""
    found: list[str] = []
    classes = step_classes()
    for index, step in enumerate(definition.steps):
        cls = classes.get(step.type)
        if cls is None:
            continue
        found.extend(
            f"steps[{index}] ({step.name}): {problem}" for problem in cls().validate_config(step.config)
        )
    return found
